/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up of the daemon fuzz targets: one real struct server on the
 * sim backend with its own event loop, connections made with conn_new() over
 * a socketpair and admitted with server_admit() (the daemon end is exactly
 * what accept() would give it; no policy, so each is its own tenant), and
 * the invariants every input must leave intact.
 *
 * Any broken invariant calls fuzz_fail(), which prints why and aborts, so
 * libFuzzer records the input as a crash.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "proto/ioasd.pb-c.h"

struct conn;
struct server;

/* Once per process (LLVMFuzzerInitialize, or lazily). Quiet logging, the sim
 * backend, a server listening in a private directory, the fd baseline. */
void fuzz_env_init(void);
struct server *fuzz_server(void);

/* Toggle the sim's IOMMU_IOAS_MAP_FILE model (false: mmap + MAP path). */
void fuzz_set_map_file(int on);

/* A new daemon connection; *ret_client is the peer's end (non-blocking,
 * CLOEXEC), owned by the caller. Aborts on failure. */
struct conn *fuzz_conn_new(int *ret_client);

/* Run the event loop without blocking until it has nothing ready (bounded). */
void fuzz_loop(void);

/* The connection the server knows, or NULL when it has none (the harness
 * keeps at most one open at a time). */
struct conn *fuzz_only_conn(void);

/* Decode one queued reply datagram; aborts when it is not a Response. */
Ioasd__Response *fuzz_decode_reply(const uint8_t *buf, size_t len);

/* Invariants of a quiescent daemon with no connection: no tenant, IOAS or
 * pinned byte left, the fd count back at its baseline. */
void fuzz_check_idle(void);

/* tenant_check() of a live connection's tenant. */
void fuzz_check_conn(struct conn *c);

__attribute__((noreturn, format(printf, 1, 2)))
void fuzz_fail(const char *fmt, ...);

/* Entries in /proc/self/fd. */
int fuzz_fd_count(void);
