/* SPDX-License-Identifier: MIT */
/* ioasctl: the device commands (attach-device, detach-device, devices). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

/* ------------------------------------------------------------ devices */

/* PATH, or sim:VVVV:DDDD@DDDD:BB:SS.F for a daemon on the sim backend. */
static int open_device(struct ctl *ctl, const char *cmd, const char *path,
		       int *ret_fd)
{
	char vd[16];
	const char *at;
	int r;

	if (strncmp(path, "sim:", 4) == 0) {
		at = strchr(path + 4, '@');
		if (!at || (size_t)(at - (path + 4)) >= sizeof(vd))
			return bad_value(ctl, cmd, "device", path);
		memcpy(vd, path + 4, (size_t)(at - (path + 4)));
		vd[at - (path + 4)] = '\0';
		r = ioas_sim_device_create(vd, at + 1, ret_fd);
		if (r < 0)
			return bad_value(ctl, cmd, "device", path);
		return 0;
	}
	*ret_fd = open(path, O_RDWR | O_CLOEXEC);
	if (*ret_fd < 0)
		return local_error(ctl, cmd, -errno, "%s", path);
	return 0;
}

static void print_device(struct ctl *ctl, const char *cmd,
			 const struct ioas_device_info *i)
{
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", cmd);
		ju64(ctl, "device", i->device);
		ju64(ctl, "ioas", i->ioas);
		jstr(ctl, "pci_address", i->pci_address);
		ju64(ctl, "vendor", i->vendor);
		ju64(ctl, "device_id", i->device_id);
		jstr(ctl, "name", i->name);
		jclose();
	} else {
		printf("device %u: %s %04x:%04x (%s) attached to ioas %u\n",
		       i->device, i->pci_address, i->vendor, i->device_id,
		       i->name, i->ioas);
	}
}

int cmd_attach_device(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_device_info info;
	char *pos[2];
	uint32_t ioas;
	size_t npos;
	int fd = -1, r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 2, 2, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[0]);
	r = ensure_client(ctl);
	if (r)
		return r;
	r = open_device(ctl, argv[0], pos[1], &fd);
	if (r)
		return r;
	/* The daemon keeps its own copy; ours is not needed after this. */
	r = ioas_device_attach(ctl->client, ioas, fd, &info);
	close(fd);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	ctl->last_device = info.device;
	ctl->have_device = true;
	print_device(ctl, argv[0], &info);
	return 0;
}

int cmd_detach_device(struct ctl *ctl, int argc, char **argv)
{
	return cmd_one_handle(ctl, argc, argv, "device", "detached",
			      ioas_device_detach);
}

int cmd_devices(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_device_info *list = NULL;
	uint32_t n = 0;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, NULL, 0, 0, &npos);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_device_list(ctl->client, &list, &n);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (!ctl->json && n == 0)
		printf("no devices attached\n");
	for (uint32_t i = 0; i < n; i++)
		print_device(ctl, "device", &list[i]);
	free(list);
	return 0;
}
