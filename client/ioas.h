/* SPDX-License-Identifier: MIT */
/*
 * libioas — client library for ioasd, the IOMMU address space broker.
 *
 * One struct ioas_client is one connection to the daemon. Every call is a
 * synchronous request/response on that connection, except the
 * asynchronous ones (ioas_submit_*, ioas_batch_submit: see "Asynchronous
 * requests"), which send now and complete later. Many operations can go
 * in one request as a batch ("Batches"). A client is not thread-safe (use
 * one per thread, or lock around it).
 *
 * Conventions:
 *   - Every function returning int returns 0 (or a documented non-negative
 *     value) on success and a negative errno on failure. When the daemon
 *     refused the request, that is exactly the errno it answered with (the
 *     errno the kernel's iommufd would give for the same input); the
 *     daemon's reason is then available from ioas_client_last_error().
 *   - Output parameters are named ret_* and are left untouched on failure,
 *     except where stated otherwise.
 *   - Handles (IOAS, memory) are small numbers local to the connection.
 *     They are meaningless on any other connection, and everything a
 *     connection owns is released by the daemon when it closes.
 *   - The library never logs, never installs signal handlers (it sends with
 *     MSG_NOSIGNAL) and keeps no global state. Every fd it creates is
 *     close-on-exec.
 *   - After a transport or protocol error (connection lost, malformed or
 *     mismatched reply) the client is marked broken: every later request
 *     fails with -ENOTCONN. Free it and connect again.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define IOAS_EXPORT __attribute__((visibility("default")))
#else
#define IOAS_EXPORT
#endif

/* Where the daemon listens unless told otherwise. */
#define IOAS_DEFAULT_SOCKET "/run/ioasd/ioasd.sock"

/* Protocol version this library speaks. */
#define IOAS_PROTOCOL_VERSION 1u

/* Map and copy flags: the kernel's IOMMU_IOAS_MAP_* bits. */
#define IOAS_MAP_FIXED_IOVA (1u << 0) /* use *iova as given */
#define IOAS_MAP_WRITEABLE (1u << 1)  /* device may write */
#define IOAS_MAP_READABLE (1u << 2)   /* device may read */

/* Capability bits reported by the daemon at connect. */
#define IOAS_CAP_MAP_FILE (1u << 0)   /* memfds mapped by fd (no daemon mmap) */
#define IOAS_CAP_HUGE_PAGES (1u << 1) /* ioas_huge_pages_set() is supported */

/* IOMMU_OPTION ops and ids, for ioas_option(). */
#define IOAS_OPTION_OP_SET 0u
#define IOAS_OPTION_OP_GET 1u
#define IOAS_OPTION_HUGE_PAGES 1u

/* unmap-all: the kernel's "iova 0, length UINT64_MAX" convention. */
#define IOAS_UNMAP_ALL_LENGTH UINT64_MAX

struct ioas_client;

/* One allowed IOVA range; last is inclusive. */
struct ioas_iova_range {
	uint64_t start;
	uint64_t last;
};

/* What the daemon made of a registered memory region. */
struct ioas_memory_info {
	uint32_t memory;     /* handle */
	uint64_t length;     /* bytes */
	char kind[32];       /* e.g. "memfd", "memfd-hugetlb" */
	uint64_t page_size;  /* of the backing file */
	bool writable;       /* false: read-only fd or write-sealed */
};

/* Counters from the daemon. ioas, memory_regions, mappings, mapped_bytes
 * and pinned_bytes are the caller's tenant's. connections, "total_*",
 * tenants and pool_* are daemon-wide: the daemon fills them in only for a
 * tenant with Admin=yes in its policy section and for a client running as
 * root (uid 0); for everyone else daemon_wide is false and they are 0. */
struct ioas_stats {
	char backend[32];
	uint32_t connections;     /* daemon-wide */
	uint32_t ioas;
	uint32_t memory_regions;
	uint32_t mappings;
	uint64_t mapped_bytes;
	uint64_t pinned_bytes;
	uint32_t total_ioas;      /* daemon-wide */
	uint64_t total_pinned_bytes; /* daemon-wide */
	uint32_t tenants;         /* live tenants, daemon-wide */
	uint32_t pool_size;       /* IOAS pool target (0: no pool, or not shown) */
	uint32_t pool_idle;       /* IOASes ready in the pool */
	bool daemon_wide;         /* the daemon-wide figures are filled in */
	/* The audit trail, since the daemon started (daemon-wide: filled
	 * in only when daemon_wide is): */
	uint64_t audit_suppressed; /* refused records held back by the rate limit */
	uint64_t audit_dropped;   /* records a failing sink did not take */
	uint64_t audit_evicted;   /* rate-limit subjects evicted from its full table */
};

/* Most allowed IOVA ranges struct ioas_whoami carries. */
#define IOAS_WHOAMI_MAX_RANGES 32

/* Who the daemon thinks the caller is (its tenant, from the kernel's
 * credentials and the policy), what it may do and what it uses. Limits and
 * usage are the tenant's, shared by all of its connections. */
struct ioas_whoami {
	char tenant[72];
	char policy_source[320];  /* "FILE:LINE" of its policy section, "" without a policy */
	char peer[256];           /* uid, gid, groups, unit, cgroup as the daemon saw them */
	uint32_t max_ioas;
	uint64_t max_pinned_bytes;
	uint32_t max_mappings;
	uint32_t max_memory_regions;
	uint32_t max_connections;
	uint64_t max_region_size;
	uint32_t n_allowed_iova;  /* 0: not restricted by policy */
	struct ioas_iova_range allowed_iova[IOAS_WHOAMI_MAX_RANGES];
	bool huge_pages;          /* policy allows huge pages */
	bool writeable;           /* policy allows writeable maps */
	char rlimit_mode[16];     /* "user" or "process" */
	uint32_t ioas;
	uint32_t memory_regions;
	uint32_t mappings;
	uint64_t mapped_bytes;
	uint64_t pinned_bytes;
	uint32_t connections;
	bool orphaned;            /* its policy section was removed at a reload */
	uint32_t devices;         /* attached VFIO devices */
	bool own_context;         /* its IOASes live in an iommufd context of its own */
	char allow_device[256];   /* AllowDevice= entries, space separated ("" = none) */
	/* Mappings made before a policy reload narrowed AllowedIOVA, now
	 * outside it: kept (and counted in mappings), never made anew. */
	uint32_t mappings_outside_policy;
	bool daemon_wide_stats;   /* ioas_stats() shows it the daemon-wide figures */
	bool delegate;            /* Delegate=yes: ioas_context_open(), ioas_device_open() */
};

