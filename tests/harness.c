/* SPDX-License-Identifier: MIT */
/* Test harness: start/stop a real ioasd, count its fds, run clients. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "ioas.h"

#define START_TIMEOUT_MS 10000
#define START_TIMEOUT_VALGRIND_MS 90000
#define STOP_TIMEOUT_MS 10000
#define STOP_TIMEOUT_VALGRIND_MS 60000
#define MAX_EXTRA_ARGS 32
#define MAX_WRAPPER_ARGS 16

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int connect_path(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int harness_raw_connect(const struct harness_daemon *d)
{
	return connect_path(d->socket);
}

static void remove_dir(struct harness_daemon *d)
{
	if (!d->dir[0])
		return;
	/* The daemon normally unlinks its socket; a crashed one does not. */
	(void)unlink(d->socket);
	if (rmdir(d->dir) < 0 && errno != ENOENT)
		fprintf(stderr, "harness: rmdir %s: %m\n", d->dir);
	d->dir[0] = '\0';
}

/* Reap pid within timeout_ms. Returns 0 and *status, or -ETIMEDOUT. */
static int wait_exit(pid_t pid, int timeout_ms, int *status)
{
	long long deadline = now_ms() + timeout_ms;

	for (;;) {
		pid_t p = waitpid(pid, status, WNOHANG);

		if (p == pid)
			return 0;
		if (p < 0 && errno != EINTR)
			return -errno;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		sleep_ms(10);
	}
}

const char *harness_backend(void)
{
	const char *b = getenv("IOASD_TEST_BACKEND");

	return b && *b ? b : "sim";
}

bool harness_backend_is_sim(void)
{
	return !strcmp(harness_backend(), "sim");
}

int harness_daemon_start(struct harness_daemon *d,
			 const char *const *extra_args)
{
	return harness_daemon_start_wrapped(d, NULL, extra_args);
}

