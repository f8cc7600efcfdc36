/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for policy/: every key and its bad values (each error naming
 * FILE:LINE), defaults, file order and first-match-wins, AND semantics of
 * Match*, references, equality, print -> parse round trips and the
 * --check-policy golden files in tests/policy/.
 *
 * Users and groups used exist on every Debian: root (0), daemon (1),
 * nobody (65534); groups root, daemon, nogroup (65534).
 */
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hwptdata.h"
#include "policy/policy.h"

/* ------------------------------------------------------------- helpers */

static struct policy *parse_ok(const char *text)
{
	struct policy *p = NULL;
	struct err e = { 0 };
	int r = policy_parse_string("t.conf", text, &p, &e);

	ck_assert_msg(r == 0, "unexpected error %d: %s", r, e.msg);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* Parsing fails with EINVAL, and the first error is exactly `want` or
 * (when want ends with '*') starts with it. */
static void parse_err(const char *text, const char *want)
{
	struct policy *p = NULL;
	struct err e = { 0 };
	size_t n = strlen(want);
	int r = policy_parse_string("t.conf", text, &p, &e);

	ck_assert_msg(r == -EINVAL, "expected -EINVAL for:\n%s\ngot %d", text, r);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(e.errnum, EINVAL);
	if (want[n - 1] == '*')
		ck_assert_msg(strncmp(e.msg, want, n - 1) == 0,
			      "message '%s' does not start with '%.*s'", e.msg,
			      (int)(n - 1), want);
	else
		ck_assert_str_eq(e.msg, want);
}

static char *print_to_string(const struct policy *p)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	ck_assert_ptr_nonnull(f);
	policy_print(p, f);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static const struct policy_tenant *only_tenant(const struct policy *p)
{
	ck_assert_uint_eq(policy_n_tenants(p), 1);
	return policy_tenant_at(p, 0);
}

static struct policy_peer peer_of(uid_t uid, gid_t gid)
{
	return (struct policy_peer){ .uid = uid, .gid = gid, .pid = 1 };
}

/* ------------------------------------------------------------- keys */

/* Rule: keys a section leaves out take the documented defaults. */
START_TEST(defaults)
{
	struct policy *p = parse_ok("[tenant a]\nMatchUser=root\n");
	const struct policy_tenant *t = only_tenant(p);

	ck_assert_str_eq(t->name, "a");
	ck_assert_str_eq(t->file, "t.conf");
	ck_assert_uint_eq(t->line, 1);
	ck_assert_uint_eq(t->max_ioas, 16);
	ck_assert_uint_eq(t->max_pinned_bytes, 1ull << 30);
	ck_assert_uint_eq(t->max_mappings, 4096);
	ck_assert_uint_eq(t->max_memory_regions, 64);
	ck_assert_uint_eq(t->max_connections, 16);
	ck_assert_uint_eq(t->n_allowed_iova, 0);
	ck_assert(t->huge_pages);
	ck_assert_int_eq(t->access, POLICY_ACCESS_READWRITE);
	ck_assert_int_eq(t->rlimit_mode, POLICY_RLIMIT_USER);
	ck_assert_uint_eq(t->n_export_to, 0);
	ck_assert_uint_eq(t->n_import_from, 0);
	ck_assert(!t->share_write);
	ck_assert_uint_eq(t->n_allow_device, 0);
	ck_assert(!t->delegate);
	ck_assert_uint_eq(t->lease_sec, 0);
	ck_assert(!t->admin);
	for (int k = 0; k < _POLICY_KEY_MAX; k++)
		ck_assert_uint_eq(t->key_line[k], k == POLICY_KEY_MATCH_USER ? 2 : 0);
	ck_assert(!policy_daemon(p)->file);
	ck_assert(!policy_daemon(p)->pool_size_set);
	policy_unref(p);
}
END_TEST

/* Rule: every key is parsed into its field, with the line it came from. */
START_TEST(every_key)
{
	struct policy *p = parse_ok(
		"; a comment\n"
		"[tenant dpdk-a]\n"
		"MatchUser=daemon\n"
		"MatchGroup=nogroup\n"
		"MatchUnit=dpdk@a.service\n"
		"MatchCgroup=/system.slice/dpdk@a.service/\n"
		"MaxIOAS=4\n"
		"MaxPinnedBytes=8G\n"
		"MaxMappings=65536\n"
		"MaxMemoryRegions=32\n"
		"MaxConnections=8\n"
		"AllowedIOVA=0x100000000-0x1ffffffff\n"
		"HugePages=no\n"
		"Access=read\n"
		"RlimitMode=process\n"
		"ExportTo=vm-b *\n"
		"ImportFrom=vm-b\n"
		"ShareWrite=yes\n"
		"AllowDevice=1234:11E8\n"
		"Delegate=yes\n"
		"Lease=30\n"
		"Admin=yes\n"
		"AllowNesting=yes\n"
		"AllowDirtyTracking=yes\n"
		"AllowedHwptData=selftest vtd-s1\n"
		"MaxHwpts=3\n"
		"AllowViommu=yes\n"
		"AllowedPASID=1-1023 4096\n"
		"MaxFaultQueues=2\n"
		"  # indented comment\n"
		"[tenant vm-b]\n"
		"  MatchUser = 1000 ; indented, inline comment\n");
	const struct policy_tenant *t = policy_find_tenant(p, "dpdk-a");

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(policy_n_tenants(p), 2);
	ck_assert_uint_eq(t->line, 2);
	ck_assert_str_eq(t->match_user, "daemon");
	ck_assert_uint_eq(t->match_uid, 1);
	ck_assert_str_eq(t->match_group, "nogroup");
	ck_assert_uint_eq(t->match_gid, 65534);
	ck_assert_str_eq(t->match_unit, "dpdk@a.service");
	ck_assert_str_eq(t->match_cgroup, "/system.slice/dpdk@a.service");
	ck_assert_uint_eq(t->max_ioas, 4);
	ck_assert_uint_eq(t->max_pinned_bytes, 8ull << 30);
	ck_assert_uint_eq(t->max_mappings, 65536);
	ck_assert_uint_eq(t->max_memory_regions, 32);
	ck_assert_uint_eq(t->max_connections, 8);
	ck_assert_uint_eq(t->n_allowed_iova, 1);
	ck_assert_uint_eq(t->allowed_iova[0].start, 0x100000000ull);
	ck_assert_uint_eq(t->allowed_iova[0].last, 0x1ffffffffull);
	ck_assert_uint_eq(t->allowed_iova[0].line, 12);
	ck_assert(!t->huge_pages);
	ck_assert_int_eq(t->access, POLICY_ACCESS_READ);
	ck_assert_int_eq(t->rlimit_mode, POLICY_RLIMIT_PROCESS);
	ck_assert_uint_eq(t->n_export_to, 2);
	ck_assert_str_eq(t->export_to[0], "*");
	ck_assert_str_eq(t->export_to[1], "vm-b");
	ck_assert_uint_eq(t->n_import_from, 1);
	ck_assert_str_eq(t->import_from[0], "vm-b");
	ck_assert(t->share_write);
	ck_assert_uint_eq(t->n_allow_device, 1);
	ck_assert_int_eq(t->allow_device[0].kind, POLICY_DEVICE_ID);
	ck_assert_uint_eq(t->allow_device[0].vendor, 0x1234);
	ck_assert_uint_eq(t->allow_device[0].device, 0x11e8);
	ck_assert(t->delegate);
	ck_assert_uint_eq(t->lease_sec, 30);
	ck_assert(t->admin);
	ck_assert(t->allow_nesting);
	ck_assert(t->allow_dirty_tracking);
	ck_assert(policy_hwpt_data_allowed(t, hwpt_data_by_name("vtd-s1")));
	ck_assert(policy_hwpt_data_allowed(t, hwpt_data_by_name("selftest")));
	ck_assert(!policy_hwpt_data_allowed(t, hwpt_data_by_name("arm-smmuv3")));
	ck_assert(!policy_hwpt_data_allowed(t, -1));
	ck_assert_uint_eq(t->max_hwpts, 3);
	ck_assert(t->allow_viommu);
	ck_assert_uint_eq(t->n_pasids, 2);
	ck_assert_ptr_eq(policy_pasid_range(t, 1), &t->pasids[0]);
	ck_assert_ptr_eq(policy_pasid_range(t, 1023), &t->pasids[0]);
	ck_assert_ptr_null(policy_pasid_range(t, 1024));
	ck_assert_ptr_eq(policy_pasid_range(t, 4096), &t->pasids[1]);
	ck_assert_ptr_null(policy_pasid_range(t, 0));
	ck_assert_uint_eq(t->max_fault_queues, 2);
	for (int k = 0; k < _POLICY_KEY_MAX; k++)
		ck_assert_uint_eq(t->key_line[k], 3 + k);

	t = policy_find_tenant(p, "vm-b");
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(t->line, 31);
	ck_assert_str_eq(t->match_user, "1000");
	ck_assert_uint_eq(t->match_uid, 1000);
	ck_assert_uint_eq(t->key_line[POLICY_KEY_MATCH_USER], 32);
	ck_assert(!t->admin);
	ck_assert_ptr_null(policy_find_tenant(p, "nope"));
	policy_unref(p);
}
END_TEST

/* Rule: sizes are bytes or K/M/G/T (1024-based), exact, no overflow. */
START_TEST(sizes)
{
	static const struct {
		const char *in;
		uint64_t want;
	} good[] = {
		{ "0", 0 }, { "4096", 4096 }, { "4K", 4096 }, { "4k", 4096 },
		{ "3M", 3ull << 20 }, { "8G", 8ull << 30 }, { "2T", 2ull << 40 },
		{ "0x10", 16 }, { "8GB", 8ull << 30 }, { "8GiB", 8ull << 30 }, { "010", 10 },
		{ "16777215T", 16777215ull << 40 }, { "18446744073709551615", UINT64_MAX },
	};
	static const char *const bad[] = {
		"8X", "G", "-1", "8 G", "16777216T", "18446744073709551616",
		"1.5G", "8GBs", "0x",
	};
	char text[256], want[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct policy *p;

		snprintf(text, sizeof(text), "[tenant a]\nMatchUser=root\nMaxPinnedBytes=%s\n",
			 good[i].in);
		p = parse_ok(text);
		ck_assert_msg(only_tenant(p)->max_pinned_bytes == good[i].want,
			      "%s", good[i].in);
		policy_unref(p);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[tenant a]\nMatchUser=root\nMaxPinnedBytes=%s\n",
			 bad[i]);
		snprintf(want, sizeof(want),
			 "t.conf:3: MaxPinnedBytes=%s: not a size (a number, decimal or 0x hex, "
			 "with an optional K, M, G or T: powers of 1024)",
			 bad[i]);
		parse_err(text, want);
	}
}
END_TEST

