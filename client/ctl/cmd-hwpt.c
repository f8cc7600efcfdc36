/* SPDX-License-Identifier: MIT */
/*
 * ioasctl: hardware page tables (hw-info, hwpt-alloc, hwpt-alloc-nested,
 * hwpt-destroy, hwpt-invalidate, device-replace, hwpts). Driver data and
 * invalidation entries are given in hex, byte by byte as they lie in
 * memory (little-endian fields: "efbead0b" is the u32 0x0badbeef); data
 * types by the names of common/hwptdata.h or as numbers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hwptdata.h"
#include "ctl.h"

#define HEX_MAX 4096 /* bytes of data or of entries one command takes */

int ctl_parse_hex(const char *s, uint8_t *buf, size_t room, size_t *ret_len)
{
	size_t n = strlen(s);

	if (n == 0 || n % 2 || n / 2 > room)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i + 1]))
			return -EINVAL;
		buf[i] = (uint8_t)v;
	}
	*ret_len = n / 2;
	return 0;
}

/* A data type: a name of the table (the alloc or the invalidate number of
 * that kind) or a number. */
static int parse_type(struct ctl *ctl, const char *s, bool invalidate,
		      uint32_t *ret)
{
	int i = hwpt_data_by_name(s);

	if (i >= 0) {
		if (invalidate && !hwpt_data_kinds[i].has_invalidate)
			return -EINVAL;
		*ret = invalidate ? hwpt_data_kinds[i].invalidate_type :
			hwpt_data_kinds[i].alloc_type;
		return 0;
	}
	return parse_u32(ctl, s, ret);
}

static const char *type_name(uint32_t type, bool invalidate)
{
	int i = invalidate ? hwpt_data_by_invalidate_type(type) :
		hwpt_data_by_alloc_type(type);

	return i >= 0 ? hwpt_data_kinds[i].name : "";
}

static void print_hwpt(struct ctl *ctl, const char *cmd, uint32_t hwpt)
{
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", cmd);
		ju64(ctl, "hwpt", hwpt);
		jclose();
	} else {
		printf("allocated hwpt %u\n", hwpt);
	}
}

int cmd_hw_info(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_hw_info hw;
	char hex[2 * IOAS_HW_INFO_DATA_MAX + 1];
	uint32_t dev, shown;
	char *pos[1];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, pos, 1, 1, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &dev) < 0)
		return bad_value(ctl, argv[0], "device", pos[0]);
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_hw_info(ctl->client, dev, &hw);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	shown = hw.data_len < IOAS_HW_INFO_DATA_MAX ? hw.data_len : IOAS_HW_INFO_DATA_MAX;
	for (uint32_t i = 0; i < shown; i++)
		snprintf(hex + 2 * i, 3, "%02x", hw.data[i]);
	hex[2 * shown] = '\0';
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "device", dev);
		ju64(ctl, "type", hw.type);
		ju64(ctl, "capabilities", hw.capabilities);
		ju64(ctl, "max_pasid_log2", hw.max_pasid_log2);
		ju64(ctl, "data_len", hw.data_len);
		jstr(ctl, "data", hex);
		jclose();
	} else {
		printf("device %u: IOMMU type 0x%x%s, capabilities 0x%llx, max_pasid_log2 %u\n"
		       "data (%u bytes): %s\n", dev, hw.type,
		       hw.type == 1 ? " (Intel VT-d)" : "",
		       (unsigned long long)hw.capabilities, hw.max_pasid_log2,
		       hw.data_len, hex);
	}
	return 0;
}

int cmd_hwpt_alloc(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "nest-parent", false }, { "dirty-tracking", false },
			      { "flags", true }, { "fault", true }, { "pasid", false } };
	uint32_t dev, ioas, flags = 0, hwpt, fault = 0;
	char *pos[2];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 5, pos, 2, 2, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &dev) < 0)
		return bad_value(ctl, argv[0], "device", pos[0]);
	if (parse_u32(ctl, pos[1], &ioas) < 0)
		return bad_value(ctl, argv[0], "ioas", pos[1]);
	if (opts[2].set && parse_u32(ctl, opts[2].val, &flags) < 0)
		return bad_value(ctl, argv[0], "flags", opts[2].val);
	if (opts[0].set)
		flags |= IOAS_HWPT_NEST_PARENT;
	if (opts[1].set)
		flags |= IOAS_HWPT_DIRTY_TRACKING;
	if (opts[3].set && (parse_u32(ctl, opts[3].val, &fault) < 0 || !fault))
		return bad_value(ctl, argv[0], "fault queue", opts[3].val);
	if (fault)
		flags |= IOAS_HWPT_FAULT_ID_VALID;
	if (opts[4].set)
		flags |= IOAS_HWPT_PASID;
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_hwpt_alloc_args(ctl->client, &(struct ioas_hwpt_args){
		.device = dev, .ioas = ioas, .flags = flags, .fault = fault }, &hwpt);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	ctl->last_hwpt = hwpt;
	ctl->have_hwpt = true;
	print_hwpt(ctl, argv[0], hwpt);
	return 0;
}

