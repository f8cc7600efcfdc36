/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "errname.h"

const char *errno_name(int errnum)
{
	return strerrorname_np(errnum);
}