/* ------------------------------------------------------------ connection */

/*
 * Connect to the daemon at socket_path (NULL: IOAS_DEFAULT_SOCKET) and say
 * Hello (protocol version 1). client_name (may be NULL) is free text the
 * daemon uses in logs and audit records only.
 *
 * On failure, when errbuf is not NULL, a sentence saying why (the daemon's
 * own reason when it refused the Hello) is written to errbuf (errlen bytes,
 * always NUL-terminated). Returns 0 and *ret, or:
 *   -ENOENT, -ECONNREFUSED, -EACCES   from socket()/connect()
 *   -EPROTONOSUPPORT                  the daemon speaks another version
 *   -EPROTO                           malformed or unexpected reply
 *   other                             the daemon's errno for the Hello
 */
IOAS_EXPORT int ioas_client_connect(const char *socket_path,
				    const char *client_name,
				    struct ioas_client **ret, char *errbuf,
				    size_t errlen);

/*
 * Restart without losing DMA (ioasd --state-dir): the daemon hands every
 * tenant a reclaim token at Hello. After the daemon was killed and started
 * again, connect with ioas_client_connect_reclaim() presenting that token:
 * the tenant's IOASes, memory regions, mappings, shares and imports are
 * there again under the same handles. The peer must still be the same
 * tenant (policy resolves it from the credentials as always); the token is
 * an additional proof. Until a restored tenant is reclaimed, a plain
 * ioas_client_connect() for it fails with -EBUSY; a wrong token fails with
 * -EKEYREJECTED, and with -EOPNOTSUPP when the daemon has no restart
 * support. Restored tenants nobody reclaims are released after the
 * daemon's grace period (--restart-grace).
 */
IOAS_EXPORT int ioas_client_connect_reclaim(const char *socket_path,
					    const char *client_name,
					    const char *reclaim_token,
					    struct ioas_client **ret,
					    char *errbuf, size_t errlen);
/* The tenant's reclaim token (32 hex digits; keep it secret), or NULL when
 * the daemon runs without restart support. Valid as long as c. */
IOAS_EXPORT const char *ioas_client_reclaim_token(const struct ioas_client *c);
/* This connection's Hello claimed objects restored after a restart. */
IOAS_EXPORT bool ioas_client_reclaimed(const struct ioas_client *c);

/* Close the connection and free the client. NULL-safe; returns NULL. */
IOAS_EXPORT struct ioas_client *ioas_client_free(struct ioas_client *c);

/*
 * Bound how long one request may wait for the daemon, in milliseconds
 * (0 = wait forever, the default). A request that times out fails with
 * -ETIMEDOUT and breaks the client (the reply may still arrive later).
 */
IOAS_EXPORT int ioas_client_set_timeout(struct ioas_client *c,
					unsigned int timeout_ms);

/*
 * The daemon's reason for the last failed call on c ("" when the last call
 * succeeded). For local failures (transport, protocol) a sentence made by
 * the library. Valid until the next call on c.
 */
IOAS_EXPORT const char *ioas_client_last_error(const struct ioas_client *c);

/* What the daemon said in its HelloReply. Strings live as long as c. */
IOAS_EXPORT const char *ioas_client_backend(const struct ioas_client *c); /* "kernel" or "sim" */
/*
 * The backend and the kernel it is or models: "sim thp=yes
 * hpage_size=2097152 page_size=4096", "kernel thp=no page_size=4096"; ""
 * from a daemon that does not say. With thp=yes the daemon's kernel (or
 * the one the sim stands for) aligns an automatically chosen IOVA up to
 * hpage_size, with thp=no only up to page_size: the IOVAs ioas_map and
 * ioas_copy pick without IOAS_MAP_FIXED_IOVA differ between the two.
 */
IOAS_EXPORT const char *ioas_client_backend_description(const struct ioas_client *c);
IOAS_EXPORT const char *ioas_client_server(const struct ioas_client *c);  /* e.g. "ioasd 0.1.0", "" if not sent */
IOAS_EXPORT uint32_t ioas_client_version(const struct ioas_client *c);
IOAS_EXPORT uint64_t ioas_client_caps(const struct ioas_client *c);       /* IOAS_CAP_* bits */
IOAS_EXPORT uint32_t ioas_client_max_datagram(const struct ioas_client *c);
IOAS_EXPORT uint32_t ioas_client_max_fds(const struct ioas_client *c);
/* Most operations one batch may carry (HelloReply.max_batch); 0 from a
 * daemon without batches. */
IOAS_EXPORT uint32_t ioas_client_max_batch(const struct ioas_client *c);

/*
 * True once a transport or protocol failure (connection lost, timeout,
 * malformed reply) made c unusable; a refusal by the daemon does not.
 */
IOAS_EXPORT bool ioas_client_broken(const struct ioas_client *c);

/* The connected socket, owned by c: poll it for POLLIN to know when
 * ioas_client_poll_completions() or ioas_next_notification() has something
 * to read (do not read it, nor set it non-blocking yourself). */
IOAS_EXPORT int ioas_client_fd(const struct ioas_client *c);

/* ------------------------------------------------------------ IOAS */

/* Allocate an IOAS (IOMMU_IOAS_ALLOC). Returns 0 and *ret_ioas. */
IOAS_EXPORT int ioas_alloc(struct ioas_client *c, uint32_t *ret_ioas);

/* Destroy an IOAS and every mapping in it (IOMMU_DESTROY).
 * -ENOENT unknown handle, -EBUSY while a device is attached. */
IOAS_EXPORT int ioas_destroy(struct ioas_client *c, uint32_t ioas);

/*
 * IOMMU_IOAS_IOVA_RANGES. In: *num is how many entries ranges has room for
 * (ranges may be NULL when *num is 0). Out: *num is how many ranges the IOAS
 * has. When that is more than the room, returns -EMSGSIZE and sets only
 * *num (like the kernel). ret_alignment (may be NULL) receives the IOVA
 * alignment every map must respect.
 */
IOAS_EXPORT int ioas_iova_ranges(struct ioas_client *c, uint32_t ioas,
				 struct ioas_iova_range *ranges, uint32_t *num,
				 uint64_t *ret_alignment);

/*
 * The same, sizing itself: allocates an array of exactly the right size
 * (retrying if the ranges change meanwhile). *ret_ranges must be freed with
 * free(); it is NULL when *ret_num is 0.
 */
