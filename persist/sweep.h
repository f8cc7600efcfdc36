/* SPDX-License-Identifier: MIT */
/* After a restart: objects of a device tenant's own context no table names. */
#ifndef IOASD_PERSIST_SWEEP_H
#define IOASD_PERSIST_SWEEP_H

#include <stdint.h>

struct tenant;

/*
 * In t's own context (adopted, after the IOAS sweep): destroy every object
 * no table of t names -- an HWPT, vIOMMU, vDEVICE or vEVENTQ the kernel
 * allocated in the instant of a kill, before it was recorded, which would
 * otherwise hold its IOAS or parent (EBUSY) for as long as the context
 * lives. Everything t knows is kept: its IOASes, HWPTs, vIOMMU objects,
 * fault queues, devices and test builds' mock objects, as tenant_dump() reports them. A
 * new kind of kernel object in a tenant's tables must be reported there
 * too (a dump op), or a restart destroys it when nothing holds it.
 * Returns how many went.
 */
uint32_t sweep_tenant_objects(struct tenant *t);

#endif
