/* SPDX-License-Identifier: MIT */
/* libioas: the hand-off to VMMs -- a delegated context, a device file. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "internal.h"

/* The fd the last reply carried, now the caller's; -EPROTO when a success
 * came without one. */
static int take_reply_fd(struct ioas_client *c, int *ret_fd)
{
	int fd = libioas_take_reply_fd(c);

	if (fd < 0)
		return libioas_broken(c, -EPROTO, "ioasd's reply carried no fd");
	*ret_fd = fd;
	return 0;
}

IOAS_EXPORT int ioas_context_open(struct ioas_client *c, int *ret_fd, char mode[16])
{
	Ioasd__OpenContextReply *r;
	int ret;

	if (!ret_fd)
		return libioas_fail(c, -EINVAL, "no place for the fd");
	ret = REQUEST(c, open_context, -1, &r);
	if (ret == 0)
		ret = take_reply_fd(c, ret_fd);
	if (ret == 0 && mode)
		snprintf(mode, 16, "%s", r->rlimit_mode ? r->rlimit_mode : "");
	return ret;
}

IOAS_EXPORT int ioas_device_open(struct ioas_client *c, const char *address,
				 int *ret_fd, struct ioas_device_info *ret)
{
	Ioasd__DeviceInfo *d;
	int r;

	if (!address || !ret_fd)
		return libioas_fail(c, -EINVAL, "no device address or no place for the fd");
	r = REQUEST(c, open_device, -1, &d, .pci_address = (char *)address);
	if (r == 0)
		r = take_reply_fd(c, ret_fd);
	if (r == 0 && ret)
		libioas_device_info_copy(ret, d);
	return r;
}