IOAS_EXPORT int ioas_iova_ranges_all(struct ioas_client *c, uint32_t ioas,
				     struct ioas_iova_range **ret_ranges,
				     uint32_t *ret_num,
				     uint64_t *ret_alignment);

/*
 * IOMMU_IOAS_ALLOW_IOVAS: replace the list of ranges that automatic IOVA
 * allocation may use (num == 0 clears it). -EINVAL for start >= last or
 * overlapping ranges; -EADDRINUSE when a range covers a reserved region.
 * -EMSGSIZE when the list does not fit in one request.
 */
IOAS_EXPORT int ioas_allow_iovas(struct ioas_client *c, uint32_t ioas,
				 const struct ioas_iova_range *ranges,
				 uint32_t num);

/* ------------------------------------------------------------ memory */

/*
 * Register [offset, offset + length) of fd (a memfd, hugetlbfs or tmpfs file
 * sealed with F_SEAL_SHRINK) as memory the daemon may map. The library sends
 * a copy of fd; the caller keeps (and eventually closes) its own. Both offset
 * and length must be page aligned. ret_info (may be NULL) receives what the
 * daemon made of it. Returns 0 and *ret_memory, or e.g.:
 *   -EPERM     not sealed against shrinking
 *   -EINVAL    not a memfd/regular file, misaligned, past end of file
 *   -EFBIG     larger than the daemon allows
 */
IOAS_EXPORT int ioas_memory_register(struct ioas_client *c, int fd,
				     uint64_t offset, uint64_t length,
				     uint32_t *ret_memory,
				     struct ioas_memory_info *ret_info);

/* Forget a registered region; the daemon closes its fd. -ENOENT unknown,
 * -EBUSY while it is still mapped. */
IOAS_EXPORT int ioas_memory_unregister(struct ioas_client *c, uint32_t memory);

/*
 * Create an anonymous memfd of size bytes (MFD_CLOEXEC|MFD_ALLOW_SEALING),
 * sealed with F_SEAL_SHRINK|F_SEAL_GROW, ready for ioas_memory_register().
 * name (may be NULL) shows up in /proc/<pid>/fd. Returns 0 and *ret_fd
 * (the caller owns it), or -errno.
 */
IOAS_EXPORT int ioas_memfd_create(const char *name, uint64_t size,
				  int *ret_fd);

/* ------------------------------------------------------------ mappings */

/*
 * IOMMU_IOAS_MAP of [offset, offset + length) of a registered memory region.
 * flags: IOAS_MAP_* (at least one of READABLE/WRITEABLE). With
 * IOAS_MAP_FIXED_IOVA, *iova is the IOVA to use; otherwise the daemon picks
 * one. On success *iova is the IOVA of the mapping. Errors like the kernel:
 *   -EOPNOTSUPP unknown flag bits, -EINVAL no access bits or misaligned,
 *   -EEXIST fixed IOVA overlaps a mapping, -ENOSPC no room for an
 *   automatic IOVA, -ENOENT unknown IOAS or memory handle, -EPERM write
 *   access to read-only memory.
 */
IOAS_EXPORT int ioas_map(struct ioas_client *c, uint32_t ioas, uint32_t memory,
			 uint64_t offset, uint64_t length, uint32_t flags,
			 uint64_t *iova);

/*
 * An identity map: [offset, offset + length) of a registered memory region
 * mapped at the IOVA equal to addr, the caller's own address of that range
 * (its mmap(MAP_SHARED) of the same memfd), so that the device and the CPU
 * use the same pointers. Pinned and static like any mapping: neither
 * supported kernel has a uAPI that binds a process's page tables to a
 * device (shared virtual addressing), so this is what can be offered. The
 * library reads /proc/self/maps for the file and file offset at addr and
 * the daemon checks they are this memory at this offset (it cannot look
 * into the caller's address space itself). flags: IOAS_MAP_READABLE and/or
 * IOAS_MAP_WRITEABLE (FIXED_IOVA is implied). Errors as ioas_map() with a
 * fixed IOVA (an address outside the IOAS's IOVA ranges or the tenant's
 * allowed IOVAs is refused: with QEMU's emulated VT-d, user addresses need
 * aw-bits=48), and -EINVAL when addr or length is not page aligned, addr
 * is not one shared mapping of one file without holes, or that file and
 * offset are not the memory's.
 */
IOAS_EXPORT int ioas_map_identity(struct ioas_client *c, uint32_t ioas,
				  uint32_t memory, uint64_t offset,
				  uint64_t length, uint32_t flags,
				  const void *addr);

/*
 * IOMMU_IOAS_UNMAP of [iova, iova + length): must cover whole mappings;
 * -ENOENT when it would split one or nothing is mapped there. Before that,
 * as in the kernel: -EOVERFLOW when iova or length is UINT64_MAX (iova 0
 * with length UINT64_MAX is "unmap all") or the range wraps, -EINVAL for
 * length 0. ret_unmapped (may be NULL) receives the number of bytes
 * unmapped.
 */
IOAS_EXPORT int ioas_unmap(struct ioas_client *c, uint32_t ioas, uint64_t iova,
			   uint64_t length, uint64_t *ret_unmapped);

/* Unmap everything in an IOAS (succeeds with 0 bytes when it is empty). */
IOAS_EXPORT int ioas_unmap_all(struct ioas_client *c, uint32_t ioas,
			       uint64_t *ret_unmapped);

/*
 * IOMMU_IOAS_COPY: map the pages already mapped at [src_iova, src_iova +
 * length) of src_ioas into dst_ioas, without pinning them again. flags and
 * *dst_iova as for ioas_map(). -ENOENT when the source range is not fully
 * covered by mappings.
 */
IOAS_EXPORT int ioas_copy(struct ioas_client *c, uint32_t dst_ioas,
			  uint32_t src_ioas, uint32_t flags, uint64_t src_iova,
			  uint64_t length, uint64_t *dst_iova);

/* ------------------------------------------------------------ options */

/*
 * IOMMU_OPTION on an IOAS. op: IOAS_OPTION_OP_SET (*val in) or
 * IOAS_OPTION_OP_GET (*val out); option: IOAS_OPTION_HUGE_PAGES.
 */
IOAS_EXPORT int ioas_option(struct ioas_client *c, uint32_t op,
			    uint32_t option, uint32_t ioas, uint64_t *val);

/* Huge pages for an IOAS: true = combine contiguous pages (the default). */
IOAS_EXPORT int ioas_huge_pages_get(struct ioas_client *c, uint32_t ioas,
				    bool *ret_enabled);
