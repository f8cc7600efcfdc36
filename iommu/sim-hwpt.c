/* SPDX-License-Identifier: MIT */
/*
 * The sim: hardware page tables (IOMMU_HWPT_ALLOC, IOMMU_HWPT_INVALIDATE),
 * IOMMU_GET_HW_INFO, and the two IOMMU drivers a sim device can sit behind.
 *
 * Modelled kernel: 6.12 (+ its stable fixes), as for the rest of the sim.
 *
 * Rule                                  mirrors (kernel function)
 * ------------------------------------  -----------------------------------
 * GET_HW_INFO: dev_id not a device of   iommufd_get_hw_info,
 *   this context -> ENOENT; else the    iommufd_get_device; the drivers'
 *   driver's type, data, caps.          hw_info.
 * HWPT_ALLOC: data_type NONE with data, iommufd_hwpt_alloc (a pt_id
 *   or a type without data -> EINVAL;   that names no object is EINVAL,
 *   unknown dev_id -> ENOENT; unknown   not ENOENT: measured on 6.12
 *   pt_id -> EINVAL; pt_id a nested     and 7.2).
 *   HWPT -> EINVAL.
 * From an IOAS (paging): a flag other  iommufd_hwpt_paging_alloc (6.12
 *   than NEST_PARENT|DIRTY_TRACKING     valid_flags); the driver's
 *   (6.12: FAULT_ID_VALID and PASID     domain_alloc_user.
 *   too) -> EOPNOTSUPP; then the
 *   driver's rules below; the HWPT's
 *   domain joins the IOAS (alignment   iopt_table_add_domain.
 *   rules as a device attach; what is
 *   outside its aperture is reserved)
 *   and holds it: DESTROY(ioas) ->
 *   EBUSY.
 * From a paging HWPT (nested): a flag  iommufd_hwpt_nested_alloc.
 *   other than FAULT_ID_VALID, or no
 *   data -> EOPNOTSUPP; parent not
 *   NEST_PARENT or of another driver
 *   -> EINVAL; then the driver's data
 *   rules. FAULT_ID_VALID (both       iommufd_get_fault.
 *   kinds): fault_id no fault queue
 *   -> ENOENT; the HWPT holds it
 *   (sim-faults.c). The
 *   nested HWPT holds its parent.
 * DESTROY of an HWPT: a device on it or iommufd_object_remove
 *   a nested child -> EBUSY.            (refcount_dec_if_one).
 * HWPT_INVALIDATE: entry_num with no    iommufd_hwpt_invalidate (6.12:
 *   entry_len -> EINVAL; hwpt_id not a  iommufd_get_hwpt_nested; 7.2 says
 *   nested HWPT -> ENOENT (7.2: EINVAL  EINVAL for another object type);
 *   for a paging one); then the driver  cache_invalidate_user.
 *   handles entries in order and
 *   entry_num says how many it did,
 *   failure or not.
 * Attach onto an HWPT (sim-device.c):  iommufd_device_attach/replace,
 *   an HWPT of another driver ->        __iommu_attach_group.
 *   EINVAL; the device holds the HWPT.
 *
 * The drivers:
 *   vtd   the rig's emulated VT-d as edu sees it (QEMU 7.2, legacy mode):
 *         GET_HW_INFO type INTEL_VTD, struct iommu_hw_info_vtd {flags 1,
 *         cap 0xd2008c22260206, ecap 0xf00f4a} (measured), caps 0;
 *         NEST_PARENT, DIRTY_TRACKING or data on a paging HWPT ->
 *         EOPNOTSUPP (no ECAP.NEST, SLADS: intel_iommu_domain_alloc_user).
 *   mock  the kernel's self-test driver (iommufd/selftest.c): GET_HW_INFO
 *         type SELFTEST {flags 0, test_reg 0xdeadbeef}, caps DIRTY_TRACKING;
 *         paging: data -> EOPNOTSUPP; nested: type not
 *         IOMMU_HWPT_DATA_SELFTEST or a flag -> EOPNOTSUPP, data shorter
 *         than {u32 iotlb} -> EINVAL, longer with a non-zero tail -> E2BIG
 *         (copy_struct_from_user); every IOTLB starts as iotlb.
 *         Invalidate: type not IOMMU_HWPT_INVALIDATE_DATA_SELFTEST ->
 *         EINVAL; per entry {u32 flags, u32 iotlb_id}: entry_len < 8 ->
 *         EINVAL, a longer one with a non-zero tail -> E2BIG, a flag other
 *         than ALL (1) -> EOPNOTSUPP, iotlb_id > 3 -> EINVAL; ALL clears
 *         every IOTLB, else the one named.
 */
