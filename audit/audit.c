/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-journal.h>
#endif

#include "common/errname.h"
#include "audit/audit.h"
#include "common/log.h"
#include "audit/ratelimit.h"
#include "common/util.h"

/* Fixed per record kind, so `journalctl MESSAGE_ID=...` finds them all. */
static const char *const message_ids[_AUDIT_KIND_MAX] = {
	[AUDIT_DECISION] = "1ac031628bf542de824206a43134593b",
	[AUDIT_CONNECT] = "8f25f3382b904200bb258cbccf25c1e7",
	[AUDIT_RELEASE] = "d759d759162b4ac3ab428959fdf50993",
	[AUDIT_POLICY] = "739d1294ec1441e7b2de5947bde7ddfd",
	[AUDIT_NOTIFY] = "4e918ff36bb04d6cbe851ab3c42ad0c6",
	[AUDIT_RESTART] = "1aae4a1fb6884938afb9bfe620da1ce0",
	[AUDIT_RATELIMIT] = "670de77db9a34de791b54d5ec8863da0",
};

static const char *const kind_names[_AUDIT_KIND_MAX] = {
	[AUDIT_DECISION] = "decision",
	[AUDIT_CONNECT] = "connect",
	[AUDIT_RELEASE] = "release",
	[AUDIT_POLICY] = "policy",
	[AUDIT_NOTIFY] = "notify",
	[AUDIT_RESTART] = "restart",
	[AUDIT_RATELIMIT] = "ratelimit",
};

struct audit {
	int fd;               /* JSON lines, O_APPEND, or -1 */
	char *path;
	bool journal;
	enum audit_failure_mode mode;
	bool file_broken;
	bool file_torn;       /* half a line could not be taken back */
	bool journal_broken;
	struct audit_stats stats;
	struct ratelimit *rl; /* NULL: no rate limit */
	uint32_t rate_interval_sec, rate_burst;
};

static int audit_write(struct audit *a, const struct audit_record *r);
static void audit_summary(void *userdata, const struct ratelimit_summary *s);

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static const char *file_type(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFDIR: return "a directory";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFIFO: return "a FIFO";
	case S_IFSOCK: return "a socket";
	case S_IFLNK: return "a symbolic link";
	default: return "not a regular file";
	}
}

/* The JSON-lines file: never through a symbolic link, and only a file that
 * is the daemon's own, so that a name planted in a directory others can
 * write cannot make the daemon append to a file of someone else's. */
static int open_jsonl(const char *path, uid_t owner, struct err *e)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	uid_t euid = geteuid();

	/* O_NONBLOCK: a FIFO without a reader fails at once instead of
	 * blocking the start (it is refused below anyway). */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY |
			O_NOFOLLOW | O_NONBLOCK, 0640);
	if (fd < 0 && errno == ELOOP)
		return err_set(e, ELOOP,
			       "%s is a symbolic link: the audit log is opened without "
			       "following one (name the file itself)", path);
	if (fd < 0 && errno == ENXIO && lstat(path, &st) == 0)
		return err_set(e, EINVAL, "%s is %s, not a regular file", path,
			       file_type(st.st_mode));
	if (fd < 0)
		return err_errno(e, -errno, "%s", path);
	if (fstat(fd, &st) < 0)
		return err_errno(e, -errno, "fstat %s", path);
	if (!S_ISREG(st.st_mode))
		return err_set(e, EINVAL, "%s is %s, not a regular file", path,
			       file_type(st.st_mode));
	if (st.st_uid != euid && (owner == (uid_t)-1 || st.st_uid != owner)) {
		char users[64];

		if (owner != (uid_t)-1 && owner != euid)
			snprintf(users, sizeof(users), "uid %u, or %u of --user",
				 (unsigned)euid, (unsigned)owner);
		else
			snprintf(users, sizeof(users), "uid %u", (unsigned)euid);
		return err_set(e, EPERM,
			       "%s belongs to uid %u, not to the daemon's user (%s): "
			       "refusing to append to a file that is not the daemon's",
			       path, (unsigned)st.st_uid, users);
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return err_set(e, EPERM,
			       "%s is writable by its group or others (mode %04o): "
			       "whoever can write it can forge audit records",
			       path, (unsigned)(st.st_mode & 07777));
	if (st.st_nlink > 1)
		return err_set(e, EPERM,
			       "%s has %lu hard links: another name of it may be a file "
			       "the daemon must not append to",
			       path, (unsigned long)st.st_nlink);
	if (fcntl(fd, F_SETFL, O_APPEND) < 0)
		return err_errno(e, -errno, "%s: clearing O_NONBLOCK", path);
	return TAKE_FD(fd);
}

