/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the policy parser (policy_parse_string), which reads files an
 * administrator writes but which reach the daemon as untrusted text all the
 * same (a reload reads whatever is in the directory).
 *
 * Invariants: a refusal carries a "NAME:LINE: " reason; an accepted policy
 * prints (policy_print) to text that parses again to an equal policy
 * (policy_equal) and prints identically; matching and the decision helpers
 * work on every tenant it has.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *print(const struct policy *p, size_t *ret_len)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		fuzz_fail("open_memstream");
	policy_print(p, f);
	if (fclose(f) != 0)
		fuzz_fail("policy_print: write failed");
	*ret_len = len;
	return text;
}

static void exercise(const struct policy *p)
{
	static const gid_t groups[] = { 27, 100 };
	const struct policy_peer peers[] = {
		{ .uid = 0, .gid = 0, .pid = 1 },
		{ .uid = 1000, .gid = 1000, .groups = groups, .n_groups = 2,
		  .pid = 42, .unit = "dpdk@a.service",
		  .cgroup = "/system.slice/dpdk@a.service" },
		{ .uid = 65534, .gid = 65534, .pid = 7, .unit = "session-2.scope",
		  .cgroup = "/user.slice/user-65534.slice/session-2.scope" },
	};
	char buf[512];

	for (size_t i = 0; i < ARRAY_SIZE(peers); i++)
		(void)policy_match(p, &peers[i]);
	for (size_t i = 0; i < policy_n_tenants(p); i++) {
		const struct policy_tenant *t = policy_tenant_at(p, i);

		if (policy_find_tenant(p, t->name) != t)
			fuzz_fail("tenant %s not found by its name", t->name);
		(void)policy_tenant_iova_allowed(t, 0, 4096);
		(void)policy_tenant_iova_allowed(t, UINT64_MAX - 4095, 4096);
		(void)policy_tenant_iova_allowed(t, 1ull << 32, UINT64_MAX);
		(void)policy_tenant_device_allowed(t, 0x8086, 0x1572, "0000:3b:00.1");
		(void)policy_share_allowed(t, policy_tenant_at(p, 0));
		for (int k = 0; k < _POLICY_KEY_MAX; k++)
			(void)policy_tenant_source(t, (enum policy_key)k, buf,
						   sizeof(buf));
	}
}

/* Parse printed text; it must parse and mean the same as p. */
static struct policy *reparse(const struct policy *p, const char *input,
			      const char *printed)
{
	struct policy *q = NULL;
	struct err e = { 0 };

	if (policy_parse_string("printed.conf", printed, &q, &e) < 0)
		fuzz_fail("printed policy does not parse: %s\n--- input\n%s\n--- printed\n%s",
			  e.msg, input, printed);
	if (!policy_equal(p, q))
		fuzz_fail("printed policy parses to a different one\n--- input\n%s\n--- printed\n%s",
			  input, printed);
	return q;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p = NULL, *q, *r;
	struct err e = { 0 };
	char *text, *out1, *out2, *out3;
	size_t len1, len2, len3;

	if (size > 64 * 1024)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (policy_parse_string("fuzz.conf", text, &p, &e) < 0) {
		if (p)
			fuzz_fail("policy returned on failure");
		if (!e.errnum || strncmp(e.msg, "fuzz.conf:", 10) != 0)
			fuzz_fail("refusal without a FILE:LINE reason: \"%s\"", e.msg);
		free(text);
		return 0;
	}
	exercise(p);
	/* The first print marks defaults; printing what it parses to drops
	 * those marks, and from there on printing is a fixed point. */
	out1 = print(p, &len1);
	q = reparse(p, text, out1);
	out2 = print(q, &len2);
	r = reparse(q, text, out2);
	out3 = print(r, &len3);
	if (len2 != len3 || memcmp(out2, out3, len2) != 0)
		fuzz_fail("printing is not stable\n--- second\n%s\n--- third\n%s",
			  out2, out3);
	free(out1);
	free(out2);
	free(out3);
	policy_unref(r);
	policy_unref(q);
	policy_unref(p);
	free(text);
	return 0;
}
