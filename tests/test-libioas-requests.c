/* SPDX-License-Identifier: MIT */
/*
 * The table of requests libioas sends (client/libioas/requests.h):
 *   - REQUEST() starts each message as { LIBIOAS_MESSAGE_BASE(member) }
 *     and names only the fields it sets; the others are zero. That must be
 *     the message IOASD__<MEMBER>__INIT makes, or a field with a default
 *     would go out as 0: each row's two forms must encode the same.
 *   - every operation of the protocol has its row.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "client/libioas/requests.h"

static void same_encoding(const char *member, const ProtobufCMessage *init,
			  const ProtobufCMessage *made)
{
	uint8_t a[256], b[256];
	size_t la = protobuf_c_message_get_packed_size(init);
	size_t lb = protobuf_c_message_get_packed_size(made);

	ck_assert_msg(init->descriptor == made->descriptor, "%s: descriptor", member);
	ck_assert_msg(la <= sizeof(a) && la == lb, "%s: %zu bytes, INIT %zu", member, lb, la);
	protobuf_c_message_pack(init, a);
	protobuf_c_message_pack(made, b);
	ck_assert_msg(memcmp(a, b, la) == 0, "%s: encodes unlike its INIT", member);
}

START_TEST(message_base_is_init)
{
#define CHECK_ROW(member, MEMBER, Type, ...)                                   \
	{                                                                      \
		Ioasd__##Type init = IOASD__##MEMBER##__INIT;                   \
		Ioasd__##Type made = { LIBIOAS_MESSAGE_BASE(member) };         \
		same_encoding(#member, &init.base, &made.base);                \
	}
	LIBIOAS_REQUESTS(CHECK_ROW, CHECK_ROW, CHECK_ROW)
#undef CHECK_ROW
}
END_TEST

START_TEST(every_operation_has_a_row)
{
#define NAME(member, ...) #member,
	static const char *const rows[] = { LIBIOAS_REQUESTS(NAME, NAME, NAME) };
#undef NAME
	const ProtobufCMessageDescriptor *d = &ioasd__request__descriptor;
	unsigned int ops = 0;

	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		bool found = false;

		if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			continue;
		ops++;
		for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
			found |= !strcmp(rows[k], f->name);
		ck_assert_msg(found, "Request.%s has no row in requests.h", f->name);
	}
	ck_assert_uint_eq(ops, sizeof(rows) / sizeof(rows[0]));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("libioas-requests");
	TCase *tc = tcase_create("table");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, message_base_is_init);
	tcase_add_test(tc, every_operation_has_a_row);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
