/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include "common/hwptdata.h"

/* include/uapi/linux/iommufd.h (6.12 and 7.2) and, for selftest, the
 * kernel's drivers/iommu/iommufd/iommufd_test.h. */
const struct hwpt_data_kind hwpt_data_kinds[] = {
	{ "vtd-s1", 1, true, 0 },              /* IOMMU_HWPT_DATA_VTD_S1 */
	{ "arm-smmuv3", 2, false, 0 },         /* 7.2; invalidated via a vIOMMU */
	{ "amd-guest", 3, false, 0 },          /* 7.2 */
	{ "selftest", 0xdead, true, 0xdeadbeef }, /* CONFIG_IOMMUFD_TEST */
};
const size_t hwpt_data_n_kinds = sizeof(hwpt_data_kinds) / sizeof(hwpt_data_kinds[0]);

int hwpt_data_by_name(const char *name)
{
	for (size_t i = 0; name && i < hwpt_data_n_kinds; i++)
		if (strcmp(hwpt_data_kinds[i].name, name) == 0)
			return (int)i;
	return -1;
}

int hwpt_data_by_alloc_type(uint32_t type)
{
	for (size_t i = 0; i < hwpt_data_n_kinds; i++)
		if (hwpt_data_kinds[i].alloc_type == type)
			return (int)i;
	return -1;
}

int hwpt_data_by_invalidate_type(uint32_t type)
{
	for (size_t i = 0; i < hwpt_data_n_kinds; i++)
		if (hwpt_data_kinds[i].has_invalidate &&
		    hwpt_data_kinds[i].invalidate_type == type)
			return (int)i;
	return -1;
}

void hwpt_data_format_set(uint32_t set, char *buf, size_t size)
{
	size_t at = 0;

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; i < hwpt_data_n_kinds && size; i++) {
		int n;

		if (!(set & (UINT32_C(1) << i)))
			continue;
		n = snprintf(buf + at, size - at, "%s%s", at ? " " : "",
			     hwpt_data_kinds[i].name);
		if (n < 0 || (size_t)n >= size - at)
			break;
		at += (size_t)n;
	}
}
