/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the restore path from the restart database's records, as the
 * daemon takes it at start: the input's records are written into a real
 * LMDB database (one kept open in a private directory, emptied per input),
 * then load_skeleton() (with state_check_skeleton()), restore_tenants_from()
 * reading the mappings one by one from the database, replaying into the fuzz
 * server's sim, with the fds a store would give back (a sealed memfd for
 * each memory record, except the store ids that end in 4 or 9).
 *
 * Input: records, each
 *   u8 table (DB_META.. mod DB_NTABLES), u8 key length, u16 value length
 *   (little-endian), the key, the value
 * up to the end of the input.
 *
 * Invariants: a refusal is EBADMSG with a reason; a database that loads
 * rebuilds into tables that pass tenant_check(); once every tenant is
 * released, no tenant, IOAS, mapping, pinned byte or fd is left.
 *
 * Seeds: fuzz-records -seed_from=STATE_FILE restores a state file (the
 * restore corpus's form) into the fuzz server, writes it as records and
 * prints them as an input on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "common/log.h"
#include "persist/load.h"
#include "persist/restore.h"
#include "persist/state-check.h"
#include "tenancy/server.h"
#include "tenant/tenant.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FDS 16
#define MAX_MEMFD_SIZE (16u << 20)

static struct records rec;
static char dir[64];

static int memfd(uint64_t size)
{
	int fd = memfd_create("fuzz-records", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		fuzz_fail("memfd_create: %m");
	if (ftruncate(fd, (off_t)size) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		fuzz_fail("sizing a memfd: %m");
	return fd;
}

/* What a store holding the skeleton's fds would give back. */
static struct fdstore_entry *store_fds(const IoasdState__State *m, size_t *ret_n)
{
	struct fdstore_entry *v = calloc(MAX_FDS + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		fuzz_fail("out of memory");
	for (size_t i = 0; i < m->n_tenants && n < MAX_FDS; i++)
		for (size_t j = 0; j < m->tenants[i]->n_memories && n < MAX_FDS; j++) {
			const IoasdState__Memory *y = m->tenants[i]->memories[j];
			uint64_t size = y->offset + y->length;

			if (y->store_id % 5 == 4)
				continue;
			if (size < y->offset || size > MAX_MEMFD_SIZE)
				size = 4096;
			restore_fd_name("mem", y->store_id, v[n].name, sizeof(v[n].name));
			v[n++].fd = memfd(size);
		}
	*ret_n = n;
	return v;
}

static void check_refusal(int r, const struct err *e, const char *what)
{
	if (r != -EBADMSG || e->errnum != EBADMSG || !e->msg[0])
		fuzz_fail("%s refused with %d (errnum %d) and reason \"%s\"", what, r,
			  e->errnum, e->msg);
}

/* Write the input's records into the emptied database. */
static void write_records(const uint8_t *data, size_t size)
{
	struct err e = { 0 };

	if (db_clear(rec.db) < 0)
		fuzz_fail("emptying the database");
	while (size >= 4) {
		unsigned table = data[0] % DB_NTABLES, klen = data[1];
		size_t vlen = (size_t)data[2] | (size_t)data[3] << 8;

		data += 4;
		size -= 4;
		if (klen == 0 || klen > size)
			break;
		if (vlen > size - klen)
			vlen = size - klen;
		(void)db_put(rec.db, (enum db_table)table, data, klen, data + klen, vlen);
		data += klen + vlen;
		size -= klen + vlen;
	}
	if (db_commit(rec.db, &e) < 0)
		fuzz_fail("committing the input: %s", e.msg);
}

static int print_record(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
	uint8_t h[4] = { (uint8_t)*(enum db_table *)ud, (uint8_t)klen, (uint8_t)vlen,
			 (uint8_t)(vlen >> 8) };

	if (klen > 255 || vlen > 65535)
		return 0;
	fwrite(h, 1, 4, stdout);
	fwrite(key, 1, klen, stdout);
	fwrite(val, 1, vlen, stdout);
	return 0;
}

/* -seed_from=FILE: a state file as records, on stdout. */
static void seed_from(const char *path)
{
	struct server *s = fuzz_server();
	struct restore r = {
		.tenants = s->tenants, .backend = s->backend, .pool = s->pool,
		.limits = s->cfg.limits, .grace_sec = 1,
	};
	IoasdState__State *m = NULL;
	struct err e = { 0 };
	static uint8_t buf[1 << 20];
	struct tenant *t;
	size_t len;
	FILE *f = fopen(path, "r");

	if (!f)
		exit(2);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (state_check_decode(buf, len, &m, &e) < 0 || state_check(m, &e) < 0)
		exit(3); /* not a state that restores: no seed */
	r.fds = store_fds(m, &r.nfds);
	if (restore_tenants(&r, m, true, &e) <= 0)
		exit(3);
	if (records_write_all(&rec, s->tenants, "sim", m->next_store_id,
			      m->next_conn_serial) < 0 ||
	    db_commit(rec.db, &e) < 0)
		exit(4);
	for (enum db_table tb = DB_META; tb < DB_NTABLES; tb++)
		(void)db_walk(rec.db, tb, NULL, 0, print_record, &tb);
	(void)db_commit(rec.db, &e);
	while ((t = tenant_next(s->tenants, NULL)))
		tenant_free(t);
	exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct db_config dc = { .map_size = 256u << 20 };
	const char *tmp = getenv("TMPDIR");
	struct err e = { 0 };
	int dir_fd;

	/* The database's fds are open before the fd baseline is taken. */
	snprintf(dir, sizeof(dir), "%s/fuzz-records.XXXXXX",
		 tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	if (!mkdtemp(dir))
		fuzz_fail("mkdtemp: %m");
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0 || db_open(dir_fd, dir, &dc, &rec.db, &e) < 0)
		fuzz_fail("opening the database in %s: %s", dir, e.msg);
	/* The file stays open; its name is not needed any more. */
	db_unlink(dir_fd);
	close(dir_fd);
	(void)rmdir(dir);
	fuzz_env_init();
	if (!getenv("FUZZ_VERBOSE"))
		log_set_level(LOG_CRIT);
	for (int i = 1; i < *argc; i++)
		if (!strncmp((*argv)[i], "-seed_from=", 11))
			seed_from((*argv)[i] + 11);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct server *s = fuzz_server();
	struct restore r = {
		.tenants = s->tenants, .backend = s->backend, .pool = s->pool,
		.policy = s->policy, .limits = s->cfg.limits, .audit = s->audit,
		.grace_sec = 1,
	};
	struct load ld = { .rec = &rec };
	struct restore_mappings src;
	struct err e = { 0 };
	struct tenant *t;
	size_t tenants = 0;
	int ret;

	write_records(data, size);
	rec.next_tenant = 1;
	rec.ngarbage = 0;
	ret = load_skeleton(&ld, &e);
	if (ret == -ENOENT || (ret < 0 && e.errnum == ENOMEM))
		goto out;
	if (ret < 0) {
		check_refusal(ret, &e, "a database");
		restore_refuse(&r, ld.m, e.msg);
		goto out;
	}
	r.fds = store_fds(ld.m, &r.nfds);
	r.made = load_made;
	r.made_data = &ld;
	load_mappings(&ld, &src);
	rec.restoring = true;
	ret = restore_tenants_from(&r, ld.m, &src, true, &e);
	rec.restoring = false;
	if (ret < 0 && e.errnum != ENOMEM)
		check_refusal(ret, &e, "a database's mappings");
	for (t = tenant_next(s->tenants, NULL); t; t = tenant_next(s->tenants, t)) {
		struct err ce = { 0 };

		if (tenant_check(t, &ce) < 0)
			fuzz_fail("tenant %s after the restore: %s", tenant_name(t), ce.msg);
		tenants++;
	}
	if (tenants > ld.m->n_tenants || (ret >= 0 && (size_t)ret != tenants))
		fuzz_fail("%zu tenants live, %d restored, %zu in the database", tenants, ret,
			  ld.m->n_tenants);
	while ((t = tenant_next(s->tenants, NULL)))
		tenant_free(t);
	fdstore_entries_free(r.fds, r.nfds);
out:
	(void)db_commit(rec.db, &e); /* ends the reading transaction */
	load_free(&ld);
	fuzz_check_idle();
	return 0;
}
