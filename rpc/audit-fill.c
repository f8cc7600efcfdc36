/* SPDX-License-Identifier: MIT */
/* What each operation's audit record carries: its handles, IOVA and length,
 * one filler per operation, named in its row of the operation table. */
#include "rpc/rpc-internal.h"

/* ------------------------------------------------------------ audit */

/* The numbers of a request worth recording (handles, IOVA, length), one
 * filler per operation; named in the operation's row of the table below. */

static void set_handle(struct audit_record *a, uint32_t h)
{
	a->has_handle = true;
	a->handle = h;
}

static void set_handle2(struct audit_record *a, uint32_t h)
{
	a->has_handle2 = true;
	a->handle2 = h;
}

void fill_ioas_alloc(struct audit_record *a, const Ioasd__Request *req,
		     const Ioasd__Response *resp)
{
	if (resp->result_case == IOASD__RESPONSE__RESULT_IOAS_ALLOC)
		set_handle(a, resp->ioas_alloc->ioas);
}

void fill_ioas_destroy(struct audit_record *a, const Ioasd__Request *req,
		       const Ioasd__Response *resp)
{
	set_handle(a, req->ioas_destroy->ioas);
}

void fill_iova_ranges(struct audit_record *a, const Ioasd__Request *req,
		      const Ioasd__Response *resp)
{
	set_handle(a, req->iova_ranges->ioas);
}

void fill_allow_iovas(struct audit_record *a, const Ioasd__Request *req,
		      const Ioasd__Response *resp)
{
	set_handle(a, req->allow_iovas->ioas);
}

void fill_register_memory(struct audit_record *a, const Ioasd__Request *req,
			  const Ioasd__Response *resp)
{
	a->has_length = true;
	a->length = req->register_memory->length;
	if (resp->result_case == IOASD__RESPONSE__RESULT_REGISTER_MEMORY)
		set_handle(a, resp->register_memory->memory);
}

void fill_unregister_memory(struct audit_record *a, const Ioasd__Request *req,
			    const Ioasd__Response *resp)
{
	set_handle(a, req->unregister_memory->memory);
}

void fill_map(struct audit_record *a, const Ioasd__Request *req,
	      const Ioasd__Response *resp)
{
	set_handle(a, req->map->ioas);
	set_handle2(a, req->map->memory);
	a->has_length = true;
	a->length = req->map->length;
	if (req->map->has_iova) {
		a->has_iova = true;
		a->iova = req->map->iova;
	}
	if (resp->result_case == IOASD__RESPONSE__RESULT_MAP) {
		a->has_iova2 = true;
		a->iova2 = resp->map->iova;
	}
	if (req->map->identity && a->allowed)
		a->reason = "identity map: IOVA = the client's address";
}

void fill_unmap(struct audit_record *a, const Ioasd__Request *req,
		const Ioasd__Response *resp)
{
	set_handle(a, req->unmap->ioas);
	a->has_iova = a->has_length = true;
	a->iova = req->unmap->iova;
	a->length = req->unmap->length;
}

void fill_copy(struct audit_record *a, const Ioasd__Request *req,
	       const Ioasd__Response *resp)
{
	set_handle(a, req->copy->src_ioas);
	set_handle2(a, req->copy->dst_ioas);
	a->has_iova = a->has_length = true;
	a->iova = req->copy->src_iova;
	a->length = req->copy->length;
	if (resp->result_case == IOASD__RESPONSE__RESULT_COPY) {
		a->has_iova2 = true;
		a->iova2 = resp->copy->dst_iova;
	}
}

void fill_option(struct audit_record *a, const Ioasd__Request *req,
		 const Ioasd__Response *resp)
{
	set_handle(a, req->option->ioas);
}

void fill_attach_device(struct audit_record *a, const Ioasd__Request *req,
			const Ioasd__Response *resp)
{
	set_handle(a, req->attach_device->ioas);
	if (resp->result_case == IOASD__RESPONSE__RESULT_ATTACH_DEVICE)
		set_handle2(a, resp->attach_device->device);
}

void fill_detach_device(struct audit_record *a, const Ioasd__Request *req,
			const Ioasd__Response *resp)
{
	set_handle(a, req->detach_device->device);
}
