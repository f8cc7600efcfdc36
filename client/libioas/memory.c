/* SPDX-License-Identifier: MIT */
/* libioas: memory regions and sealed memfds. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* ------------------------------------------------------------ memory */

IOAS_EXPORT int ioas_memory_register(struct ioas_client *c, int fd,
				     uint64_t offset, uint64_t length,
				     uint32_t *ret_memory,
				     struct ioas_memory_info *ret_info)
{
	Ioasd__RegisterMemoryReply *m;
	int r;

	if (fd < 0)
		return libioas_fail(c, -EBADF, "invalid fd %d", fd);

	r = REQUEST(c, register_memory, fd, &m, .offset = offset,
		    .length = length);
	if (r < 0)
		return r;

	if (ret_memory)
		*ret_memory = m->memory;
	if (ret_info) {
		ret_info->memory = m->memory;
		ret_info->length = m->length;
		snprintf(ret_info->kind, sizeof(ret_info->kind), "%s",
			 m->kind ? m->kind : "");
		ret_info->page_size = m->page_size;
		ret_info->writable = m->writable;
	}
	return 0;
}

IOAS_EXPORT int ioas_memory_unregister(struct ioas_client *c, uint32_t memory)
{
	return REQUEST_NO_REPLY(c, unregister_memory, -1, .memory = memory);
}

IOAS_EXPORT int ioas_memfd_create(const char *name, uint64_t size,
				  int *ret_fd)
{
	int fd;

	if (!ret_fd || size == 0)
		return -EINVAL;
	if (size > (uint64_t)INT64_MAX)
		return -EFBIG;

	fd = memfd_create(name ? name : "ioas", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}
