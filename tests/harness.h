/* SPDX-License-Identifier: MIT */
/*
 * Test harness: run a real ioasd on a private socket and drive it.
 *
 *   harness_daemon_start()  $IOASD_BIN --socket <fresh dir>/ioasd.sock
 *                           --socket-mode 0666 <extra args>, waits (bounded)
 *                           until the socket accepts. With IOASD_VALGRIND=1
 *                           the daemon runs under valgrind, which turns any
 *                           memory error or definite leak into a non-zero
 *                           exit status that harness_daemon_stop() reports.
 *                           The backend is $IOASD_TEST_BACKEND (see
 *                           harness_backend()).
 *   harness_daemon_stop()   SIGTERM, bounded wait, exit status must be 0.
 *   harness_fd_count()      entries in /proc/<pid>/fd.
 *   harness_run_client()    run a function in a forked child that drops to
 *                           uid/gid 65534 when the test runs as root, and
 *                           hand back its int result.
 *
 * The daemon's stderr is the test's stderr, so it lands in the test log.
 * Functions return 0 or a negative errno and say why on stderr.
 */
#pragma once

#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <sys/types.h>

/*
 * The backend the daemon-level tests run on: $IOASD_TEST_BACKEND, default
 * "sim". Tests write "--backend", "sim" in their extra args;
 * harness_daemon_start() replaces that value with this one (and adds
 * "--backend <this>" when a test gives none), so the same test checks the
 * same results and errno on the real kernel: IOASD_TEST_BACKEND=kernel, as
 * root on a machine with /dev/iommu (tests/vm/guest/50-daemon-tests.sh).
 * Sim-only daemon options ("--sim-*") are refused with -EINVAL on any other
 * backend: a test that needs one must skip that case and say why.
 */
const char *harness_backend(void);
bool harness_backend_is_sim(void);

/* The uid/gid clients run as when the tests run as root ("nobody"). */
#define HARNESS_CLIENT_UID 65534
#define HARNESS_CLIENT_GID 65534

struct harness_daemon {
	pid_t pid;              /* 0 when not running */
	bool valgrind;          /* running under valgrind */
	char dir[PATH_MAX];     /* private directory, mode 0755 */
	char socket[PATH_MAX];  /* <dir>/ioasd.sock */
};

/*
 * Start ioasd. extra_args is a NULL-terminated list appended to the command
 * line (may be NULL), e.g. { "--backend", "sim", NULL }, with the backend
 * replaced by harness_backend(). Returns 0 once the socket accepts
 * connections; -ENOENT when IOASD_BIN is not set or not executable;
 * -EINVAL for a sim-only option on another backend; -ETIMEDOUT when it did
 * not come up in time (it is killed); -ECHILD when it exited during
 * start-up.
 */
int harness_daemon_start(struct harness_daemon *d,
			 const char *const *extra_args);
/*
 * The same under a wrapper: wrapper (NULL-terminated, at most 16 words) is
 * the start of the command line, before the daemon's path, e.g. { "valgrind",
 * "--tool=callgrind", NULL }. It is taken to be a valgrind tool: the
 * start-up and stop timeouts are valgrind's, and IOASD_VALGRIND is ignored.
 */
int harness_daemon_start_wrapped(struct harness_daemon *d,
				 const char *const *wrapper,
				 const char *const *extra_args);

/*
 * SIGTERM the daemon and wait for it (bounded). Returns 0 when it exited
 * with status 0; -ETIMEDOUT when it had to be killed; -EPROTO when it exited
 * non-zero or died from a signal. Removes the private directory. Safe to
 * call when the daemon is not running (returns 0).
 */
int harness_daemon_stop(struct harness_daemon *d);

/* Number of open fds of process pid (entries of /proc/<pid>/fd), or -errno. */
int harness_fd_count(pid_t pid);

/*
 * Poll harness_fd_count(pid) until it equals want or timeout_ms passes.
 * Returns the last count seen (== want on success), or -errno.
 */
int harness_wait_fd_count(pid_t pid, int want, int timeout_ms);

/*
 * The fd count once it has stopped changing (the daemon handles closes
 * asynchronously), for a baseline. Returns the count or -errno.
 */
int harness_fd_count_settled(pid_t pid, int timeout_ms);

/*
 * Run fn(arg) in a forked child. When the caller is root, the child first
 * drops to HARNESS_CLIENT_UID/GID with no supplementary groups, so the code
 * under test is an unprivileged client. fn's int result comes back through
 * a pipe. Returns fn's result; -ECHILD when the child died without one or
 * exited non-zero (e.g. valgrind found an error in the child).
 */
int harness_run_client(int (*fn)(void *arg), void *arg);
/* The same with a chosen uid/gid (only when running as root; otherwise the
 * child keeps the caller's ids). */
int harness_run_client_as(uid_t uid, gid_t gid, int (*fn)(void *arg),
			  void *arg);

/* A bare connected SOCK_SEQPACKET socket to the daemon (CLOEXEC), or -errno.
 * Nothing is sent: for tests that speak the wire protocol by hand. */
int harness_raw_connect(const struct harness_daemon *d);

/*
 * In a client function run by harness_run_client*(): fail with the line
 * number (a negative result) and say which condition did not hold.
 */
#define HARNESS_REQUIRE(cond)                                                \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n",       \
				__FILE__, __LINE__, #cond);                  \
			return -__LINE__;                                    \
		}                                                            \
	} while (0)

struct ioas_client;
/* ioas_client_connect() to d's socket; on failure the daemon's reason goes
 * to stderr. Returns 0 or the negative errno. */
int harness_connect(const struct harness_daemon *d, const char *name,
		    struct ioas_client **ret);

/* The device the device tests attach, edu's identity (1234:11e8): */
#define HARNESS_VFIO_PATH "/dev/vfio/devices/vfio0"  /* the guest's edu */
#define HARNESS_SIM_PCI_ADDRESS "0000:00:03.0"        /* the sim's stand-in */
/* A fresh open of it (a VFIO file binds once): a sim device on the sim
 * backend, HARNESS_VFIO_PATH on the kernel. The fd, or -errno (said on
 * stderr). */
int harness_device_open(void);

/* A new IOAS with [0, size) of a fresh sealed memfd (named name) registered
 * and mapped read-write at an IOVA the daemon picks. 0 or -errno. */
int harness_mapped_ioas(struct ioas_client *c, const char *name, uint64_t size,
			uint32_t *ret_ioas, uint64_t *ret_iova);
