/* SPDX-License-Identifier: MIT */
/* libioas: IOASes, their IOVA ranges and options. */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

/* ------------------------------------------------------------ IOAS */

IOAS_EXPORT int ioas_alloc(struct ioas_client *c, uint32_t *ret_ioas)
{
	Ioasd__IoasAllocReply *a;
	int r = REQUEST(c, ioas_alloc, -1, &a);

	if (r == 0 && ret_ioas)
		*ret_ioas = a->ioas;
	return r;
}

void libioas_msg_ioas_destroy(Ioasd__IoasDestroy *m, uint32_t ioas)
{
	*m = (Ioasd__IoasDestroy){ LIBIOAS_MESSAGE_BASE(ioas_destroy), .ioas = ioas };
}

IOAS_EXPORT int ioas_destroy(struct ioas_client *c, uint32_t ioas)
{
	Ioasd__IoasDestroy m;

	libioas_msg_ioas_destroy(&m, ioas);
	return request_ioas_destroy(c, -1, &m);
}

IOAS_EXPORT int ioas_submit_alloc(struct ioas_client *c, void *userdata,
				  uint64_t *ret_id)
{
	Ioasd__IoasAlloc m = { LIBIOAS_MESSAGE_BASE(ioas_alloc) };

	return submit_ioas_alloc(c, -1, &m, userdata, ret_id);
}

IOAS_EXPORT int ioas_submit_destroy(struct ioas_client *c, uint32_t ioas,
				    void *userdata, uint64_t *ret_id)
{
	Ioasd__IoasDestroy m;

	libioas_msg_ioas_destroy(&m, ioas);
	return submit_ioas_destroy(c, -1, &m, userdata, ret_id);
}

IOAS_EXPORT int ioas_iova_ranges(struct ioas_client *c, uint32_t ioas,
				 struct ioas_iova_range *ranges, uint32_t *num,
				 uint64_t *ret_alignment)
{
	Ioasd__IovaRangesReply *rr;
	int r;

	if (!num || (*num && !ranges))
		return libioas_fail(c, -EINVAL, "no room given for the ranges");

	r = REQUEST(c, iova_ranges, -1, &rr, .ioas = ioas, .capacity = *num);
	/* Kernel semantics: EMSGSIZE, and only the needed count comes back. */
	if (r == -EMSGSIZE && rr)
		*num = rr->num_iovas;
	if (r < 0)
		return r;

	if (rr->n_ranges != rr->num_iovas || rr->n_ranges > *num)
		return libioas_broken(c, -EPROTO,
				      "ioasd sent %zu ranges for num_iovas %u and room for %u",
				      rr->n_ranges, rr->num_iovas, *num);
	for (size_t i = 0; i < rr->n_ranges; i++) {
		ranges[i].start = rr->ranges[i]->start;
		ranges[i].last = rr->ranges[i]->last;
	}
	*num = rr->num_iovas;
	if (ret_alignment)
		*ret_alignment = rr->iova_alignment;
	return 0;
}

IOAS_EXPORT int ioas_iova_ranges_all(struct ioas_client *c, uint32_t ioas,
				     struct ioas_iova_range **ret_ranges,
				     uint32_t *ret_num,
				     uint64_t *ret_alignment)
{
	struct ioas_iova_range *ranges = NULL;
	uint32_t room = 8, num;
	uint64_t align;
	int r;

	/* The count can change between two calls (a device attaches):
	 * retry a few times, then give up rather than loop forever. */
	for (int attempt = 0; attempt < 8; attempt++) {
		struct ioas_iova_range *n;

		n = realloc(ranges, (room ? room : 1) * sizeof(*ranges));
		if (!n) {
			free(ranges);
			return libioas_fail(c, -ENOMEM, "out of memory");
		}
		ranges = n;
		num = room;
		r = ioas_iova_ranges(c, ioas, ranges, &num, &align);
		if (r == -EMSGSIZE && num > room) {
			room = num;
			continue;
		}
		if (r < 0) {
			free(ranges);
			return r;
		}
		if (num == 0) {
			free(ranges);
			ranges = NULL;
		}
		*ret_ranges = ranges;
		*ret_num = num;
		if (ret_alignment)
			*ret_alignment = align;
		return 0;
	}
	free(ranges);
	return libioas_fail(c, -EAGAIN, "IOVA ranges kept changing");
}

IOAS_EXPORT int ioas_allow_iovas(struct ioas_client *c, uint32_t ioas,
				 const struct ioas_iova_range *ranges,
				 uint32_t num)
{
	Ioasd__IovaRange *items = NULL, **ptrs = NULL;
	int r;

	if (num && !ranges)
		return libioas_fail(c, -EINVAL, "no ranges given");
	/* A bound before allocating: more than fits a datagram is refused
	 * by the size check anyway (each range takes at least 6 bytes). */
	if (num > IOASD_MAX_DATAGRAM / 4)
		return libioas_fail(c, -EMSGSIZE, "%u ranges do not fit one request",
				    num);
	if (num) {
		items = calloc(num, sizeof(*items));
		ptrs = calloc(num, sizeof(*ptrs));
		if (!items || !ptrs) {
			free(items);
			free(ptrs);
			return libioas_fail(c, -ENOMEM, "out of memory");
		}
	}
	for (uint32_t i = 0; i < num; i++) {
		ioasd__iova_range__init(&items[i]);
		items[i].start = ranges[i].start;
		items[i].last = ranges[i].last;
		ptrs[i] = &items[i];
	}
	r = REQUEST_NO_REPLY(c, allow_iovas, -1, .ioas = ioas, .n_ranges = num,
			     .ranges = ptrs);
	free(items);
	free(ptrs);
	return r;
}

/* ------------------------------------------------------------ options */

IOAS_EXPORT int ioas_option(struct ioas_client *c, uint32_t op_code,
			    uint32_t option, uint32_t ioas, uint64_t *val)
{
	bool set = op_code == IOAS_OPTION_OP_SET;
	Ioasd__OptionReply *o;
	int r;

	if (!val)
		return libioas_fail(c, -EINVAL, "no place for the option value");

	r = REQUEST(c, option, -1, &o, .op = (Ioasd__OptionOp)op_code,
		    .option = (Ioasd__OptionId)option, .ioas = ioas,
		    .has_value = set, .value = set ? *val : 0);
	if (r == 0 && op_code == IOAS_OPTION_OP_GET) {
		if (!o)
			r = libioas_broken(c, -EPROTO,
					   "option reply carries no value");
		else
			*val = o->value;
	}
	return r;
}

IOAS_EXPORT int ioas_huge_pages_get(struct ioas_client *c, uint32_t ioas,
				    bool *ret_enabled)
{
	uint64_t v = 0;
	int r;

	r = ioas_option(c, IOAS_OPTION_OP_GET, IOAS_OPTION_HUGE_PAGES, ioas,
			&v);
	if (r == 0 && ret_enabled)
		*ret_enabled = v != 0;
	return r;
}

IOAS_EXPORT int ioas_huge_pages_set(struct ioas_client *c, uint32_t ioas,
				    bool enabled)
{
	uint64_t v = enabled ? 1 : 0;

	return ioas_option(c, IOAS_OPTION_OP_SET, IOAS_OPTION_HUGE_PAGES, ioas,
			   &v);
}
