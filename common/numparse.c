/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <strings.h>

#include "numparse.h"

static int digit(char c, unsigned base)
{
	unsigned v;

	if (c >= '0' && c <= '9')
		v = (unsigned)(c - '0');
	else if (c >= 'a' && c <= 'f')
		v = (unsigned)(c - 'a' + 10);
	else if (c >= 'A' && c <= 'F')
		v = (unsigned)(c - 'A' + 10);
	else
		return -1;
	return v < base ? (int)v : -1;
}

/* The NUMBER at s; *ret_end is where it stopped. */
static int number(const char *s, uint64_t *ret, const char **ret_end)
{
	unsigned base = 10;
	uint64_t v = 0;
	bool overflow = false;
	const char *p = s;
	int d;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (digit(*p, base) < 0)
		return -EINVAL;
	for (; (d = digit(*p, base)) >= 0; p++)
		if (__builtin_mul_overflow(v, base, &v) ||
		    __builtin_add_overflow(v, (uint64_t)d, &v))
			overflow = true;
	*ret = v;
	*ret_end = p;
	return overflow ? -ERANGE : 0;
}

int numparse_u64(const char *s, uint64_t *ret)
{
	const char *end;
	uint64_t v;
	int r;

	if (!s)
		return -EINVAL;
	r = number(s, &v, &end);
	if (r == -EINVAL || *end)
		return -EINVAL;
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

int numparse_u32(const char *s, uint32_t *ret)
{
	uint64_t v;
	int r = numparse_u64(s, &v);

	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

int numparse_size(const char *s, uint64_t *ret)
{
	static const char units[] = "kmgt";
	const char *end;
	unsigned shift = 0;
	uint64_t v;
	int r;

	if (!s)
		return -EINVAL;
	r = number(s, &v, &end);
	if (r == -EINVAL)
		return r;
	if (*end) {
		char c = (char)(*end | 0x20);

		for (unsigned i = 0; i < sizeof(units) - 1; i++)
			if (c == units[i])
				shift = 10 * (i + 1);
		if (!shift)
			return -EINVAL;
		end++;
		if (*end && strcasecmp(end, "iB") && strcasecmp(end, "B"))
			return -EINVAL;
	}
	if (r < 0)
		return r;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*ret = v << shift;
	return 0;
}
