/* SPDX-License-Identifier: MIT */
/*
 * Devices through a real daemon: AttachDevice / DetachDevice / DeviceList,
 * the device tenant's own context, AllowDevice= refusals, EBUSY on destroy,
 * release on disconnect, and shares crossing contexts.
 *
 * On the sim backend (the default) the device is a sim device fd
 * (ioas_sim_device_create, 1234:11e8 at 0000:00:03.0); with
 * IOASD_TEST_BACKEND=kernel (the real-kernel suite) it is the guest's edu
 * device, /dev/vfio/devices/vfio0 (1234:11e8). The device file is opened by
 * the test (root) and inherited by the client, which runs unprivileged: a
 * VFIO cdev file binds once in its life and a device binds one file at a
 * time, so every client gets a fresh open and the test closes its copy
 * when the client is done.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "ioas.h"
#include "tenant/tenant.h" /* TENANT_MAX_DEVICES */

#define MiB (UINT64_C(1) << 20)
#define DEV_UID 65534   /* AllowDevice=1234:11e8 */
#define PLAIN_UID 1     /* no devices; shares with dev */
#define OTHER_UID 2     /* AllowDevice= of another device */

static struct harness_daemon d;
static char dir[PATH_MAX];
static bool root;

#define REQUIRE(cond) HARNESS_REQUIRE(cond)

/* AllowedIOVA= of dev and plain in the windowed fixture (NULL: none). */
#define WINDOW_LO UINT64_C(0x200000)        /* 4 MiB: what each side exports */
#define WINDOW_HI UINT64_C(0x100000000)     /* 3 MiB: too small for an import of 4 */
static const char *window;

/* The test policy; plain_devices gives "plain" AllowDevice= too (reload).
 * plain is Admin=yes: it checks daemon-wide pinned bytes. */
