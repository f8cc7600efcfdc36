/* SPDX-License-Identifier: MIT */
/*
 * The sim: fault queues (IOMMU_FAULT_QUEUE_ALLOC) and what happens on
 * their fds, and the IOPF test hook. The ops table of issue 16 is at the end.
 *
 * Rule                                  mirrors (kernel function)
 * ------------------------------------  -----------------------------------
 * FAULT_QUEUE_ALLOC: an object in the   iommufd_fault_alloc.
 *   context's id space and an fd.
 * HWPT_ALLOC with FAULT_ID_VALID:       iommufd_hwpt_alloc,
 *   fault_id not a queue -> ENOENT;     iommufd_get_fault.
 *   the HWPT holds the queue.
 * DESTROY(queue) while an HWPT holds    iommufd_object_remove; the
 *   it, or while its fd is open ->      fault file holds a reference
 *   EBUSY.                              (iommufd_fault_alloc; measured).
 * TRIGGER_IOPF(dev, pasid, ...): the    iommufd_test_trigger_iopf,
 *   HWPT at that PASID of the device,   find_fault_handler (iommu/io-pgfault.c):
 *   else the RID's if it is nested      PASID handle, else the RID's NESTED
 *   (the mock's faults carry a PASID);  one (the mock has user_pasid_table);
 *   no queue there: dropped, still 0.   no iopf_handler: no delivery.
 * Attach of an HWPT with a queue: a     iommufd_fault_iopf_enable (PRI).
 *   device without PRI (the VT-d sim,
 *   edu) -> ENODEV.
 *
 * The fd. The kernel's is an anon inode whose read(2) and write(2) the
 * kernel implements (iommufd_fault_fops_read/_write); a process-internal
 * model cannot be such a file: the client reads and writes the fd itself,
 * and no file the sim can make (pipe, packet-mode pipe, socket) refuses a
 * read by its size. So the sim hands out one end of an AF_UNIX
 * SOCK_SEQPACKET pair (nonblocking, CLOEXEC) and keeps the other.
 *
 * What is the kernel's: one datagram per fault group of whole 40-byte
 * struct iommu_hwpt_pgfault records; cookies the lowest free from 1
 * (XA_FLAGS_ALLOC1) among groups not yet answered; poll readiness; a read
 * that never waits; responses of 8-byte struct iommu_hwpt_page_response
 * written to the same fd and judged, one write(2) at a time, by the
 * kernel's rule (backend_sim_fault_responses: bytes consumed up to the
 * first unknown cookie or bad code, EINVAL when that is the first, ESPIPE
 * for a count no multiple of 8, 0 for an empty write).
 *
 * What differs (said once here and in libioas(3); the kernel's answers are
 * in the fault-fd section of tests/conformance.golden, measured on 6.12
 * and 7.2):
 *   read of a count no multiple of 40   kernel ESPIPE; sim: the datagram,
 *                                       truncated to the count (or EAGAIN
 *                                       when the queue is empty)
 *   read of an empty queue              kernel 0 bytes; sim EAGAIN
 *   read too small for the next group   kernel 0 bytes, the group stays
 *                                       (its source: the rig cannot show
 *                                       it, a one-fault group, all
 *                                       TRIGGER_IOPF makes, fits any count
 *                                       the kernel takes); sim: truncated,
 *                                       the rest lost
 *   read of room for several groups     kernel: as many as fit; sim: one
 *   cookie given                        kernel: at read; sim: at delivery
 *                                       (the same unless groups are read
 *                                       out of step with their answers)
 *   the verdict on a response           kernel: write(2)'s return; sim:
 *                                       write(2) always takes the bytes,
 *                                       backend_sim_fault_responses()
 *                                       (the test hook) returns the verdict
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "iommu/backend-faults.h"
#include "iommu/iommufd-uapi-faults.h"
#include "iommu/sim-internal.h"

struct sim_fault *sim_get_fault(struct sim *s, uint32_t id)
{
	struct sim_fault key = { .id = id };

	return RB_FIND(sim_fault_tree, &s->faults, &key);
}

static void fault_free(struct sim *s, struct sim_fault *f)
{
	RB_REMOVE(sim_fault_tree, &s->faults, f);
	if (f->fd >= 0)
		close(f->fd);
	free(f->cookies);
	free(f);
}

/* Is the client's end still open? (The sim's end sees a hang-up once it
 * is closed everywhere.) */
static bool fault_fd_open(const struct sim_fault *f)
{
	struct pollfd p = { .fd = f->fd, .events = POLLIN };

	return poll(&p, 1, 0) == 0 || !(p.revents & (POLLHUP | POLLRDHUP));
}

int sim_fault_destroy(struct sim *s, struct sim_fault *f)
{
	if (f->users || fault_fd_open(f))
		return -EBUSY;
	fault_free(s, f);
	return 0;
}

void sim_faults_free(struct sim *s)
{
	struct sim_fault *f;

	while ((f = RB_MIN(sim_fault_tree, &s->faults)))
		fault_free(s, f);
}

int sim_hwpt_hold_fault(struct sim *s, struct sim_hwpt *h, uint32_t fault_id)
{
	struct sim_fault *f = sim_get_fault(s, fault_id);

	if (!f)
		return -ENOENT;
	h->fault = f;
	f->users++;
	return 0;
}

void sim_hwpt_release_extras(struct sim_hwpt *h)
{
	if (h->fault) {
		h->fault->users--;
		h->fault = NULL;
	}
	free(h->dirty);
	h->dirty = NULL;
}

