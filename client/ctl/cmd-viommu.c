/* SPDX-License-Identifier: MIT */
/*
 * ioasctl: vIOMMU objects (viommu-alloc, vdevice-alloc, veventq-alloc,
 * veventq-read, viommu-destroy, vdevice-destroy, veventq-destroy,
 * viommu-invalidate). A vEVENTQ's fd stays with this session until it
 * ends, so that veventq-read (in a batch) reads its events.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hwptdata.h"
#include "ctl.h"

/* Names of the types the kernel's uAPI (and its self-test) defines. */
static const struct { const char *name; uint32_t viommu, veventq; } vtypes[] = {
	{ "arm-smmuv3", 1, 1 },
	{ "selftest", 0xdeadbeef, 0xbeefbeef },
};

static int parse_vtype(struct ctl *ctl, const char *s, bool veventq, uint32_t *ret)
{
	for (size_t i = 0; i < sizeof(vtypes) / sizeof(vtypes[0]); i++)
		if (!strcmp(s, vtypes[i].name)) {
			*ret = veventq ? vtypes[i].veventq : vtypes[i].viommu;
			return 0;
		}
	return parse_u32(ctl, s, ret);
}

static void print_made(struct ctl *ctl, const char *cmd, const char *what,
		       uint32_t handle)
{
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", cmd);
		ju64(ctl, what, handle);
		jclose();
	} else {
		printf("allocated %s %u\n", what, handle);
	}
}

int cmd_viommu_alloc(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "type", true }, { "data", true } };
	static uint8_t data[4096];
	uint32_t dev, hwpt, type, v;
	size_t npos, len = 0;
	char *pos[2];
	int r;

	r = parse_args(ctl, argc, argv, opts, 2, pos, 2, 2, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &dev) < 0)
		return bad_value(ctl, argv[0], "device", pos[0]);
	if (parse_u32(ctl, pos[1], &hwpt) < 0)
		return bad_value(ctl, argv[0], "nesting parent hwpt", pos[1]);
	if (!opts[0].set)
		return usage_error(ctl, argv[0], "--type is needed");
	if (parse_vtype(ctl, opts[0].val, false, &type) < 0)
		return bad_value(ctl, argv[0], "vIOMMU type", opts[0].val);
	if (opts[1].set && ctl_parse_hex(opts[1].val, data, sizeof(data), &len) < 0)
		return bad_value(ctl, argv[0], "data (hex bytes)", opts[1].val);
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_viommu_alloc(ctl->client, dev, hwpt, type, len ? data : NULL, len, &v);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	ctl->last_viommu = v;
	ctl->have_viommu = true;
	print_made(ctl, argv[0], "viommu", v);
	return 0;
}

int cmd_vdevice_alloc(struct ctl *ctl, int argc, char **argv)
{
	uint32_t viommu, dev, v;
	uint64_t virt_id;
	char *pos[3];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 3, 3, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &viommu) < 0)
		return bad_value(ctl, argv[0], "viommu", pos[0]);
	if (parse_u32(ctl, pos[1], &dev) < 0)
		return bad_value(ctl, argv[0], "device", pos[1]);
	if (parse_size(ctl, pos[2], &virt_id) < 0)
		return bad_value(ctl, argv[0], "virtual id", pos[2]);
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_vdevice_alloc(ctl->client, viommu, dev, virt_id, &v);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	print_made(ctl, argv[0], "vdevice", v);
	return 0;
}

int cmd_veventq_alloc(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "type", true }, { "depth", true } };
	uint32_t viommu, type, depth = 16, q;
	char *pos[1];
	size_t npos;
	int r, fd = -1;

	r = parse_args(ctl, argc, argv, opts, 2, pos, 1, 1, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &viommu) < 0)
		return bad_value(ctl, argv[0], "viommu", pos[0]);
	if (!opts[0].set)
		return usage_error(ctl, argv[0], "--type is needed");
	if (parse_vtype(ctl, opts[0].val, true, &type) < 0)
		return bad_value(ctl, argv[0], "vEVENTQ type", opts[0].val);
	if (opts[1].set && parse_u32(ctl, opts[1].val, &depth) < 0)
		return bad_value(ctl, argv[0], "depth", opts[1].val);
	if (ctl->n_veventqs >= sizeof(ctl->veventqs) / sizeof(ctl->veventqs[0]))
		return local_error(ctl, argv[0], -EMFILE, "this session keeps %zu queues at most",
				   ctl->n_veventqs);
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_veventq_alloc(ctl->client, viommu, type, depth, &q, &fd);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	ctl->veventqs[ctl->n_veventqs].handle = q;
	ctl->veventqs[ctl->n_veventqs++].fd = fd;
	print_made(ctl, argv[0], "veventq", q);
	return 0;
}

