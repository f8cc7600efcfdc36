/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: whole conversations with the daemon on the sim backend, over
 * a real socket, through the daemon's own receive path (conn -> rpc ->
 * tenant -> backend) and event loop.
 *
 * The input is a little program. Byte 0 sets up the run:
 *   bit 0  the sim models IOMMU_IOAS_MAP_FILE (else mmap + IOMMU_IOAS_MAP)
 *   bit 1  do not say Hello on the first connection
 * then records, each one datagram:
 *   ctl    bits 0-2  fds attached: 0 none, 1 sealed memfd, 2 unsealed memfd,
 *                    3 pipe, 4 sealed memfd opened read-only, 5 memfd sealed
 *                    against writes, 6 two sealed memfds, 7 five fds (more
 *                    than the protocol allows)
 *          bit 3     raw datagram instead of a built request
 *          bit 4     hang up and reconnect first
 *          bit 5     no Hello after a reconnect
 *          bit 6     pipeline: do not wait for the reply before the next one
 *   [size] for memfd kinds, pages = 1 + size % 16
 *   raw:   len (0xff: one byte over the datagram limit, 0xfe: zero-length
 *          datagram, which reads as a close, else len bytes follow)
 *   built: op byte, then operands drawn from the input (small handles,
 *          page-multiple offsets and lengths, and boundary values)
 *
 * Invariants, checked throughout: every datagram but a zero-length one (a
 * close) gets exactly one reply while the connection lives, every reply is a Response
 * with a reason for any refusal and the request's id, a fixed-IOVA map or
 * copy lands where asked, the tenant's tables stay consistent
 * (tenant_check); after the last hang-up no connection, tenant, IOAS,
 * pinned byte or fd is left.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iommu/backend.h"
#include "net/conn.h"
#include "fuzz-common.h"
#include "rpc/rpc.h"
#include "common/util.h"
#include "proto/wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAGE 4096u

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static const uint64_t boundary[] = {
	0, 1, PAGE - 1, PAGE + 1, UINT32_MAX, 1ull << 32, 1ull << 63,
	UINT64_MAX - PAGE + 1, UINT64_MAX,
};

/* A page multiple (0..31 pages), or now and then a boundary value. */
static uint64_t pages(struct input *in)
{
	uint8_t b = u8(in);

	if (b >= 0xf0)
		return boundary[(b - 0xf0) % ARRAY_SIZE(boundary)];
	return (uint64_t)(b % 32) * PAGE;
}

/* An IOVA: 64 KiB steps over the low 16 MiB, or a boundary value. */
static uint64_t iova(struct input *in)
{
	uint8_t b = u8(in);

	if (b >= 0xf0)
		return boundary[(b - 0xf0) % ARRAY_SIZE(boundary)];
	return (uint64_t)b << 16;
}

static uint32_t handle(struct input *in)
{
	return u8(in) % 8;
}

/* MAP flags: mostly valid bits, sometimes an unknown one. */
static uint32_t flags(struct input *in)
{
	uint8_t b = u8(in);

	return (b & 7) | (b & 0x80 ? 1u << (b % 32) : 0);
}

/* ------------------------------------------------------------ fds */

static int memfd(unsigned npages, unsigned seals)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		fuzz_fail("memfd_create: %s", strerror(errno));
	if (ftruncate(fd, (off_t)npages * PAGE) < 0 ||
	    (seals && fcntl(fd, F_ADD_SEALS, seals) < 0))
		fuzz_fail("memfd set-up: %s", strerror(errno));
	return fd;
}

static int reopen_rdonly(int fd)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = open(path, O_RDONLY | O_CLOEXEC);
	if (r < 0)
		fuzz_fail("reopen %s: %s", path, strerror(errno));
	close(fd);
	return r;
}

