/* SPDX-License-Identifier: MIT */
/*
 * The audit trail's JSON text, byte for byte: every record kind, every
 * optional field, the extremes of each number, and strings with each kind
 * of byte JSON escapes, against tests/audit-json.golden (one line per
 * record: the length audit_format_json() reports, then the text after the
 * timestamp). Readers parse these lines; a faster formatter must not change
 * a byte of them.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "tests/check-run.h"

static char long_path[700];
static char long_reason[3000];

static const struct audit_record records[] = {
	{ .kind = AUDIT_DECISION, .op = "Map", .allowed = false, .errnum = EPERM,
	  .reason = "outside \"AllowedIOVA\"\n", .tenant = "alpha",
	  .uid = 1000, .gid = 100, .pid = 42, .conn = 7,
	  .policy_file = "/etc/ioasd/policy.d/50.conf", .policy_line = 3,
	  .has_handle = true, .handle = 2, .has_iova = true, .iova = 0x1000,
	  .has_length = true, .length = 0x2000 },
	{ .kind = AUDIT_DECISION, .op = "Map", .allowed = true,
	  .tenant = "conn12-uid0", .uid = 0, .gid = 0, .pid = 1234, .conn = 12,
	  .has_handle = true, .handle = 4294967295u, .has_handle2 = true, .handle2 = 0,
	  .has_iova = true, .iova = UINT64_MAX, .has_length = true, .length = 4096,
	  .has_iova2 = true, .iova2 = 0xfedcba9876543210ull },
	{ .kind = AUDIT_DECISION, .op = "we\\ird\x01\x1f\x7f\x80\xff\t", .allowed = false,
	  .errnum = 4095, .reason = "", .uid = 4294967294u, .gid = 4294967295u,
	  .pid = -1, .conn = UINT64_MAX, .device = "0000:00:03.0 (1234:11e8)" },
	{ .kind = AUDIT_CONNECT, .op = "connect", .allowed = false, .errnum = EUSERS,
	  .reason = "connection limit reached", .uid = 7, .gid = 8, .pid = 9 },
	{ .kind = AUDIT_RELEASE, .op = "release", .allowed = true, .tenant = "alpha",
	  .reason = "last connection closed", .policy_file = "/p", .policy_line = 0 },
	{ .kind = AUDIT_POLICY, .op = "reload", .allowed = true, .reason = "/etc/ioasd" },
	{ .kind = AUDIT_NOTIFY, .op = "ShareRevoked", .allowed = true, .tenant = "b" },
	{ .kind = AUDIT_RESTART, .op = NULL, .allowed = false, .errnum = 0 },
	{ .kind = AUDIT_RATELIMIT, .op = "suppressed", .uid = 2, .suppressed = 7,
	  .interval_sec = 10, .reason = "7 refusals of uid 2 suppressed" },
	{ .kind = AUDIT_RATELIMIT, .op = "suppressed", .tenant = "alpha",
	  .suppressed = UINT64_MAX, .interval_sec = UINT32_MAX },
	/* A policy path too long for "file:line" in 511 bytes: cut there. */
	{ .kind = AUDIT_DECISION, .op = "Map", .errnum = -5, .policy_file = long_path,
	  .policy_line = 4294967295u, .tenant = "t\"\\" },
	{ .kind = AUDIT_DECISION, .op = "Map", .errnum = 22, .reason = long_reason },
};

#define TS_END 31 /* {"ts":"2025-01-01T00:00:00.000Z  then the closing quote */

static void init(void)
{
	memset(long_path, 'p', sizeof(long_path) - 1);
	long_path[0] = '/';
	memset(long_reason, 'r', sizeof(long_reason) - 1);
}

/* The timestamp's shape, whatever its value. */
static void check_ts(const char *buf)
{
	static const char shape[] = "{\"ts\":\"dddd-dd-ddTdd:dd:dd.dddZ\"";

	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd')
			ck_assert_msg(buf[i] >= '0' && buf[i] <= '9', "ts: %.32s", buf);
		else
			ck_assert_msg(buf[i] == shape[i], "ts: %.32s", buf);
	}
}

START_TEST(json_text_as_golden)
{
	char path[4096], buf[4096], want[8192];
	const char *srcdir = getenv("IOASD_SRCDIR");
	FILE *f;

	init();
	snprintf(path, sizeof(path), "%s/tests/audit-json.golden", srcdir ? srcdir : "..");
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s", path);
	for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
		char got[8192];
		size_t n = audit_format_json(&records[i], buf, sizeof(buf));

		ck_assert_ptr_nonnull(fgets(want, sizeof(want), f));
		want[strcspn(want, "\n")] = '\0';
		ck_assert_uint_lt(n, sizeof(buf));
		ck_assert_uint_eq(strlen(buf), n);
		check_ts(buf);
		snprintf(got, sizeof(got), "%zu %s", n, buf + TS_END);
		ck_assert_msg(!strcmp(got, want), "record %zu:\n got %s\nwant %s", i, got, want);
	}
	fclose(f);
}
END_TEST

/* Like snprintf: the length needed whatever the room, and what fits of it
 * NUL-terminated. */
START_TEST(json_text_cut_like_snprintf)
{
	char full[4096], cut[4096];

	init();
	for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
		size_t n = audit_format_json(&records[i], full, sizeof(full));

		for (size_t size = 0; size < 80; size += 7) {
			memset(cut, 'x', sizeof(cut));
			ck_assert_uint_eq(audit_format_json(&records[i], cut, size), n);
			if (size == 0) {
				ck_assert_int_eq(cut[0], 'x');
				continue;
			}
			ck_assert_uint_eq(strlen(cut), size - 1 < n ? size - 1 : n);
			/* Past the timestamp, which moves on between calls. */
			if (size - 1 > TS_END)
				ck_assert(!memcmp(cut + TS_END, full + TS_END, size - 1 - TS_END));
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("audit-json");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, json_text_as_golden);
	tcase_add_test(tc, json_text_cut_like_snprintf);
	suite_add_tcase(s, tc);
	return check_run(s);
}
