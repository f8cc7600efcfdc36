/* SPDX-License-Identifier: MIT */
/*
 * Inside libioas: the client object and the helpers every file of the
 * library shares. Not installed. The library exports only ioas_*
 * (Makefile.am, -export-symbols-regex), so everything here is named
 * libioas_*: hidden from the shared library, and no clash with a program
 * that links the static archive.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ioas.h"
#include "ioasd.pb-c.h"
#include "proto/wire.h"

/* errno values above this are not errno values: the reply is malformed. */
#define IOAS_ERRNO_MAX 4095

struct ioas_client {
	int fd;
	uint64_t next_id;
	bool broken;
	unsigned int timeout_ms;

	/* From the HelloReply. */
	uint32_t version;
	uint64_t caps;
	uint32_t max_datagram;
	uint32_t max_fds;
	char *backend;
	char *server;
	char *reclaim_token;  /* NULL: the daemon has no restart support */
	bool reclaimed;

	char last_error[256];

	/* Received notifications, oldest first (a ring). */
	struct ioas_notification notes[IOAS_NOTIFY_QUEUE];
	unsigned int note_head, note_count;
	uint64_t notes_dropped;

	uint8_t buf[IOASD_MAX_DATAGRAM];
};

void libioas_copy_str(char *dst, size_t size, const char *src);

/* Set last_error and return neg_errno. */
__attribute__((format(printf, 3, 4))) int libioas_fail(struct ioas_client *c,
						       int neg_errno,
						       const char *fmt, ...);

/* A transport or protocol failure: the connection cannot be trusted any more. */
__attribute__((format(printf, 3, 4))) int libioas_broken(struct ioas_client *c,
							 int neg_errno,
							 const char *fmt, ...);

void libioas_close_fds(int *fds, size_t n);

/*
 * Send req (with send_fd attached when >= 0) and wait for its Response.
 * Returns:
 *   0        success; *ret is the Response, result_case == expect (unless
 *            expect is RESULT__NOT_SET, meaning "no result expected")
 *   -errno   refused by the daemon; *ret is still set (EMSGSIZE replies
 *            carry data), last_error is the daemon's message
 *   -errno   local/transport/protocol failure; *ret is NULL
 * The caller frees *ret with ioasd__response__free_unpacked().
 */
int libioas_transact(struct ioas_client *c, Ioasd__Request *req, int send_fd,
		     Ioasd__Response__ResultCase expect, Ioasd__Response **ret);

/* For requests whose reply carries nothing but success or an errno. */
int libioas_transact_simple(struct ioas_client *c, Ioasd__Request *req);

/* Keep a notification (Response id 0 without an error). Unknown kinds are
 * ignored: a newer daemon may define more. */
void libioas_queue_notification(struct ioas_client *c, const Ioasd__Response *resp);
