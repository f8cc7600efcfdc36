/* SPDX-License-Identifier: MIT */
/*
 * Reading the restart state's database back (records.h says what is in
 * it): every record but the mappings into a state.proto State (the
 * "skeleton", checked with state_check_skeleton()), and the mappings one by
 * one from the database as the restore asks for them, each checked against
 * the skeleton as it is read. Nothing is replayed from a log and no copy of
 * the mappings is made: a restart costs one pass over the records.
 *
 * Records nothing refers to (a tenant header gone, an IOAS gone, an older
 * generation of an IOAS's mappings: the sweeper had not reached them) are
 * skipped and handed to the sweeper. A record that cannot be decoded or
 * that contradicts the others refuses the whole state, with the record and
 * what is wrong.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "persist/records.h"
#include "persist/restore.h"
#include "proto/state.pb-c.h"

struct load {
	struct records *rec;
	IoasdState__State *m;    /* the skeleton (NULL until loaded) */
	uint32_t *tids;          /* m->tenants[i]'s tenant id; ascending */
	uint64_t next_store_id;
	uint64_t next_conn_serial;
	size_t skipped;          /* records left to the sweeper */
	/* Mappings the restore did not take: deleted after the walk. */
	uint8_t (*drop)[RECORD_MAPPING_KEY];
	size_t ndrop, cap_drop;
};

/*
 * Read everything but the mappings. 0 with ld->m set; -ENOENT for a
 * database with nothing in it (a first start); -EBADMSG with e naming the
 * record and what is wrong. The backend the records were written by is
 * compared by the caller (m->backend).
 */
int load_skeleton(struct load *ld, struct err *e);
/* The mapping source for restore_tenants_from(). */
void load_mappings(struct load *ld, struct restore_mappings *ret);
/* Forget what the restore did not take (in the open transaction). */
int load_finish(struct load *ld);
void load_free(struct load *ld);
/* The whole state as one State message, mappings included (as a state
 * file would have held it): for tools and tests, not for the daemon. */
int load_export(struct load *ld, IoasdState__State **ret, struct err *e);
/* The restore's "made" hook: give tenant index i its id. */
void load_made(void *userdata, size_t index, struct tenant *t);