/* Make the fds a record asks for; returns how many. */
static size_t make_fds(unsigned kind, struct input *in, int *fds)
{
	unsigned npages = 1;
	int p[2];

	if (kind == 1 || kind == 2 || kind == 4 || kind == 5 || kind == 6)
		npages = 1 + u8(in) % 16;
	switch (kind) {
	case 0:
		return 0;
	case 1:
		fds[0] = memfd(npages, F_SEAL_SHRINK | F_SEAL_GROW);
		return 1;
	case 2:
		fds[0] = memfd(npages, 0);
		return 1;
	case 3:
		if (pipe2(p, O_CLOEXEC) < 0)
			fuzz_fail("pipe2: %s", strerror(errno));
		close(p[1]);
		fds[0] = p[0];
		return 1;
	case 4:
		fds[0] = reopen_rdonly(memfd(npages, F_SEAL_SHRINK));
		return 1;
	case 5:
		fds[0] = memfd(npages, F_SEAL_SHRINK | F_SEAL_WRITE);
		return 1;
	case 6:
		fds[0] = memfd(npages, F_SEAL_SHRINK);
		fds[1] = memfd(1, F_SEAL_SHRINK);
		return 2;
	default:
		for (int i = 0; i < 5; i++)
			fds[i] = memfd(1, F_SEAL_SHRINK);
		return 5;
	}
}

/* sendmsg without wire_send()'s own limits, so that the daemon sees
 * oversized datagrams and too many fds. */
static void raw_send(int sock, const void *buf, size_t len, const int *fds,
		     size_t nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 8)];
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	if (sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		fuzz_fail("sendmsg of %zu bytes: %s", len, strerror(errno));
}

/* ------------------------------------------------------------ requests */

/* What we expect of the reply to a built request. */
struct expect {
	uint64_t id;
	bool fixed;          /* fixed-IOVA map or copy */
	uint64_t at;         /* ... at this IOVA */
	int op;
};

static size_t build(struct input *in, uint64_t id, uint8_t *buf,
		    struct expect *x)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Hello hello = IOASD__HELLO__INIT;
	Ioasd__IoasAlloc alloc = IOASD__IOAS_ALLOC__INIT;
	Ioasd__IoasDestroy destroy = IOASD__IOAS_DESTROY__INIT;
	Ioasd__IovaRanges ranges = IOASD__IOVA_RANGES__INIT;
	Ioasd__AllowIovas allow = IOASD__ALLOW_IOVAS__INIT;
	Ioasd__IovaRange rs[4], *rps[4];
	Ioasd__RegisterMemory reg = IOASD__REGISTER_MEMORY__INIT;
	Ioasd__UnregisterMemory unreg = IOASD__UNREGISTER_MEMORY__INIT;
	Ioasd__Map map = IOASD__MAP__INIT;
	Ioasd__Unmap unmap = IOASD__UNMAP__INIT;
	Ioasd__Copy copy = IOASD__COPY__INIT;
	Ioasd__Option opt = IOASD__OPTION__INIT;
	Ioasd__Stats stats = IOASD__STATS__INIT;
	uint8_t op = u8(in) % 12;

	memset(x, 0, sizeof(*x));
	x->id = id;
	x->op = op;
	req.id = id;
	switch (op) {
	case 0:
		hello.version = u8(in) % 4 ? IOASD_PROTOCOL_VERSION : 2;
		req.op_case = IOASD__REQUEST__OP_HELLO;
		req.hello = &hello;
		break;
	case 1:
		req.op_case = IOASD__REQUEST__OP_IOAS_ALLOC;
		req.ioas_alloc = &alloc;
		break;
	case 2:
		destroy.ioas = handle(in);
		req.op_case = IOASD__REQUEST__OP_IOAS_DESTROY;
		req.ioas_destroy = &destroy;
		break;
	case 3: {
		uint8_t b = u8(in);

		ranges.ioas = handle(in);
		ranges.capacity = b >= 0xf0 ? UINT32_MAX : b % 5;
		req.op_case = IOASD__REQUEST__OP_IOVA_RANGES;
		req.iova_ranges = &ranges;
		break;
	}
	case 4:
		allow.ioas = handle(in);
		allow.n_ranges = u8(in) % 4;
		for (size_t i = 0; i < allow.n_ranges; i++) {
			ioasd__iova_range__init(&rs[i]);
			rs[i].start = iova(in);
			rs[i].last = rs[i].start + pages(in) - 1;
			rps[i] = &rs[i];
		}
		allow.ranges = rps;
		req.op_case = IOASD__REQUEST__OP_ALLOW_IOVAS;
		req.allow_iovas = &allow;
		break;
	case 5:
		reg.offset = pages(in);
		reg.length = pages(in);
		req.op_case = IOASD__REQUEST__OP_REGISTER_MEMORY;
		req.register_memory = &reg;
		break;
	case 6:
		unreg.memory = handle(in);
		req.op_case = IOASD__REQUEST__OP_UNREGISTER_MEMORY;
		req.unregister_memory = &unreg;
		break;
	case 7:
		map.ioas = handle(in);
		map.memory = handle(in);
		map.offset = pages(in);
		map.length = pages(in);
		map.flags = flags(in);
		map.has_iova = (map.flags & BACKEND_MAP_FIXED_IOVA) ||
			       (u8(in) & 1);
		if (map.has_iova)
			map.iova = iova(in);
		x->fixed = map.flags & BACKEND_MAP_FIXED_IOVA;
		x->at = map.iova;
		req.op_case = IOASD__REQUEST__OP_MAP;
		req.map = &map;
		break;
	case 8:
		unmap.ioas = handle(in);
		unmap.iova = iova(in);
		unmap.length = pages(in);
		req.op_case = IOASD__REQUEST__OP_UNMAP;
		req.unmap = &unmap;
		break;
	case 9:
		copy.src_ioas = handle(in);
		copy.dst_ioas = handle(in);
		copy.src_iova = iova(in);
		copy.length = pages(in);
		copy.flags = flags(in);
		copy.has_dst_iova = (copy.flags & BACKEND_MAP_FIXED_IOVA) ||
				    (u8(in) & 1);
		if (copy.has_dst_iova)
			copy.dst_iova = iova(in);
		x->fixed = copy.flags & BACKEND_MAP_FIXED_IOVA;
		x->at = copy.dst_iova;
		req.op_case = IOASD__REQUEST__OP_COPY;
		req.copy = &copy;
		break;
	case 10: {
		uint8_t b = u8(in);

		opt.op = b % 3;          /* 2: not an op */
		opt.option = (b >> 2) % 3; /* 0: rlimit mode, 2: unknown */
		opt.ioas = handle(in);
		opt.has_value = b & 0x40;
		opt.value = b & 0x80 ? iova(in) : u8(in) % 3;
		req.op_case = IOASD__REQUEST__OP_OPTION;
		req.option = &opt;
		break;
	}
	default:
		req.op_case = IOASD__REQUEST__OP_STATS;
		req.stats = &stats;
		break;
	}
	return ioasd__request__pack(&req, buf);
}

