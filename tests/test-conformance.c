/* SPDX-License-Identifier: MIT */
/*
 * The sim against the real kernel: run the conformance scenarios
 * (tests/conformance.c) on the sim and compare the transcript with the
 * transcript the real kernel printed in the QEMU guests (make check-vm):
 * tests/conformance.golden from the kernels without transparent huge pages
 * (6.12, 7.2), with the sim modelling such a kernel, and
 * tests/conformance-thp.golden from the kernel with them (7.2-thp), with
 * the sim modelling that. Every differing line is printed.
 */
#include <check.h>
#include <errno.h>
#include <sys/mman.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/backend.h"
#include "iommu/backend-faults.h"
#include "conformance.h"
#include "common/util.h"

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* The kernels the golden files come from: x86-64 without THP, and with. */
static const struct backend_model nothp = { false, 4096, 0 };
static const struct backend_model thp = { true, 4096, 2 << 20 };

static const char *golden_name(const struct backend_model *m)
{
	return m->thp ? "conformance-thp.golden" : "conformance.golden";
}

/* Remove the fault-fd section from text: the kernel's fault fd I/O, which
 * the sim's socket cannot model (iommu/sim-faults.c); it ends at the next
 * section that is not its own, or at the end. */
static void drop_fault_fd_section(char *text)
{
	char *from = strstr(text, "\n" CONFORMANCE_FAULT_FD_MARK), *to;

	if (!from)
		return;
	from++;
	to = strstr(from + 1, "\n== ");
	if (to)
		memmove(from, to + 1, strlen(to + 1) + 1);
	else
		*from = '\0';
}

/* The golden transcript of m's kind of kernel without the fault-fd
 * section, cut before the MAP_FILE sections if !with_map_file. */
static char *golden(const struct backend_model *m, bool with_map_file)
{
	const char *srcdir = getenv("IOASD_SRCDIR");
	char path[4096];
	char *text, *cut;

	snprintf(path, sizeof(path), "%s/tests/%s", srcdir ? srcdir : ".",
		 golden_name(m));
	text = read_file(path);
	ck_assert_msg(text, "cannot read %s (set IOASD_SRCDIR)", path);
	ck_assert_msg(strstr(text, "\n" CONFORMANCE_FAULT_FD_MARK),
		      "%s has no fault-fd section", path);
	drop_fault_fd_section(text);
	if (!with_map_file) {
		cut = strstr(text, "\n" CONFORMANCE_MAP_FILE_MARK);
		if (cut)
			cut[1] = '\0';
	}
	return text;
}

/* The sim's stand-in for the guest's edu device (1234:11e8). */
static int sim_device(void)
{
	int fd = memfd_create("ioasd-sim-device:1234:11e8@0000:00:03.0", MFD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static char *sim_transcript(const struct backend_model *m, bool has_map_file)
{
	struct backend *b = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *out;
	int r;

	r = backend_sim_open_model(m, &b);
	ck_assert_int_eq(r, 0);
	backend_sim_set_map_file(b, has_map_file);
	/* The kernels of the golden files: 7.2 has MAP_FILE, 6.12 not. */
	backend_sim_set_kernel72(b, has_map_file);
	out = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(out);
	r = conformance_run(b, out, sim_device, false);
	ck_assert_int_eq(r, 0);
	fclose(out);
	b->ops->close(b);
	return text;
}

/* Compare line by line (every step prints exactly one line); report all. */
static int compare(const char *want, const char *got, const char *name)
{
	int line = 1, bad = 0;

	while (*want || *got) {
		size_t wl = strcspn(want, "\n"), gl = strcspn(got, "\n");

		if (wl != gl || memcmp(want, got, wl) != 0) {
			if (bad++ < 100)
				fprintf(stderr,
					"line %d differs\n  kernel: %.*s\n  sim:    %.*s\n",
					line, (int)wl, want, (int)gl, got);
		}
		want += wl + (want[wl] == '\n');
		got += gl + (got[gl] == '\n');
		line++;
	}
	if (bad)
		fprintf(stderr, "%d line(s) differ from tests/%s\n", bad, name);
	return bad;
}

/* _i: 0 the model of a kernel without THP, 1 with. */
static const struct backend_model *model(int i)
{
	return i ? &thp : &nothp;
}

/* Rule: every backend call on the sim gives the kernel's result and output
 * (golden transcript from the real kernel of the kind the sim models,
 * MAP_FILE sections included: Linux 7.2). */
START_TEST(test_sim_matches_kernel_with_map_file)
{
	_cleanup_free_ char *want = golden(model(_i), true);
	_cleanup_free_ char *got = sim_transcript(model(_i), true);

	ck_assert_int_eq(compare(want, got, golden_name(model(_i))), 0);
}
END_TEST

/* Rule: a backend without MAP_FILE (Linux 6.12) gives the same transcript
 * minus the MAP_FILE sections. */
START_TEST(test_sim_matches_kernel_without_map_file)
{
	_cleanup_free_ char *want = golden(model(_i), false);
	_cleanup_free_ char *got = sim_transcript(model(_i), false);

	ck_assert_int_eq(compare(want, got, golden_name(model(_i))), 0);
}
END_TEST

/* Rule: the transcript is a function of the scenarios only (no addresses,
 * no ids, no state carried between runs). */
START_TEST(test_transcript_is_deterministic)
{
	_cleanup_free_ char *one = sim_transcript(model(_i), true);
	_cleanup_free_ char *two = sim_transcript(model(_i), true);

	ck_assert_str_eq(one, two);
	ck_assert_ptr_nonnull(strstr(one, "\n" CONFORMANCE_MAP_FILE_MARK));
}
END_TEST

/* Rule: backend_map_file on a backend without MAP_FILE is EOPNOTSUPP, and
 * the harness then leaves the MAP_FILE sections out. */
START_TEST(test_no_map_file_section_without_map_file)
{
	_cleanup_free_ char *text = sim_transcript(model(_i), false);

	ck_assert_ptr_null(strstr(text, "\n" CONFORMANCE_MAP_FILE_MARK));
}
END_TEST

/* Rule: the kernels' transcripts agree up to the first scenario that needs
 * an automatic alignment above 4 KiB ("== top", where a 1 MiB map first
 * does), and differ after it: the scenarios tell the two kinds apart, and
 * each golden file is the one of its kind. */
START_TEST(test_golden_files_differ_only_where_thp_matters)
{
	_cleanup_free_ char *a = golden(&nothp, true);
	_cleanup_free_ char *b = golden(&thp, true);
	const char *mark = "\n== top:";
	char *ca = strstr(a, mark), *cb = strstr(b, mark);

	ck_assert_ptr_nonnull(ca);
	ck_assert_ptr_nonnull(cb);
	ck_assert_int_eq(ca - a, cb - b);
	ck_assert(memcmp(a, b, (size_t)(ca - a)) == 0);
	ck_assert_str_ne(ca, cb);
}
END_TEST

static Suite *conformance_suite(void)
{
	Suite *s = suite_create("conformance");
	TCase *tc = tcase_create("sim-vs-kernel");

	tcase_add_loop_test(tc, test_sim_matches_kernel_with_map_file, 0, 2);
	tcase_add_loop_test(tc, test_sim_matches_kernel_without_map_file, 0, 2);
	tcase_add_loop_test(tc, test_transcript_is_deterministic, 0, 2);
	tcase_add_loop_test(tc, test_no_map_file_section_without_map_file, 0, 2);
	tcase_add_test(tc, test_golden_files_differ_only_where_thp_matters);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(conformance_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