/* One read of a queue this session allocated: the events there now
 * (struct iommufd_vevent_header {u32 flags, sequence} + the type's data,
 * as hex), or "no event" after --timeout MS (default 1000). */
int cmd_veventq_read(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "timeout", true } };
	uint8_t buf[4096];
	char hex[2 * 64 + 1];
	uint32_t q, ms = 1000, flags, seq;
	struct pollfd p = { .events = POLLIN };
	char *pos[1];
	size_t npos, i;
	ssize_t n;
	int r;

	r = parse_args(ctl, argc, argv, opts, 1, pos, 1, 1, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &q) < 0)
		return bad_value(ctl, argv[0], "veventq", pos[0]);
	if (opts[0].set && parse_u32(ctl, opts[0].val, &ms) < 0)
		return bad_value(ctl, argv[0], "timeout", opts[0].val);
	for (i = 0; i < ctl->n_veventqs && ctl->veventqs[i].handle != q; i++)
		;
	if (i == ctl->n_veventqs)
		return usage_error(ctl, argv[0], "no vEVENTQ %u allocated in this session", q);
	p.fd = ctl->veventqs[i].fd;
	r = poll(&p, 1, (int)ms);
	if (r < 0)
		return local_error(ctl, argv[0], -errno, "poll");
	if (r == 0) {
		if (ctl->json) {
			jopen(ctl);
			jstr(ctl, "cmd", argv[0]);
			ju64(ctl, "veventq", q);
			ju64(ctl, "bytes", 0);
			jclose();
		} else {
			printf("veventq %u: no event\n", q);
		}
		return 0;
	}
	n = read(p.fd, buf, sizeof(buf));
	if (n < 0)
		return local_error(ctl, argv[0], -errno, "reading vEVENTQ %u", q);
	if (n < 8)
		return local_error(ctl, argv[0], -EPROTO, "vEVENTQ %u: %zd bytes", q, n);
	memcpy(&flags, buf, 4);
	memcpy(&seq, buf + 4, 4);
	for (i = 8; i < (size_t)n && i - 8 < 64; i++)
		snprintf(hex + 2 * (i - 8), 3, "%02x", buf[i]);
	hex[2 * (i - 8)] = '\0';
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "veventq", q);
		ju64(ctl, "bytes", (uint64_t)n);
		ju64(ctl, "flags", flags);
		ju64(ctl, "sequence", seq);
		jstr(ctl, "data", hex);
		jclose();
	} else {
		printf("veventq %u: %zd bytes, flags 0x%x, sequence %u, data %s\n", q, n,
		       flags, seq, hex);
	}
	return 0;
}

int cmd_viommu_destroy(struct ctl *ctl, int argc, char **argv)
{
	return cmd_one_handle(ctl, argc, argv, "viommu", "destroyed", ioas_viommu_destroy);
}

int cmd_vdevice_destroy(struct ctl *ctl, int argc, char **argv)
{
	return cmd_one_handle(ctl, argc, argv, "vdevice", "destroyed", ioas_vdevice_destroy);
}

/* The kernel keeps a queue while its fd is open (EBUSY): this session's
 * copy goes first. */
int cmd_veventq_destroy(struct ctl *ctl, int argc, char **argv)
{
	uint32_t q;

	if (argc == 2 && parse_u32(ctl, argv[1], &q) == 0)
		for (size_t i = 0; i < ctl->n_veventqs; i++)
			if (ctl->veventqs[i].handle == q) {
				close(ctl->veventqs[i].fd);
				ctl->veventqs[i] = ctl->veventqs[--ctl->n_veventqs];
				break;
			}
	return cmd_one_handle(ctl, argc, argv, "veventq", "destroyed", ioas_veventq_destroy);
}

void ctl_veventqs_close(struct ctl *ctl)
{
	for (size_t i = 0; i < ctl->n_veventqs; i++)
		close(ctl->veventqs[i].fd);
	ctl->n_veventqs = 0;
}