int audit_open(const struct audit_config *cfg, struct audit **ret, struct err *e)
{
	struct audit *a = calloc(1, sizeof(*a));

	if (!a)
		return err_set(e, ENOMEM, "out of memory");
	a->fd = -1;
	a->mode = cfg->mode;
	if (cfg->rate_interval_sec && cfg->rate_burst) {
		struct ratelimit_config rc = {
			.interval_usec = (uint64_t)cfg->rate_interval_sec * 1000000u,
			.burst = cfg->rate_burst,
			.max_keys = AUDIT_RATE_MAX_SUBJECTS,
			.report = audit_summary,
			.userdata = a,
		};
		int r = ratelimit_new(&rc, &a->rl);

		if (r < 0) {
			audit_close(a);
			return err_errno(e, r, "audit rate limit");
		}
		a->rate_interval_sec = cfg->rate_interval_sec;
		a->rate_burst = cfg->rate_burst;
	}
	if (cfg->path) {
		a->path = strdup(cfg->path);
		if (!a->path) {
			audit_close(a);
			return err_set(e, ENOMEM, "out of memory");
		}
		a->fd = open_jsonl(cfg->path, cfg->owner, e);
		if (a->fd < 0) {
			int r = a->fd;

			a->fd = -1;
			audit_close(a);
			return r;
		}
	}
#ifdef HAVE_SYSTEMD
	/* Only when journald is actually there: a daemon started by hand in a
	 * container without it should not fail every record. */
	if (cfg->journal && access("/run/systemd/journal/socket", F_OK) == 0)
		a->journal = true;
#endif
	*ret = a;
	return 0;
}

struct audit *audit_close(struct audit *a)
{
	if (!a)
		return NULL;
	/* What the rate limit held back in windows still open is said now. */
	ratelimit_sweep(a->rl, now_usec(), true);
	a->rl = ratelimit_free(a->rl);
	if (a->fd >= 0)
		close(a->fd);
	free(a->path);
	free(a);
	return NULL;
}

bool audit_healthy(const struct audit *a)
{
	if (!a || a->mode != AUDIT_FAILURE_REFUSE)
		return true;
	return !a->file_broken && !a->journal_broken;
}

/*
 * The record's text is written straight into the caller's buffer: literal
 * pieces and strings copied in runs, numbers converted here. No printf per
 * field, let alone per character: with a sink, a record is written on every
 * request. Like snprintf, the length needed is counted whatever the room,
 * and what fits is NUL-terminated.
 */
struct sbuf {
	char *buf;
	size_t size, len;
};

static void sb_put(struct sbuf *s, const char *p, size_t n)
{
	if (s->len + 1 < s->size) {
		size_t room = s->size - 1 - s->len;

		memcpy(s->buf + s->len, p, n < room ? n : room);
	}
	s->len += n;
}

#define sb_lit(s, lit) sb_put((s), "" lit, sizeof(lit) - 1)

static void sb_str(struct sbuf *s, const char *str)
{
	sb_put(s, str, strlen(str));
}

/* Decimal, at least width digits (zero-padded): %u, %02d, %04d. */
static void sb_u64_pad(struct sbuf *s, uint64_t v, size_t width)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (sizeof(tmp) - i < width && i > 0)
		tmp[--i] = '0';
	sb_put(s, tmp + i, sizeof(tmp) - i);
}

static void sb_u64(struct sbuf *s, uint64_t v)
{
	sb_u64_pad(s, v, 1);
}

static void sb_i64(struct sbuf *s, int64_t v)
{
	if (v < 0) {
		sb_lit(s, "-");
		sb_u64(s, (uint64_t)0 - (uint64_t)v);
	} else {
		sb_u64(s, (uint64_t)v);
	}
}

/* "0x%" PRIx64 */
static void sb_hex(struct sbuf *s, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[18];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = digits[v & 0xf];
		v >>= 4;
	} while (v);
	tmp[--i] = 'x';
	tmp[--i] = '0';
	sb_put(s, tmp + i, sizeof(tmp) - i);
}

/* n bytes of str as the inside of a JSON string: '"' and '\\' escaped with
 * a backslash, control characters and DEL as \u00XX, the rest as is. */
