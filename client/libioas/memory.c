/* SPDX-License-Identifier: MIT */
/* libioas: memory regions and sealed memfds. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* ------------------------------------------------------------ memory */

void libioas_msg_register(Ioasd__RegisterMemory *m, uint64_t offset, uint64_t length)
{
	*m = (Ioasd__RegisterMemory){ LIBIOAS_MESSAGE_BASE(register_memory),
				      .offset = offset, .length = length };
}

void libioas_msg_unregister(Ioasd__UnregisterMemory *m, uint32_t memory)
{
	*m = (Ioasd__UnregisterMemory){ LIBIOAS_MESSAGE_BASE(unregister_memory),
					.memory = memory };
}

IOAS_EXPORT int ioas_memory_register(struct ioas_client *c, int fd,
				     uint64_t offset, uint64_t length,
				     uint32_t *ret_memory,
				     struct ioas_memory_info *ret_info)
{
	Ioasd__RegisterMemoryReply *m;
	Ioasd__RegisterMemory msg;
	int r;

	if (fd < 0)
		return libioas_fail(c, -EBADF, "invalid fd %d", fd);

	libioas_msg_register(&msg, offset, length);
	r = request_register_memory(c, fd, &msg, &m);
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
	Ioasd__UnregisterMemory m;

	libioas_msg_unregister(&m, memory);
	return request_unregister_memory(c, -1, &m);
}

IOAS_EXPORT int ioas_submit_memory_register(struct ioas_client *c, int fd,
					    uint64_t offset, uint64_t length,
					    void *userdata, uint64_t *ret_id)
{
	Ioasd__RegisterMemory m;

	if (fd < 0)
		return libioas_fail(c, -EBADF, "invalid fd %d", fd);
	libioas_msg_register(&m, offset, length);
	return submit_register_memory(c, fd, &m, userdata, ret_id);
}

IOAS_EXPORT int ioas_submit_memory_unregister(struct ioas_client *c, uint32_t memory,
					      void *userdata, uint64_t *ret_id)
{
	Ioasd__UnregisterMemory m;

	libioas_msg_unregister(&m, memory);
	return submit_unregister_memory(c, -1, &m, userdata, ret_id);
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