int cmd_hwpt_alloc_nested(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "data-type", true }, { "data", true },
			      { "viommu", false }, { "fault", true } };
	static uint8_t data[HEX_MAX];
	uint32_t dev, parent, type, hwpt, fault = 0;
	size_t npos, len;
	char *pos[2];
	int r;

	r = parse_args(ctl, argc, argv, opts, 4, pos, 2, 2, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &dev) < 0)
		return bad_value(ctl, argv[0], "device", pos[0]);
	if (parse_u32(ctl, pos[1], &parent) < 0)
		return bad_value(ctl, argv[0], opts[2].set ? "viommu" : "parent hwpt", pos[1]);
	if (!opts[0].set || !opts[1].set)
		return usage_error(ctl, argv[0], "--data-type and --data are needed");
	if (parse_type(ctl, opts[0].val, false, &type) < 0)
		return bad_value(ctl, argv[0], "data type", opts[0].val);
	if (ctl_parse_hex(opts[1].val, data, sizeof(data), &len) < 0)
		return bad_value(ctl, argv[0], "data (hex bytes)", opts[1].val);
	if (opts[3].set && (parse_u32(ctl, opts[3].val, &fault) < 0 || !fault))
		return bad_value(ctl, argv[0], "fault queue", opts[3].val);
	r = ensure_client(ctl);
	if (r)
		return r;
	/* From a vIOMMU or a parent; with a fault queue: FAULT_ID_VALID. */
	r = ioas_hwpt_alloc_args(ctl->client, &(struct ioas_hwpt_args){
		.device = dev, .parent = opts[2].set ? 0 : parent,
		.viommu = opts[2].set ? parent : 0,
		.flags = fault ? IOAS_HWPT_FAULT_ID_VALID : 0, .data_type = type,
		.data = data, .len = len, .fault = fault }, &hwpt);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	ctl->last_hwpt = hwpt;
	ctl->have_hwpt = true;
	print_hwpt(ctl, argv[0], hwpt);
	return 0;
}

int cmd_hwpt_destroy(struct ctl *ctl, int argc, char **argv)
{
	return cmd_one_handle(ctl, argc, argv, "hwpt", "destroyed",
			      ioas_hwpt_destroy);
}

int cmd_hwpt_invalidate(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "data-type", true }, { "entry-len", true },
			      { "entries", true }, { "viommu", false } };
	static uint8_t entries[HEX_MAX];
	uint32_t hwpt, type, entry_len, n, want;
	size_t npos, len;
	char *pos[1];
	int r;

	r = parse_args(ctl, argc, argv, opts, 4, pos, 1, 1, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &hwpt) < 0)
		return bad_value(ctl, argv[0], opts[3].set ? "viommu" : "hwpt", pos[0]);
	if (!opts[0].set || !opts[1].set || !opts[2].set)
		return usage_error(ctl, argv[0],
				   "--data-type, --entry-len and --entries are needed");
	if (parse_type(ctl, opts[0].val, true, &type) < 0)
		return bad_value(ctl, argv[0], "invalidation data type", opts[0].val);
	if (parse_u32(ctl, opts[1].val, &entry_len) < 0 || entry_len == 0)
		return bad_value(ctl, argv[0], "entry length", opts[1].val);
	if (ctl_parse_hex(opts[2].val, entries, sizeof(entries), &len) < 0 ||
	    len % entry_len)
		return bad_value(ctl, argv[0], "entries (hex bytes, whole entries)",
				 opts[2].val);
	r = ensure_client(ctl);
	if (r)
		return r;
	want = n = (uint32_t)(len / entry_len);
	r = opts[3].set ?
		ioas_viommu_invalidate(ctl->client, hwpt, type, entries, entry_len, &n) :
		ioas_hwpt_invalidate(ctl->client, hwpt, type, entries, entry_len, &n);
	if (ctl->json && r == 0) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, opts[3].set ? "viommu" : "hwpt", hwpt);
		ju64(ctl, "entries", want);
		ju64(ctl, "entries_done", n);
		jclose();
	} else if (r == 0) {
		printf("invalidated %s %u: %u of %u entries\n",
		       opts[3].set ? "viommu" : "hwpt", hwpt, n, want);
	} else {
		/* How far the kernel got is part of the refusal. */
		fprintf(stderr, "ioasctl: %s: the kernel handled %u of %u entries\n",
			argv[0], n, want);
		return op_error(ctl, argv[0], r);
	}
	return 0;
}

