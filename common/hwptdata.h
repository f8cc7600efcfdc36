/* SPDX-License-Identifier: MIT */
/*
 * The driver data types of nested hardware page tables, by name: the one
 * table that the policy (AllowedHwptData=), ioasctl and the audit trail
 * share. Each name stands for a type of IOMMU_HWPT_ALLOC's data (enum
 * iommu_hwpt_data_type) and, where the kernel has one, the type of the
 * entries IOMMU_HWPT_INVALIDATE takes for such a table (enum
 * iommu_hwpt_invalidate_data_type); the numbers are the kernel's.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hwpt_data_kind {
	const char *name;        /* "vtd-s1" */
	uint32_t alloc_type;     /* IOMMU_HWPT_DATA_* */
	bool has_invalidate;
	uint32_t invalidate_type; /* IOMMU_HWPT_INVALIDATE_DATA_* */
};

/* The table, and its length (at most 32: policy keeps a bit per entry). */
extern const struct hwpt_data_kind hwpt_data_kinds[];
extern const size_t hwpt_data_n_kinds;

/* Index in the table, or -1. */
int hwpt_data_by_name(const char *name);
int hwpt_data_by_alloc_type(uint32_t type);
int hwpt_data_by_invalidate_type(uint32_t type);
/* "vtd-s1 selftest" for a bit set of table indexes; "" for none. */
void hwpt_data_format_set(uint32_t set, char *buf, size_t size);
