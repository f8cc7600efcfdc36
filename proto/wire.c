/* SPDX-License-Identifier: MIT */
/*
 * One datagram = one message, fds as SCM_RIGHTS. The receive side is the only
 * place fds enter the process: it uses a control buffer sized for exactly
 * IOASD_MAX_FDS, MSG_CMSG_CLOEXEC, and closes everything it got whenever the
 * datagram is refused, so no error path can leak a peer's fd.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "proto/wire.h"

/* Linux >= 6.5: a pidfd the kernel installs when the receiver set
 * SO_PASSPIDFD. Older libc headers lack the name. */
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

int wire_send(int sock, const void *buf, size_t len, const int *fds,
	      size_t nfds)
{
	return wire_send_flags(sock, buf, len, fds, nfds, 0);
}

int wire_send_flags(int sock, const void *buf, size_t len, const int *fds,
		    size_t nfds, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * IOASD_MAX_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (len > IOASD_MAX_DATAGRAM || nfds > IOASD_MAX_FDS)
		return -EMSGSIZE;
	if (nfds > 0) {
		struct cmsghdr *cmsg;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL | flags);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO; /* SEQPACKET sends whole datagrams or fails */
	return 0;
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/*
 * Judge one datagram recvmsg or recvmmsg returned (n bytes, msg as the
 * kernel left it): collect every fd that arrived into fds (up to max_fds;
 * more are closed), then refuse or accept it as wire_recv() documents.
 */
static ssize_t wire_judge(struct msghdr *msg, ssize_t n, int *fds,
			  size_t max_fds, size_t *ret_nfds)
{
	struct cmsghdr *cmsg;
	size_t nfds = 0;
	bool bad = false;

	*ret_nfds = 0;
	/* Collect every fd that arrived before judging the datagram. */
	for (cmsg = CMSG_FIRSTHDR(msg); cmsg; cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level == SOL_SOCKET &&
		    cmsg->cmsg_type == SCM_RIGHTS) {
			size_t k = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int *data = (int *)CMSG_DATA(cmsg);

			for (size_t i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, data + i, sizeof(fd));
				if (nfds < max_fds)
					fds[nfds++] = fd;
				else {
					close(fd);
					bad = true;
				}
			}
		} else if (cmsg->cmsg_level == SOL_SOCKET &&
			   cmsg->cmsg_type == SCM_PIDFD) {
			/* Not ours to keep, but already in our fd table. */
			size_t k = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int *data = (int *)CMSG_DATA(cmsg);

			for (size_t i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, data + i, sizeof(fd));
				close(fd);
			}
			bad = true;
		} else {
			bad = true;
		}
	}

	if (msg->msg_flags & MSG_CTRUNC)
		bad = true;
	if (bad) {
		close_all(fds, nfds);
		return -EBADMSG;
	}
	if (msg->msg_flags & MSG_TRUNC) {
		close_all(fds, nfds);
		return -EMSGSIZE;
	}
	if (n == 0) {
		close_all(fds, nfds);
		return 0;
	}
	*ret_nfds = nfds;
	return n;
}

/*
 * Room for max_fds: fds beyond the buffer are dropped by the kernel with
 * MSG_CTRUNC. CMSG_SPACE pads to 8 bytes, so for odd max_fds the kernel may
 * install one fd more than max_fds without MSG_CTRUNC; wire_judge() closes
 * it and refuses the datagram.
 */
static size_t control_len(size_t max_fds)
{
	return max_fds ? CMSG_SPACE(sizeof(int) * max_fds) : 0;
}

ssize_t wire_recv(int sock, void *buf, size_t cap, int *fds, size_t max_fds,
		  size_t *ret_nfds, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * IOASD_MAX_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
	};
	ssize_t n;

	*ret_nfds = 0;
	if (max_fds > IOASD_MAX_FDS)
		max_fds = IOASD_MAX_FDS;
	msg.msg_controllen = control_len(max_fds);
	if (max_fds == 0)
		msg.msg_control = NULL;

	do {
		n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return wire_judge(&msg, n, fds, max_fds, ret_nfds);
}

/* One slot of a batch: the kernel's view and the caller's. */
struct wire_slot {
	struct iovec iov;
	/* Last: clang takes CMSG_SPACE() for a variable size. */
	union {
		char buf[CMSG_SPACE(sizeof(int) * IOASD_MAX_FDS)];
		struct cmsghdr align;
	} control;
};

struct wire_rx {
	size_t n;
	size_t used;              /* slots the last call filled */
	struct mmsghdr *hdrs;     /* n */
	struct wire_slot *slots;  /* n */
	struct wire_msg *msgs;    /* n */
	uint8_t *bufs;            /* n * IOASD_MAX_DATAGRAM */
};

/* What the kernel changes in a slot's header (the control length it used,
 * the flags), set back; the rest is set once. */
static void slot_reset(struct wire_rx *rx, size_t i)
{
	rx->hdrs[i].msg_hdr.msg_controllen = control_len(IOASD_MAX_FDS);
	rx->hdrs[i].msg_hdr.msg_flags = 0;
}

struct wire_rx *wire_rx_new(size_t n)
{
	struct wire_rx *rx;

	if (n == 0 || n > WIRE_RX_MAX)
		return NULL;
	rx = calloc(1, sizeof(*rx));
	if (!rx)
		return NULL;
	rx->n = n;
	rx->hdrs = calloc(n, sizeof(*rx->hdrs));
	rx->slots = calloc(n, sizeof(*rx->slots));
	rx->msgs = calloc(n, sizeof(*rx->msgs));
	/* Not touched until a datagram lands in it. */
	rx->bufs = malloc(n * IOASD_MAX_DATAGRAM);
	if (!rx->hdrs || !rx->slots || !rx->msgs || !rx->bufs)
		return wire_rx_free(rx);
	for (size_t i = 0; i < n; i++) {
		struct wire_slot *sl = &rx->slots[i];

		sl->iov = (struct iovec){
			.iov_base = rx->bufs + i * IOASD_MAX_DATAGRAM,
			.iov_len = IOASD_MAX_DATAGRAM,
		};
		rx->hdrs[i].msg_hdr = (struct msghdr){
			.msg_iov = &sl->iov,
			.msg_iovlen = 1,
			.msg_control = sl->control.buf,
		};
		rx->msgs[i].buf = rx->bufs + i * IOASD_MAX_DATAGRAM;
		slot_reset(rx, i);
	}
	return rx;
}

struct wire_rx *wire_rx_free(struct wire_rx *rx)
{
	if (!rx)
		return NULL;
	free(rx->hdrs);
	free(rx->slots);
	free(rx->msgs);
	free(rx->bufs);
	free(rx);
	return NULL;
}

int wire_recv_batch(int sock, struct wire_rx *rx, size_t max, int flags,
		    struct wire_msg **ret_msgs)
{
	int n;

	if (max > rx->n)
		max = rx->n;
	for (size_t i = 0; i < rx->used; i++)
		slot_reset(rx, i);
	rx->used = 0;
	do {
		n = recvmmsg(sock, rx->hdrs, (unsigned)max, flags | MSG_CMSG_CLOEXEC,
			     NULL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	rx->used = (size_t)n;
	for (int i = 0; i < n; i++) {
		struct wire_msg *m = &rx->msgs[i];

		m->len = wire_judge(&rx->hdrs[i].msg_hdr, (ssize_t)rx->hdrs[i].msg_len,
				    m->fds, IOASD_MAX_FDS, &m->nfds);
	}
	*ret_msgs = rx->msgs;
	return n;
}
