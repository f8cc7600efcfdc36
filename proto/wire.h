/* SPDX-License-Identifier: MIT */
/*
 * Datagram transport shared by the daemon and libioas: one SOCK_SEQPACKET
 * datagram is one message; fds ride on it as SCM_RIGHTS. Library code: no
 * logging, negative errno returns.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Largest datagram either side accepts; larger ones are refused. */
#define IOASD_MAX_DATAGRAM (64u * 1024u)
/* Most fds one datagram may carry. */
#define IOASD_MAX_FDS 4u
/* Most operations one Batch request may carry (HelloReply.max_batch):
 * larger batches are refused (E2BIG). 256 small maps fit a datagram many
 * times over; the bound keeps one request's work, its audit records and
 * its reply (one result per operation, within IOASD_MAX_DATAGRAM) small. */
#define IOASD_MAX_BATCH 256u

/*
 * Send one datagram with nfds fds attached (nfds may be 0). MSG_NOSIGNAL.
 * Returns 0, or -errno (-EAGAIN on a non-blocking socket that is full,
 * -EMSGSIZE when len > IOASD_MAX_DATAGRAM or nfds > IOASD_MAX_FDS).
 */
int wire_send(int sock, const void *buf, size_t len, const int *fds,
	      size_t nfds);
/* The same with extra sendmsg flags (MSG_DONTWAIT). */
int wire_send_flags(int sock, const void *buf, size_t len, const int *fds,
		    size_t nfds, int flags);

/*
 * Receive one datagram into buf (cap bytes) and up to max_fds fds
 * (max_fds <= IOASD_MAX_FDS), with MSG_CMSG_CLOEXEC. flags are extra recvmsg
 * flags (MSG_DONTWAIT).
 *
 * Returns the datagram length (> 0) with fds[0..*ret_nfds) now owned by the
 * caller; 0 on end of stream (a zero-length datagram reads the same and is
 * treated as a close); or -errno:
 *   -EMSGSIZE  the datagram was larger than cap (MSG_TRUNC)
 *   -EBADMSG   more fds than max_fds, or a control message that is not
 *              SCM_RIGHTS (MSG_CTRUNC or unexpected cmsg)
 *   other      from recvmsg (-EAGAIN, -ECONNRESET, ...)
 * On every error return, every fd that arrived has been closed and
 * *ret_nfds is 0.
 */
ssize_t wire_recv(int sock, void *buf, size_t cap, int *fds, size_t max_fds,
		  size_t *ret_nfds, int flags);

/*
 * Receiving several datagrams in one recvmmsg() call: room for n of them
 * (n <= WIRE_RX_MAX), IOASD_MAX_DATAGRAM bytes and IOASD_MAX_FDS fds each,
 * allocated once and reused (the bytes are not touched until a datagram
 * lands in them). wire_rx_new() returns NULL when out of memory.
 */
#define WIRE_RX_MAX 64u

struct wire_rx;
struct wire_rx *wire_rx_new(size_t n);
struct wire_rx *wire_rx_free(struct wire_rx *rx); /* NULL-safe, returns NULL */

/* One datagram of a batch, judged like wire_recv() judges one. */
struct wire_msg {
	const uint8_t *buf;        /* in the wire_rx, until its next use */
	ssize_t len;               /* > 0; 0 end of stream; -EMSGSIZE; -EBADMSG */
	int fds[IOASD_MAX_FDS];    /* [0, nfds) owned by the caller */
	size_t nfds;               /* 0 unless len > 0 */
};

/*
 * Receive up to max datagrams (at most the rx's n) in one recvmmsg() with
 * flags | MSG_CMSG_CLOEXEC; with MSG_DONTWAIT it returns what is queued
 * without a further call to find the queue empty. Returns how many (> 0),
 * *ret_msgs pointing at them, each with its len and fds as wire_recv()
 * would have returned them (every fd of a refused datagram closed); or
 * -errno from recvmmsg (-EAGAIN: nothing queued, -ECONNRESET, ...).
 */
int wire_recv_batch(int sock, struct wire_rx *rx, size_t max, int flags,
		    struct wire_msg **ret_msgs);
