/* SPDX-License-Identifier: MIT */
/*
 * The audit trail: one structured record per decision (allowed or refused),
 * per connection accepted or refused, per tenant released and per policy
 * reload. Records go to the journal (sd_journal_send, a fixed MESSAGE_ID per
 * kind) when a journal is present, and to a JSON-lines file when configured.
 *
 * A sink that fails is reported loudly (once per failure episode) and
 * retried on every record; audit_healthy() tells callers whether to refuse
 * work under AuditFailure=refuse.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum audit_kind {
	AUDIT_DECISION = 0,   /* an operation allowed or refused */
	AUDIT_CONNECT,        /* a connection accepted or refused */
	AUDIT_RELEASE,        /* a tenant's objects released */
	AUDIT_POLICY,         /* policy loaded / reloaded / reload failed */
	AUDIT_NOTIFY,         /* something done to a tenant on another's behalf */
	AUDIT_RESTART,        /* tenants restored, reclaimed, or given up after a restart */
	AUDIT_RATELIMIT,      /* how many refusals of one subject the rate limit held back */
	_AUDIT_KIND_MAX,
};

enum audit_failure_mode {
	AUDIT_FAILURE_CONTINUE = 0, /* keep serving, keep shouting */
	AUDIT_FAILURE_REFUSE,       /* refuse operations while a sink is broken */
};

struct audit_record {
	enum audit_kind kind;
	const char *op;        /* "Map", "connect", ... */
	bool allowed;
	int errnum;            /* 0 when allowed */
	const char *reason;    /* why (refusals), or a note */
	const char *tenant;    /* NULL when none resolved */
	uid_t uid;
	gid_t gid;
	pid_t pid;
	uint64_t conn;         /* connection serial, 0 = none */
	const char *policy_file;
	unsigned policy_line;
	/* Optional numbers: printed only when has_* is set. */
	bool has_handle, has_handle2, has_iova, has_length, has_iova2;
	uint32_t handle;       /* IOAS or memory handle */
	uint32_t handle2;      /* second handle (copy dst, map memory) */
	uint64_t iova;
	uint64_t length;
	uint64_t iova2;        /* result IOVA / dst IOVA */
	const char *device;    /* "0000:00:03.0 (1234:11e8)", device ops */
	/* An operation of a Batch request: the request's id (with conn, it
	 * names the batch) and the operation's place in it, from 0. With
	 * rollback, the record is of that operation being undone (an
	 * all-or-nothing batch that failed later): op is the undoing one. */
	bool has_batch, rollback;
	uint32_t batch_index;
	uint64_t batch;
	/* AUDIT_RATELIMIT: records held back, over how many seconds. */
	uint64_t suppressed;
	uint32_t interval_sec;
};

struct audit;
struct err;

struct audit_config {
	/* The JSON-lines file, or NULL. Opened O_NOFOLLOW and O_APPEND (created
	 * 0640 when missing); it must be a regular file with one link, not
	 * writable by group or others, owned by the effective uid or by
	 * owner: a file planted for the daemon to append to is refused. */
	const char *path;
	uid_t owner;          /* the user the daemon runs as later (--user), or (uid_t)-1 */
	bool journal;         /* "auto": used when journald is there */
	enum audit_failure_mode mode;
	/* Refusals (and refused connections) per subject — a policy tenant
	 * by name, anyone else by uid — at most rate_burst records in each
	 * rate_interval_sec; the rest are counted and summed up in one
	 * AUDIT_RATELIMIT record when the window closes. Either 0: no
	 * limit. Allowed records are never held back. */
	uint32_t rate_interval_sec;
	uint32_t rate_burst;
};

#define AUDIT_RATE_INTERVAL_DEFAULT 10
#define AUDIT_RATE_BURST_DEFAULT 200
#define AUDIT_RATE_MAX_SUBJECTS 1024   /* subjects tracked at once */

/* 0, or -errno with e saying which file and why. */
int audit_open(const struct audit_config *cfg, struct audit **ret, struct err *e);
struct audit *audit_close(struct audit *a); /* NULL-safe */

/* audit_emit() held the record back (rate limit): log nothing about it
 * either. */
#define AUDIT_SUPPRESSED 1

/* Emit one record. 0; AUDIT_SUPPRESSED; or -errno when some sink failed
 * (already logged; the record is counted as dropped). A record goes to the
 * file whole or not at all: never half a line. With no sink it is not
 * formatted at all (the rate limit still counts refusals). */
int audit_emit(struct audit *a, const struct audit_record *r);

/* Whether records go anywhere (a file, the journal): a caller may skip
 * work that only a record's text needs. False for NULL. */
bool audit_has_sink(const struct audit *a);

/* Sum up the rate-limit windows that have closed (call it now and then,
 * e.g. from a timer). audit_close() sums up the open ones too. */
void audit_tick(struct audit *a);

struct audit_stats {
	uint64_t dropped;     /* records some sink failed to take */
	uint64_t suppressed;  /* records held back by the rate limit */
	uint64_t evicted;     /* rate-limit subjects dropped from a full table */
};
void audit_get_stats(const struct audit *a, struct audit_stats *ret);

/* False while a sink is failing and the mode is AUDIT_FAILURE_REFUSE. */
bool audit_healthy(const struct audit *a);

/* Format one record as a JSON object (no newline) into buf. Returns the
 * length that was needed (like snprintf). Exposed for tests. */
size_t audit_format_json(const struct audit_record *r, char *buf, size_t size);
