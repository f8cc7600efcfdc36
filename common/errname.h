/* SPDX-License-Identifier: MIT */
/*
 * errno values by name, once for everything that prints them (ioasctl's
 * messages and JSON; meant for the audit trail's "error" too): "ENOENT"
 * for 2. The names are the C library's, so every errno the kernel or the
 * daemon can give has one. Library code: nothing here logs.
 */
#pragma once

/* The name of errnum ("EKEYREJECTED"), or NULL if it is no errno value. */
const char *errno_name(int errnum);
