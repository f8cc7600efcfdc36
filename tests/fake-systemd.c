/* SPDX-License-Identifier: MIT */
/*
 * fake-systemd — plays systemd's part for one service, without systemd, so
 * that a shell test can drive ioasd's systemd fd-store path
 * (tests/test-fdstore.sh):
 *
 *   fake-systemd --listen SOCK --notify NOTIFY [--fdstore-max N]
 *                [--store-file FILE] [--stop-timeout SEC] -- COMMAND [ARG...]
 *
 * - A SOCK_SEQPACKET socket listening on SOCK (a .socket unit with
 *   ListenSequentialPacket=, mode 0666, FileDescriptorName=ioasd.socket)
 *   and a SOCK_DGRAM notify socket on NOTIFY with SO_PASSCRED.
 * - COMMAND runs in a child with what systemd sets: NOTIFY_SOCKET,
 *   FDSTORE=N (systemd 254+: FileDescriptorStoreMax=; not set when 0),
 *   LISTEN_PID (the child's own pid, set after the fork), LISTEN_FDS and
 *   LISTEN_FDNAMES; the socket at fd 3, then every stored fd in the order
 *   stored, without FD_CLOEXEC. Its stdout goes to our stderr.
 * - The notify socket is served like systemd does with NotifyAccess=main:
 *   messages from another pid than the main one (SCM_CREDENTIALS) are
 *   dropped with their fds; READY=1, STATUS=, STOPPING=1, RELOADING=1 are
 *   reported; FDSTORE=1 keeps the passed fds under FDNAME= (an invalid or
 *   missing name becomes "stored"), suppressing an fd already stored (same
 *   open file) and refusing any beyond N; FDSTOREREMOVE=1 closes every fd
 *   stored under FDNAME=; FDPOLL=0 turns off the watch that drops a stored
 *   fd once it reports POLLHUP/POLLERR. fds sent without FDSTORE=1, and
 *   truncated messages, are dropped.
 * - SIGUSR1: SIGKILL the service and start it again with the store (what
 *   Restart= does with FileDescriptorStorePreserve=restart). SIGHUP: what
 *   `systemctl restart` does: send --kill-signal (KillSignal=, default
 *   SIGTERM), wait (SIGKILL after --stop-timeout), keep the store (a job is
 *   queued) and start again. SIGUSR2: write the store file now.
 *   SIGTERM/SIGINT: what `systemctl stop` does: send --kill-signal, wait,
 *   release the store and exit with the service's status (128+signal when
 *   killed). A service that exits by itself is not
 *   restarted (Restart=no): we report it and exit the same way.
 *
 * stdout: one line per event, for the test to grep:
 *   started PID | restarted PID | killed PID | exited STATUS
 *   ready | reloading | stopping | status TEXT
 *   fdstore NAME | fdstore-refused NAME | fdstore-duplicate NAME
 *   fdstoreremove NAME | fdstoreremove-absent NAME | fdstore-hup NAME
 *   rejected PID | dropped-fds N (REASON) | store N | released N
 *   open-fds N (at exit: fds still open that were not open at start)
 * The store file (--store-file) holds one stored name per line; it is
 * rewritten (atomically) after every change, on SIGUSR2 and at exit before
 * the store is released.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

#define SOCKET_NAME "ioasd.socket"
#define FDNAME_MAX 255              /* systemd's FDNAME_MAX */
#define NOTIFY_BUFFER_MAX 4096      /* systemd reads at most PIPE_BUF */
#define NOTIFY_FD_MAX 768           /* systemd's limit of fds per message */
#define KCMP_FILE 0

struct stored {
	char name[FDNAME_MAX + 1];
	int fd;
	bool poll;
};