IOAS_EXPORT int ioas_huge_pages_set(struct ioas_client *c, uint32_t ioas,
				    bool enabled);

/* ------------------------------------------------------------ stats */

/* Counters of the caller's tenant and, for admins, of the daemon (see
 * struct ioas_stats). */
IOAS_EXPORT int ioas_stats(struct ioas_client *c, struct ioas_stats *ret);

/* The caller's tenant, policy, limits and usage (see struct ioas_whoami).
 * More than IOAS_WHOAMI_MAX_RANGES allowed ranges: the first ones, and
 * n_allowed_iova says how many there are. */
IOAS_EXPORT int ioas_whoami(struct ioas_client *c, struct ioas_whoami *ret);

/* ------------------------------------------------------------ sharing
 * A tenant exports a mapped range of one of its IOASes; another tenant that
 * policy allows (ExportTo= / ImportFrom=) imports it with the token into one
 * of its own IOASes. Pages are pinned once, charged to the exporter. See
 * "Sharing" in README.md for the errno of every refusal.
 */
#define IOAS_SHARE_TOKEN_LEN 32 /* hex digits */

IOAS_EXPORT int ioas_share_export(struct ioas_client *c, uint32_t ioas,
				  uint64_t iova, uint64_t length, bool writeable,
				  uint32_t *ret_share,
				  char ret_token[IOAS_SHARE_TOKEN_LEN + 1]);
/* flags: IOAS_MAP_WRITEABLE and/or IOAS_MAP_FIXED_IOVA (then *iova is used);
 * [offset, offset + length) of the share, length 0 meaning "the rest".
 * *iova is the IOVA in the caller's IOAS on return. */
IOAS_EXPORT int ioas_share_import(struct ioas_client *c, const char *token,
				  uint32_t ioas, uint32_t flags,
				  uint64_t offset, uint64_t length,
				  uint64_t *iova, uint32_t *ret_import,
				  uint64_t *ret_length);
IOAS_EXPORT int ioas_share_revoke(struct ioas_client *c, uint32_t share);

struct ioas_share_info {
	uint32_t share, ioas;
	uint64_t iova, length;
	bool writeable;
	char token[IOAS_SHARE_TOKEN_LEN + 1];
	uint32_t n_importers;
};
struct ioas_importer_info {
	uint32_t share;           /* the caller's share it imports */
	char tenant[72];
	uint32_t import;          /* the importer's handle */
	uint64_t offset, length;
	bool writeable;
};
struct ioas_import_info {
	uint32_t import;
	char exporter[72];
	uint32_t share;           /* the exporter's handle */
	uint32_t ioas;
	uint64_t iova, offset, length;
	bool writeable;
};
struct ioas_share_list {
	uint32_t n_shares;
	struct ioas_share_info *shares;
	uint32_t n_importers;
	struct ioas_importer_info *importers;
	uint32_t n_imports;
	struct ioas_import_info *imports;
};
/* One mapping of an IOAS (ioas_mapping_list). */
struct ioas_mapping_info {
	uint64_t iova, length;
	uint64_t offset;          /* into the memory region, or into the share */
	uint32_t flags;           /* IOAS_MAP_* bits it was made with */
	uint32_t memory;          /* the caller's memory region, 0 for an import's piece */
	uint32_t import;          /* the import it is a piece of, or 0 */
	bool outside_policy;      /* made before a reload narrowed AllowedIOVA=; kept */
};
struct ioas_mapping_page {
	uint32_t n_mappings;
	struct ioas_mapping_info *mappings;   /* in IOVA order */
	uint32_t total;           /* the IOAS's mappings, every page */
	bool more;                /* there is a next page: it starts at next_iova */
	uint64_t next_iova;
	uint32_t n_own_allowed;   /* first page: the IOAS's ioas_allow_iovas() list */
	struct ioas_iova_range *own_allowed;
};
/*
 * One page of the caller's mappings of ioas, in IOVA order: those starting
 * at or above *from_iova (NULL: the first page, which also carries the
 * IOAS's own allowed list), at most max (0: as many as one reply carries,
 * up to 1024). Pass &page->next_iova for the next page while page->more.
 * -ENOENT for an IOAS the tenant does not have. Free the page with
 * ioas_mapping_page_free() (NULL-safe, returns NULL).
 */
IOAS_EXPORT int ioas_mapping_list(struct ioas_client *c, uint32_t ioas,
				  const uint64_t *from_iova, uint32_t max,
				  struct ioas_mapping_page **ret);
IOAS_EXPORT struct ioas_mapping_page *ioas_mapping_page_free(struct ioas_mapping_page *p);

/* The caller tenant's shares (with who imports them) and its imports. */
IOAS_EXPORT int ioas_share_list(struct ioas_client *c,
				struct ioas_share_list **ret);
IOAS_EXPORT struct ioas_share_list *ioas_share_list_free(struct ioas_share_list *l);

/* Notifications: the daemon may send them at any time; the library keeps
 * the last IOAS_NOTIFY_QUEUE received (while waiting for replies, or in
 * ioas_next_notification) and counts the ones it had to drop. */
#define IOAS_NOTIFY_QUEUE 64
#define IOAS_NOTIFY_SHARE_REVOKED 1u
struct ioas_notification {
	uint32_t kind;            /* IOAS_NOTIFY_* */
	uint32_t import, ioas;
	uint64_t iova, length;
	char reason[32];          /* "revoked", "source-unmapped", "source-destroyed", "exporter-gone" */
	char exporter[72];
};
/* 0 and the oldest queued notification, or -EAGAIN when none is queued
 * (after reading whatever the socket holds, without blocking). */
IOAS_EXPORT int ioas_next_notification(struct ioas_client *c,
				       struct ioas_notification *ret);
/* Notifications dropped because the queue was full. */
IOAS_EXPORT uint64_t ioas_notifications_dropped(const struct ioas_client *c);

/* ------------------------------------------------------------ devices
 * A tenant whose policy has AllowDevice= sends a VFIO device cdev fd
 * (/dev/vfio/devices/vfioN, opened by the caller) and the daemon binds it to
 * the tenant's own iommufd context and attaches it to one of the tenant's
 * IOASes; the caller keeps its fd and drives the device (regions, DMA) with
 * it. The daemon keeps its copy until ioas_device_detach() or the tenant's
 * release. See "Devices" in README.md for the errno of every refusal.
 */