int cmd_device_replace(struct ctl *ctl, int argc, char **argv)
{
	struct opt opts[] = { { "ioas", true }, { "hwpt", true } };
	uint32_t dev, ioas = 0, hwpt = 0;
	char *pos[1];
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, opts, 2, pos, 1, 1, &npos);
	if (r)
		return r;
	if (parse_u32(ctl, pos[0], &dev) < 0)
		return bad_value(ctl, argv[0], "device", pos[0]);
	if (opts[0].set == opts[1].set)
		return usage_error(ctl, argv[0], "give --ioas IOAS or --hwpt HWPT");
	if (opts[0].set && (parse_u32(ctl, opts[0].val, &ioas) < 0 || !ioas))
		return bad_value(ctl, argv[0], "ioas", opts[0].val);
	if (opts[1].set && (parse_u32(ctl, opts[1].val, &hwpt) < 0 || !hwpt))
		return bad_value(ctl, argv[0], "hwpt", opts[1].val);
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_device_replace(ctl->client, dev, ioas, hwpt);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (ctl->json) {
		jopen(ctl);
		jstr(ctl, "cmd", argv[0]);
		ju64(ctl, "device", dev);
		ju64(ctl, hwpt ? "hwpt" : "ioas", hwpt ? hwpt : ioas);
		jclose();
	} else {
		printf("device %u now on %s %u\n", dev, hwpt ? "hwpt" : "ioas",
		       hwpt ? hwpt : ioas);
	}
	return 0;
}

int cmd_hwpts(struct ctl *ctl, int argc, char **argv)
{
	struct ioas_hwpt_info *list = NULL;
	uint32_t n = 0;
	size_t npos;
	int r;

	r = parse_args(ctl, argc, argv, NULL, 0, NULL, 0, 0, &npos);
	if (r)
		return r;
	r = ensure_client(ctl);
	if (r)
		return r;
	r = ioas_hwpt_list(ctl->client, &list, &n);
	if (r < 0)
		return op_error(ctl, argv[0], r);
	if (!ctl->json && n == 0)
		printf("no hwpts\n");
	for (uint32_t i = 0; i < n; i++) {
		const struct ioas_hwpt_info *h = &list[i];

		if (ctl->json) {
			jopen(ctl);
			jstr(ctl, "cmd", "hwpt");
			ju64(ctl, "hwpt", h->hwpt);
			ju64(ctl, "ioas", h->ioas);
			if (h->parent)
				ju64(ctl, "parent", h->parent);
			ju64(ctl, "device", h->device);
			ju64(ctl, "flags", h->flags);
			ju64(ctl, "data_type", h->data_type);
			ju64(ctl, "devices", h->devices);
			ju64(ctl, "children", h->children);
			jclose();
		} else if (h->parent) {
			printf("hwpt %u: nested in hwpt %u (ioas %u), data type 0x%x %s, "
			       "%u device(s) on it\n", h->hwpt, h->parent, h->ioas,
			       h->data_type, type_name(h->data_type, false), h->devices);
		} else {
			printf("hwpt %u: paging on ioas %u, flags 0x%x%s%s, %u device(s) on it, "
			       "%u nested\n", h->hwpt, h->ioas, h->flags,
			       h->flags & IOAS_HWPT_NEST_PARENT ? " nest-parent" : "",
			       h->flags & IOAS_HWPT_DIRTY_TRACKING ? " dirty-tracking" : "",
			       h->devices, h->children);
		}
	}
	free(list);
	return 0;
}