static void sb_json_chars(struct sbuf *s, const char *str, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)str, *end = p + n;
	const unsigned char *run = p;

	for (; p < end; p++) {
		char esc[6] = { '\\', 'u', '0', '0' };
		size_t len;

		if (*p == '"' || *p == '\\') {
			esc[1] = (char)*p;
			len = 2;
		} else if (*p < 0x20 || *p == 0x7f) {
			esc[4] = digits[*p >> 4];
			esc[5] = digits[*p & 0xf];
			len = 6;
		} else {
			continue;
		}
		sb_put(s, (const char *)run, (size_t)(p - run));
		sb_put(s, esc, len);
		run = p + 1;
	}
	sb_put(s, (const char *)run, (size_t)(p - run));
}

/* ,"key":123 and ,"key":"0x7b": key is a literal with its comma and quotes. */
#define sb_field_u64(s, key, v) \
	do {                     \
		sb_lit(s, key);      \
		sb_u64(s, v);        \
	} while (0)
#define sb_field_hex(s, key, v) \
	do {                     \
		sb_lit(s, key "\""); \
		sb_hex(s, v);        \
		sb_lit(s, "\"");     \
	} while (0)

static void sb_json_string(struct sbuf *s, const char *str)
{
	sb_lit(s, "\"");
	sb_json_chars(s, str, strlen(str));
	sb_lit(s, "\"");
}

/* "file:line" as a JSON string; at most 511 bytes of it, as it always was
 * (a path that long is cut, not the record). */
static void sb_json_where(struct sbuf *s, const char *file, unsigned line)
{
	char where[512];
	size_t flen = strlen(file);

	if (flen + sizeof(":4294967295") <= sizeof(where)) {
		sb_lit(s, "\"");
		sb_json_chars(s, file, flen);
		sb_lit(s, ":");
		sb_u64(s, line);
		sb_lit(s, "\"");
		return;
	}
	snprintf(where, sizeof(where), "%s:%u", file, line);
	sb_json_string(s, where);
}

static const char *result_name(const struct audit_record *r)
{
	if (r->kind == AUDIT_RATELIMIT)
		return "suppressed";
	return r->allowed ? "allowed" : "refused";
}

size_t audit_format_json(const struct audit_record *r, char *buf, size_t size)
{
	struct sbuf s = { .buf = buf, .size = size };
	struct timespec ts;
	struct tm tm;
	const char *en;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	/* {"ts":"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ" */
	sb_lit(&s, "{\"ts\":\"");
	sb_u64_pad(&s, (uint64_t)(tm.tm_year + 1900), 4);
	sb_lit(&s, "-");
	sb_u64_pad(&s, (uint64_t)(tm.tm_mon + 1), 2);
	sb_lit(&s, "-");
	sb_u64_pad(&s, (uint64_t)tm.tm_mday, 2);
	sb_lit(&s, "T");
	sb_u64_pad(&s, (uint64_t)tm.tm_hour, 2);
	sb_lit(&s, ":");
	sb_u64_pad(&s, (uint64_t)tm.tm_min, 2);
	sb_lit(&s, ":");
	sb_u64_pad(&s, (uint64_t)tm.tm_sec, 2);
	sb_lit(&s, ".");
	sb_u64_pad(&s, (uint64_t)(ts.tv_nsec / 1000000), 3);
	sb_lit(&s, "Z\",\"kind\":\"");
	sb_str(&s, kind_names[r->kind]);
	sb_lit(&s, "\",\"message_id\":\"");
	sb_str(&s, message_ids[r->kind]);
	sb_lit(&s, "\",\"op\":");
	sb_json_string(&s, r->op ? r->op : "");
	sb_lit(&s, ",\"result\":\"");
	sb_str(&s, result_name(r));
	sb_lit(&s, "\",\"errno\":");
	sb_i64(&s, r->errnum);
	en = errno_name(r->errnum);
	if (r->errnum && en) {
		sb_lit(&s, ",\"error\":\"");
		sb_str(&s, en);
		sb_lit(&s, "\"");
	}
	if (r->reason) {
		sb_lit(&s, ",\"reason\":");
		sb_json_string(&s, r->reason);
	}
	if (r->tenant) {
		sb_lit(&s, ",\"tenant\":");
		sb_json_string(&s, r->tenant);
	}
	/* A peer only when the record is about one (a release or a policy
	 * load has none: no made-up uid 0). */
	if (r->conn || r->pid) {
		sb_field_u64(&s, ",\"uid\":", (unsigned)r->uid);
		sb_field_u64(&s, ",\"gid\":", (unsigned)r->gid);
		sb_lit(&s, ",\"pid\":");
		sb_i64(&s, (int)r->pid);
	} else if (r->kind == AUDIT_RATELIMIT && !r->tenant) {
		sb_field_u64(&s, ",\"uid\":", (unsigned)r->uid);
	}
	if (r->kind == AUDIT_RATELIMIT) {
		sb_field_u64(&s, ",\"suppressed\":", r->suppressed);
		sb_field_u64(&s, ",\"interval_sec\":", r->interval_sec);
	}
	if (r->conn)
		sb_field_u64(&s, ",\"conn\":", r->conn);
	if (r->policy_file) {
		sb_lit(&s, ",\"policy\":");
		sb_json_where(&s, r->policy_file, r->policy_line);
	}
	if (r->has_handle)
		sb_field_u64(&s, ",\"handle\":", r->handle);
	if (r->has_handle2)
		sb_field_u64(&s, ",\"handle2\":", r->handle2);
	if (r->has_iova)
		sb_field_hex(&s, ",\"iova\":", r->iova);
	if (r->has_length)
		sb_field_hex(&s, ",\"length\":", r->length);
	if (r->has_iova2)
		sb_field_hex(&s, ",\"iova2\":", r->iova2);
	if (r->device) {
		sb_lit(&s, ",\"device\":");
		sb_json_string(&s, r->device);
	}
	if (r->has_batch) {
		sb_lit(&s, ",\"batch\":");
		sb_u64(&s, r->batch);
		sb_lit(&s, ",\"batch_index\":");
		sb_u64(&s, r->batch_index);
		if (r->rollback)
			sb_lit(&s, ",\"rollback\":true");
	}
	sb_lit(&s, "}");
	if (size > 0)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return s.len;
}