static struct {
	int listen_fd;
	int notify_fd;
	int sig_fd;
	unsigned max;
	const char *store_file;
	const char *notify_path;
	int fds_at_start;
	char **argv;
	sigset_t oldmask;
	pid_t main_pid;
	struct stored *store;
	size_t n;
	bool stopping;
	bool restarting;  /* stopping for `systemctl restart`: start again */
	struct timespec stop_deadline;
	unsigned stop_timeout;
	int kill_signal;  /* KillSignal= */
} fs = { .listen_fd = -1, .notify_fd = -1, .sig_fd = -1, .max = 4096,
	 .stop_timeout = 30, .kill_signal = SIGTERM };

__attribute__((format(printf, 1, 2))) static void event(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("fake-systemd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* systemd's fdname_is_valid(): printable ASCII, no ':', 1..255 chars. */
static bool fdname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > FDNAME_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (*p < ' ' || *p > '~' || *p == ':')
			return false;
	return true;
}

/* The same open file description (systemd's same_fd(), kcmp first). */
static bool same_fd(int a, int b)
{
	struct stat sa, sb;
	long r = syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, a, b);

	if (r >= 0)
		return r == 0;
	if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino &&
	       fcntl(a, F_GETFL) == fcntl(b, F_GETFL);
}

static void write_store_file(void)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (!fs.store_file)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", fs.store_file);
	f = fopen(tmp, "we");
	if (!f)
		die("cannot write %s: %s", tmp, strerror(errno));
	for (size_t i = 0; i < fs.n; i++)
		fprintf(f, "%s\n", fs.store[i].name);
	if (fclose(f) != 0 || rename(tmp, fs.store_file) < 0)
		die("cannot write %s: %s", fs.store_file, strerror(errno));
}

static void store_drop(size_t i)
{
	safe_close(fs.store[i].fd);
	memmove(&fs.store[i], &fs.store[i + 1], (fs.n - i - 1) * sizeof(*fs.store));
	fs.n--;
}

/* Takes fd (closes it when not kept). */
static void store_add(const char *name, int fd, bool poll)
{
	struct stored *nv;

	if (fs.n >= fs.max) {
		event("fdstore-refused %s", name);
		safe_close(fd);
		return;
	}
	for (size_t i = 0; i < fs.n; i++)
		if (same_fd(fs.store[i].fd, fd)) {
			event("fdstore-duplicate %s", name);
			safe_close(fd);
			return;
		}
	nv = realloc(fs.store, (fs.n + 1) * sizeof(*nv));
	if (!nv)
		die("out of memory");
	fs.store = nv;
	snprintf(fs.store[fs.n].name, sizeof(fs.store[fs.n].name), "%s", name);
	fs.store[fs.n].fd = fd;
	fs.store[fs.n].poll = poll;
	fs.n++;
	event("fdstore %s", name);
}

static void store_remove(const char *name)
{
	bool found = false;

	for (size_t i = fs.n; i-- > 0;)
		if (!strcmp(fs.store[i].name, name)) {
			store_drop(i);
			found = true;
		}
	event(found ? "fdstoreremove %s" : "fdstoreremove-absent %s", name);
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		safe_close(fds[i]);
}