/* Rule: canonical sizes are exact: the largest unit that divides. */
START_TEST(format_sizes)
{
	static const struct {
		uint64_t v;
		const char *want;
	} cases[] = {
		{ 0, "0" }, { 1, "1" }, { 1023, "1023" }, { 1024, "1K" },
		{ 1536, "1536" }, { 3ull << 20, "3M" }, { (1ull << 30) + 1024, "1048577K" },
		{ 8ull << 30, "8G" }, { 1ull << 40, "1T" }, { 1024ull << 40, "1024T" },
		{ UINT64_MAX, "18446744073709551615" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		policy_format_size(cases[i].v, buf, sizeof(buf));
		ck_assert_str_eq(buf, cases[i].want);
	}
}
END_TEST

/* Rule: every bad value is an error naming FILE:LINE, the key and value. */
START_TEST(bad_values)
{
	static const struct {
		const char *line;
		const char *want;
	} cases[] = {
		{ "MaxIOAS=abc", "t.conf:3: MaxIOAS=abc: not a number (decimal or 0x hex)" },
		{ "MaxIOAS=-1", "t.conf:3: MaxIOAS=-1: not a number (decimal or 0x hex)" },
		{ "MaxIOAS=4294967296", "t.conf:3: MaxIOAS=4294967296: out of range (0..4294967295)" },
		{ "MaxMappings=1K", "t.conf:3: MaxMappings=1K: not a number (decimal or 0x hex)" },
		{ "MaxConnections=99999999999", "t.conf:3: MaxConnections=99999999999: out of range (0..4294967295)" },
		{ "Lease=31622401", "t.conf:3: Lease=31622401: out of range (0..31622400)" },
		{ "Lease=10s", "t.conf:3: Lease=10s: not a number (decimal or 0x hex)" },
		{ "HugePages=maybe", "t.conf:3: HugePages=maybe: expected yes or no" },
		{ "ShareWrite=2", "t.conf:3: ShareWrite=2: expected yes or no" },
		{ "Delegate=y", "t.conf:3: Delegate=y: expected yes or no" },
		{ "Admin=root", "t.conf:3: Admin=root: expected yes or no" },
		{ "Access=write", "t.conf:3: Access=write: expected read or readwrite" },
		{ "RlimitMode=global", "t.conf:3: RlimitMode=global: expected user or process" },
		{ "AllowedIOVA=4096", "t.conf:3: AllowedIOVA: '4096' is not a range START-LAST (inclusive, 0x hex or decimal)" },
		{ "AllowedIOVA=0x1000-0xzz", "t.conf:3: AllowedIOVA: '0x1000-0xzz' is not a range START-LAST (inclusive, 0x hex or decimal)" },
		{ "AllowedIOVA=0x2000-0x1000", "t.conf:3: AllowedIOVA: range 0x2000-0x1000 must have start < last" },
		{ "AllowedIOVA=0x1000-0x1000", "t.conf:3: AllowedIOVA: range 0x1000-0x1000 must have start < last" },
		{ "AllowedIOVA=0x1-0x10000000000000000", "t.conf:3: AllowedIOVA: '0x1-0x10000000000000000' is not*" },
		{ "AllowDevice=xyz", "t.conf:3: AllowDevice: 'xyz' is neither*" },
		{ "AllowDevice=12345:1", "t.conf:3: AllowDevice: '12345:1' is neither*" },
		{ "AllowDevice=0000:00:20.0", "t.conf:3: AllowDevice: '0000:00:20.0' is neither*" },
		{ "AllowDevice=00:03.8", "t.conf:3: AllowDevice: '00:03.8' is neither*" },
		{ "AllowDevice=0000:100:03.0", "t.conf:3: AllowDevice: '0000:100:03.0' is neither*" },
		{ "ExportTo=bad!name", "t.conf:3: ExportTo: 'bad!name' is not a tenant name or '*'" },
		{ "ImportFrom=ghost", "t.conf:3: ImportFrom: no tenant named 'ghost'" },
		{ "MatchGroup=no-such-group-xyz", "t.conf:3: MatchGroup=no-such-group-xyz: unknown group" },
		{ "MatchGroup=root\nMatchUser=\nMatchUser=no-such-user-xyz",
		  "t.conf:5: MatchUser=no-such-user-xyz: unknown user" },
		{ "MatchGroup=4294967295", "t.conf:3: MatchGroup=4294967295: id out of range" },
		{ "MatchUnit=foo bar.service", "t.conf:3: MatchUnit=foo bar.service: not a unit name or glob" },
		{ "MatchCgroup=system.slice", "t.conf:3: MatchCgroup=system.slice: not an absolute cgroup path" },
		{ "MatchCgroup=/a//b", "t.conf:3: MatchCgroup=/a//b: not an absolute cgroup path" },
		{ "MatchCgroup=/a/../b", "t.conf:3: MatchCgroup=/a/../b: not an absolute cgroup path" },
		{ "MatchCgroup=/a/./b", "t.conf:3: MatchCgroup=/a/./b: not an absolute cgroup path" },
	};
	char text[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[tenant a]\nMatchUser=root\n%s\n",
			 cases[i].line);
		parse_err(text, cases[i].want);
	}
}
END_TEST

/* Rule: unknown sections and keys, and malformed lines, are errors with
 * FILE:LINE; a key outside a section too. */