/* ------------------------------------------------------------ the run */

struct run {
	int client;              /* -1: not connected */
	unsigned pending;        /* datagrams sent, replies not yet read */
	struct expect exp[64];   /* of pending built requests, in order */
	bool exp_valid[64];
	uint64_t next_id;
};

static void check_reply(struct run *r, const Ioasd__Response *resp,
			unsigned idx)
{
	const struct expect *x;

	if (idx >= ARRAY_SIZE(r->exp) || !r->exp_valid[idx])
		return;
	x = &r->exp[idx];
	/* Id 0 is a transport-level refusal (the datagram was not read). */
	if (resp->id != x->id && resp->id != 0)
		fuzz_fail("reply id %llu, expected %llu",
			  (unsigned long long)resp->id,
			  (unsigned long long)x->id);
	if (resp->error || !x->fixed)
		return;
	if (x->op == 7 && (resp->result_case != IOASD__RESPONSE__RESULT_MAP ||
			   resp->map->iova != x->at))
		fuzz_fail("fixed-IOVA map at 0x%llx answered elsewhere",
			  (unsigned long long)x->at);
	if (x->op == 9 && (resp->result_case != IOASD__RESPONSE__RESULT_COPY ||
			   resp->copy->dst_iova != x->at))
		fuzz_fail("fixed-IOVA copy to 0x%llx answered elsewhere",
			  (unsigned long long)x->at);
}

