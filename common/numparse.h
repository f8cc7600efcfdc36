/* SPDX-License-Identifier: MIT */
/*
 * The one grammar for numbers and sizes, shared by the daemon's command
 * line, the policy files and ioasctl (each used to have its own):
 *
 *   NUMBER := DIGITS | "0x" HEXDIGITS          (also "0X"; no sign, no
 *                                               spaces, no octal: "010" is ten;
 *                                               hex digits are read greedily:
 *                                               "0x2B" is 43, "0x2GB" 2 GiB)
 *   SIZE   := NUMBER [ UNIT [ "iB" | "B" ] ]   UNIT := K | M | G | T, any case,
 *                                               powers of 1024 ("2M" = "2MiB"
 *                                               = "2MB" = 2097152)
 *
 * A value that does not fit 64 bits (or 32, for the _u32 forms) is -ERANGE;
 * anything else that is not of the grammar is -EINVAL. *ret is untouched on
 * failure. Library code: nothing here logs.
 */
#pragma once

#include <stdint.h>

int numparse_u64(const char *s, uint64_t *ret);
int numparse_u32(const char *s, uint32_t *ret);
int numparse_size(const char *s, uint64_t *ret);