struct ioas_device_info {
	uint32_t device;          /* tenant-local handle */
	uint32_t ioas;            /* the IOAS it is attached to */
	uint16_t vendor, device_id; /* PCI ids */
	char pci_address[16];     /* "0000:00:03.0" */
	char name[32];            /* "vfio0" */
};
/* fd is not taken: the caller keeps (and may close) its own fd. ret may be
 * NULL (but its device handle is what ioas_device_detach() takes). */
IOAS_EXPORT int ioas_device_attach(struct ioas_client *c, uint32_t ioas,
				   int fd, struct ioas_device_info *ret);
IOAS_EXPORT int ioas_device_detach(struct ioas_client *c, uint32_t device);
/* The caller tenant's attached devices; *ret is malloc'ed (free()), *n set. */
IOAS_EXPORT int ioas_device_list(struct ioas_client *c,
				 struct ioas_device_info **ret, uint32_t *n);
/*
 * For tests against a daemon on the sim backend, which has no VFIO: an fd
 * that the sim treats as a VFIO cdev of the given PCI identity ("1234:11e8",
 * "0000:00:03.0"). A kernel-backend daemon refuses it (ENOTTY). With
 * "+mock" after the address ("0000:00:03.0+mock") the sim puts the device
 * behind its model of the kernel's self-test IOMMU driver (nesting with
 * IOAS_HWPT_DATA_SELFTEST) instead of the rig's VT-d.
 */
IOAS_EXPORT int ioas_sim_device_create(const char *vendor_device,
				       const char *pci_address, int *ret_fd);

/* ------------------------------------------------------------ delegation
 * The hand-off to a VMM (QEMU's -object iommufd,fd=N and -device
 * vfio-pci,fd=M), for a tenant whose policy has Delegate=yes. Each returns
 * an fd (CLOEXEC) that the daemon keeps no copy of: the caller owns it,
 * and closing it (the VMM's exit) ends it. See "Delegation" in README.md.
 *
 * A fresh iommufd context whose pinned-page accounting is already set from
 * the tenant's RlimitMode=; mode (may be NULL, 16 bytes) gets "user" or
 * "process". -EPERM Delegate=no; -EOPNOTSUPP the sim backend (it has no
 * context file); -ESRCH the daemon's context helper is gone.
 */
IOAS_EXPORT int ioas_context_open(struct ioas_client *c, int *ret_fd, char mode[16]);
/*
 * The VFIO cdev of the PCI device at address ("0000:00:04.0" or "00:04.0"),
 * unbound (the receiver binds it: a bound one would fail its
 * VFIO_DEVICE_BIND_IOMMUFD with EINVAL). ret (may be NULL) gets its
 * identity; its device and ioas are 0. -EPERM Delegate=no or not in
 * AllowDevice=; -EINVAL not an address; -ENOENT no such device; -ENODEV
 * not bound to vfio-pci; -EOPNOTSUPP the sim backend.
 */
IOAS_EXPORT int ioas_device_open(struct ioas_client *c, const char *address,
				 int *ret_fd, struct ioas_device_info *ret);

/* ------------------------------------------------------------ hardware page tables
 * For the devices of a tenant (AllowDevice=), in its own context: the
 * IOMMU's hardware info, hardware page tables (HWPTs) allocated from an
 * IOAS (paging) or from a nesting parent HWPT (nested, with the driver's
 * data: the stage-1 table belongs to the caller), their invalidation, and
 * moving a device onto an IOAS or an HWPT. Policy keys: AllowNesting=,
 * AllowDirtyTracking=, AllowedHwptData=, MaxHwpts= (ioasd.policy(5)). The
 * kernel's errno comes back as it is (EOPNOTSUPP: the IOMMU driver cannot).
 * Constants are the kernel's (include/uapi/linux/iommufd.h).
 */
#define IOAS_HWPT_NEST_PARENT (1u << 0)
#define IOAS_HWPT_DIRTY_TRACKING (1u << 1)
#define IOAS_HWPT_DATA_VTD_S1 1u         /* struct iommu_hwpt_vtd_s1 */
#define IOAS_HWPT_DATA_SELFTEST 0xdeadu  /* the kernel's self-test driver */
#define IOAS_HWPT_INVALIDATE_DATA_VTD_S1 0u
#define IOAS_HWPT_INVALIDATE_DATA_SELFTEST 0xdeadbeefu
#define IOAS_HW_INFO_DATA_MAX 256

struct ioas_hw_info {
	uint32_t type;            /* enum iommu_hw_info_type: 1 Intel VT-d */
	uint32_t data_len;        /* the driver's structure's length */
	uint64_t capabilities;    /* IOMMU_HW_CAP_* */
	uint8_t max_pasid_log2;
	uint8_t data[IOAS_HW_INFO_DATA_MAX]; /* that structure (its first bytes) */
};
/* IOMMU_GET_HW_INFO of one of the tenant's attached devices. */
IOAS_EXPORT int ioas_hw_info(struct ioas_client *c, uint32_t device,
			     struct ioas_hw_info *ret);
/* A paging HWPT from an IOAS for device's IOMMU; flags IOAS_HWPT_*. */
IOAS_EXPORT int ioas_hwpt_alloc(struct ioas_client *c, uint32_t device,
				uint32_t ioas, uint32_t flags, uint32_t *ret_hwpt);
/* A nested HWPT from a nesting parent, with len bytes of driver data of
 * data_type (at most 4096). */
IOAS_EXPORT int ioas_hwpt_alloc_nested(struct ioas_client *c, uint32_t device,
				       uint32_t parent, uint32_t data_type,
				       const void *data, size_t len,
				       uint32_t *ret_hwpt);
/* -EBUSY while a device or a nested HWPT holds it. */
IOAS_EXPORT int ioas_hwpt_destroy(struct ioas_client *c, uint32_t hwpt);
/*
 * Invalidate a nested HWPT's caches with *entry_num entries of entry_len
 * bytes each (at most 32 KiB in all). *entry_num out: how many the kernel
 * handled, also when it failed part way (then the return is its -errno).
 */
IOAS_EXPORT int ioas_hwpt_invalidate(struct ioas_client *c, uint32_t hwpt,
				     uint32_t data_type, const void *entries,
				     uint32_t entry_len, uint32_t *entry_num);
/* Move an attached device onto an IOAS or an HWPT: exactly one non-zero. */
IOAS_EXPORT int ioas_device_replace(struct ioas_client *c, uint32_t device,
				    uint32_t ioas, uint32_t hwpt);