static void write_policy(bool plain_devices)
{
	char allowed[128] = "";

	char path[PATH_MAX + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/policy.d/50-devices.conf", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	if (window)
		snprintf(allowed, sizeof(allowed), "AllowedIOVA=%s\n", window);
	fprintf(f,
		"[tenant dev]\nMatchUser=%u\nAllowDevice=1234:11e8\n"
		"ImportFrom=plain\nExportTo=plain\n%s\n"
		"[tenant plain]\nMatchUser=%u\nExportTo=dev\nImportFrom=dev\nAdmin=yes\n%s%s\n"
		"[tenant other]\nMatchUser=%u\nAllowDevice=abcd:0001\n",
		geteuid() == 0 ? DEV_UID : (unsigned)getuid(), allowed, PLAIN_UID,
		plain_devices ? "AllowDevice=1234:11e8\n" : "", allowed, OTHER_UID);
	ck_assert_int_eq(fclose(f), 0);
}

static void start(bool policy)
{
	char tmpl[] = "/tmp/ioasd-devices.XXXXXX", pdir[PATH_MAX + 16];
	const char *args[] = { "--policy-dir", pdir, "-v", NULL };
	const char *args_np[] = { "--no-policy", "-v", NULL };

	root = geteuid() == 0;
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_int_eq(chmod(tmpl, 0755), 0);
	snprintf(dir, sizeof(dir), "%s", tmpl);
	if (policy) {
		snprintf(pdir, sizeof(pdir), "%s/policy.d", dir);
		ck_assert_int_eq(mkdir(pdir, 0755), 0);
		write_policy(false);
	}
	ck_assert_int_eq(harness_daemon_start(&d, policy ? args : args_np), 0);
}

static void setup(void)
{
	start(true);
}

static void setup_no_policy(void)
{
	start(false);
}

static void setup_windowed(void)
{
	window = "0x200000-0x5fffff 0x100000000-0x1002fffff";
	start(true);
}

static void teardown(void);
static void teardown_windowed(void)
{
	teardown();
	window = NULL;
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	ck_assert_int_eq(harness_daemon_stop(&d), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
}

/* A fresh device file: the sim's stand-in, or the guest's edu. */
/* A fresh device file for one client (tests/harness.c). */
static int device_open(void)
{
	int fd = harness_device_open();

	ck_assert_int_ge(fd, 0);
	return fd;
}

static int connect_client(struct ioas_client **c)
{
	return harness_connect(&d, "test-devices", c);
}

static uid_t dev_uid(void)
{
	return root ? DEV_UID : getuid();
}

/* One IOAS with [0, 2 MiB) of a fresh memfd mapped writeable at *iova. */
static int mapped_ioas(struct ioas_client *c, uint32_t *ioas, uint64_t *iova)
{
	return harness_mapped_ioas(c, "devices", 2 * MiB, ioas, iova);
}

/* --- one device tenant ------------------------------------------------- */

static int dev_rules(void *arg)
{
	int devfd = *(int *)arg, memfd = -1;
	struct ioas_iova_range ranges[4];
	struct ioas_device_info info, *list = NULL;
	struct ioas_whoami w;
	struct ioas_client *c;
	struct ioas_stats st;
	uint32_t ioas, ioas2, n = 0, nr = 4;
	uint64_t iova = 0, align = 0;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_whoami(c, &w) == 0);
	REQUIRE(w.own_context);
	REQUIRE(strcmp(w.allow_device, "1234:11e8") == 0);
	REQUIRE(mapped_ioas(c, &ioas, &iova) == 0);
	REQUIRE(ioas_alloc(c, &ioas2) == 0);
	/* Rule: only a VFIO device cdev attaches (ENOTTY, as its ioctl says). */
	REQUIRE(ioas_memfd_create("not-a-device", 4096, &memfd) == 0);
	REQUIRE(ioas_device_attach(c, ioas, memfd, &info) == -ENOTTY);
	close(memfd);
	/* Rule: the IOAS must be the tenant's. */
	REQUIRE(ioas_device_attach(c, 999, devfd, &info) == -ENOENT);
	/* Rule: the device must be in AllowDevice= -- it is. */
	REQUIRE(ioas_device_attach(c, ioas, devfd, &info) == 0);
	REQUIRE(info.vendor == 0x1234 && info.device_id == 0x11e8);
	REQUIRE(info.ioas == ioas && info.pci_address[0] != '\0');
	/* Rule: attaching narrows the IOVA ranges (the VT-d domain: the
	 * interrupt window and the 39-bit aperture; 4 KiB alignment). */
	REQUIRE(ioas_iova_ranges(c, ioas, ranges, &nr, &align) == 0);
	REQUIRE(nr == 2 && ranges[0].start == 0 && ranges[0].last == 0xfedfffff);
	REQUIRE(ranges[1].start == 0xfef00000 && ranges[1].last == 0x7fffffffffULL);
	REQUIRE(align == 4096);
	/* Rule: a file binds once: attaching the same file again is EINVAL. */
	REQUIRE(ioas_device_attach(c, ioas2, devfd, &info) == -EINVAL);
	REQUIRE(strstr(ioas_client_last_error(c), "bound already") != NULL);
	/* Rule: an IOAS with a device attached cannot be destroyed (EBUSY). */
	REQUIRE(ioas_destroy(c, ioas) == -EBUSY);
	REQUIRE(strstr(ioas_client_last_error(c), "detach") != NULL);
	REQUIRE(ioas_device_list(c, &list, &n) == 0);
	REQUIRE(n == 1 && list[0].device == info.device && list[0].ioas == ioas);
	free(list);
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(ioas_whoami(c, &w) == 0);
	REQUIRE(w.devices == 1);
	/* Detach: the IOAS is free again and the device handle gone. */
	REQUIRE(ioas_device_detach(c, info.device) == 0);
	REQUIRE(ioas_device_detach(c, info.device) == -ENOENT);
	REQUIRE(ioas_device_list(c, &list, &n) == 0);
	REQUIRE(n == 0);
	free(list);
	/* Detached: the kernel's ranges are the IOAS's own again. */
	nr = 4;
	REQUIRE(ioas_iova_ranges(c, ioas, ranges, &nr, &align) == 0);
	REQUIRE(nr == 1 && ranges[0].last == UINT64_MAX);
	REQUIRE(ioas_destroy(c, ioas) == 0);
	/* Rule: the file stays bound while the client holds it: no rebind. */
	REQUIRE(ioas_device_attach(c, ioas2, devfd, &info) == -EINVAL);
	ioas_client_free(c);
	return 0;
}

START_TEST(device_rules)
{
	int base = harness_fd_count_settled(d.pid, 2000);
	int devfd = device_open();

	ck_assert_int_eq(harness_run_client_as(dev_uid(), dev_uid(), dev_rules,
					       &devfd), 0);
	close(devfd);
	/* Every fd the daemon took (device copies, contexts) is closed. */
	ck_assert_int_eq(harness_wait_fd_count(d.pid, base, 2000), base);
}
END_TEST

/* Attach and go away without detaching: the daemon releases the device. */
static int dev_attach_and_leave(void *arg)
{
	int devfd = *(int *)arg;
	struct ioas_device_info info;
	struct ioas_client *c;
	uint32_t ioas;
	uint64_t iova = 0;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(mapped_ioas(c, &ioas, &iova) == 0);
	REQUIRE(ioas_device_attach(c, ioas, devfd, &info) == 0);
	ioas_client_free(c);
	return 0;
}

START_TEST(device_released_with_tenant)
{
	int base = harness_fd_count_settled(d.pid, 2000);
	int devfd;

	for (int i = 0; i < 3; i++) {
		/* A fresh open binds only once every copy of the previous
		 * file is closed: the daemon must have closed its own. */
		devfd = device_open();
		ck_assert_int_eq(harness_run_client_as(dev_uid(), dev_uid(),
						       dev_attach_and_leave,
						       &devfd), 0);
		close(devfd);
		ck_assert_int_eq(harness_wait_fd_count(d.pid, base, 2000), base);
	}
}
END_TEST

/* --- refusals the kernel's one edu cannot show (sim only) ---------------- */

static int sim_limits(void *arg)
{
	int fds[TENANT_MAX_DEVICES + 1], bad = -1;
	struct ioas_device_info info;
	struct ioas_client *c;
	uint32_t ioas;

	(void)arg;
	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_alloc(c, &ioas) == 0);
	/* Rule: a VFIO device that is not a PCI device is ENODEV. */
	bad = memfd_create("ioasd-sim-device:not-a-pci-device", MFD_CLOEXEC);
	REQUIRE(bad >= 0);
	REQUIRE(ioas_device_attach(c, ioas, bad, &info) == -ENODEV);
	REQUIRE(strstr(ioas_client_last_error(c), "not a PCI device") != NULL);
	close(bad);
	/* Rule: at most TENANT_MAX_DEVICES devices per tenant (ENOSPC). */
	for (unsigned i = 0; i <= TENANT_MAX_DEVICES; i++)
		REQUIRE(ioas_sim_device_create("1234:11e8", "0000:00:03.0", &fds[i]) == 0);
	for (unsigned i = 0; i < TENANT_MAX_DEVICES; i++)
		REQUIRE(ioas_device_attach(c, ioas, fds[i], &info) == 0);
	REQUIRE(ioas_device_attach(c, ioas, fds[TENANT_MAX_DEVICES], &info) == -ENOSPC);
	REQUIRE(strstr(ioas_client_last_error(c), "device limit") != NULL);
	for (unsigned i = 0; i <= TENANT_MAX_DEVICES; i++)
		close(fds[i]);
	ioas_client_free(c);
	return 0;
}

