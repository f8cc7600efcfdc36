/* SPDX-License-Identifier: MIT */
/*
 * The records of the restart state's database (db.h): how the tables'
 * objects are keyed and encoded, each change written as the tenant layer's
 * journal reports it (tenant.h, "journal"), and the whole tables written at
 * once (conversion from a state file, or a rewrite after a failed commit).
 *
 *   meta      "layout" u32 = RECORDS_LAYOUT, "backend" string,
 *             "next_store_id" u64, "next_conn_serial" u64, "next_tenant" u32
 *   tenants   tenant id (u32) -> Tenant message without repeated fields
 *   objects   tenant id (u32), kind (u8: RECORD_IOAS...), handle (u32)
 *             -> its state.proto message
 *   mappings  tenant id (u32), IOAS handle (u32), generation (u32),
 *             IOVA (u64) -> struct record_mapping
 * Keys are big-endian so that LMDB's byte order is numeric order: one
 * tenant's records, one IOAS's mappings are one range. A request writes
 * only its own records. Releasing a tenant or an IOAS, or unmapping a
 * whole IOAS, writes one record and leaves the records under it to the
 * sweeper (a tenant header gone, an IOAS gone, or a generation behind the
 * IOAS's: records nothing refers to), which deletes them in slices.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "persist/db.h"
#include "proto/state.pb-c.h"
#include "tenant/tenant.h"

#define RECORDS_LAYOUT 2u /* 1 was the state file */

enum record_kind {
	RECORD_IOAS = 'i',
	RECORD_MEMORY = 'm',
	RECORD_SHARE = 's',
	RECORD_IMPORT = 'p',
	RECORD_DEVICE = 'd',
	RECORD_HWPT = 'h',
	RECORD_FAULT = 'q',   /* issue 16: fault queues */
	RECORD_PASID = 'a',   /* issue 16: PASID attachments */
	RECORD_VOBJ = 'v',      /* vIOMMU, vDEVICE, vEVENTQ */
};

#define RECORD_TENANT_KEY 4u
#define RECORD_OBJECT_KEY 9u
#define RECORD_MAPPING_KEY 20u

/* A mapping's value, little-endian. */
struct record_mapping {
	uint64_t length;
	uint64_t mem_offset;
	uint32_t owner;      /* tenant id of the memory's owner */
	uint32_t memory;     /* its handle there */
	uint32_t flags;
	uint32_t import;     /* a piece of this import, or 0 */
} __attribute__((packed));

void record_tenant_key(uint32_t tid, uint8_t key[RECORD_TENANT_KEY]);
void record_object_key(uint32_t tid, enum record_kind kind, uint32_t handle,
		       uint8_t key[RECORD_OBJECT_KEY]);
void record_mapping_key(uint32_t tid, uint32_t ioas, uint32_t gen, uint64_t iova,
			uint8_t key[RECORD_MAPPING_KEY]);
uint32_t record_u32(const uint8_t *p); /* big-endian */
uint64_t record_u64(const uint8_t *p);

/* Something under a key prefix nothing refers to any more. */
struct record_garbage {
	enum db_table table;
	uint8_t prefix[8];
	size_t plen;
	uint32_t gen_below;  /* mappings: only generations below this (0: all) */
};

/* What the writer needs besides the database. */
struct records {
	struct db *db;
	bool by_policy;           /* tenants are resolved by a policy */
	bool restoring;           /* tenants being rebuilt get their id from the restore */
	uint32_t next_tenant;     /* ids are never reused */
	/* Prefixes for the sweeper (records_sweep). */
	struct record_garbage *garbage;
	size_t ngarbage, cap_garbage;
	int error;                /* the first failure since the last commit */
};

/* The tenant layer's journal (tenant_set_journal(ts, records_journal, r)). */
void records_journal(void *userdata, const struct tenant_journal_event *ev);
/* The meta table's names (the layout above), and a 64-bit counter of it
 * written alone. */
#define RECORDS_META_LAYOUT "layout"
#define RECORDS_META_BACKEND "backend"
#define RECORDS_NEXT_STORE_ID "next_store_id"
#define RECORDS_NEXT_CONN_SERIAL "next_conn_serial"
#define RECORDS_NEXT_TENANT "next_tenant"
int records_put_counter(struct records *r, const char *name, uint64_t v);
/* Write the counters. */
int records_put_meta(struct records *r, const char *backend, uint64_t next_store_id,
		     uint64_t next_conn_serial);
/* Empty the database and write every live tenant anew (new ids), with the
 * counters. Sweeping is then nothing. */
int records_write_all(struct records *r, struct tenants *ts, const char *backend,
		      uint64_t next_store_id, uint64_t next_conn_serial);
int records_add_garbage(struct records *r, const struct record_garbage *g);
/* Delete up to max records the garbage list names; *ret_more: some left. */
long records_sweep(struct records *r, size_t max, bool *ret_more);

/* The header a tenant's record holds (points into t's strings). */
void records_tenant_msg(const struct tenant *t, bool by_policy, IoasdState__Tenant *x);