struct ioas_hwpt_info {
	uint32_t hwpt;            /* tenant-local handle */
	uint32_t ioas;            /* paging: its IOAS; nested: the parent's */
	uint32_t parent;          /* nested: the parent HWPT, else 0 */
	uint32_t device;          /* the device it was allocated for */
	uint32_t flags, data_type;
	uint32_t devices;         /* devices on it */
	uint32_t children;        /* nested HWPTs made from it */
	uint32_t fault;           /* its fault queue, 0: none (issue 16) */
};
/* The caller tenant's HWPTs, newest first; *ret is malloc'ed (free()). */
IOAS_EXPORT int ioas_hwpt_list(struct ioas_client *c,
			       struct ioas_hwpt_info **ret, uint32_t *n);

/*
 * vIOMMU objects (Linux 6.13 and later; -EOPNOTSUPP on older kernels;
 * policy AllowViommu=): a vIOMMU of type (IOMMU_VIOMMU_TYPE_*) for the
 * device's IOMMU on a nesting parent HWPT; a device's virtual id in it
 * (vDEVICE); an event queue (vEVENTQ) whose fd *ret_fd is the caller's
 * (CLOEXEC): read() gives struct iommufd_vevent_header + the type's data.
 * HWPTs nested in a vIOMMU: ioas_hwpt_alloc_viommu; its caches:
 * ioas_viommu_invalidate (as ioas_hwpt_invalidate). One handle space for
 * the three kinds; destroy a vIOMMU after what holds it (-EBUSY), and close
 * a vEVENTQ's fd before destroying it (the kernel keeps it while the fd is
 * open: -EBUSY).
 */
#define IOAS_VIOMMU_TYPE_SELFTEST 0xdeadbeefu
#define IOAS_VEVENTQ_TYPE_SELFTEST 0xbeefbeefu
IOAS_EXPORT int ioas_viommu_alloc(struct ioas_client *c, uint32_t device,
				  uint32_t hwpt, uint32_t type, const void *data,
				  size_t len, uint32_t *ret_viommu);
IOAS_EXPORT int ioas_vdevice_alloc(struct ioas_client *c, uint32_t viommu,
				   uint32_t device, uint64_t virt_id,
				   uint32_t *ret_vdevice);
IOAS_EXPORT int ioas_veventq_alloc(struct ioas_client *c, uint32_t viommu,
				   uint32_t type, uint32_t depth,
				   uint32_t *ret_veventq, int *ret_fd);
IOAS_EXPORT int ioas_viommu_destroy(struct ioas_client *c, uint32_t viommu);
IOAS_EXPORT int ioas_vdevice_destroy(struct ioas_client *c, uint32_t vdevice);
IOAS_EXPORT int ioas_veventq_destroy(struct ioas_client *c, uint32_t veventq);
IOAS_EXPORT int ioas_hwpt_alloc_viommu(struct ioas_client *c, uint32_t device,
				       uint32_t viommu, uint32_t data_type,
				       const void *data, size_t len,
				       uint32_t *ret_hwpt);
IOAS_EXPORT int ioas_viommu_invalidate(struct ioas_client *c, uint32_t viommu,
				       uint32_t data_type, const void *entries,
				       uint32_t entry_len, uint32_t *entry_num);

/* ------------------------------------------------------------ faults, dirty bits, PASIDs
 * I/O page fault queues, dirty tracking and PASID attachments of a device
 * tenant's HWPTs and devices (libioas(3) "FAULTS, DIRTY TRACKING AND
 * PASIDS"). Policy keys: MaxFaultQueues=, AllowDirtyTracking=,
 * AllowedPASID= (ioasd.policy(5)).
 *
 * A fault queue's fd is the kernel's: read(2) gives whole fault groups of
 * struct ioas_fault records (the kernel's struct iommu_hwpt_pgfault; the
 * last of a group has IOAS_FAULT_LAST_PAGE), write(2) takes struct
 * ioas_fault_response records (struct iommu_hwpt_page_response), one per
 * group with the cookie of its last fault. The daemon is not on that path.
 * dev_id is the kernel's id of the device in the tenant's own context.
 */
#define IOAS_HWPT_FAULT_ID_VALID (1u << 2) /* with a fault queue */
#define IOAS_HWPT_PASID (1u << 3)          /* attachable at a PASID (6.15+) */
#define IOAS_FAULT_PASID_VALID (1u << 0)
#define IOAS_FAULT_LAST_PAGE (1u << 1)
#define IOAS_FAULT_RESP_SUCCESS 0u
#define IOAS_FAULT_RESP_INVALID 1u
#define IOAS_DIRTY_NO_CLEAR (1u << 0)

struct ioas_fault {
	uint32_t flags;           /* IOAS_FAULT_PASID_VALID, _LAST_PAGE */
	uint32_t dev_id;
	uint32_t pasid;
	uint32_t grpid;
	uint32_t perm;            /* read 1, write 2, exec 4, priv 8 */
	uint32_t reserved;
	uint64_t addr;
	uint32_t length;
	uint32_t cookie;
};
struct ioas_fault_response {
	uint32_t cookie;
	uint32_t code;            /* IOAS_FAULT_RESP_* */
};

/* A fault queue: *ret_fd is its fd (CLOEXEC), the caller's to read and
 * write and close. */
IOAS_EXPORT int ioas_fault_alloc(struct ioas_client *c, uint32_t *ret_fault,
				 int *ret_fd);
/* -EBUSY while an HWPT allocated with it lives, or while its fd is open
 * (the kernel's file holds the queue: close it first). */
IOAS_EXPORT int ioas_fault_destroy(struct ioas_client *c, uint32_t fault);
/* Any HWPT: from an IOAS (ioas) or a nesting parent (parent), exactly one;
 * fault non-zero (with IOAS_HWPT_FAULT_ID_VALID in flags) delivers its
 * I/O page faults to that queue. */
struct ioas_hwpt_args {
	uint32_t device;
	uint32_t ioas, parent;
	uint32_t flags;           /* IOAS_HWPT_* */
	uint32_t data_type;       /* nested: its driver data */
	const void *data;
	size_t len;
	uint32_t fault;           /* a fault queue: with IOAS_HWPT_FAULT_ID_VALID */
	uint32_t viommu;          /* nested from a vIOMMU instead of parent */
};
IOAS_EXPORT int ioas_hwpt_alloc_args(struct ioas_client *c,
				     const struct ioas_hwpt_args *a,
				     uint32_t *ret_hwpt);
/* Dirty tracking of an HWPT allocated with IOAS_HWPT_DIRTY_TRACKING. */
IOAS_EXPORT int ioas_hwpt_set_dirty(struct ioas_client *c, uint32_t hwpt,
				    bool enable);