START_TEST(device_limits_sim)
{
	int base;

	if (!harness_backend_is_sim()) {
		fprintf(stderr, "test-devices: kernel backend: one edu device, no ENODEV/ENOSPC case\n");
		return;
	}
	base = harness_fd_count_settled(d.pid, 2000);
	ck_assert_int_eq(harness_run_client_as(dev_uid(), dev_uid(), sim_limits, NULL), 0);
	/* Every device copy the daemon kept went with the tenant. */
	ck_assert_int_eq(harness_wait_fd_count(d.pid, base, 2000), base);
}
END_TEST

/* --- refusals by policy -------------------------------------------------- */

static int refused(void *arg)
{
	int devfd = *(int *)arg;
	struct ioas_device_info info;
	struct ioas_whoami w;
	struct ioas_client *c;
	uint32_t ioas;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_whoami(c, &w) == 0);
	REQUIRE(ioas_alloc(c, &ioas) == 0);
	/* Rule: a device not in AllowDevice= is EPERM, citing the line. */
	REQUIRE(ioas_device_attach(c, ioas, devfd, &info) == -EPERM);
	REQUIRE(strstr(ioas_client_last_error(c), "AllowDevice") != NULL);
	/* Without AllowDevice= the IOASes stay in the shared context. */
	REQUIRE(w.own_context == (strcmp(w.tenant, "other") == 0));
	ioas_client_free(c);
	return 0;
}