int harness_daemon_start_wrapped(struct harness_daemon *d,
				 const char *const *wrapper,
				 const char *const *extra_args)
{
	const char *bin = getenv("IOASD_BIN");
	const char *vg = getenv("IOASD_VALGRIND");
	const char *argv[18 + MAX_WRAPPER_ARGS + MAX_EXTRA_ARGS];
	const char *tmp = getenv("TMPDIR");
	long long deadline;
	size_t n = 0;
	pid_t pid;
	int status;

	memset(d, 0, sizeof(*d));
	if (!bin || !*bin || access(bin, X_OK) < 0) {
		fprintf(stderr, "harness: IOASD_BIN (%s) is not an executable\n",
			bin ? bin : "unset");
		return -ENOENT;
	}
	d->valgrind = (vg && !strcmp(vg, "1")) || wrapper;

	snprintf(d->dir, sizeof(d->dir), "%s/ioasd-test.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(d->dir)) {
		int r = -errno;

		fprintf(stderr, "harness: mkdtemp %s: %m\n", d->dir);
		d->dir[0] = '\0';
		return r;
	}
	/* Unprivileged clients must be able to reach the socket. */
	if (chmod(d->dir, 0755) < 0) {
		int r = -errno;

		remove_dir(d);
		return r;
	}
	if (strlen(d->dir) + sizeof("/ioasd.sock") > sizeof(d->socket)) {
		remove_dir(d);
		return -ENAMETOOLONG;
	}
	strcpy(d->socket, d->dir);
	strcat(d->socket, "/ioasd.sock");

	for (size_t i = 0; wrapper && wrapper[i]; i++) {
		if (i >= MAX_WRAPPER_ARGS) {
			remove_dir(d);
			return -E2BIG;
		}
		argv[n++] = wrapper[i];
	}
	if (d->valgrind && !wrapper) {
		argv[n++] = "valgrind";
		argv[n++] = "--quiet";
		argv[n++] = "--error-exitcode=99";
		argv[n++] = "--leak-check=full";
		argv[n++] = "--errors-for-leak-kinds=definite";
		argv[n++] = "--show-leak-kinds=definite";
	}
	argv[n++] = bin;
	argv[n++] = "--socket";
	argv[n++] = d->socket;
	argv[n++] = "--socket-mode";
	argv[n++] = "0666";
	/* Tests that do not bring a policy run the daemon in development
	 * mode (each connection its own tenant), and never write to the
	 * host's journal. */
	{
		bool has_policy = false;

		for (size_t i = 0; extra_args && extra_args[i]; i++)
			if (!strcmp(extra_args[i], "--policy-dir") ||
			    !strcmp(extra_args[i], "--no-policy"))
				has_policy = true;
		if (!has_policy)
			argv[n++] = "--no-policy";
	}
	argv[n++] = "--no-journal";
	{
		const char *backend = harness_backend();
		bool has_backend = false;

		for (size_t i = 0; extra_args && extra_args[i]; i++) {
			if (i >= MAX_EXTRA_ARGS) {
				remove_dir(d);
				return -E2BIG;
			}
			if (!harness_backend_is_sim() &&
			    !strncmp(extra_args[i], "--sim-", 6)) {
				fprintf(stderr,
					"harness: %s is a sim-only option; the backend is %s\n",
					extra_args[i], backend);
				remove_dir(d);
				return -EINVAL;
			}
			argv[n++] = extra_args[i];
			/* The test's backend is replaced by the one under test. */
			if (!strcmp(extra_args[i], "--backend") &&
			    extra_args[i + 1]) {
				argv[n++] = backend;
				has_backend = true;
				i++;
			}
		}
		if (!has_backend) {
			argv[n++] = "--backend";
			argv[n++] = backend;
		}
	}
	argv[n] = NULL;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		remove_dir(d);
		return r;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (null >= 0)
			dup2(null, STDIN_FILENO);
		/* A test that dies (failed assertion) must not leave its
		 * daemon behind. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "harness: exec %s: %m\n", argv[0]);
		_exit(127);
	}
	d->pid = pid;

	deadline = now_ms() + (d->valgrind ? START_TIMEOUT_VALGRIND_MS :
					     START_TIMEOUT_MS);
	for (;;) {
		int fd = connect_path(d->socket);

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr,
				"harness: ioasd exited during start-up (status 0x%x)\n",
				status);
			d->pid = 0;
			remove_dir(d);
			return -ECHILD;
		}
		if (now_ms() > deadline) {
			fprintf(stderr, "harness: ioasd did not accept on %s in time\n",
				d->socket);
			kill(pid, SIGKILL);
			(void)wait_exit(pid, STOP_TIMEOUT_MS, &status);
			d->pid = 0;
			remove_dir(d);
			return -ETIMEDOUT;
		}
		sleep_ms(5);
	}
}

int harness_daemon_stop(struct harness_daemon *d)
{
	int status = 0, r;

	if (d->pid <= 0) {
		remove_dir(d);
		return 0;
	}
	if (kill(d->pid, SIGTERM) < 0) {
		r = -errno;
		fprintf(stderr, "harness: kill %d: %m\n", (int)d->pid);
		return r;
	}
	r = wait_exit(d->pid, d->valgrind ? STOP_TIMEOUT_VALGRIND_MS :
					    STOP_TIMEOUT_MS,
		      &status);
	if (r == -ETIMEDOUT) {
		fprintf(stderr, "harness: ioasd did not exit on SIGTERM; killing it\n");
		kill(d->pid, SIGKILL);
		(void)wait_exit(d->pid, STOP_TIMEOUT_MS, &status);
	}
	d->pid = 0;
	remove_dir(d);
	if (r < 0)
		return r;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		fprintf(stderr, "harness: ioasd exited with status %d%s\n",
			WEXITSTATUS(status),
			WEXITSTATUS(status) == 99 && d->valgrind ?
				" (valgrind found errors)" :
				"");
	else if (WIFSIGNALED(status))
		fprintf(stderr, "harness: ioasd killed by signal %d\n",
			WTERMSIG(status));
	return -EPROTO;
}

int harness_fd_count(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

int harness_wait_fd_count(pid_t pid, int want, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int n;

	for (;;) {
		n = harness_fd_count(pid);
		if (n < 0 || n == want || now_ms() > deadline)
			return n;
		sleep_ms(10);
	}
}

int harness_fd_count_settled(pid_t pid, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int prev = -1, n, same = 0;

	/* Stable for 5 polls 30 ms apart (closes are processed asynchronously). */
	for (;;) {
		n = harness_fd_count(pid);
		if (n < 0)
			return n;
		same = n == prev ? same + 1 : 0;
		prev = n;
		if (same >= 5 || now_ms() > deadline)
			return n;
		sleep_ms(30);
	}
}