/*
 * The dirty bits of [iova, iova + length), one per page_size page (a power
 * of two, 512 B to 1 GiB), written by the daemon into registered memory
 * `memory` at byte `offset` (a multiple of 8): ceil(length / page_size / 64)
 * 64-bit words, at most 8 MiB. Cleared unless flags has IOAS_DIRTY_NO_CLEAR.
 * *ret_dirty (may be NULL): how many bits are set.
 */
IOAS_EXPORT int ioas_hwpt_get_dirty(struct ioas_client *c, uint32_t hwpt,
				    uint64_t iova, uint64_t length,
				    uint64_t page_size, uint32_t memory,
				    uint64_t offset, unsigned flags,
				    uint64_t *ret_dirty);
/* Attach an HWPT (or an IOAS: exactly one non-zero) at a PASID of a device;
 * again replaces. -EOPNOTSUPP on kernels without it (6.12), -EPERM outside
 * AllowedPASID=. Detach: -ENOENT when nothing is attached there. */
IOAS_EXPORT int ioas_pasid_attach(struct ioas_client *c, uint32_t device,
				  uint32_t pasid, uint32_t ioas, uint32_t hwpt);
IOAS_EXPORT int ioas_pasid_detach(struct ioas_client *c, uint32_t device,
				  uint32_t pasid);
struct ioas_pasid_info {
	uint32_t device, pasid;
	uint32_t ioas, hwpt;      /* what is attached there (one is 0) */
};
IOAS_EXPORT int ioas_pasid_list(struct ioas_client *c,
				struct ioas_pasid_info **ret, uint32_t *n);

/* ------------------------------------------------------------ batches
 *
 * A batch is many operations in one request: one round trip, and the
 * daemon checks, runs and audits each exactly as if it had come alone (the
 * same policy and quota checks, one audit record each). Operations run in
 * order; the first that fails stops the batch, and, by mode:
 *   IOAS_BATCH_STOP    what ran before it stays done; the operations after
 *                      it are not run (error -ECANCELED);
 *   IOAS_BATCH_ATOMIC  all or nothing: what ran before it is undone, in
 *                      reverse order (error -ECANCELED, rolled_back). Only
 *                      operations that can be undone exactly may be in
 *                      such a batch: alloc, memory register, map, copy,
 *                      share export. Destroy, unregister, unmap and revoke
 *                      cannot; the daemon refuses the whole batch with
 *                      -EINVAL (and says why) before running any of it.
 * A batch holds at most 256 operations (ioas_client_max_batch() says the
 * daemon's limit; more: -E2BIG when adding) and as many memory registers
 * as one request carries fds (ioas_client_max_fds(): 4; more: -E2BIG).
 * Handles an operation makes are only known
 * from its result: an operation cannot name a handle made earlier in the
 * same batch unless the caller knows it otherwise.
 *
 * A batch is reusable: ioas_batch_clear() empties it; running it again
 * sends the same operations again. Adding an operation after a run drops
 * that run's results.
 */
#define IOAS_BATCH_STOP 0u
#define IOAS_BATCH_ATOMIC 1u

struct ioas_batch;

/* A new, empty batch of mode IOAS_BATCH_STOP or IOAS_BATCH_ATOMIC.
 * 0 and *ret, -EINVAL (unknown mode), -ENOMEM. */
IOAS_EXPORT int ioas_batch_new(uint32_t mode, struct ioas_batch **ret);
/* Free it (NULL-safe; returns NULL). Not while it is in flight: complete
 * it first (or free the client, which drops it). */
IOAS_EXPORT struct ioas_batch *ioas_batch_free(struct ioas_batch *b);
/* Forget its operations, fds and results. 0, or -EBUSY while in flight. */
IOAS_EXPORT int ioas_batch_clear(struct ioas_batch *b);
/* How many operations it holds. */
IOAS_EXPORT unsigned int ioas_batch_size(const struct ioas_batch *b);

/*
 * Add one operation, with the arguments of its synchronous form (whose
 * comments say what they mean; iova and dst_iova are used with
 * IOAS_MAP_FIXED_IOVA only). Each returns the operation's index in the
 * batch (>= 0), or -E2BIG (full), -EBUSY (in flight), -ENOMEM, -EBADF (a
 * negative fd). Nothing is checked before the batch runs: the daemon does.
 *
 * ioas_batch_memory_register() does not take fd: the caller keeps it open
 * until ioas_batch_run() or ioas_batch_submit() has returned (it is sent
 * with the batch, the daemon keeps its own copy), and closes it after.
 */
IOAS_EXPORT int ioas_batch_alloc(struct ioas_batch *b);
IOAS_EXPORT int ioas_batch_destroy(struct ioas_batch *b, uint32_t ioas);
IOAS_EXPORT int ioas_batch_memory_register(struct ioas_batch *b, int fd,
					   uint64_t offset, uint64_t length);
IOAS_EXPORT int ioas_batch_memory_unregister(struct ioas_batch *b, uint32_t memory);
IOAS_EXPORT int ioas_batch_map(struct ioas_batch *b, uint32_t ioas, uint32_t memory,
			       uint64_t offset, uint64_t length, uint32_t flags,
			       uint64_t iova);
IOAS_EXPORT int ioas_batch_unmap(struct ioas_batch *b, uint32_t ioas, uint64_t iova,
				 uint64_t length);
IOAS_EXPORT int ioas_batch_copy(struct ioas_batch *b, uint32_t dst_ioas,
				uint32_t src_ioas, uint32_t flags, uint64_t src_iova,
				uint64_t length, uint64_t dst_iova);
IOAS_EXPORT int ioas_batch_share_export(struct ioas_batch *b, uint32_t ioas,
					uint64_t iova, uint64_t length, bool writeable);
IOAS_EXPORT int ioas_batch_share_revoke(struct ioas_batch *b, uint32_t share);

/*
 * Send the batch and wait for its reply. Returns 0 when every operation
 * succeeded; the first failure's errno (negative, the daemon's reason in
 * ioas_client_last_error(), naming the operation) when one failed -- the
 * results of all of them are then available; -EINVAL (empty batch, or a
 * batch the daemon refused whole: then no results, ioas_batch_result()
 * says -ENODATA), -EBUSY (in flight), or a transport error as for any call.
 */
IOAS_EXPORT int ioas_batch_run(struct ioas_client *c, struct ioas_batch *b);