START_TEST(device_refused_by_policy)
{
	int devfd;

	if (!root) {
		fprintf(stderr, "test-devices: not root: the other tenants are skipped\n");
		return;
	}
	devfd = device_open();
	ck_assert_int_eq(harness_run_client_as(OTHER_UID, OTHER_UID, refused, &devfd), 0);
	ck_assert_int_eq(harness_run_client_as(PLAIN_UID, PLAIN_UID, refused, &devfd), 0);
	close(devfd);
}
END_TEST

static int no_policy_refused(void *arg)
{
	int devfd = *(int *)arg;
	struct ioas_device_info info;
	struct ioas_client *c;
	uint32_t ioas;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_alloc(c, &ioas) == 0);
	/* Rule: --no-policy tenants may not attach devices (EPERM). */
	REQUIRE(ioas_device_attach(c, ioas, devfd, &info) == -EPERM);
	REQUIRE(strstr(ioas_client_last_error(c), "--no-policy") != NULL);
	ioas_client_free(c);
	return 0;
}

/* A tenant given AllowDevice= by a reload while it holds an IOAS in the
 * shared context: EXDEV (an IOAS cannot move between contexts). */
struct reload_sync {
	int to_parent[2], to_child[2];
	int devfd;
};

static int plain_reloaded(void *arg)
{
	struct reload_sync *p = arg;
	struct ioas_device_info info;
	struct ioas_whoami w;
	struct ioas_client *c;
	uint32_t ioas;
	char byte = 0;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_alloc(c, &ioas) == 0);
	REQUIRE(ioas_whoami(c, &w) == 0 && !w.own_context);
	REQUIRE(write(p->to_parent[1], &byte, 1) == 1);
	REQUIRE(read(p->to_child[0], &byte, 1) == 1);
	/* The daemon reloads on SIGHUP: wait until this tenant has it. */
	for (int i = 0; i < 200; i++) {
		REQUIRE(ioas_whoami(c, &w) == 0);
		if (w.allow_device[0])
			break;
		usleep(10000);
	}
	REQUIRE(strcmp(w.allow_device, "1234:11e8") == 0);
	REQUIRE(!w.own_context);
	REQUIRE(ioas_device_attach(c, ioas, p->devfd, &info) == -EXDEV);
	REQUIRE(strstr(ioas_client_last_error(c), "reload") != NULL);
	ioas_client_free(c);
	return 0;
}

