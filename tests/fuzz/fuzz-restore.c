/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the restore path, from the bytes of a state file to tables,
 * as the daemon takes it at start: state_check_decode() and state_check()
 * (state.c's state_open), then restore_refuse() or restore_tenants()
 * replaying into the fuzz server's sim (state.c's state_attach), with the
 * fds a store would give back: a sealed memfd for each memory the state
 * names (sized as it says, up to 16 MiB) and a sim device for each device,
 * except for the store ids that end in 4 or 9 (missing from the store, as
 * after a kill in the middle of a release), plus one fd the state does not
 * name. The state's next_conn_serial chooses the sim's MAP_FILE model or
 * the mmap path.
 *
 * Invariants: a refusal is EBADMSG with a reason; a state that state_check()
 * accepts rebuilds into tables that pass tenant_check() (restore_tenants()
 * must not have to refuse it: that would be a rule state_check() lacks),
 * with no more tenants than it names; and once every tenant is released,
 * no tenant, IOAS, mapping, pinned byte or fd is left. A loop that does
 * not end is caught by libFuzzer's -timeout.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "common/log.h"
#include "persist/restore.h"
#include "tenancy/server.h"
#include "persist/state-check.h"
#include "tenant/tenant.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FDS 16
#define MAX_MEMFD_SIZE (16u << 20)

static bool in_store(uint64_t store_id)
{
	return store_id % 5 != 4;
}

static int memfd(const char *name, uint64_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		fuzz_fail("memfd_create: %m");
	if (ftruncate(fd, (off_t)size) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		fuzz_fail("sizing a memfd: %m");
	return fd;
}

static void add_fd(struct fdstore_entry *v, size_t *n, const char *kind, uint64_t id,
		   int fd)
{
	restore_fd_name(kind, id, v[*n].name, sizeof(v[*n].name));
	v[(*n)++].fd = fd;
}

/* What a store holding the state's fds would give back. */
static struct fdstore_entry *store_fds(const IoasdState__State *m, size_t *ret_n)
{
	struct fdstore_entry *v = calloc(MAX_FDS + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		fuzz_fail("out of memory");
	for (size_t i = 0; i < m->n_tenants && n < MAX_FDS; i++) {
		const IoasdState__Tenant *x = m->tenants[i];

		for (size_t j = 0; j < x->n_memories && n < MAX_FDS; j++) {
			const IoasdState__Memory *y = x->memories[j];
			uint64_t size = y->offset + y->length;

			if (!in_store(y->store_id))
				continue;
			if (size < y->offset || size > MAX_MEMFD_SIZE)
				size = 4096; /* too small: the restore refuses the region */
			add_fd(v, &n, "mem", y->store_id, memfd("fuzz-restore", size));
		}
		for (size_t j = 0; j < x->n_devices && n < MAX_FDS; j++)
			if (in_store(x->devices[j]->store_id))
				add_fd(v, &n, "dev", x->devices[j]->store_id,
				       memfd("ioasd-sim-device:1234:11e8@0000:00:03.0", 0));
	}
	add_fd(v, &n, "mem", UINT64_MAX, memfd("fuzz-restore-stray", 4096));
	*ret_n = n;
	return v;
}

static void check_refusal(int r, const struct err *e, const char *what)
{
	if (r != -EBADMSG || e->errnum != EBADMSG || !e->msg[0])
		fuzz_fail("%s refused with %d (errnum %d) and reason \"%s\"", what, r,
			  e->errnum, e->msg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_env_init();
	/* Refusals and dropped records are what most inputs get: their
	 * reasons are checked, not printed (FUZZ_VERBOSE=1 prints them). */
	if (!getenv("FUZZ_VERBOSE"))
		log_set_level(LOG_CRIT);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct server *s = fuzz_server();
	struct restore r = {
		.tenants = s->tenants, .backend = s->backend, .pool = s->pool,
		.policy = s->policy,
		.limits = s->cfg.limits, .audit = s->audit, .grace_sec = 1,
	};
	IoasdState__State *m = NULL;
	struct err e = { 0 };
	struct tenant *t;
	size_t tenants = 0;
	int ret;

	ret = state_check_decode(data, size, &m, &e);
	if (ret < 0) {
		check_refusal(ret, &e, "an undecodable state");
		restore_refuse(&r, NULL, e.msg);
		fuzz_check_idle();
		return 0;
	}
	ret = state_check(m, &e);
	if (ret < 0 && e.errnum == ENOMEM) {
		ioasd_state__state__free_unpacked(m, NULL);
		return 0;
	}
	if (ret < 0) {
		check_refusal(ret, &e, "a state");
		restore_refuse(&r, m, e.msg);
		ioasd_state__state__free_unpacked(m, NULL);
		fuzz_check_idle();
		return 0;
	}
	fuzz_set_map_file(m->next_conn_serial & 1);
	r.fds = store_fds(m, &r.nfds);
	ret = restore_tenants(&r, m, true, &e);
	if (ret < 0 && e.errnum != ENOMEM)
		fuzz_fail("a state that state_check() accepts was rebuilt into tables "
			  "that do not hold together: %s", e.msg);
	for (t = tenant_next(s->tenants, NULL); t; t = tenant_next(s->tenants, t)) {
		struct err ce = { 0 };

		if (tenant_check(t, &ce) < 0)
			fuzz_fail("tenant %s after the restore: %s", tenant_name(t), ce.msg);
		if (!tenant_unclaimed(t))
			fuzz_fail("restored tenant %s is not awaiting reclaim", tenant_name(t));
		tenants++;
	}
	if (tenants > m->n_tenants || (ret >= 0 && (size_t)ret != tenants))
		fuzz_fail("%zu tenants live, %d restored, %zu in the state", tenants, ret,
			  m->n_tenants);
	/* As at the end of the grace: every tenant released. */
	while ((t = tenant_next(s->tenants, NULL)))
		tenant_free(t);
	fdstore_entries_free(r.fds, r.nfds);
	ioasd_state__state__free_unpacked(m, NULL);
	fuzz_check_idle();
	return 0;
}