#include <errno.h>
#include "iommu/iommufd-uapi.h"
#include "iommu/sim-internal.h"

#define SIM_MOCK_TEST_REG UINT32_C(0xdeadbeef)
#define SIM_MOCK_INV_ALL 1u       /* IOMMU_TEST_INVALIDATE_FLAG_ALL */
#define SIM_MOCK_INV_ENTRY 8u     /* struct iommu_hwpt_invalidate_selftest */
#define SIM_MOCK_NEST_DATA 4u     /* struct iommu_hwpt_selftest */

struct sim_hwpt *sim_get_hwpt(struct sim *s, uint32_t id)
{
	struct sim_hwpt key = { .id = id };

	return RB_FIND(sim_hwpt_tree, &s->hwpts, &key);
}

static void hwpt_unlink(struct sim *s, struct sim_hwpt *h)
{
	struct sim_ioas *io;

	RB_REMOVE(sim_hwpt_tree, &s->hwpts, h);
	sim_hwpt_release_extras(h);
	if (h->parent)
		h->parent->users--;
	else if ((io = sim_get_ioas(s, h->ioas)))
		sim_domain_remove(io, h);
	free(h);
}

int sim_hwpt_destroy(struct sim *s, struct sim_hwpt *h)
{
	if (h->users)
		return -EBUSY;
	hwpt_unlink(s, h);
	return 0;
}

/* At close: children first (highest ids were allocated last, but a
 * nested HWPT can only be younger than its parent, so descending order
 * frees every child before its parent). */
void sim_hwpts_free(struct sim *s)
{
	struct sim_hwpt *h;

	while ((h = RB_MAX(sim_hwpt_tree, &s->hwpts)))
		hwpt_unlink(s, h);
}

/* copy_struct_from_user: bytes past what the kernel knows must be 0. */
static bool tail_is_zero(const uint8_t *p, size_t from, size_t len)
{
	for (size_t i = from; i < len; i++)
		if (p[i])
			return false;
	return true;
}

int sim_hw_info(struct backend *b, uint32_t dev_id, struct backend_hw_info *ret)
{
	struct sim_binding *bd = sim_binding_by_id(to_sim(b), dev_id);
	struct backend_hw_info info = { 0 };
	uint32_t u32;
	uint64_t u64;

	if (!bd)
		return -ENOENT;
	if (bd->driver == SIM_DRIVER_MOCK) {
		/* struct iommu_test_hw_info { u32 flags; u32 test_reg; } */
		info.type = IOFD_HW_INFO_TYPE_SELFTEST;
		info.capabilities = IOFD_HW_CAP_DIRTY_TRACKING;
		info.data_len = 8;
		u32 = SIM_MOCK_TEST_REG;
		memcpy(info.data + 4, &u32, 4);
	} else {
		/* struct iommu_hw_info_vtd { u32 flags; u32 pad; u64 cap_reg;
		 * u64 ecap_reg; }: ERRATA_772415 flag, QEMU 7.2's registers */
		info.type = IOFD_HW_INFO_TYPE_INTEL_VTD;
		info.data_len = 24;
		u32 = 1;
		memcpy(info.data, &u32, 4);
		u64 = UINT64_C(0xd2008c22260206);
		memcpy(info.data + 8, &u64, 8);
		u64 = UINT64_C(0xf00f4a);
		memcpy(info.data + 16, &u64, 8);
	}
	*ret = info;
	return 0;
}