/* One notify datagram, handled like systemd's service_notify_message(). */
static void handle_notify(char *buf, const struct ucred *cred, int *fds, size_t nfds)
{
	const char *fdname = NULL, *status = NULL;
	bool ready = false, stopping = false, reloading = false;
	bool fdstore = false, fdstoreremove = false, fdpoll = true;
	bool changed = false;

	if (!cred || cred->pid != fs.main_pid) {
		event("rejected %d", cred ? (int)cred->pid : -1);
		close_fds(fds, nfds);
		return;
	}
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strcmp(line, "READY=1"))
			ready = true;
		else if (!strcmp(line, "STOPPING=1"))
			stopping = true;
		else if (!strcmp(line, "RELOADING=1"))
			reloading = true;
		else if (!strncmp(line, "STATUS=", 7))
			status = line + 7;
		else if (!strcmp(line, "FDSTORE=1"))
			fdstore = true;
		else if (!strcmp(line, "FDSTOREREMOVE=1"))
			fdstoreremove = true;
		else if (!strcmp(line, "FDPOLL=0"))
			fdpoll = false;
		else if (!strncmp(line, "FDNAME=", 7))
			fdname = line + 7;
	}
	if (ready)
		event("ready");
	if (reloading)
		event("reloading");
	if (stopping)
		event("stopping");
	if (status)
		event("status %s", status);
	if (fdstoreremove) {
		if (fdname && fdname_ok(fdname)) {
			store_remove(fdname);
			changed = true;
		} else {
			event("fdstoreremove-invalid");
		}
	}
	if (fdstore && nfds > 0) {
		const char *name = fdname && fdname_ok(fdname) ? fdname : "stored";

		for (size_t i = 0; i < nfds; i++)
			store_add(name, fds[i], fdpoll);
		nfds = 0;
		changed = true;
	}
	if (nfds > 0) {
		event("dropped-fds %zu (no FDSTORE=1)", nfds);
		close_fds(fds, nfds);
	}
	if (changed)
		write_store_file();
}

/* Read every queued notify datagram. */
static void drain_notify(void)
{
	for (;;) {
		char buf[NOTIFY_BUFFER_MAX + 1];
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct ucred)) +
			       CMSG_SPACE(sizeof(int) * NOTIFY_FD_MAX)];
		} ctl;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = &ctl, .msg_controllen = sizeof(ctl),
		};
		struct ucred cred, *have_cred = NULL;
		int fds[NOTIFY_FD_MAX];
		size_t nfds = 0;
		ssize_t n = recvmsg(fs.notify_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			die("recvmsg on the notify socket: %s", strerror(errno));
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != SOL_SOCKET)
				continue;
			if (c->cmsg_type == SCM_RIGHTS) {
				size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

				memcpy(fds + nfds, CMSG_DATA(c), k * sizeof(int));
				nfds += k;
			} else if (c->cmsg_type == SCM_CREDENTIALS &&
				   c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
				memcpy(&cred, CMSG_DATA(c), sizeof(cred));
				have_cred = &cred;
			}
		}
		if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
			event("dropped-fds %zu (truncated message)", nfds);
			close_fds(fds, nfds);
			continue;
		}
		buf[n] = '\0';
		handle_notify(buf, have_cred, fds, nfds);
	}
}

/* A stored fd that hung up or failed is dropped (unless FDPOLL=0). */
static void check_hup(const struct pollfd *p)
{
	bool changed = false;

	for (size_t i = fs.n; i-- > 0;) {
		if (!p[i].revents || p[i].fd != fs.store[i].fd)
			continue;
		if (p[i].revents & (POLLHUP | POLLERR)) {
			event("fdstore-hup %s", fs.store[i].name);
			store_drop(i);
			changed = true;
		}
	}
	if (changed)
		write_store_file();
}

