/* SPDX-License-Identifier: MIT */
/*
 * Is a restart state (proto/state.proto) one the daemon could have
 * written? Checked before any table is built from it: a state that does not
 * hold together (a bug, a damaged disk, an edit by hand) would give tables
 * whose releases never end or reach freed memory, so it is refused whole,
 * with the record and what is wrong. Pure: no backend, fds or globals.
 *
 * What holds in a state the daemon wrote, and is checked:
 *  - the version and backend are known; tenant names are unique, 1..64 of
 *    [A-Za-z0-9_.@-] (policy section names, or connN-uidU);
 *  - per tenant, handles of each kind are unique and non-zero, and each
 *    next-handle counter is past all of them (or 0: exhausted);
 *  - every reference resolves: a share to its tenant's IOAS; an import to
 *    its exporter, that tenant's share and its own IOAS; a mapping to its
 *    IOAS, the memory of its owner and its import; a device to its IOAS
 *    and the HWPT it is on; an HWPT to its IOAS and its parent (an older
 *    paging HWPT on that IOAS) or vIOMMU (on that IOAS); a vIOMMU to a
 *    paging HWPT not made from a vIOMMU (so no cycle); a vDEVICE or vEVENTQ
 *    to an older vIOMMU; a test build's mock device to an HWPT of its IOAS;
 *    HWPTs and vIOMMU objects only in a tenant with its own context, with
 *    non-zero kernel ids;
 *  - ranges do not overflow and are not empty; a mapping lies inside its
 *    memory region; mappings of one IOAS do not overlap;
 *  - a share is covered, without gaps, by its tenant's own (not imported)
 *    mappings, and its token is 32 lower-case hex digits used by no other
 *    share; an import lies inside its share, is writeable only if the share
 *    is, and its pieces (the mappings naming it) cover its range exactly,
 *    each the exporter's memory exactly as the source mapping under it
 *    maps it; any other mapping maps its own tenant's memory;
 *  - at most TENANT_MAX_SHARES shares and TENANT_MAX_DEVICES devices per
 *    tenant, devices only in a tenant with its own context (the per-tenant
 *    policy limits are not applied: a reload may have lowered them, and
 *    nothing existing is torn down for that);
 *  - fd-store ids (memory, devices, own contexts) are unique, non-zero and
 *    below the next one; kernel IOAS ids are non-zero and unique in their
 *    context (the shared one, or a device tenant's own).
 * What only the restore can know (which stored fds came back, what the
 * kernel still has) is handled there, record by record.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.pb-c.h"
#include "common/util.h"

#define STATE_VERSION 1u
#define STATE_MAX_BYTES (256u << 20)
#define STATE_NAME_MAX 64u /* POLICY_NAME_MAX; connN-uidU names are shorter */

/* Decode a state file of this version: 0 and *ret (free it with
 * ioasd_state__state__free_unpacked()), or -EBADMSG with e saying why. */
int state_check_decode(const uint8_t *buf, size_t len, IoasdState__State **ret,
		       struct err *e);

/* A tenant name a state may hold (and a log may print). */
bool state_check_name(const char *name);

/* 0, or -EBADMSG with e naming the first record found wrong and what is
 * wrong with it ("tenant beta, import 1: ..."). Never names a token. */
int state_check(const IoasdState__State *m, struct err *e);
/* The same for a state whose mappings are elsewhere (the database's: they
 * are checked one by one as they are read, see load.h): everything but
 * what needs the mappings (a mapping's own references, overlaps, shares
 * covered, import pieces). */
int state_check_skeleton(const IoasdState__State *m, struct err *e);