/* Let the daemon work, then read every reply. */
static void settle(struct run *r)
{
	static uint8_t buf[IOASD_MAX_DATAGRAM];
	unsigned got = 0;
	bool eof = false;
	struct conn *c;

	fuzz_loop();
	if (r->client < 0)
		return;
	for (;;) {
		ssize_t n = recv(r->client, buf, sizeof(buf), MSG_DONTWAIT);
		Ioasd__Response *resp;

		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0 && errno == ECONNRESET) {
			eof = true;
			break;
		}
		if (n < 0)
			fuzz_fail("recv: %s", strerror(errno));
		if (n == 0) {
			eof = true;
			break;
		}
		resp = fuzz_decode_reply(buf, (size_t)n);
		check_reply(r, resp, got);
		ioasd__response__free_unpacked(resp, NULL);
		got++;
	}
	c = fuzz_only_conn();
	if (c && c->closing)
		fuzz_fail("a closing connection was not freed after its flush");
	if (c && eof)
		fuzz_fail("the peer saw EOF but the connection lives");
	if (c) {
		if (got != r->pending)
			fuzz_fail("%u replies for %u datagrams", got, r->pending);
		fuzz_check_conn(c);
	} else {
		/* Dropped: what came after the fatal datagram is discarded. */
		if (got > r->pending)
			fuzz_fail("%u replies for %u datagrams", got, r->pending);
		close(r->client);
		r->client = -1;
	}
	r->pending = 0;
	memset(r->exp_valid, 0, sizeof(r->exp_valid));
}

static void send_hello(struct run *r)
{
	Ioasd__Request req = IOASD__REQUEST__INIT;
	Ioasd__Hello h = IOASD__HELLO__INIT;
	uint8_t buf[64];

	h.version = IOASD_PROTOCOL_VERSION;
	req.id = r->next_id++;
	req.op_case = IOASD__REQUEST__OP_HELLO;
	req.hello = &h;
	raw_send(r->client, buf, ioasd__request__pack(&req, buf), NULL, 0);
	memset(&r->exp[0], 0, sizeof(r->exp[0]));
	r->exp[0].id = req.id;
	r->exp_valid[0] = true;
	r->pending = 1;
	settle(r);
	if (r->client < 0)
		fuzz_fail("a good Hello dropped the connection");
}

static void connect_(struct run *r, bool say_hello)
{
	(void)fuzz_conn_new(&r->client);
	r->pending = 0;
	memset(r->exp_valid, 0, sizeof(r->exp_valid));
	if (say_hello)
		send_hello(r);
}

static void hang_up(struct run *r)
{
	struct conn *c;

	if (r->client < 0)
		return;
	close(r->client);
	r->client = -1;
	r->pending = 0;
	memset(r->exp_valid, 0, sizeof(r->exp_valid));
	fuzz_loop();
	c = fuzz_only_conn();
	if (c)
		fuzz_fail("connection not freed after the peer hung up "
			  "(closing %d, read_paused %d, hello %d, %zu bytes queued)",
			  c->closing, c->read_paused, c->rs.hello_done, c->outq_bytes);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_env_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t big[IOASD_MAX_DATAGRAM + 1];
	struct input in = { data, size };
	struct run r = { .client = -1, .next_id = 1 };
	uint8_t setup = u8(&in);
	int records = 0;

	fuzz_set_map_file(setup & 1);
	connect_(&r, !(setup & 2));

	while (in.n && records++ < 256) {
		uint8_t ctl = u8(&in);
		uint8_t buf[1024];
		int fds[8];
		size_t nfds, len;

		if (ctl & 0x10 || r.client < 0) {
			hang_up(&r);
			connect_(&r, !(ctl & 0x20));
		}
		nfds = make_fds(ctl & 7, &in, fds);
		if (ctl & 0x08) {
			uint8_t l = u8(&in);

			if (l == 0xff) {
				raw_send(r.client, big, sizeof(big), fds, nfds);
				r.pending++;
				ctl &= ~0x40; /* do not fill the socket buffer */
			} else if (l == 0xfe) {
				/* A close, unless it carries too many fds:
				 * that is a violation, answered first. */
				raw_send(r.client, NULL, 0, fds, nfds);
				if (nfds > IOASD_MAX_FDS)
					r.pending++;
			} else {
				len = l < in.n ? l : in.n;
				raw_send(r.client, in.p, len, fds, nfds);
				in.p += len;
				in.n -= len;
				r.pending++;
			}
		} else {
			struct expect x;

			len = build(&in, r.next_id++, buf, &x);
			raw_send(r.client, buf, len, fds, nfds);
			if (r.pending < ARRAY_SIZE(r.exp)) {
				r.exp[r.pending] = x;
				r.exp_valid[r.pending] = true;
			}
			r.pending++;
		}
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		/* Pipelining is bounded by the daemon's per-wakeup batch. */
		if (!(ctl & 0x40) || r.pending >= 8)
			settle(&r);
	}
	if (r.client >= 0 && r.pending)
		settle(&r);
	hang_up(&r);
	fuzz_check_idle();
	return 0;
}