static int sim_fault_alloc(struct backend *b, uint32_t *ret_id, int *ret_fd)
{
	struct sim *s = to_sim(b);
	struct sim_fault *f;
	int sv[2], r;
	uint32_t id;

	r = sim_alloc_id(s, &id);
	if (r < 0)
		return r;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       0, sv) < 0) {
		r = -errno;
		free(f);
		return r;
	}
	f->id = id;
	f->fd = sv[0];
	RB_INSERT(sim_fault_tree, &s->faults, f);
	/* The client's end stays nonblocking: the kernel's read(2) never
	 * waits (an empty queue reads 0 bytes there, EAGAIN here). */
	*ret_id = id;
	*ret_fd = sv[1];
	return 0;
}

/* The lowest free cookie from 1 among the pending groups. */
static int fault_cookie(struct sim_fault *f, uint32_t *ret)
{
	uint32_t want = 1;
	bool again = true;

	while (again) {
		again = false;
		for (size_t i = 0; i < f->n_cookies; i++)
			if (f->cookies[i] == want) {
				want++;
				again = true;
			}
	}
	if (f->n_cookies == f->cap_cookies) {
		size_t cap = f->cap_cookies ? f->cap_cookies * 2 : 8;
		uint32_t *c = reallocarray(f->cookies, cap, sizeof(*c));

		if (!c)
			return -ENOMEM;
		f->cookies = c;
		f->cap_cookies = cap;
	}
	*ret = want;
	return 0;
}

int backend_sim_trigger_iopf(struct backend *b, uint32_t dev_id,
			     uint32_t pasid, uint32_t grpid, uint32_t perm,
			     uint64_t addr)
{
	struct iofd_hwpt_pgfault rec = {
		.flags = IOFD_PGFAULT_PASID_VALID | IOFD_PGFAULT_LAST_PAGE,
		.dev_id = dev_id,
		.pasid = pasid,
		.grpid = grpid,
		.perm = perm,
		.addr = addr,
	};
	struct sim_binding *bd;
	struct sim_hwpt *h = NULL;
	struct sim_pasid *p;
	struct sim *s;
	int r;

	if (!b || b->ops != &sim_ops)
		return -EINVAL;
	s = to_sim(b);
	bd = sim_binding_by_id(s, dev_id);
	if (!bd)
		return -ENOENT;
	LIST_FOREACH(p, &s->pasids, link)
		if (p->bd == bd && p->pasid == pasid)
			h = p->hwpt;
	if (!h && bd->hwpt) {
		h = sim_get_hwpt(s, bd->hwpt);
		if (h && !h->parent)
			h = NULL; /* the RID's only when nested */
	}
	if (!h || !h->fault)
		return 0; /* no handler: the core answers it, nothing queued */
	r = fault_cookie(h->fault, &rec.cookie);
	if (r < 0)
		return r;
	if (send(h->fault->fd, &rec, sizeof(rec), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	h->fault->cookies[h->fault->n_cookies++] = rec.cookie;
	return 0;
}

/* Answer the pending group with this cookie: false when none has it. */
static bool fault_answer(struct sim_fault *f, uint32_t cookie)
{
	for (size_t j = 0; j < f->n_cookies; j++)
		if (f->cookies[j] == cookie) {
			f->cookies[j] = f->cookies[--f->n_cookies];
			return true;
		}
	return false;
}

/* The kernel's write(2) on one write's bytes (iommufd_fault_fops_write):
 * the bytes consumed, or the error of the first response when none was. */
static ssize_t fault_write_verdict(struct sim_fault *f, const uint8_t *buf,
				   size_t count)
{
	struct iofd_hwpt_page_response resp;
	size_t done = 0;
	int rc = 0;

	if (count % sizeof(resp))
		return -ESPIPE;
	while (count > done) {
		memcpy(&resp, buf + done, sizeof(resp));
		if ((resp.code != IOFD_PAGE_RESP_SUCCESS &&
		     resp.code != IOFD_PAGE_RESP_INVALID) ||
		    !fault_answer(f, resp.cookie)) {
			rc = -EINVAL;
			break;
		}
		done += sizeof(resp);
	}
	return done == 0 ? rc : (ssize_t)done;
}

ssize_t backend_sim_fault_responses(struct backend *b, uint32_t fault_id)
{
	uint8_t buf[4096];
	struct sim_fault *f;
	ssize_t n;

	if (!b || b->ops != &sim_ops)
		return -EINVAL;
	f = sim_get_fault(to_sim(b), fault_id);
	if (!f)
		return -ENOENT;
	n = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
		return -errno;
	/* A write larger than the buffer: the kernel would judge each
	 * response; the sim judges what it kept and refuses the rest. */
	if ((size_t)n > sizeof(buf))
		return -E2BIG;
	return fault_write_verdict(f, buf, (size_t)n);
}

void backend_sim_set_kernel72(struct backend *b, bool on)
{
	if (b && b->ops == &sim_ops) {
		to_sim(b)->k72 = on;
		b->has_pasid = on;
	}
}

const struct backend_fault_ops sim_fault_ops = {
	.fault_alloc = sim_fault_alloc,
	.set_dirty = sim_set_dirty,
	.get_dirty = sim_get_dirty,
	.pasid_attach = sim_pasid_attach,
	.pasid_detach = sim_pasid_detach,
};
