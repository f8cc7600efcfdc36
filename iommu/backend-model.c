/* SPDX-License-Identifier: MIT */
/*
 * struct backend_model: what of a kernel's build and machine decides the
 * IOVAs iommufd picks (see backend.h). Apart from backend.c so that the
 * guest programs, which link the kernel backend alone, have it too.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iommu/backend.h"

#define THP_SYSFS "/sys/kernel/mm/transparent_hugepage"

/* The host's HPAGE_PMD_SIZE as its THP sysfs says, or 0. */
static uint64_t host_hpage_size(void)
{
	FILE *f = fopen(THP_SYSFS "/hpage_pmd_size", "re");
	uint64_t v = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%" SCNu64, &v) != 1 || v == 0 || (v & (v - 1)))
		v = 0;
	fclose(f);
	return v;
}

int backend_model_init(struct backend_model *ret, int thp, uint64_t page_size)
{
	long host_page = sysconf(_SC_PAGESIZE);
	struct stat st;
	bool host_thp = stat(THP_SYSFS, &st) == 0 && S_ISDIR(st.st_mode);
	uint64_t hpage = 0;

	if (host_page <= 0)
		host_page = 4096;
	if (page_size == 0)
		page_size = (uint64_t)host_page;
	if (page_size < 4096 || page_size > 65536 || (page_size & (page_size - 1)))
		return -EINVAL;
	if (thp < 0)
		thp = host_thp;
	if (thp && host_thp && page_size == (uint64_t)host_page)
		hpage = host_hpage_size();
	if (thp && hpage <= page_size)
		hpage = page_size * (page_size / 8); /* a page of 8-byte PTEs */
	*ret = (struct backend_model){
		.thp = thp,
		.page_size = page_size,
		.hpage_size = thp ? hpage : 0,
	};
	return 0;
}

void backend_model_format(const struct backend_model *m, char *buf, size_t size)
{
	if (m->thp)
		snprintf(buf, size, "thp=yes hpage_size=%" PRIu64 " page_size=%" PRIu64,
			 m->hpage_size, m->page_size);
	else
		snprintf(buf, size, "thp=no page_size=%" PRIu64, m->page_size);
}