START_TEST(unknown_and_syntax)
{
	parse_err("[tenant a]\nMatchUser=root\n\nMaxIOASes=4\n",
		  "t.conf:4: unknown key 'MaxIOASes' in [tenant a]");
	parse_err("[tenant a]\nMatchUser=root\nmatchuser=root\n",
		  "t.conf:3: unknown key 'matchuser' in [tenant a]");
	parse_err("[tenant a]\nMatchUser=root\n[global]\nX=1\n",
		  "t.conf:3: unknown section [global] (expected [tenant NAME] or [daemon])");
	parse_err("MatchUser=root\n[tenant a]\nMatchUser=root\n",
		  "t.conf:1: MatchUser= outside of a section");
	parse_err("[tenant a]\nMatchUser=root\nMaxIOAS\n",
		  "t.conf:3: expected [section] or Key=Value: 'MaxIOAS'");
	parse_err("[tenant a\nMatchUser=root\n", "t.conf:1: section header without ']'");
	parse_err("[tenant a] x\nMatchUser=root\n",
		  "t.conf:1: unexpected text after section header: 'x'");
	parse_err("[tenant]\nMatchUser=root\n",
		  "t.conf:1: unknown section [tenant] (expected [tenant NAME] or [daemon])");
	parse_err("[tenant a/b]\nMatchUser=root\n",
		  "t.conf:1: [tenant a/b]: a tenant name is 1-64 characters of [a-zA-Z0-9_.@-]");
	parse_err("[daemon]\nMaxIOAS=1\n", "t.conf:2: unknown key 'MaxIOAS' in [daemon]");
}
END_TEST

/* Rule: a line inih cannot hold whole is an error, never truncated. */
START_TEST(long_line)
{
	char text[1024];
	char unit[400];

	memset(unit, 'u', sizeof(unit) - 1);
	unit[sizeof(unit) - 1] = '\0';
	snprintf(text, sizeof(text), "[tenant a]\nMatchUser=root\nMatchUnit=%s\n", unit);
	parse_err(text, "t.conf:3: line too long*");
}
END_TEST

/* Rule: a section must say whom it matches; "MatchX=" resets to unset. */
START_TEST(needs_match)
{
	struct policy *p;

	parse_err("[tenant a]\nMaxIOAS=1\n",
		  "t.conf:1: [tenant a] has no MatchUser=, MatchGroup=, MatchUnit= or MatchCgroup=");
	parse_err("\n[tenant a]\nMatchUser=root\nMatchUser=\n",
		  "t.conf:2: [tenant a] has no MatchUser=, MatchGroup=, MatchUnit= or MatchCgroup=");
	/* The example: an empty MatchGroup= next to a real match. */
	p = parse_ok("[tenant a]\nMatchUser=root\nMatchGroup=\n");
	ck_assert_uint_eq(only_tenant(p)->key_line[POLICY_KEY_MATCH_GROUP], 0);
	ck_assert_ptr_null(only_tenant(p)->match_group);
	policy_unref(p);
}
END_TEST

/* Rule: duplicate tenants (any file), [daemon] twice and a single-valued
 * key set twice are errors citing the first; an empty value resets. */