static int drop_privileges(uid_t uid, gid_t gid)
{
	if (geteuid() != 0)
		return 0;
	if (setgroups(0, NULL) < 0 ||
	    setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		return -errno;
	/* Make sure it stuck. */
	if (geteuid() == 0 || setuid(0) == 0)
		return -EPERM;
	return 0;
}

int harness_run_client(int (*fn)(void *arg), void *arg)
{
	return harness_run_client_as(HARNESS_CLIENT_UID, HARNESS_CLIENT_GID, fn,
				     arg);
}

int harness_run_client_as(uid_t uid, gid_t gid, int (*fn)(void *arg),
			  void *arg)
{
	int p[2], result = 0, status, r;
	ssize_t got;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid == 0) {
		close(p[0]);
		r = drop_privileges(uid, gid);
		if (r < 0) {
			fprintf(stderr, "harness: cannot drop to uid %d: %s\n",
				(int)uid, strerror(-r));
			_exit(126);
		}
		result = fn(arg);
		if (write(p[1], &result, sizeof(result)) != sizeof(result))
			_exit(125);
		close(p[1]);
		fflush(stdout);
		fflush(stderr);
		/* _exit(): Check's atexit state belongs to the parent. Under
		 * valgrind the leak check still runs at process exit, and its
		 * error exit code fails the run (see the status check below). */
		_exit(0);
	}
	close(p[1]);
	do {
		got = read(p[0], &result, sizeof(result));
	} while (got < 0 && errno == EINTR);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (got != sizeof(result)) {
		fprintf(stderr, "harness: client child gave no result (status 0x%x)\n",
			status);
		return -ECHILD;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "harness: client child exited with status 0x%x\n",
			status);
		return -ECHILD;
	}
	return result;
}

int harness_connect(const struct harness_daemon *d, const char *name,
		    struct ioas_client **ret)
{
	char err[256] = "";
	int r = ioas_client_connect(d->socket, name, ret, err, sizeof(err));

	if (r < 0)
		fprintf(stderr, "harness: connect to %s: %s\n", d->socket, err);
	return r;
}

int harness_mapped_ioas(struct ioas_client *c, const char *name, uint64_t size,
			uint32_t *ret_ioas, uint64_t *ret_iova)
{
	uint32_t mem;
	int fd = -1, r;

	r = ioas_memfd_create(name, size, &fd);
	if (r < 0)
		return r;
	r = ioas_alloc(c, ret_ioas);
	if (r == 0)
		r = ioas_memory_register(c, fd, 0, size, &mem, NULL);
	close(fd);
	if (r == 0)
		r = ioas_map(c, *ret_ioas, mem, 0, size,
			     IOAS_MAP_READABLE | IOAS_MAP_WRITEABLE, ret_iova);
	return r;
}

int harness_device_open(void)
{
	int fd = -1, r;

	if (harness_backend_is_sim()) {
		r = ioas_sim_device_create("1234:11e8", HARNESS_SIM_PCI_ADDRESS, &fd);
		if (r < 0)
			fprintf(stderr, "harness: sim device: %s\n", strerror(-r));
		return r < 0 ? r : fd;
	}
	fd = open(HARNESS_VFIO_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		fprintf(stderr, "harness: open %s: %s\n", HARNESS_VFIO_PATH, strerror(-r));
		return r;
	}
	return fd;
}