/* One operation's outcome, after a run or a completion. */
struct ioas_batch_result {
	uint32_t op;              /* IOAS_OP_* */
	int error;                /* 0 done; the daemon's -errno when it failed;
				   * -ECANCELED: not run, or run and undone */
	bool rolled_back;         /* with -ECANCELED: it ran and was undone */
	uint32_t handle;          /* alloc: the IOAS; register: the memory; export: the share */
	uint64_t iova;            /* map, copy: where it is mapped */
	uint64_t unmapped;        /* unmap: bytes unmapped */
	char token[IOAS_SHARE_TOKEN_LEN + 1]; /* export: the share's token */
	/* Why it failed, was not run or was undone ("" when done; an
	 * operation an all-or-nothing batch could not undo says so with
	 * error 0). Valid until the batch is changed, run, cleared or freed. */
	const char *message;
};
/* Result of operation index. 0; -EINVAL (no such index); -ENODATA (not
 * run yet, in flight, or refused whole). */
IOAS_EXPORT int ioas_batch_result(const struct ioas_batch *b, unsigned int index,
				  struct ioas_batch_result *ret);

/* ------------------------------------------------------------ asynchronous requests
 *
 * Pipelining: submit many requests without waiting for each reply, and
 * collect the replies as they come, e.g. from an event loop that polls
 * ioas_client_fd() for POLLIN. The daemon answers a connection's requests
 * in the order they were sent, so completions come in that order.
 *
 * ioas_submit_*() send the request now (blocking only while the socket is
 * full, up to the client's timeout, reading replies meanwhile) and return
 * 0 and the request's id in *ret_id (may be NULL), or -errno: -EAGAIN when
 * IOAS_MAX_IN_FLIGHT requests are in flight or completed and not yet
 * collected (collect some first), -ENOTCONN (broken), -EMSGSIZE, -ENOMEM,
 * -EBADF. A refusal by the daemon is not a failure of the submit: it comes
 * back in the completion. userdata is handed back with it.
 *
 * Synchronous calls may be made meanwhile; they read (and keep) the
 * completions that arrive before their own reply. Notifications are
 * queued for ioas_next_notification() whichever call reads them. When the
 * connection breaks, every request in flight completes with its errno.
 */
#define IOAS_MAX_IN_FLIGHT 256

/* Which operation a completion or batch result is (the protocol's field
 * numbers). */
#define IOAS_OP_ALLOC 11u
#define IOAS_OP_DESTROY 12u
#define IOAS_OP_MEMORY_REGISTER 15u
#define IOAS_OP_MEMORY_UNREGISTER 16u
#define IOAS_OP_MAP 17u
#define IOAS_OP_UNMAP 18u
#define IOAS_OP_COPY 19u
#define IOAS_OP_SHARE_EXPORT 23u
#define IOAS_OP_SHARE_REVOKE 25u
#define IOAS_OP_BATCH 30u

struct ioas_completion {
	uint64_t id;              /* what the submit returned in *ret_id */
	void *userdata;           /* what was given to the submit */
	uint32_t op;              /* IOAS_OP_* */
	int error;                /* 0, or the daemon's -errno (with message); for
				   * a batch, its first failure's (see its results);
				   * the connection's -errno when it broke first */
	uint32_t handle;          /* ALLOC: the IOAS; MEMORY_REGISTER: the memory */
	uint64_t iova;            /* MAP, COPY: where it is mapped */
	uint64_t unmapped;        /* UNMAP: bytes unmapped */
	struct ioas_batch *batch; /* BATCH: the batch, its results now readable */
	char message[256];        /* the daemon's reason when error != 0 */
};

/* The asynchronous forms of ioas_alloc, ioas_destroy, ioas_memory_register
 * (fd is sent before it returns and not taken: the caller may close it
 * then), ioas_memory_unregister, ioas_map (iova: the IOVA to use with
 * IOAS_MAP_FIXED_IOVA, else ignored), ioas_unmap and ioas_copy. */
IOAS_EXPORT int ioas_submit_alloc(struct ioas_client *c, void *userdata,
				  uint64_t *ret_id);
IOAS_EXPORT int ioas_submit_destroy(struct ioas_client *c, uint32_t ioas,
				    void *userdata, uint64_t *ret_id);
IOAS_EXPORT int ioas_submit_memory_register(struct ioas_client *c, int fd,
					    uint64_t offset, uint64_t length,
					    void *userdata, uint64_t *ret_id);
IOAS_EXPORT int ioas_submit_memory_unregister(struct ioas_client *c, uint32_t memory,
					      void *userdata, uint64_t *ret_id);
IOAS_EXPORT int ioas_submit_map(struct ioas_client *c, uint32_t ioas, uint32_t memory,
				uint64_t offset, uint64_t length, uint32_t flags,
				uint64_t iova, void *userdata, uint64_t *ret_id);
IOAS_EXPORT int ioas_submit_unmap(struct ioas_client *c, uint32_t ioas, uint64_t iova,
				  uint64_t length, void *userdata, uint64_t *ret_id);
IOAS_EXPORT int ioas_submit_copy(struct ioas_client *c, uint32_t dst_ioas,
				 uint32_t src_ioas, uint32_t flags, uint64_t src_iova,
				 uint64_t length, uint64_t dst_iova, void *userdata,
				 uint64_t *ret_id);
/* Send a batch asynchronously. b must be neither changed nor freed until
 * its completion is collected (-EBUSY meanwhile); its fds are sent before
 * this returns. The completion's error is what ioas_batch_run() would have
 * returned, and ioas_batch_result() reads its results. */
IOAS_EXPORT int ioas_batch_submit(struct ioas_client *c, struct ioas_batch *b,
				  void *userdata, uint64_t *ret_id);

/*
 * Read what has arrived, without blocking, and hand back up to max
 * completions, oldest first. Returns how many (0: none yet), or -ENOTCONN
 * when the connection is broken and no completion is left to hand out
 * (ioas_client_last_error() says why), -EINVAL (ret NULL).
 */
IOAS_EXPORT int ioas_client_poll_completions(struct ioas_client *c,
					     struct ioas_completion *ret,
					     unsigned int max);
/* The same, waiting up to timeout_ms (-1: no limit) for at least one.
 * Returns 0 at once when nothing is in flight, and 0 at the timeout. */
IOAS_EXPORT int ioas_client_wait_completions(struct ioas_client *c,
					     struct ioas_completion *ret,
					     unsigned int max, int timeout_ms);
/* Requests submitted whose reply has not been read yet. */
IOAS_EXPORT unsigned int ioas_client_in_flight(const struct ioas_client *c);

#ifdef __cplusplus
}
#endif