START_TEST(duplicates)
{
	struct policy_loader *l;
	struct policy *p = NULL;
	struct err e = { 0 };

	parse_err("[tenant a]\nMatchUser=root\n[tenant a]\nMatchUser=daemon\n",
		  "t.conf:3: duplicate [tenant a] (first defined at t.conf:1)");
	parse_err("[tenant a]\nMatchUser=root\nMaxIOAS=1\nMaxIOAS=2\n",
		  "t.conf:4: MaxIOAS= already set at line 3 in [tenant a] (an empty MaxIOAS= resets it)");
	parse_err("[daemon]\nPoolSize=1\n[daemon]\n",
		  "t.conf:3: duplicate [daemon] (first defined at t.conf:1)");
	parse_err("[daemon]\nPoolSize=1\nPoolSize=2\n",
		  "t.conf:3: PoolSize= already set at line 2 in [daemon] (an empty PoolSize= resets it)");

	p = parse_ok("[tenant a]\nMatchUser=root\nMaxIOAS=1\nMaxIOAS=\nMaxIOAS=2\n"
		     "AllowedIOVA=0x1000-0x1fff\nAllowedIOVA=\nAllowedIOVA=0x4000-0x4fff\n");
	ck_assert_uint_eq(only_tenant(p)->max_ioas, 2);
	ck_assert_uint_eq(only_tenant(p)->key_line[POLICY_KEY_MAX_IOAS], 5);
	ck_assert_uint_eq(only_tenant(p)->n_allowed_iova, 1);
	ck_assert_uint_eq(only_tenant(p)->allowed_iova[0].start, 0x4000);
	ck_assert_uint_eq(only_tenant(p)->key_line[POLICY_KEY_ALLOWED_IOVA], 8);
	policy_unref(p);
	p = NULL;

	/* Across files: the second file's duplicate names the first file. */
	l = policy_loader_new();
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(policy_loader_add_string(l, "10-a.conf",
						  "[tenant a]\nMatchUser=root\n", &e), 0);
	ck_assert_int_eq(policy_loader_add_string(l, "20-b.conf",
						  "\n[daemon]\n\n[tenant a]\nMatchUser=daemon\n",
						  &e), 0);
	ck_assert_int_eq(policy_loader_finish(l, &p, &e), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_str_eq(e.msg, "20-b.conf:4: duplicate [tenant a] (first defined at 10-a.conf:1)");
	ck_assert_uint_eq(policy_loader_n_errors(l), 1);
	policy_loader_free(l);
}
END_TEST

/* Rule: every error is collected (for --check-policy), sorted by file in
 * load order then line, and the first one is the one in struct err. */
START_TEST(all_errors)
{
	struct policy_loader *l = policy_loader_new();
	struct policy *p = NULL;
	struct err e = { 0 };

	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(policy_loader_add_string(l, "a.conf",
		"[tenant x]\n"               /* 1: no match (found at the end) */
		"MaxIOAS=many\n"             /* 2 */
		"Bogus=1\n"                  /* 3 */
		"[tenant y]\n"
		"MatchUser=root\n"
		"ExportTo=nobody-here\n",    /* 6: unknown tenant (at the end) */
		&e), 0);
	ck_assert_int_eq(policy_loader_add_string(l, "b.conf",
		"[tenant z]\nMatchUser=root\nHugePages=perhaps\n", &e), 0);
	ck_assert_int_eq(policy_loader_finish(l, &p, &e), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(policy_loader_n_errors(l), 5);
	ck_assert_str_eq(policy_loader_error(l, 0),
			 "a.conf:1: [tenant x] has no MatchUser=, MatchGroup=, MatchUnit= or MatchCgroup=");
	ck_assert_str_eq(policy_loader_error(l, 1), "a.conf:2: MaxIOAS=many: not a number (decimal or 0x hex)");
	ck_assert_str_eq(policy_loader_error(l, 2), "a.conf:3: unknown key 'Bogus' in [tenant x]");
	ck_assert_str_eq(policy_loader_error(l, 3), "a.conf:6: ExportTo: no tenant named 'nobody-here'");
	ck_assert_str_eq(policy_loader_error(l, 4), "b.conf:3: HugePages=perhaps: expected yes or no");
	ck_assert_ptr_null(policy_loader_error(l, 5));
	ck_assert_str_eq(e.msg, policy_loader_error(l, 0));
	policy_loader_free(l);
}
END_TEST

/* Rule: ranges in hex or decimal, repeatable and space separated, sorted;
 * overlapping ranges are an error citing both lines; adjacent are fine. */
START_TEST(ranges)
{
	struct policy *p = parse_ok(
		"[tenant a]\nMatchUser=root\n"
		"AllowedIOVA=0x200000-0x2fffff 4096-8191\n"
		"AllowedIOVA=0x2000-0x2fff\n");
	const struct policy_tenant *t = only_tenant(p);

	ck_assert_uint_eq(t->n_allowed_iova, 3);
	ck_assert_uint_eq(t->allowed_iova[0].start, 0x1000);
	ck_assert_uint_eq(t->allowed_iova[0].last, 0x1fff);
	ck_assert_uint_eq(t->allowed_iova[0].line, 3);
	ck_assert_uint_eq(t->allowed_iova[1].start, 0x2000);
	ck_assert_uint_eq(t->allowed_iova[1].line, 4);
	ck_assert_uint_eq(t->allowed_iova[2].start, 0x200000);
	ck_assert_uint_eq(t->allowed_iova[2].last, 0x2fffff);

	/* Adjacent ranges count as one; gaps and wraps do not. */
	ck_assert(policy_tenant_iova_allowed(t, 0x1000, 0x2000));
	ck_assert(policy_tenant_iova_allowed(t, 0x1800, 0x1000));
	ck_assert(!policy_tenant_iova_allowed(t, 0x1000, 0x2001));
	ck_assert(!policy_tenant_iova_allowed(t, 0x0, 0x1000));
	ck_assert(!policy_tenant_iova_allowed(t, 0xfff, 2));
	ck_assert(policy_tenant_iova_allowed(t, 0x2fffff, 1));
	ck_assert(!policy_tenant_iova_allowed(t, 0x2fffff, 2));
	ck_assert(!policy_tenant_iova_allowed(t, 0x1000, 0));
	ck_assert(!policy_tenant_iova_allowed(t, UINT64_MAX, 2));
	policy_unref(p);

	p = parse_ok("[tenant a]\nMatchUser=root\n");
	ck_assert(policy_tenant_iova_allowed(only_tenant(p), 0, UINT64_MAX));
	ck_assert(policy_tenant_iova_allowed(only_tenant(p), 1, UINT64_MAX));
	ck_assert(!policy_tenant_iova_allowed(only_tenant(p), 2, UINT64_MAX));
	policy_unref(p);

	p = parse_ok("[tenant a]\nMatchUser=root\nAllowedIOVA=0-18446744073709551615\n");
	ck_assert_uint_eq(only_tenant(p)->allowed_iova[0].last, UINT64_MAX);
	policy_unref(p);
}
END_TEST

/* Rule: the list set on an IOAS at a reload is AllowedIOVA within the
 * tenant's own narrowing; the policy alone where the two do not meet. */
START_TEST(effective_iovas)
{
	struct policy *p = parse_ok("[tenant a]\nMatchUser=root\n"
				    "AllowedIOVA=0x1000-0x1fff 0x10000-0x1ffff\n");
	const struct policy_tenant *t = only_tenant(p);
	const struct policy_range own[] = {
		{ .start = 0x18000, .last = 0x30000 },  /* unsorted on purpose */
		{ .start = 0x0, .last = 0x1800 },
		{ .start = 0x1fff, .last = 0x2fff },    /* meets in one byte: dropped */
	};
	const struct policy_range apart[] = { { .start = 0x40000, .last = 0x4ffff } };
	struct policy_range *r;
	size_t n;

	ck_assert_int_eq(policy_tenant_effective_iovas(t, own, 3, &r, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(r[0].start, 0x1000);
	ck_assert_uint_eq(r[0].last, 0x1800);
	ck_assert_uint_eq(r[1].start, 0x18000);
	ck_assert_uint_eq(r[1].last, 0x1ffff);
	free(r);
	ck_assert_int_eq(policy_tenant_effective_iovas(t, NULL, 0, &r, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(r[1].last, 0x1ffff);
	free(r);
	ck_assert_int_eq(policy_tenant_effective_iovas(t, apart, 1, &r, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(r[0].start, 0x1000);
	free(r);
	policy_unref(p);

	p = parse_ok("[tenant a]\nMatchUser=root\n");
	ck_assert_int_eq(policy_tenant_effective_iovas(only_tenant(p), apart, 1, &r, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(r[0].start, 0x40000);
	free(r);
	ck_assert_int_eq(policy_tenant_effective_iovas(only_tenant(p), NULL, 0, &r, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(r);
	policy_unref(p);

	parse_err("[tenant a]\nMatchUser=root\nAllowedIOVA=0x1000-0x2fff\n\n"
		  "AllowedIOVA=0x2000-0x3fff\n",
		  "t.conf:5: AllowedIOVA: 0x2000-0x3fff overlaps 0x1000-0x2fff (line 3)");
	parse_err("[tenant a]\nMatchUser=root\nAllowedIOVA=0x2000-0x3fff\n"
		  "AllowedIOVA=0x1000-0x2000\n",
		  "t.conf:4: AllowedIOVA: 0x1000-0x2000 overlaps 0x2000-0x3fff (line 3)");
	parse_err("[tenant a]\nMatchUser=root\nAllowedIOVA=0x1000-0x1fff 0x1000-0x1fff\n",
		  "t.conf:3: AllowedIOVA: 0x1000-0x1fff overlaps 0x1000-0x1fff (line 3)");
}
END_TEST

/* Rule: devices by vendor:device id or PCI address, normalized, sorted,
 * deduplicated; a tenant may attach only those. */
START_TEST(devices)
{
	struct policy *p = parse_ok(
		"[tenant a]\nMatchUser=root\n"
		"AllowDevice=0000:00:03.0 1af4:1041\n"
		"AllowDevice=01:00.1 1AF4:1041\n");
	const struct policy_tenant *t = only_tenant(p);

	ck_assert_uint_eq(t->n_allow_device, 3);
	ck_assert_int_eq(t->allow_device[0].kind, POLICY_DEVICE_ID);
	ck_assert_int_eq(t->allow_device[1].kind, POLICY_DEVICE_BDF);
	ck_assert_uint_eq(t->allow_device[1].slot, 3);
	ck_assert_uint_eq(t->allow_device[2].bus, 1);
	ck_assert_uint_eq(t->allow_device[2].function, 1);

	ck_assert(policy_tenant_device_allowed(t, 0x1af4, 0x1041, NULL));
	ck_assert(!policy_tenant_device_allowed(t, 0x1af4, 0x1042, NULL));
	ck_assert(policy_tenant_device_allowed(t, 0x8086, 0x1234, "0000:00:03.0"));
	ck_assert(policy_tenant_device_allowed(t, 0x8086, 0x1234, "0000:01:00.1"));
	ck_assert(!policy_tenant_device_allowed(t, 0x8086, 0x1234, "0000:01:00.0"));
	ck_assert(!policy_tenant_device_allowed(t, 0x8086, 0x1234, "0001:00:03.0"));
	policy_unref(p);
}
END_TEST

/* Rule: a share needs ExportTo on the exporter and ImportFrom on the
 * importer ("*" = any); names must be tenants. */
START_TEST(sharing)
{
	struct policy *p = parse_ok(
		"[tenant a]\nMatchUser=root\nExportTo=b c\nExportTo=b\n"
		"[tenant b]\nMatchUser=daemon\nImportFrom=*\n"
		"[tenant c]\nMatchUser=nobody\nImportFrom=b\n");
	const struct policy_tenant *a = policy_find_tenant(p, "a");
	const struct policy_tenant *b = policy_find_tenant(p, "b");
	const struct policy_tenant *c = policy_find_tenant(p, "c");

	ck_assert_uint_eq(a->n_export_to, 2);           /* deduplicated */
	ck_assert(policy_share_allowed(a, b));
	ck_assert(!policy_share_allowed(a, c));        /* c does not import from a */
	ck_assert(!policy_share_allowed(b, a));        /* b exports to nobody */
	ck_assert(!policy_share_allowed(NULL, a));
	policy_unref(p);
}
END_TEST

/* Rule: [daemon] keys are stored with "set" flags; bad values refused. */
START_TEST(daemon_section)
{
	struct policy *p = parse_ok("[daemon]\nPoolSize=8\nAuditFailure=refuse\n"
				    "AuditLog=/var/log/ioasd/audit.jsonl\n");
	const struct policy_daemon *d = policy_daemon(p);

	ck_assert_str_eq(d->file, "t.conf");
	ck_assert_uint_eq(d->line, 1);
	ck_assert(d->pool_size_set);
	ck_assert_uint_eq(d->pool_size, 8);
	ck_assert(!d->rlimit_mode_set);
	ck_assert(d->audit_log_set);
	ck_assert_str_eq(d->audit_log, "/var/log/ioasd/audit.jsonl");
	ck_assert(d->audit_failure_set);
	ck_assert_int_eq(d->audit_failure, POLICY_AUDIT_FAILURE_REFUSE);
	ck_assert_uint_eq(policy_n_tenants(p), 0);
	policy_unref(p);

	p = parse_ok("[daemon]\nRlimitMode=process\n");
	ck_assert(policy_daemon(p)->rlimit_mode_set);
	ck_assert_int_eq(policy_daemon(p)->rlimit_mode, POLICY_RLIMIT_PROCESS);
	policy_unref(p);

	parse_err("[daemon]\nPoolSize=4097\n", "t.conf:2: PoolSize=4097: out of range (0..4096)");
	parse_err("[daemon]\nAuditLog=audit.log\n", "t.conf:2: AuditLog=audit.log: not an absolute path");
	parse_err("[daemon]\nAuditFailure=ignore\n",
		  "t.conf:2: AuditFailure=ignore: expected refuse or continue");
	parse_err("[daemon]\nRlimitMode=x\n", "t.conf:2: RlimitMode=x: expected user or process");

	/* The audit rate limit: 0 is a value (no limit), empty resets. */
	p = parse_ok("[daemon]\nAuditRateInterval=30\nAuditRateBurst=0\n");
	d = policy_daemon(p);
	ck_assert(d->audit_rate_interval_set);
	ck_assert_uint_eq(d->audit_rate_interval, 30);
	ck_assert(d->audit_rate_burst_set);
	ck_assert_uint_eq(d->audit_rate_burst, 0);
	policy_unref(p);
	p = parse_ok("[daemon]\nAuditRateBurst=5\nAuditRateBurst=\n");
	ck_assert(!policy_daemon(p)->audit_rate_burst_set);
	ck_assert(!policy_daemon(p)->audit_rate_interval_set);
	policy_unref(p);
	parse_err("[daemon]\nAuditRateInterval=3601\n",
		  "t.conf:2: AuditRateInterval=3601: out of range (0..3600)");
	parse_err("[daemon]\nAuditRateBurst=many\n",
		  "t.conf:2: AuditRateBurst=many: not a number (decimal or 0x hex)");
	parse_err("[daemon]\nAuditRateBurst=1000001\n",
		  "t.conf:2: AuditRateBurst=1000001: out of range (0..1000000)");
}
END_TEST

/* ------------------------------------------------------------- matching */

/* Rule: all Match* keys of a section must match (AND). */
START_TEST(match_and)
{
	struct policy *p = parse_ok("[tenant a]\nMatchUser=root\nMatchGroup=daemon\n"
				    "MatchUnit=x.service\n");
	struct policy_peer peer = peer_of(0, 1);

	ck_assert_ptr_null(policy_match(p, &peer));      /* no unit */
	peer.unit = "y.service";
	ck_assert_ptr_null(policy_match(p, &peer));
	peer.unit = "x.service";
	ck_assert_ptr_eq(policy_match(p, &peer), policy_tenant_at(p, 0));
	peer.uid = 1;
	ck_assert_ptr_null(policy_match(p, &peer));
	peer.uid = 0;
	peer.gid = 0;
	ck_assert_ptr_null(policy_match(p, &peer));
	ck_assert_ptr_null(policy_match(p, NULL));
	ck_assert_ptr_null(policy_match(NULL, &peer));
	policy_unref(p);
}
END_TEST

/* Rule: MatchGroup matches the primary or any supplementary group. */
START_TEST(match_supplementary_group)
{
	struct policy *p = parse_ok("[tenant a]\nMatchGroup=nogroup\n");
	gid_t groups[] = { 4, 65534 };
	struct policy_peer peer = peer_of(1000, 1000);

	ck_assert_ptr_null(policy_match(p, &peer));
	peer.groups = groups;
	peer.n_groups = 1;
	ck_assert_ptr_null(policy_match(p, &peer));
	peer.n_groups = 2;
	ck_assert_ptr_nonnull(policy_match(p, &peer));
	peer = peer_of(1000, 65534);
	ck_assert_ptr_nonnull(policy_match(p, &peer));
	policy_unref(p);
}
END_TEST

/* Rule: MatchUnit is an exact name or an fnmatch glob. */
START_TEST(match_unit_glob)
{
	struct policy *p = parse_ok("[tenant glob]\nMatchUnit=dpdk@*.service\n"
				    "[tenant exact]\nMatchUnit=qemu.scope\n");
	struct policy_peer peer = peer_of(1000, 1000);

	peer.unit = "dpdk@a.service";
	ck_assert_str_eq(policy_match(p, &peer)->name, "glob");
	peer.unit = "dpdk@.service";
	ck_assert_str_eq(policy_match(p, &peer)->name, "glob");
	peer.unit = "dpdk@a.scope";
	ck_assert_ptr_null(policy_match(p, &peer));
	peer.unit = "xdpdk@a.service";
	ck_assert_ptr_null(policy_match(p, &peer));
	peer.unit = "qemu.scope";
	ck_assert_str_eq(policy_match(p, &peer)->name, "exact");
	peer.unit = "qemu.scopes";
	ck_assert_ptr_null(policy_match(p, &peer));
	policy_unref(p);
}
END_TEST

/* Rule: MatchCgroup is a path prefix on '/' boundaries. */
START_TEST(match_cgroup_prefix)
{
	struct policy *p = parse_ok("[tenant a]\nMatchCgroup=/system.slice/dpdk.service/\n"
				    "[tenant all]\nMatchCgroup=/\n");
	struct policy_peer peer = peer_of(1000, 1000);

	ck_assert_ptr_null(policy_match(p, &peer));      /* no cgroup known */
	peer.cgroup = "/system.slice/dpdk.service";
	ck_assert_str_eq(policy_match(p, &peer)->name, "a");
	peer.cgroup = "/system.slice/dpdk.service/worker";
	ck_assert_str_eq(policy_match(p, &peer)->name, "a");
	peer.cgroup = "/system.slice/dpdk.services";
	ck_assert_str_eq(policy_match(p, &peer)->name, "all");
	peer.cgroup = "/system.slice";
	ck_assert_str_eq(policy_match(p, &peer)->name, "all");
	policy_unref(p);
}
END_TEST

/* Rule: numeric ids need no user database entry. */
START_TEST(match_numeric)
{
	struct policy *p = parse_ok("[tenant a]\nMatchUser=123456\nMatchGroup=654321\n");
	struct policy_peer peer = peer_of(123456, 654321);

	ck_assert_ptr_nonnull(policy_match(p, &peer));
	peer.uid = 123457;
	ck_assert_ptr_null(policy_match(p, &peer));
	policy_unref(p);
}
END_TEST

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static void remove_dir(const char *dir, const char *const *names)
{
	char path[PATH_MAX];

	for (; *names; names++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *names);
		unlink(path);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}

/* Rule: *.conf files in lexical order (others ignored), sections in file
 * order, first match wins; an empty dir matches nobody; a missing one is
 * an error. */
START_TEST(dir_order_first_match)
{
	static const char *const names[] = {
		"20-b.conf", "10-a.conf", "README", "30-c.conf.bak",
		".hidden.conf", "05-masked.conf", "15-bad.conf", NULL,
	};
	char dir[] = "/tmp/test-policy-XXXXXX";
	struct policy *p = NULL;
	struct err e = { 0 };
	struct policy_peer peer = peer_of(0, 0);
	char path[PATH_MAX];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(policy_load_dir(dir, &p, &e), 0);
	ck_assert_uint_eq(policy_n_tenants(p), 0);
	ck_assert_ptr_null(policy_match(p, &peer));
	p = policy_unref(p);

	write_file(dir, "20-b.conf", "[tenant b1]\nMatchUser=root\n[tenant b2]\nMatchGroup=root\n");
	write_file(dir, "10-a.conf", "[tenant a1]\nMatchUser=root\nMatchUnit=x.service\n"
				     "[tenant a2]\nMatchGroup=root\n");
	write_file(dir, "README", "not a policy\n");
	write_file(dir, "30-c.conf.bak", "not a policy either\n");
	write_file(dir, ".hidden.conf", "[broken\n");
	snprintf(path, sizeof(path), "%s/05-masked.conf", dir);
	ck_assert_int_eq(symlink("/dev/null", path), 0);

	ck_assert_msg(policy_load_dir(dir, &p, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(policy_n_tenants(p), 4);
	ck_assert_str_eq(policy_tenant_at(p, 0)->name, "a1");
	ck_assert_str_eq(policy_tenant_at(p, 1)->name, "a2");
	ck_assert_str_eq(policy_tenant_at(p, 2)->name, "b1");
	ck_assert_str_eq(policy_tenant_at(p, 3)->name, "b2");
	ck_assert_uint_eq(policy_tenant_at(p, 3)->index, 3);
	snprintf(path, sizeof(path), "%s/20-b.conf", dir);
	ck_assert_str_eq(policy_tenant_at(p, 2)->file, path);

	/* uid 0 gid 0 without unit: a1 needs a unit, a2 (file 10) wins over
	 * b1 (file 20) although b1 matches too. */
	ck_assert_str_eq(policy_match(p, &peer)->name, "a2");
	peer.unit = "x.service";
	ck_assert_str_eq(policy_match(p, &peer)->name, "a1");
	peer = peer_of(0, 5);
	ck_assert_str_eq(policy_match(p, &peer)->name, "b1");
	peer = peer_of(5, 5);
	ck_assert_ptr_null(policy_match(p, &peer));
	p = policy_unref(p);

	/* One bad file fails the whole directory. */
	write_file(dir, "15-bad.conf", "[tenant x]\nMatchUser=root\nMaxIOAS=lots\n");
	ck_assert_int_eq(policy_load_dir(dir, &p, &e), -EINVAL);
	ck_assert_ptr_null(p);
	snprintf(path, sizeof(path), "%s/15-bad.conf:3: MaxIOAS=lots: not a number (decimal or 0x hex)", dir);
	ck_assert_str_eq(e.msg, path);

	remove_dir(dir, names);
	ck_assert_int_eq(policy_load_dir(dir, &p, &e), -ENOENT);
	ck_assert_int_eq(e.errnum, ENOENT);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(policy_load_file("/nonexistent/x.conf", &p, &e), -ENOENT);
}
END_TEST

/* ------------------------------------------------------------- object */

/* Rule: the object is refcounted; a tenant reference keeps it alive after
 * the global one is dropped (what a reload does); unref is NULL-safe. */
START_TEST(refcount)
{
	struct policy *p = parse_ok("[tenant a]\nMatchUser=root\nMaxIOAS=3\n");
	const struct policy_tenant *t;

	ck_assert_ptr_eq(policy_ref(p), p);
	ck_assert_ptr_null(policy_unref(p));
	t = policy_tenant_ref(only_tenant(p));
	ck_assert_ptr_null(policy_unref(p));           /* the "swap" */
	ck_assert_str_eq(t->name, "a");                 /* still valid */
	ck_assert_uint_eq(t->max_ioas, 3);
	ck_assert_ptr_null(policy_tenant_unref(t));     /* frees (valgrind) */
	ck_assert_ptr_null(policy_ref(NULL));
	ck_assert_ptr_null(policy_unref(NULL));
	ck_assert_ptr_null(policy_tenant_ref(NULL));
	ck_assert_ptr_null(policy_tenant_unref(NULL));
	ck_assert_ptr_null(policy_loader_free(NULL));
	ck_assert_uint_eq(policy_n_tenants(NULL), 0);
}
END_TEST

static const char rich[] =
	"[daemon]\nPoolSize=4\nRlimitMode=process\nAuditLog=/run/ioasd/audit.jsonl\n"
	"AuditFailure=continue\nAuditRateInterval=30\nAuditRateBurst=50\n"
	"[tenant dpdk-a]\nMatchUser=daemon\nMatchGroup=nogroup\nMatchUnit=dpdk@a.service\n"
	"MaxIOAS=4\nMaxPinnedBytes=8G\nMaxMappings=65536\nMaxMemoryRegions=64\n"
	"MaxConnections=8\nAllowedIOVA=0x100000000-0x1ffffffff 4096-8191\n"
	"HugePages=yes\nAccess=readwrite\nRlimitMode=process\nExportTo=vm\n"
	"AllowDevice=1234:11e8 0000:00:03.0\nLease=60\n"
	"[tenant vm]\nMatchCgroup=/machine.slice\nMaxPinnedBytes=1536\nAccess=read\n"
	"ImportFrom=dpdk-a\nShareWrite=yes\nDelegate=yes\nHugePages=off\nAdmin=true\n";

/* Rule: equality is about meaning, not layout or where keys were written. */
START_TEST(equal)
{
	static const char *const variants[] = {
		"MaxIOAS=5", "MaxPinnedBytes=9G", "MaxMappings=1", "MaxMemoryRegions=1",
		"MaxConnections=1", "AllowedIOVA=0x3000-0x3fff", "HugePages=yes",
		"Access=readwrite", "RlimitMode=process", "ExportTo=*", "ShareWrite=no",
		"AllowDevice=00:04.0", "Delegate=no", "Lease=1", "Admin=no", "MatchGroup=root",
		"MatchUnit=x.service", "MatchCgroup=/x", "AllowNesting=yes",
		"AllowDirtyTracking=yes", "AllowedHwptData=vtd-s1", "MaxHwpts=1",
		"AllowViommu=yes",
		"AllowedPASID=5", "MaxFaultQueues=1",
	};
	struct policy *a = parse_ok(rich);
	struct policy *b, *c;
	struct policy_loader *l = policy_loader_new();
	struct err e = { 0 };
	char text[1024];

	/* Same meaning, other files, lines, spelling and order. */
	ck_assert_int_eq(policy_loader_add_string(l, "x.conf",
		"# moved around\n[tenant dpdk-a]\nLease=60\nMatchUnit=dpdk@a.service\n"
		"MatchGroup=65534\nMatchUser=1\nAllowDevice=0000:00:03.0\n"
		"AllowDevice=1234:11E8\nAllowedIOVA=0x1000-0x1fff\n"
		"AllowedIOVA=4294967296-8589934591\nMaxIOAS=4\nMaxPinnedBytes=8192M\n"
		"MaxMappings=65536\nMaxConnections=8\nExportTo=vm vm\nRlimitMode=process\n",
		&e), 0);
	ck_assert_int_eq(policy_loader_add_string(l, "y.conf",
		"[tenant vm]\nMatchCgroup=/machine.slice/\nMaxPinnedBytes=1536\n"
		"Access=read\nImportFrom=dpdk-a\nShareWrite=true\nDelegate=1\nHugePages=no\nAdmin=on\n"
		"[daemon]\nAuditFailure=continue\nAuditLog=/run/ioasd/audit.jsonl\n"
		"AuditRateBurst=50\nRlimitMode=process\nPoolSize=4\nAuditRateInterval=30\n",
		&e), 0);
	ck_assert_msg(policy_loader_finish(l, &b, &e) == 0, "%s", e.msg);
	policy_loader_free(l);
	ck_assert(policy_equal(a, b));
	ck_assert(policy_equal(b, a));
	ck_assert(policy_equal(a, a));
	ck_assert(policy_equal(NULL, NULL));
	ck_assert(!policy_equal(a, NULL));
	policy_unref(b);

	/* Any one change makes it different. */
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		/* keys set twice are errors: reset first */
		snprintf(text, sizeof(text), "%s%.*s=\n%s\n", rich,
			 (int)strcspn(variants[i], "="), variants[i], variants[i]);
		c = parse_ok(text);
		ck_assert_msg(!policy_equal(a, c), "%s", variants[i]);
		policy_unref(c);
	}
	/* A daemon setting, tenant order, a missing tenant. */
	c = parse_ok("[daemon]\nPoolSize=5\n");
	ck_assert(!policy_equal(a, c));
	policy_unref(c);
	/* rich with one audit rate key changed (or gone) */
	for (int i = 0; i < 3; i++) {
		static const char *const from[] = { "AuditRateInterval=30", "AuditRateBurst=50",
						     "AuditRateBurst=50" };
		static const char *const to[] = { "AuditRateInterval=31", "AuditRateBurst=51",
						   "AuditRateBurst=" };
		const char *at = strstr(rich, from[i]);

		ck_assert_ptr_nonnull(at);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - rich), rich, to[i],
			 at + strlen(from[i]));
		b = parse_ok(text);
		ck_assert_msg(!policy_equal(a, b), "%s", to[i]);
		policy_unref(b);
	}
	policy_unref(a);
	a = parse_ok("[tenant a]\nMatchUser=root\n[tenant b]\nMatchUser=root\n");
	b = parse_ok("[tenant b]\nMatchUser=root\n[tenant a]\nMatchUser=root\n");
	c = parse_ok("[tenant a]\nMatchUser=root\n");
	ck_assert(!policy_equal(a, b));
	ck_assert(!policy_equal(a, c));
	policy_unref(a);
	policy_unref(b);
	policy_unref(c);
}
END_TEST

/* Rule: the printed policy parses back to an equal policy, and printing
 * that again gives the same text but for the default markers. */
START_TEST(print_roundtrip)
{
	static const char *const inputs[] = {
		rich,
		"[tenant a]\nMatchUser=root\n",
		"",
		"[daemon]\nAuditFailure=refuse\n",
		"[daemon]\nAuditRateInterval=0\nAuditRateBurst=7\n",
	};

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct policy *a = parse_ok(inputs[i]), *b, *c;
		char *t1 = print_to_string(a), *t2, *t3;

		b = parse_ok(t1);
		ck_assert_msg(policy_equal(a, b), "round trip of:\n%s", t1);
		t2 = print_to_string(b);
		c = parse_ok(t2);
		ck_assert(policy_equal(b, c));
		t3 = print_to_string(c);
		/* b and c were both read from printed text, which has the
		 * same lines whatever the defaults: the same text again. */
		ck_assert_str_eq(t2, t3);
		free(t1);
		free(t2);
		free(t3);
		policy_unref(a);
		policy_unref(b);
		policy_unref(c);
	}
}
END_TEST

/* Rule: the printed form is canonical (exact text for one tenant). */
START_TEST(print_exact)
{
	struct policy *p = parse_ok(
		"[tenant a]\nMatchUser=root\nMatchUnit=a.service\nMaxPinnedBytes=2048M\n"
		"AllowedIOVA=8192-12287 4096-8191\nExportTo=a\nAllowDevice=00:1f.7\n");
	char *t = print_to_string(p);

	ck_assert_str_eq(t,
		"# ioasd effective policy: 1 tenant, tried in this order, first match wins.\n"
		"# A peer that matches no tenant is refused.\n"
		"\n"
		"[tenant a]\n"
		"# match order 1, from t.conf:1\n"
		"MatchUser=root ; uid 0\n"
		"MatchUnit=a.service\n"
		"MaxIOAS=16 ; default\n"
		"MaxPinnedBytes=2G\n"
		"MaxMappings=4096 ; default\n"
		"MaxMemoryRegions=64 ; default\n"
		"MaxConnections=16 ; default\n"
		"AllowedIOVA=0x1000-0x1fff\n"
		"AllowedIOVA=0x2000-0x2fff\n"
		"HugePages=yes ; default\n"
		"Access=readwrite ; default\n"
		"RlimitMode=user ; default\n"
		"ExportTo=a\n"
		"ImportFrom= ; none\n"
		"ShareWrite=no ; default\n"
		"AllowDevice=0000:00:1f.7\n"
		"Delegate=no ; default\n"
		"Lease=0 ; default\n"
		"Admin=no ; default\n"
		"AllowNesting=no ; default\n"
		"AllowDirtyTracking=no ; default\n"
		"AllowedHwptData= ; none\n"
		"MaxHwpts=16 ; default\n"
		"AllowViommu=no ; default\n"
		"AllowedPASID= ; none\n"
		"MaxFaultQueues=0 ; default\n");
	free(t);
	policy_unref(p);
}
END_TEST

/* Rule: refusal messages can cite the line of the deciding key, or the
 * section with "(default)". */
START_TEST(source_lines)
{
	struct policy *p = parse_ok("\n[tenant a]\nMatchUser=root\nMaxIOAS=2\n");
	const struct policy_tenant *t = only_tenant(p);
	char buf[64];

	policy_tenant_source(t, POLICY_KEY_MAX_IOAS, buf, sizeof(buf));
	ck_assert_str_eq(buf, "t.conf:4");
	policy_tenant_source(t, POLICY_KEY_MAX_MAPPINGS, buf, sizeof(buf));
	ck_assert_str_eq(buf, "t.conf:2 (default)");
	ck_assert_str_eq(policy_key_name(POLICY_KEY_MAX_PINNED_BYTES), "MaxPinnedBytes");
	ck_assert_ptr_null(policy_key_name(_POLICY_KEY_MAX));
	policy_unref(p);
}
END_TEST

/* ------------------------------------------------------------- peers */

/* Rule: the refusal message names uid, gid (with names), groups, unit. */
START_TEST(peer_describe)
{
	gid_t groups[] = { 1, 4 };
	struct policy_peer peer = {
		.uid = 0, .gid = 65534, .groups = groups, .n_groups = 2, .pid = 42,
		.unit = "session-2.scope", .cgroup = "/user.slice/session-2.scope",
	};
	char buf[256], small[16];

	ck_assert_int_eq(policy_peer_describe(&peer, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "uid 0 (root) gid 65534 (nogroup) groups 1,4 pid 42 "
			      "unit session-2.scope cgroup /user.slice/session-2.scope");
	peer = (struct policy_peer){ .uid = 123456, .gid = 123457 };
	ck_assert_int_eq(policy_peer_describe(&peer, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "uid 123456 gid 123457 unit (none)");
	ck_assert_int_eq(policy_peer_describe(&peer, small, sizeof(small)), -ENOBUFS);
	ck_assert_str_eq(small, "uid 123456 gid ");
	/* A cgroup (and so a unit) below a delegated subtree is named by the
	 * peer: what reaches logs and the audit trail is escaped. */
	peer = (struct policy_peer){
		.uid = 123456, .gid = 123457,
		.unit = "x\n<2>forged.service",
		.cgroup = "/user.slice/x\n<2>forged.service/\x1b[2J",
	};
	ck_assert_int_eq(policy_peer_describe(&peer, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "uid 123456 gid 123457 unit x\\n<2>forged.service "
			      "cgroup /user.slice/x\\n<2>forged.service/\\x1b[2J");
}
END_TEST

/* Rule: the cgroup comes from the "0::" line (v2), else name=systemd. */
START_TEST(proc_cgroup_text)
{
	char *cg = NULL;

	ck_assert_int_eq(policy_cgroup_from_proc_text("0::/system.slice/a.service\n", &cg), 0);
	ck_assert_str_eq(cg, "/system.slice/a.service");
	free(cg);
	ck_assert_int_eq(policy_cgroup_from_proc_text(
		"12:cpu,cpuacct:/x\n1:name=systemd:/user.slice/s.scope\n0::/user.slice/u.scope\n",
		&cg), 0);
	ck_assert_str_eq(cg, "/user.slice/u.scope");
	free(cg);
	ck_assert_int_eq(policy_cgroup_from_proc_text(
		"12:cpu,cpuacct:/x\n1:name=systemd:/user.slice/s.scope\n", &cg), 0);
	ck_assert_str_eq(cg, "/user.slice/s.scope");
	free(cg);
	cg = NULL;
	ck_assert_int_eq(policy_cgroup_from_proc_text("12:cpu:/x\n", &cg), -ENODATA);
	ck_assert_int_eq(policy_cgroup_from_proc_text("", &cg), -ENODATA);
	ck_assert_ptr_null(cg);
}
END_TEST

/* Rule: the unit of a cgroup is the first component that is not a slice,
 * when it is a unit that holds processes (as systemd decides). */
START_TEST(unit_from_cgroup)
{
	static const struct {
		const char *cg, *unit;
	} cases[] = {
		{ "/system.slice/dpdk@a.service", "dpdk@a.service" },
		{ "/system.slice/dpdk@a.service/worker", "dpdk@a.service" },
		{ "/user.slice/user-1000.slice/session-2.scope", "session-2.scope" },
		{ "/user.slice/user-1000.slice/user@1000.service/app.slice/x.service",
		  "user@1000.service" },
		{ "/init.scope", "init.scope" },
		{ "/system.slice/ioasd.socket", "ioasd.socket" },
		{ "/", NULL },
		{ "/system.slice", NULL },
		{ "/docker/0123abcd", NULL },
		{ "/.service", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *u = NULL;
		int r = policy_unit_from_cgroup(cases[i].cg, &u);

		if (cases[i].unit) {
			ck_assert_msg(r == 0, "%s", cases[i].cg);
			ck_assert_str_eq(u, cases[i].unit);
		} else {
			ck_assert_msg(r == -ENXIO, "%s: %d", cases[i].cg, r);
			ck_assert_ptr_null(u);
		}
		free(u);
	}
}
END_TEST

/* Rule: our own pid resolves to our cgroup (as in /proc/self/cgroup) and
 * a unit, when there is one, that is a component of it. */
START_TEST(peer_from_own_pid)
{
	char *unit = NULL, *cgroup = NULL, *text = NULL, *want = NULL;
	size_t size = 0, lw, lc;
	FILE *f = fopen("/proc/self/cgroup", "re");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_gt(getdelim(&text, &size, '\0', f), 0);
	fclose(f);
	ck_assert_int_eq(policy_cgroup_from_proc_text(text, &want), 0);

	ck_assert_int_eq(policy_peer_from_pid(getpid(), &unit, &cgroup), 0);
	ck_assert_ptr_nonnull(cgroup);
	/* libsystemd gives the path below systemd's root cgroup (the same
	 * on a host; a suffix of it in a container without a namespace). */
	lw = strlen(want);
	lc = strlen(cgroup);
	ck_assert_msg(strcmp(want, cgroup) == 0 || strcmp(cgroup, "/") == 0 ||
		      (lw > lc && strcmp(want + lw - lc, cgroup) == 0),
		      "%s vs %s", cgroup, want);
	if (unit) {
		char *c = strstr(cgroup, unit);

		ck_assert_ptr_nonnull(c);
		ck_assert(c > cgroup && c[-1] == '/');
	}
	free(unit);
	free(cgroup);
	free(want);
	free(text);
	ck_assert_int_lt(policy_peer_from_pid(INT_MAX, &unit, &cgroup), 0);
}
END_TEST

/* ------------------------------------------------------------- golden */

static char *read_all(const char *path)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = fopen(path, "re");

	ck_assert_msg(f != NULL, "cannot open %s", path);
	if (getdelim(&text, &size, '\0', f) < 0) {
		free(text);
		text = strdup("");
	}
	fclose(f);
	return text;
}

/* Paths in messages are relative to the source dir, so the golden files
 * do not depend on where the tree is. */
static void enter_srcdir(void)
{
	const char *src = getenv("IOASD_SRCDIR");

	ck_assert_msg(src != NULL, "IOASD_SRCDIR not set (run via make check)");
	ck_assert_int_eq(chdir(src), 0);
}

static void run_check(const char *dir, int want_rc, char **ret_out, char **ret_err)
{
	size_t so = 0, se = 0;
	FILE *out = open_memstream(ret_out, &so);
	FILE *err = open_memstream(ret_err, &se);

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(policy_check_main(dir, out, err), want_rc);
	fclose(out);
	fclose(err);
}

/* Rule: an HWPT's flags and kind are refused by the key that decides them,
 * and a plain paging HWPT needs none of the keys. */
START_TEST(hwpt_decisions)
{
	struct policy *p = parse_ok("[tenant a]\nMatchUser=0\n"
				    "[tenant b]\nMatchUser=1\nAllowNesting=yes\n"
				    "[tenant c]\nMatchUser=2\nAllowDirtyTracking=yes\n");
	const struct policy_tenant *a = policy_find_tenant(p, "a");
	const struct policy_tenant *b = policy_find_tenant(p, "b");
	const struct policy_tenant *c = policy_find_tenant(p, "c");

	ck_assert_int_eq(policy_hwpt_refusing_key(a, 0, false), _POLICY_KEY_MAX);
	ck_assert_int_eq(policy_hwpt_refusing_key(a, 1, false), POLICY_KEY_ALLOW_NESTING);
	ck_assert_int_eq(policy_hwpt_refusing_key(a, 0, true), POLICY_KEY_ALLOW_NESTING);
	ck_assert_int_eq(policy_hwpt_refusing_key(a, 2, false),
			 POLICY_KEY_ALLOW_DIRTY_TRACKING);
	ck_assert_int_eq(policy_hwpt_refusing_key(b, 1, false), _POLICY_KEY_MAX);
	ck_assert_int_eq(policy_hwpt_refusing_key(b, 0, true), _POLICY_KEY_MAX);
	ck_assert_int_eq(policy_hwpt_refusing_key(b, 3, false),
			 POLICY_KEY_ALLOW_DIRTY_TRACKING);
	ck_assert_int_eq(policy_hwpt_refusing_key(c, 2, false), _POLICY_KEY_MAX);
	ck_assert_int_eq(policy_hwpt_refusing_key(c, 0, true), POLICY_KEY_ALLOW_NESTING);
	ck_assert(!policy_hwpt_data_allowed(b, hwpt_data_by_name("vtd-s1")));
	ck_assert_uint_eq(a->max_hwpts, POLICY_DEFAULT_MAX_HWPTS);
	policy_unref(p);
}
END_TEST

/* Rule: --check-policy on a good dir prints exactly the golden policy,
 * which itself parses back to the same policy. */
START_TEST(golden_good)
{
	char *out = NULL, *err = NULL, *want;
	struct policy *a = NULL, *b = NULL;
	struct err e = { 0 };

	enter_srcdir();
	run_check("tests/policy/good", 0, &out, &err);
	want = read_all("tests/policy/good.golden");
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(out, want);

	ck_assert_int_eq(policy_load_dir("tests/policy/good", &a, &e), 0);
	ck_assert_int_eq(policy_parse_string("good.golden", want, &b, &e), 0);
	ck_assert(policy_equal(a, b));
	ck_assert_uint_ge(policy_n_tenants(a), 3);
	policy_unref(a);
	policy_unref(b);
	free(out);
	free(err);
	free(want);
}
END_TEST

/* Rule: --check-policy on a bad dir prints every error with file:line
 * (exactly the golden list), prints no policy and fails. */
START_TEST(golden_bad)
{
	char *out = NULL, *err = NULL, *want;

	enter_srcdir();
	run_check("tests/policy/bad", 1, &out, &err);
	want = read_all("tests/policy/bad.golden");
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, want);
	free(out);
	free(err);
	free(want);

	run_check("tests/policy/does-not-exist", 1, &out, &err);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, "policy directory tests/policy/does-not-exist: No such file or directory\n"
			      "tests/policy/does-not-exist: policy is not valid\n");
	free(out);
	free(err);
}
END_TEST

/* Rule: the shipped example is a valid policy. */
START_TEST(example_valid)
{
	struct policy *p = NULL;
	struct err e = { 0 };

	enter_srcdir();
	ck_assert_msg(policy_load_dir("examples/policy.d", &p, &e) == 0, "%s", e.msg);
	ck_assert_uint_ge(policy_n_tenants(p), 1);
	policy_unref(p);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, effective_iovas);
	tcase_add_test(tc, every_key);
	tcase_add_test(tc, hwpt_decisions);
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, format_sizes);
	tcase_add_test(tc, bad_values);
	tcase_add_test(tc, unknown_and_syntax);
	tcase_add_test(tc, long_line);
	tcase_add_test(tc, needs_match);
	tcase_add_test(tc, duplicates);
	tcase_add_test(tc, all_errors);
	tcase_add_test(tc, ranges);
	tcase_add_test(tc, devices);
	tcase_add_test(tc, sharing);
	tcase_add_test(tc, daemon_section);
	suite_add_tcase(s, tc);

	tc = tcase_create("match");
	tcase_add_test(tc, match_and);
	tcase_add_test(tc, match_supplementary_group);
	tcase_add_test(tc, match_unit_glob);
	tcase_add_test(tc, match_cgroup_prefix);
	tcase_add_test(tc, match_numeric);
	tcase_add_test(tc, dir_order_first_match);
	suite_add_tcase(s, tc);

	tc = tcase_create("object");
	tcase_add_test(tc, refcount);
	tcase_add_test(tc, equal);
	tcase_add_test(tc, print_roundtrip);
	tcase_add_test(tc, print_exact);
	tcase_add_test(tc, source_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("peer");
	tcase_add_test(tc, peer_describe);
	tcase_add_test(tc, proc_cgroup_text);
	tcase_add_test(tc, unit_from_cgroup);
	tcase_add_test(tc, peer_from_own_pid);
	suite_add_tcase(s, tc);

	tc = tcase_create("golden");
	tcase_add_test(tc, golden_good);
	tcase_add_test(tc, golden_bad);
	tcase_add_test(tc, example_valid);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(policy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
