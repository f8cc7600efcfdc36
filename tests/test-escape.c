/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/escape.c (client text on its way into logs and the
 * audit trail) and for the log line it protects (common/log.c): no client
 * string can end a log line and forge the next one.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/log.h"

static const char *esc(const char *s, unsigned flags)
{
	static char buf[256];

	escape_text(buf, sizeof(buf), s, flags);
	return buf;
}

/* Printable ASCII passes; everything else is an escape, '\\' included. */
START_TEST(escapes_what_is_not_printable_ascii)
{
	ck_assert_str_eq(esc("demo-client 1.0 (a=b)", 0), "demo-client 1.0 (a=b)");
	ck_assert_str_eq(esc("x\n<2>forged", 0), "x\\n<2>forged");
	ck_assert_str_eq(esc("a\rb\tc", 0), "a\\rb\\tc");
	ck_assert_str_eq(esc("\x1b[31mred\x7f", 0), "\\x1b[31mred\\x7f");
	ck_assert_str_eq(esc("back\\slash", 0), "back\\\\slash");
	/* UTF-8 and stray high bytes alike (C1 controls, bidi overrides). */
	ck_assert_str_eq(esc("\xc3\xa9\xe2\x80\xae", 0), "\\xc3\\xa9\\xe2\\x80\\xae");
	ck_assert_str_eq(esc("", 0), "");
}
END_TEST

/* The log-line mode: controls only; backslashes and UTF-8 stay. */
START_TEST(controls_only)
{
	ck_assert_str_eq(esc("x\\n \xc3\xa9\n<2>y\x01", ESCAPE_CONTROLS_ONLY),
			 "x\\n \xc3\xa9\\n<2>y\\x01");
}
END_TEST

/* Like snprintf: the needed length comes back, the copy is NUL-terminated
 * and never ends in half an escape. */
START_TEST(bounded_and_whole_escapes)
{
	char buf[8];

	ck_assert_uint_eq(escape_text(buf, sizeof(buf), "abcdef\n", 0), 8);
	ck_assert_str_eq(buf, "abcdef");               /* "\\n" would not fit */
	ck_assert_uint_eq(escape_text(buf, sizeof(buf), "abcd\x01", 0), 8);
	ck_assert_str_eq(buf, "abcd");                 /* not "abcd\\x0" */
	ck_assert_uint_eq(escape_text(buf, sizeof(buf), "abcdefg", 0), 7);
	ck_assert_str_eq(buf, "abcdefg");
	ck_assert_uint_eq(escape_text(buf, 1, "\n", 0), 2);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(escape_text(NULL, 0, "a\nb", 0), 4);
}
END_TEST

/* What log_msg writes to stderr, in a child (stderr to a pipe). */
static size_t logged(bool journal, const char *arg, char *out, size_t size)
{
	int p[2];
	pid_t pid;
	ssize_t n;
	size_t len = 0;
	int st;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		close(p[1]);
		if (journal)
			setenv("JOURNAL_STREAM", "8:1234", 1);
		else
			unsetenv("JOURNAL_STREAM");
		log_set_level(LOG_DEBUG);
		log_msg(LOG_DEBUG, "hello from \"%s\"", arg);
		_exit(0);
	}
	close(p[1]);
	while (len + 1 < size && (n = read(p[0], out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return len;
}

/* The backstop: a message with a newline in it is still one line, on a
 * terminal and in the journal's stream format. */
START_TEST(log_line_cannot_be_forged)
{
	char out[512];

	logged(true, "x\n<2>forged", out, sizeof(out));
	ck_assert_str_eq(out, "<7>hello from \"x\\n<2>forged\"\n");
	logged(false, "x\r\n<2>forged\x1b[2J", out, sizeof(out));
	ck_assert_str_eq(out, "ioasd: debug: hello from \"x\\r\\n<2>forged\\x1b[2J\"\n");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("escape");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, escapes_what_is_not_printable_ascii);
	tcase_add_test(tc, controls_only);
	tcase_add_test(tc, bounded_and_whole_escapes);
	tcase_add_test(tc, log_line_cannot_be_forged);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