START_TEST(device_exdev_after_reload)
{
	struct reload_sync p;
	int status;
	pid_t pid;
	char byte = 0;

	if (!root) {
		fprintf(stderr, "test-devices: not root: the reload case is skipped\n");
		return;
	}
	p.devfd = device_open();
	ck_assert_int_eq(pipe(p.to_parent), 0);
	ck_assert_int_eq(pipe(p.to_child), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(harness_run_client_as(PLAIN_UID, PLAIN_UID, plain_reloaded, &p) == 0 ? 0 : 1);
	ck_assert_int_eq(read(p.to_parent[0], &byte, 1), 1);
	write_policy(true);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	ck_assert_int_eq(write(p.to_child[1], &byte, 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(p.devfd);
	for (int i = 0; i < 2; i++) {
		close(p.to_parent[i]);
		close(p.to_child[i]);
	}
}
END_TEST

START_TEST(device_refused_without_policy)
{
	int devfd = device_open();

	ck_assert_int_eq(harness_run_client(no_policy_refused, &devfd), 0);
	close(devfd);
}
END_TEST

/* --- shares across contexts ---------------------------------------------- */

struct crossing {
	int to_parent[2], to_plain[2];
	int devfd;
	char token[IOAS_SHARE_TOKEN_LEN + 1];
	char back[IOAS_SHARE_TOKEN_LEN + 1];
};

/* plain (shared context) exports to dev, and imports dev's export. */
static int plain_side(void *arg)
{
	struct crossing *p = arg;
	struct ioas_client *c;
	struct ioas_stats st;
	uint32_t ioas, ioas2, share, imp;
	uint64_t iova = 0, iova2 = 0, len;
	char byte = 0;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(mapped_ioas(c, &ioas, &iova) == 0);
	REQUIRE(ioas_share_export(c, ioas, iova, 2 * MiB, false, &share, p->token) == 0);
	REQUIRE(write(p->to_parent[1], p->token, sizeof(p->token)) == sizeof(p->token));
	/* dev imported it, and exported its own memory back. */
	REQUIRE(read(p->to_plain[0], p->back, sizeof(p->back)) == sizeof(p->back));
	REQUIRE(ioas_alloc(c, &ioas2) == 0);
	REQUIRE(ioas_share_import(c, p->back, ioas2, 0, 0, 0, &iova2, &imp, &len) == 0);
	REQUIRE(len == 2 * MiB);
	/* Pinned bytes stay with the owner of the memory, once. */
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(st.pinned_bytes == 2 * MiB);
	REQUIRE(st.daemon_wide && st.total_pinned_bytes == 4 * MiB);
	/* Revoke: dev's import is unmapped from its own context. */
	REQUIRE(ioas_share_revoke(c, share) == 0);
	REQUIRE(write(p->to_parent[1], &byte, 1) == 1);
	/* dev goes away: plain's import of dev's memory goes with it. */
	REQUIRE(read(p->to_plain[0], &byte, 1) == 1);
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(st.mappings == 1 && st.total_pinned_bytes == 2 * MiB);
	ioas_client_free(c);
	return 0;
}

static int wait_note(struct ioas_client *c, struct ioas_notification *n)
{
	for (int i = 0; i < 300; i++) {
		if (ioas_next_notification(c, n) == 0)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

static int dev_side(void *arg)
{
	struct crossing *p = arg;
	struct ioas_device_info info;
	struct ioas_notification n;
	struct ioas_client *c;
	struct ioas_stats st;
	uint32_t ioas, own, share, imp;
	uint64_t iova = 0, own_iova = 0, len;
	char byte = 0;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(ioas_alloc(c, &ioas) == 0);
	REQUIRE(ioas_device_attach(c, ioas, p->devfd, &info) == 0);
	/* Rule: an import into a device tenant's own context maps the
	 * exporter's memory (COPY cannot cross contexts); same result. */
	REQUIRE(ioas_share_import(c, p->token, ioas, 0, 0, 0, &iova, &imp, &len) == 0);
	REQUIRE(len == 2 * MiB);
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(st.mappings == 1 && st.pinned_bytes == 0);
	/* And the other way: dev exports its own memory to plain. */
	REQUIRE(mapped_ioas(c, &own, &own_iova) == 0);
	REQUIRE(ioas_share_export(c, own, own_iova, 2 * MiB, false, &share, p->back) == 0);
	REQUIRE(write(p->to_plain[1], p->back, sizeof(p->back)) == sizeof(p->back));
	/* plain revoked its share: told, and the range is gone. */
	REQUIRE(wait_note(c, &n) == 0);
	REQUIRE(n.kind == IOAS_NOTIFY_SHARE_REVOKED && n.import == imp);
	REQUIRE(strcmp(n.reason, "revoked") == 0);
	REQUIRE(ioas_unmap(c, ioas, iova, 2 * MiB, &len) == -ENOENT);
	REQUIRE(ioas_stats(c, &st) == 0);
	REQUIRE(st.mappings == 1); /* its own */
	(void)byte;
	ioas_client_free(c);
	return 0;
}

/* --- AllowedIOVA= across contexts -------------------------------------- */

/* Two mappings, [WINDOW_LO, +2 MiB) and [+2 MiB, +4 MiB), exported whole. */
static int export_two_pieces(struct ioas_client *c, char *token)
{
	uint64_t iova, len = 2 * MiB;
	uint32_t ioas, mem, share;
	int fd = -1;

	if (ioas_memfd_create("window", 4 * MiB, &fd) < 0 || ioas_alloc(c, &ioas) < 0 ||
	    ioas_memory_register(c, fd, 0, 4 * MiB, &mem, NULL) < 0)
		return -1;
	close(fd);
	for (uint64_t off = 0; off < 4 * MiB; off += len) {
		iova = WINDOW_LO + off;
		if (ioas_map(c, ioas, mem, off, len,
			     IOAS_MAP_READABLE | IOAS_MAP_FIXED_IOVA, &iova) < 0)
			return -1;
	}
	return ioas_share_export(c, ioas, WINDOW_LO, 4 * MiB, false, &share, token);
}

/*
 * The import crosses contexts (one side is a device tenant): the kernel
 * picks the IOVA of the first piece only, inside the allowed ranges, and
 * the second follows it -- past the 3 MiB window the IOAS was narrowed to,
 * and so past AllowedIOVA. Refused, nothing left behind; what fits is fine.
 */
static int import_into_window(struct ioas_client *c, const char *token)
{
	struct ioas_iova_range w = { .start = WINDOW_HI, .last = WINDOW_HI + 3 * MiB - 1 };
	struct ioas_stats before, after;
	uint64_t iova = 0, len;
	uint32_t ioas, imp;

	REQUIRE(ioas_alloc(c, &ioas) == 0);
	REQUIRE(ioas_allow_iovas(c, ioas, &w, 1) == 0);
	REQUIRE(ioas_stats(c, &before) == 0);
	REQUIRE(ioas_share_import(c, token, ioas, 0, 0, 0, &iova, &imp, &len) == -EPERM);
	REQUIRE(strstr(ioas_client_last_error(c), "AllowedIOVA") != NULL);
	REQUIRE(ioas_stats(c, &after) == 0);
	REQUIRE(after.mappings == before.mappings);
	/* At a fixed IOVA it was refused before anything was mapped. */
	iova = WINDOW_HI;
	REQUIRE(ioas_share_import(c, token, ioas, IOAS_MAP_FIXED_IOVA, 0, 0, &iova, &imp,
				  &len) == -EPERM);
	/* What fits in the window is imported, inside it. */
	REQUIRE(ioas_share_import(c, token, ioas, 0, 0, 2 * MiB, &iova, &imp, &len) == 0);
	REQUIRE(len == 2 * MiB && iova >= w.start && iova + len - 1 <= w.last);
	return 0;
}

static int windowed_plain(void *arg)
{
	struct crossing *p = arg;
	struct ioas_client *c;
	char byte;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(export_two_pieces(c, p->token) == 0);
	REQUIRE(write(p->to_parent[1], p->token, sizeof(p->token)) == sizeof(p->token));
	REQUIRE(read(p->to_plain[0], p->back, sizeof(p->back)) == sizeof(p->back));
	REQUIRE(import_into_window(c, p->back) == 0);
	/* Each share must outlive the other side's imports of it. */
	REQUIRE(write(p->to_parent[1], "", 1) == 1);
	REQUIRE(read(p->to_plain[0], &byte, 1) == 1);
	ioas_client_free(c);
	return 0;
}

static int windowed_dev(void *arg)
{
	struct crossing *p = arg;
	struct ioas_client *c;
	struct ioas_whoami w;
	char byte;

	REQUIRE(connect_client(&c) == 0);
	REQUIRE(export_two_pieces(c, p->back) == 0);
	REQUIRE(ioas_whoami(c, &w) == 0 && w.own_context);
	REQUIRE(write(p->to_plain[1], p->back, sizeof(p->back)) == sizeof(p->back));
	REQUIRE(import_into_window(c, p->token) == 0);
	REQUIRE(write(p->to_plain[1], "", 1) == 1);
	REQUIRE(read(p->to_parent[0], &byte, 1) == 1);
	ioas_client_free(c);
	return 0;
}

START_TEST(imports_across_contexts_stay_inside_allowed_iova)
{
	struct crossing p;
	int status;
	pid_t pid;

	if (!root) {
		fprintf(stderr, "test-devices: not root: the two-tenant case is skipped\n");
		return;
	}
	ck_assert_int_eq(pipe(p.to_parent), 0);
	ck_assert_int_eq(pipe(p.to_plain), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(harness_run_client_as(PLAIN_UID, PLAIN_UID, windowed_plain, &p) == 0 ? 0 : 1);
	ck_assert_int_eq(read(p.to_parent[0], p.token, sizeof(p.token)), (int)sizeof(p.token));
	ck_assert_int_eq(harness_run_client_as(DEV_UID, DEV_UID, windowed_dev, &p), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (int i = 0; i < 2; i++) {
		close(p.to_parent[i]);
		close(p.to_plain[i]);
	}
}
END_TEST

START_TEST(shares_cross_contexts)
{
	struct crossing p;
	int base, status;
	pid_t pid;
	char byte = 0;

	if (!root) {
		fprintf(stderr, "test-devices: not root: the two-tenant case is skipped\n");
		return;
	}
	base = harness_fd_count_settled(d.pid, 2000);
	p.devfd = device_open();
	ck_assert_int_eq(pipe(p.to_parent), 0);
	ck_assert_int_eq(pipe(p.to_plain), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(harness_run_client_as(PLAIN_UID, PLAIN_UID, plain_side, &p) == 0 ? 0 : 1);
	ck_assert_int_eq(read(p.to_parent[0], p.token, sizeof(p.token)), (int)sizeof(p.token));
	ck_assert_int_eq(harness_run_client_as(DEV_UID, DEV_UID, dev_side, &p), 0);
	/* dev is gone (released with its connection). */
	ck_assert_int_eq(read(p.to_parent[0], &byte, 1), 1);
	usleep(100000);
	ck_assert_int_eq(write(p.to_plain[1], &byte, 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(p.devfd);
	for (int i = 0; i < 2; i++) {
		close(p.to_parent[i]);
		close(p.to_plain[i]);
	}
	ck_assert_int_eq(harness_wait_fd_count(d.pid, base, 2000), base);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("devices");
	TCase *tc = tcase_create("devices");
	TCase *np = tcase_create("no-policy");
	TCase *win = tcase_create("allowed-iova");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, device_rules);
	tcase_add_test(tc, device_released_with_tenant);
	tcase_add_test(tc, device_refused_by_policy);
	tcase_add_test(tc, device_limits_sim);
	tcase_add_test(tc, device_exdev_after_reload);
	tcase_add_test(tc, shares_cross_contexts);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(win, setup_windowed, teardown_windowed);
	tcase_set_timeout(win, 60);
	tcase_add_test(win, imports_across_contexts_stay_inside_allowed_iova);
	suite_add_tcase(s, win);
	tcase_add_checked_fixture(np, setup_no_policy, teardown);
	tcase_set_timeout(np, 60);
	tcase_add_test(np, device_refused_without_policy);
	suite_add_tcase(s, np);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