static __attribute__((noreturn)) void exec_child(void)
{
	size_t n = 1 + fs.n;
	int *src = calloc(n, sizeof(int));
	size_t len = strlen(SOCKET_NAME) + 1;
	char *names, num[32];

	for (size_t i = 0; i < fs.n; i++)
		len += strlen(fs.store[i].name) + 1;
	names = malloc(len);
	if (!src || !names)
		_exit(127);
	strcpy(names, SOCKET_NAME);
	src[0] = fs.listen_fd;
	for (size_t i = 0; i < fs.n; i++) {
		strcat(names, ":");
		strcat(names, fs.store[i].name);
		src[1 + i] = fs.store[i].fd;
	}
	/* Out of the way first, then into 3..; dup2 clears FD_CLOEXEC. */
	for (size_t i = 0; i < n; i++) {
		src[i] = fcntl(src[i], F_DUPFD, (int)(3 + n));
		if (src[i] < 0)
			_exit(127);
	}
	for (size_t i = 0; i < n; i++)
		if (dup2(src[i], (int)(3 + i)) < 0)
			_exit(127);
	close_range((unsigned)(3 + n), ~0u, 0);
	if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		_exit(127);
	snprintf(num, sizeof(num), "%d", (int)getpid());
	setenv("LISTEN_PID", num, 1);
	snprintf(num, sizeof(num), "%zu", n);
	setenv("LISTEN_FDS", num, 1);
	setenv("LISTEN_FDNAMES", names, 1);
	setenv("NOTIFY_SOCKET", fs.notify_path, 1);
	if (fs.max > 0) {
		snprintf(num, sizeof(num), "%u", fs.max);
		setenv("FDSTORE", num, 1);
	} else {
		unsetenv("FDSTORE");
	}
	sigprocmask(SIG_SETMASK, &fs.oldmask, NULL);
	execvp(fs.argv[0], fs.argv);
	fprintf(stderr, "fake-systemd: cannot run %s: %s\n", fs.argv[0], strerror(errno));
	_exit(127);
}

static void start(const char *what)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0)
		exec_child();
	fs.main_pid = pid;
	event("%s %d", what, (int)pid);
}

static int exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	return 128 + WTERMSIG(wstatus);
}

/* fds open beyond 0-2 (valgrind's own ones refuse fcntl and are skipped). */
static int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
			continue;
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	}
	closedir(d);
	return n;
}

static __attribute__((noreturn)) void finish(int wstatus)
{
	int status = exit_status(wstatus);
	size_t n = fs.n;

	event("exited %d", status);
	write_store_file();
	while (fs.n > 0)
		store_drop(fs.n - 1);
	free(fs.store);
	event("released %zu", n);
	safe_close(fs.listen_fd);
	safe_close(fs.notify_fd);
	safe_close(fs.sig_fd);
	/* What we opened ourselves and did not close (inherited ones aside). */
	event("open-fds %d", count_open_fds() - fs.fds_at_start);
	exit(status);
}

/* The service's main process is gone: what the messages it sent before
 * dying say comes first (systemd reads notifications before SIGCHLD). */
static void on_sigchld(void)
{
	int wstatus;
	pid_t pid;

	drain_notify();
	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
		if (pid != fs.main_pid)
			continue;
		fs.main_pid = 0;
		if (fs.restarting) {
			event("exited %d", exit_status(wstatus));
			fs.restarting = fs.stopping = false;
			start("restarted");
			continue;
		}
		finish(wstatus);
	}
}

