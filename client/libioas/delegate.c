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
	if (c->reply_fd < 0)
		return libioas_broken(c, -EPROTO, "ioasd's reply carried no fd");
	*ret_fd = c->reply_fd;
	c->reply_fd = -1;
	return 0;
}

/* Before a request whose reply may carry an fd: none is left over. */
static void expect_fd(struct ioas_client *c, bool want)
{
	if (c->reply_fd >= 0)
		close(c->reply_fd);
	c->reply_fd = -1;
	c->want_fd = want;
}

IOAS_EXPORT int ioas_context_open(struct ioas_client *c, int *ret_fd, char mode[16])
{
	Ioasd__OpenContextReply *r;
	int ret;

	if (!ret_fd)
		return libioas_fail(c, -EINVAL, "no place for the fd");
	expect_fd(c, true);
	ret = REQUEST(c, open_context, -1, &r);
	c->want_fd = false;
	if (ret == 0)
		ret = take_reply_fd(c, ret_fd);
	if (ret == 0 && mode)
		snprintf(mode, 16, "%s", r->rlimit_mode ? r->rlimit_mode : "");
	expect_fd(c, false);
	return ret;
}

IOAS_EXPORT int ioas_device_open(struct ioas_client *c, const char *address,
				 int *ret_fd, struct ioas_device_info *ret)
{
	Ioasd__DeviceInfo *d;
	int r;

	if (!address || !ret_fd)
		return libioas_fail(c, -EINVAL, "no device address or no place for the fd");
	expect_fd(c, true);
	r = REQUEST(c, open_device, -1, &d, .pci_address = (char *)address);
	c->want_fd = false;
	if (r == 0)
		r = take_reply_fd(c, ret_fd);
	if (r == 0 && ret)
		libioas_device_info_copy(ret, d);
	expect_fd(c, false);
	return r;
}