static int driver_paging(const struct sim_binding *bd, uint32_t flags,
			 bool has_data)
{
	if (has_data)
		return -EOPNOTSUPP;
	if (bd->driver == SIM_DRIVER_VTD &&
	    (flags & (BACKEND_HWPT_NEST_PARENT | BACKEND_HWPT_DIRTY_TRACKING)))
		return -EOPNOTSUPP;
	return 0;
}

static int driver_nested(const struct sim_binding *bd,
			 const struct backend_hwpt_alloc *a, struct sim_hwpt *h)
{
	uint32_t iotlb;

	/* A VT-d parent cannot be a nesting parent here: never reached. */
	if (bd->driver != SIM_DRIVER_MOCK)
		return -EOPNOTSUPP;
	if (a->data_type != IOFD_HWPT_DATA_SELFTEST)
		return -EOPNOTSUPP;
	if (a->data_len < SIM_MOCK_NEST_DATA)
		return -EINVAL;
	if (!tail_is_zero(a->data, SIM_MOCK_NEST_DATA, a->data_len))
		return -E2BIG;
	memcpy(&iotlb, a->data, sizeof(iotlb));
	for (size_t i = 0; i < SIM_MOCK_IOTLBS; i++)
		h->iotlb[i] = iotlb;
	return 0;
}