static void sink_state(struct audit *a, bool *broken, const char *sink, int r)
{
	if (r < 0 && !*broken) {
		*broken = true;
		log_err("AUDIT FAILURE: cannot write audit records to %s: %s%s",
			sink, strerror(-r),
			a->mode == AUDIT_FAILURE_REFUSE ?
				"; refusing operations until it recovers" :
				"; continuing (AuditFailure=continue)");
	} else if (r >= 0 && *broken) {
		*broken = false;
		log_notice("audit sink %s recovered", sink);
	}
}

/*
 * One record, whole or not at all. The line goes out in one write(); when
 * that comes up short (the filesystem filled up under it, a file-size
 * limit) and the rest cannot follow, the file is cut back to where the
 * record began, so it never ends in half a line. Should even that fail,
 * the next record starts on a line of its own (a->file_torn).
 */
static int write_record(struct audit *a, const char *buf, size_t len)
{
	size_t done = 0;
	int r = 0;

	if (a->file_torn) {
		ssize_t n = write(a->fd, "\n", 1);

		if (n != 1)
			return n < 0 ? -errno : -EIO;
		a->file_torn = false;
	}
	while (done < len) {
		ssize_t n = write(a->fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (r < 0 && done > 0) {
		/* O_APPEND: the offset is the end of what was written. */
		off_t end = lseek(a->fd, 0, SEEK_CUR);

		if (end < (off_t)done || ftruncate(a->fd, end - (off_t)done) < 0)
			a->file_torn = true;
	}
	return r;
}

/*
 * The subject whose rate limit a record counts against, or false when it
 * is not limited: only refusals about a peer are (decisions and
 * connections). A policy tenant is one subject whatever its connections;
 * a peer without one — matched by no section, refused before it had one,
 * or --no-policy, where every connection is a tenant of its own — is its
 * uid, so reconnecting does not buy a fresh burst.
 */
static bool rate_subject(const struct audit_record *r, struct ratelimit_key *ret)
{
	if (r->allowed || (r->kind != AUDIT_DECISION && r->kind != AUDIT_CONNECT))
		return false;
	memset(ret, 0, sizeof(*ret));
	if (r->tenant && r->policy_file) {
		snprintf(ret->name, sizeof(ret->name), "%s", r->tenant);
		return true;
	}
	if (!r->conn && !r->pid)
		return false;
	ret->by_uid = true;
	ret->uid = r->uid;
	return true;
}

bool audit_has_sink(const struct audit *a)
{
	return a && (a->fd >= 0 || a->journal);
}

/*
 * Decided before anything is formatted: first the rate limit (which also
 * tells the caller to keep its log quiet, so it applies with no sink
 * too), then whether a sink is there to take the record at all.
 */
int audit_emit(struct audit *a, const struct audit_record *r)
{
	struct ratelimit_key key;

	if (!a)
		return 0;
	if (a->rl && rate_subject(r, &key) &&
	    !ratelimit_test(a->rl, &key, now_usec())) {
		a->stats.suppressed++;
		return AUDIT_SUPPRESSED;
	}
	return audit_write(a, r);
}

void audit_tick(struct audit *a)
{
	if (a)
		ratelimit_sweep(a->rl, now_usec(), false);
}

/* One record in place of those a rate-limit window held back. */
static void audit_summary(void *userdata, const struct ratelimit_summary *s)
{
	struct audit *a = userdata;
	uint32_t sec = (uint32_t)((s->window_usec + 999999) / 1000000);
	char why[256], who[96];
	struct audit_record r = {
		.kind = AUDIT_RATELIMIT,
		.op = "suppressed",
		.tenant = s->key.by_uid ? NULL : s->key.name,
		.uid = s->key.uid,
		.reason = why,
		.suppressed = s->suppressed,
		.interval_sec = sec,
	};

	if (s->key.by_uid)
		snprintf(who, sizeof(who), "uid %u", (unsigned)s->key.uid);
	else
		snprintf(who, sizeof(who), "tenant %s", s->key.name);
	snprintf(why, sizeof(why),
		 "%" PRIu64 " refusals of %s suppressed in %" PRIu32 " s "
		 "(audit rate limit: %" PRIu32 " per %" PRIu32 " s)",
		 s->suppressed, who, sec, a->rate_burst, a->rate_interval_sec);
	log_notice("audit: %s", why);
	(void)audit_write(a, &r);
}

static int audit_write(struct audit *a, const struct audit_record *r)
{
	char line[2048];
	size_t len;
	int ret = 0;

	if (!audit_has_sink(a))
		return 0; /* nothing to format it for */
	len = audit_format_json(r, line, sizeof(line) - 1);
	if (len >= sizeof(line) - 1) {
		/* Never cut a record: the reason is what grows, then the
		 * policy path and the device. */
		struct audit_record shorter = *r;

		shorter.reason = "(reason too long for the audit record)";
		len = audit_format_json(&shorter, line, sizeof(line) - 1);
		if (len >= sizeof(line) - 1) {
			shorter.policy_file = "(path too long for the audit record)";
			shorter.device = NULL;
			len = audit_format_json(&shorter, line, sizeof(line) - 1);
		}
		if (len >= sizeof(line) - 1) {
			a->stats.dropped++;
			return -E2BIG;
		}
	}
	line[len++] = '\n';

	if (a->fd >= 0) {
		int w = write_record(a, line, len);

		sink_state(a, &a->file_broken, a->path, w);
		if (w < 0)
			ret = w;
	}
#ifdef HAVE_SYSTEMD
	if (a->journal) {
		char where[512] = "";
		int j;

		if (r->policy_file)
			snprintf(where, sizeof(where), "%s:%u", r->policy_file,
				 r->policy_line);
		line[len - 1] = '\0';
		j = sd_journal_send("MESSAGE=ioasd %s %s %s%s%s", kind_names[r->kind],
				    r->op ? r->op : "", result_name(r),
				    r->reason ? ": " : "", r->reason ? r->reason : "",
				    "MESSAGE_ID=%s", message_ids[r->kind],
				    "PRIORITY=%d", r->kind == AUDIT_RATELIMIT ? LOG_WARNING :
						   r->allowed ? LOG_INFO : LOG_NOTICE,
				    "IOASD_OP=%s", r->op ? r->op : "",
				    "IOASD_RESULT=%s", result_name(r),
				    "IOASD_ERRNO=%d", r->errnum,
				    "IOASD_TENANT=%s", r->tenant ? r->tenant : "",
				    "IOASD_UID=%u", (unsigned)r->uid,
				    "IOASD_GID=%u", (unsigned)r->gid,
				    "IOASD_PID=%d", (int)r->pid,
				    "IOASD_CONN=%" PRIu64, r->conn,
				    "IOASD_POLICY=%s", where,
				    "IOASD_RECORD=%s", line,
				    NULL);
		sink_state(a, &a->journal_broken, "the journal", j);
		if (j < 0)
			ret = j;
	}
#endif
	if (ret < 0)
		a->stats.dropped++;
	return ret;
}

void audit_get_stats(const struct audit *a, struct audit_stats *ret)
{
	struct ratelimit_stats rs;

	*ret = a ? a->stats : (struct audit_stats){ 0 };
	if (a) {
		ratelimit_get_stats(a->rl, &rs);
		ret->evicted = rs.evicted;
	}
}
