/* SPDX-License-Identifier: MIT */
/* What state.c and reclaim.c share of the restart state (state.h is the
 * interface). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "persist/db.h"
#include "persist/fdstore.h"
#include "persist/load.h"
#include "persist/records.h"
#include "persist/state.h"
#include "state.pb-c.h"

struct event;

struct state {
	char *dir;
	int dir_fd;
	unsigned grace_sec;
	struct fdstore *store;
	struct fdstore_entry *fds;     /* taken back from the store */
	size_t nfds;
	struct db *db;
	struct records rec;
	struct load load;              /* the database's state, read at open */
	IoasdState__State *legacy;     /* a state file to convert, checked */
	IoasdState__State *refused;    /* what did not hold together (may be NULL) */
	char refused_why[512];         /* why it is not restored ("": nothing refused) */
	int iommufd;                   /* stored context, until taken */
	bool have_taken_ino;
	dev_t taken_dev;
	ino_t taken_ino;               /* of the stored context that was taken */
	struct state_env env;
	bool attached;
	uint64_t next_store_id;
	uint64_t saved_serial;         /* next_conn_serial as last written */
	bool resync;                   /* a commit failed: write everything anew */
	bool write_failing;
	struct event *ev_sweep;
	bool sweep_armed;
	state_durable_fn durable;
	void *durable_data;
	struct event *ev_grace;
	time_t grace_end;
	bool grace_over;
};

void state_claim_audit(struct state *st, struct rpc_session *c, struct tenant *t);
