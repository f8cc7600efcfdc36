/* SPDX-License-Identifier: MIT */
/*
 * Differential conformance at the backend level: one list of scenarios, each
 * a sequence of backend calls with fixed arguments, run against any struct
 * backend. Every call prints one transcript line: the operation, its
 * arguments, the result (0 or an errno name) and its outputs (IOVA chosen,
 * bytes unmapped, ranges, option values). Object ids never appear; IOASes
 * are named A, B, C in the order a scenario allocates them, and user
 * addresses are printed relative to the scenario memory ("mem+0x1000").
 *
 * The real kernel's transcript is the golden file (tests/conformance.golden);
 * the sim must print the same. The MAP_FILE section comes last and is only
 * run when b->has_map_file, so a transcript from a backend without MAP_FILE
 * equals the golden file cut before the line CONFORMANCE_MAP_FILE_MARK.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "iommu/backend.h"

/* First line of the MAP_FILE section. */
#define CONFORMANCE_MAP_FILE_MARK "== map-file"
/* First line of the fault-fd section (only with fd_io); it ends where the
 * MAP_FILE section begins, or the transcript ends. */
#define CONFORMANCE_FAULT_FD_MARK "== fault-fd"

/*
 * Run every scenario against b (freshly opened: the first scenario needs a
 * context with no objects) and print the transcript to out. open_device
 * gives a fresh fd of the VFIO device the "device" scenario uses (a sim
 * device for the sim), or -errno. fd_io: also read and write a fault
 * queue's fd (the fault-fd section): the kernel's file; the sim's fault fd
 * is a socket that cannot apply the kernel's rules (iommu/sim-faults.c).
 * The sections of PASID attach come last, only when b->has_pasid.
 * Returns 0 when every scenario ran, whatever the backend answered; a
 * negative errno when the harness itself could not set up its memory
 * (memfd, mmap).
 */
int conformance_run(struct backend *b, FILE *out, int (*open_device)(void),
		    bool fd_io);