int sim_hwpt_alloc(struct backend *b, const struct backend_hwpt_alloc *a,
		   uint32_t *ret_id)
{
	struct sim *s = to_sim(b);
	/* 7.2 takes FAULT_ID_VALID and PASID on a paging HWPT too. */
	const uint32_t paging_flags =
		BACKEND_HWPT_NEST_PARENT | BACKEND_HWPT_DIRTY_TRACKING |
		(s->k72 ? BACKEND_HWPT_FAULT_ID_VALID | BACKEND_HWPT_PASID : 0);
	struct sim_hwpt *h, *parent = NULL;
	struct sim_binding *bd;
	struct sim_ioas *io;
	uint32_t id;
	int r;

	if ((a->data_type == IOFD_HWPT_DATA_NONE) != (a->data_len == 0))
		return -EINVAL;
	if (a->data_len && !a->data)
		return -EFAULT;
	bd = sim_binding_by_id(s, a->dev_id);
	if (!bd)
		return -ENOENT;
	io = sim_get_ioas(s, a->pt_id);
	if (!io) {
		parent = sim_get_hwpt(s, a->pt_id);
		if (!parent)
			return -EINVAL; /* iommufd_get_object failed: rc = -EINVAL */
		if (parent->parent)
			return -EINVAL; /* a nested HWPT is no pt */
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->flags = a->flags;
	h->driver = bd->driver;
	if (io) {
		r = a->flags & ~paging_flags ? -EOPNOTSUPP :
			(a->flags & BACKEND_HWPT_NEST_PARENT) &&
			(a->flags & BACKEND_HWPT_FAULT_ID_VALID) ? -EOPNOTSUPP :
			driver_paging(bd, a->flags, a->data_len != 0);
		if (r == 0) {
			const struct sim_domain_shape *sh =
				sim_driver_domain(bd->driver, false);

			r = sim_domain_add(io, h, sh->reserved, sh->n_reserved,
					   sh->alignment);
		}
		h->ioas = io->id;
	} else {
		if ((a->flags & ~(BACKEND_HWPT_FAULT_ID_VALID |
				  (s->k72 ? BACKEND_HWPT_PASID : 0))) ||
		    !a->data_len)
			r = -EOPNOTSUPP;
		else if (!(parent->flags & BACKEND_HWPT_NEST_PARENT) ||
			 parent->driver != bd->driver)
			r = -EINVAL;
		else
			r = driver_nested(bd, a, h);
		h->ioas = parent->ioas;
	}
	if (r == 0 && (a->flags & BACKEND_HWPT_FAULT_ID_VALID))
		r = sim_hwpt_hold_fault(s, h, a->fault_id);
	if (r == 0)
		r = sim_alloc_id(s, &id);
	if (r < 0) {
		if (io)
			sim_domain_remove(io, h);
		sim_hwpt_release_extras(h);
		free(h);
		return r;
	}
	h->id = id;
	if (parent) {
		h->parent = parent;
		parent->users++;
	}
	RB_INSERT(sim_hwpt_tree, &s->hwpts, h);
	*ret_id = id;
	return 0;
}

int sim_hwpt_invalidate(struct backend *b, uint32_t id, uint32_t data_type,
			const void *entries, uint32_t entry_len,
			uint32_t *entry_num)
{
	struct sim_hwpt *h;
	uint32_t n = *entry_num, done = 0, flags, iotlb_id;
	const uint8_t *e;
	int r = 0;

	*entry_num = 0;
	if (n && (!entries || !entry_len))
		return -EINVAL;
	h = sim_get_hwpt(to_sim(b), id);
	if (!h || !h->parent)
		return -ENOENT;
	/* Only the mock can have nested HWPTs in the sim. */
	if (data_type != IOFD_HWPT_INVALIDATE_DATA_SELFTEST)
		return -EINVAL;
	for (; done < n; done++) {
		e = (const uint8_t *)entries + (size_t)done * entry_len;
		if (entry_len < SIM_MOCK_INV_ENTRY) {
			r = -EINVAL;
			break;
		}
		if (!tail_is_zero(e, SIM_MOCK_INV_ENTRY, entry_len)) {
			r = -E2BIG;
			break;
		}
		memcpy(&flags, e, 4);
		memcpy(&iotlb_id, e + 4, 4);
		if (flags & ~SIM_MOCK_INV_ALL) {
			r = -EOPNOTSUPP;
			break;
		}
		if (iotlb_id >= SIM_MOCK_IOTLBS) {
			r = -EINVAL;
			break;
		}
		if (flags & SIM_MOCK_INV_ALL)
			memset(h->iotlb, 0, sizeof(h->iotlb));
		else
			h->iotlb[iotlb_id] = 0;
	}
	*entry_num = done;
	return r;
}

/*
 * vIOMMU, vDEVICE, vEVENTQ: the modelled kernel (6.12) has no such ioctl
 * (ENOTTY, measured on 6.12). Their rules are the 7.2 kernel's to state,
 * in the real-kernel suite.
 */
int sim_viommu_alloc(struct backend *b, const struct backend_viommu_alloc *a,
		     uint32_t *ret_id)
{
	(void)b, (void)a, (void)ret_id;
	return -ENOTTY;
}

int sim_vdevice_alloc(struct backend *b, uint32_t viommu, uint32_t dev_id,
		      uint64_t virt_id, uint32_t *ret_id)
{
	(void)b, (void)viommu, (void)dev_id, (void)virt_id, (void)ret_id;
	return -ENOTTY;
}

int sim_veventq_alloc(struct backend *b, uint32_t viommu, uint32_t type,
		      uint32_t depth, uint32_t *ret_id, int *ret_fd)
{
	(void)b, (void)viommu, (void)type, (void)depth, (void)ret_id, (void)ret_fd;
	return -ENOTTY;
}

int backend_sim_check_iotlb(struct backend *b, uint32_t hwpt,
			    uint32_t iotlb_id, uint32_t expect)
{
	struct sim_hwpt *h;

	if (!b || b->ops != &sim_ops)
		return -EINVAL;
	h = sim_get_hwpt(to_sim(b), hwpt);
	if (!h || !h->parent)
		return -ENOENT;
	if (iotlb_id >= SIM_MOCK_IOTLBS || h->iotlb[iotlb_id] != expect)
		return -EINVAL;
	return 0;
}
