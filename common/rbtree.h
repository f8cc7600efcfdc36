/* SPDX-License-Identifier: MIT */
/* libbsd's red-black tree macros. RB_GENERATE_STATIC marks every generated
 * function __unused; define that attribute when the libc headers did not. */
#pragma once

#ifndef __unused
#define __unused __attribute__((unused))
#endif
#include <bsd/sys/tree.h>
