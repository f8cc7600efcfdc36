/* SPDX-License-Identifier: MIT */
/* libioas: IOASes, their IOVA ranges and options. */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

/* ------------------------------------------------------------ IOAS */

IOAS_EXPORT int ioas_alloc(struct ioas_client *c, uint32_t *ret_ioas)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__IoasAlloc op = IOASD__IOAS_ALLOC__INIT;
	Ioasd__Response *resp;
	int r;

	req.op_case = IOASD__REQUEST__OP_IOAS_ALLOC;
	req.ioas_alloc = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_IOAS_ALLOC, &resp);
	if (r == 0 && ret_ioas)
		*ret_ioas = resp->ioas_alloc->ioas;
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
}

IOAS_EXPORT int ioas_destroy(struct ioas_client *c, uint32_t ioas)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__IoasDestroy op = IOASD__IOAS_DESTROY__INIT;

	op.ioas = ioas;
	req.op_case = IOASD__REQUEST__OP_IOAS_DESTROY;
	req.ioas_destroy = &op;
	return libioas_transact_simple(c, &req);
}

IOAS_EXPORT int ioas_iova_ranges(struct ioas_client *c, uint32_t ioas,
				 struct ioas_iova_range *ranges, uint32_t *num,
				 uint64_t *ret_alignment)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__IovaRanges op = IOASD__IOVA_RANGES__INIT;
	Ioasd__IovaRangesReply *rr;
	Ioasd__Response *resp;
	int r;

	if (!num || (*num && !ranges))
		return libioas_fail(c, -EINVAL, "no room given for the ranges");

	op.ioas = ioas;
	op.capacity = *num;
	req.op_case = IOASD__REQUEST__OP_IOVA_RANGES;
	req.iova_ranges = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT_IOVA_RANGES, &resp);
	if (r == -EMSGSIZE && resp) {
		/* Kernel semantics: only the needed count comes back. */
		if (resp->result_case == IOASD__RESPONSE__RESULT_IOVA_RANGES)
			*num = resp->iova_ranges->num_iovas;
		goto out;
	}
	if (r < 0)
		goto out;

	rr = resp->iova_ranges;
	if (rr->n_ranges != rr->num_iovas || rr->n_ranges > *num) {
		r = libioas_broken(c, -EPROTO,
				   "ioasd sent %zu ranges for num_iovas %u and room for %u",
				   rr->n_ranges, rr->num_iovas, *num);
		goto out;
	}
	for (size_t i = 0; i < rr->n_ranges; i++) {
		ranges[i].start = rr->ranges[i]->start;
		ranges[i].last = rr->ranges[i]->last;
	}
	*num = rr->num_iovas;
	if (ret_alignment)
		*ret_alignment = rr->iova_alignment;
out:
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
	return r;
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
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__AllowIovas op = IOASD__ALLOW_IOVAS__INIT;
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
	op.ioas = ioas;
	op.n_ranges = num;
	op.ranges = ptrs;
	req.op_case = IOASD__REQUEST__OP_ALLOW_IOVAS;
	req.allow_iovas = &op;
	r = libioas_transact_simple(c, &req);
	free(items);
	free(ptrs);
	return r;
}

/* ------------------------------------------------------------ options */

IOAS_EXPORT int ioas_option(struct ioas_client *c, uint32_t op_code,
			    uint32_t option, uint32_t ioas, uint64_t *val)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Option op = IOASD__OPTION__INIT;
	Ioasd__Response *resp;
	int r;

	if (!val)
		return libioas_fail(c, -EINVAL, "no place for the option value");

	op.op = (Ioasd__OptionOp)op_code;
	op.option = (Ioasd__OptionId)option;
	op.ioas = ioas;
	if (op_code == IOAS_OPTION_OP_SET) {
		op.has_value = true;
		op.value = *val;
	}
	req.op_case = IOASD__REQUEST__OP_OPTION;
	req.option = &op;
	r = libioas_transact(c, &req, -1, IOASD__RESPONSE__RESULT__NOT_SET, &resp);
	if (r == 0 && op_code == IOAS_OPTION_OP_GET) {
		if (resp->result_case != IOASD__RESPONSE__RESULT_OPTION)
			r = libioas_broken(c, -EPROTO,
					   "option reply carries no value");
		else
			*val = resp->option->value;
	}
	if (resp)
		ioasd__response__free_unpacked(resp, NULL);
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