static void restart(void)
{
	siginfo_t si;
	int wstatus;

	if (fs.main_pid <= 0 || fs.stopping)
		return;
	if (kill(fs.main_pid, SIGKILL) < 0)
		die("kill: %s", strerror(errno));
	/* Dead but not reaped: its last messages still count as the main pid's. */
	while (waitid(P_PID, (id_t)fs.main_pid, &si, WEXITED | WNOWAIT) < 0)
		if (errno != EINTR)
			die("waitid: %s", strerror(errno));
	drain_notify();
	while (waitpid(fs.main_pid, &wstatus, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	event("killed %d", (int)fs.main_pid);
	fs.main_pid = 0;
	start("restarted");
}

static void stop(bool then_start)
{
	if (fs.stopping || fs.main_pid <= 0)
		return;
	fs.stopping = true;
	fs.restarting = then_start;
	clock_gettime(CLOCK_MONOTONIC, &fs.stop_deadline);
	fs.stop_deadline.tv_sec += fs.stop_timeout;
	(void)kill(fs.main_pid, fs.kill_signal);
}

static int poll_timeout(void)
{
	struct timespec now;
	long ms;

	if (!fs.stopping)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (fs.stop_deadline.tv_sec - now.tv_sec) * 1000 +
	     (fs.stop_deadline.tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0) {
		/* TimeoutStopSec= ran out: what systemd does next. */
		(void)kill(fs.main_pid, SIGKILL);
		return 100;
	}
	return (int)ms;
}

static int make_socket(int type, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		die("%s: path too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0)
		die("bind %s: %s", path, strerror(errno));
	return fd;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: fake-systemd --listen SOCK --notify NOTIFY [--fdstore-max N]\n"
		   "                    [--store-file FILE] [--stop-timeout SEC]\n"
		   "                    [--kill-signal SIGTERM|SIGUSR2|N] -- COMMAND [ARG...]\n"
		   "SIGUSR1: SIGKILL the service and start it again with the stored fds;\n"
		   "SIGHUP: restart it (kill signal, wait, start again with the stored fds);\n"
		   "SIGUSR2: write the store file; SIGTERM: stop the service (kill signal),\n"
		   "release the store and exit with the service's status.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "notify", required_argument, NULL, 'n' },
		{ "fdstore-max", required_argument, NULL, 'm' },
		{ "store-file", required_argument, NULL, 's' },
		{ "stop-timeout", required_argument, NULL, 't' },
		{ "kill-signal", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *listen_path = NULL, *notify_path = NULL;
	sigset_t mask;
	int one = 1, c;

	while ((c = getopt_long(argc, argv, "+l:n:m:s:t:k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_path = optarg;
			break;
		case 'n':
			notify_path = optarg;
			break;
		case 'm':
			fs.max = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			fs.store_file = optarg;
			break;
		case 't':
			fs.stop_timeout = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'k':
			fs.kill_signal = !strcmp(optarg, "SIGUSR2") ? SIGUSR2 :
					 !strcmp(optarg, "SIGTERM") ? SIGTERM :
					 atoi(optarg);
			if (fs.kill_signal <= 0 || fs.kill_signal >= NSIG) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!listen_path || !notify_path || optind >= argc) {
		usage(stderr);
		return 2;
	}
	fs.argv = argv + optind;
	fs.notify_path = notify_path;
	fs.fds_at_start = count_open_fds();

	fs.listen_fd = make_socket(SOCK_SEQPACKET, listen_path);
	if (listen(fs.listen_fd, SOMAXCONN) < 0)
		die("listen: %s", strerror(errno));
	fs.notify_fd = make_socket(SOCK_DGRAM, notify_path);
	if (setsockopt(fs.notify_fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
		die("SO_PASSCRED: %s", strerror(errno));

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, &fs.oldmask) < 0)
		die("sigprocmask: %s", strerror(errno));
	fs.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fs.sig_fd < 0)
		die("signalfd: %s", strerror(errno));
	write_store_file();
	start("started");

	for (;;) {
		size_t np = 2 + fs.n;
		struct pollfd *p = calloc(np, sizeof(*p));
		struct signalfd_siginfo si;
		bool sig, notify;
		int r;

		if (!p)
			die("out of memory");
		p[0] = (struct pollfd){ .fd = fs.sig_fd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = fs.notify_fd, .events = POLLIN };
		for (size_t i = 0; i < fs.n; i++)
			p[2 + i] = (struct pollfd){ .fd = fs.store[i].poll ? fs.store[i].fd : -1 };
		r = poll(p, np, poll_timeout());
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (r > 0)
			check_hup(p + 2); /* before the store changes */
		sig = r > 0 && p[0].revents;
		notify = r > 0 && p[1].revents;
		free(p);
		if (notify)
			drain_notify();
		while (sig && read(fs.sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			switch (si.ssi_signo) {
			case SIGCHLD:
				on_sigchld();
				break;
			case SIGUSR1:
				restart();
				break;
			case SIGUSR2:
				drain_notify();
				write_store_file();
				event("store %zu", fs.n);
				break;
			case SIGHUP:
				stop(true);
				break;
			default:
				stop(false);
				break;
			}
		}
	}
}
