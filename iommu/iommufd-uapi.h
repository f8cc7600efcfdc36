/* SPDX-License-Identifier: MIT */
/*
 * The part of the Linux iommufd uAPI (and of the VFIO cdev uAPI) that ioasd
 * uses, written down here from the documented ABI because build machines do
 * not all carry <linux/iommufd.h>. Names carry our own IOFD_ / iofd_ prefix so
 * that this header can sit next to the kernel's if one is ever included.
 *
 * ABI rules these structs follow (they are the kernel's, restated):
 *  - every iommufd ioctl is _IO(';', 0x80 + n) and takes a pointer to a
 *    struct whose first u32 is its own size; the kernel accepts any size
 *    from the oldest layout up, and requires unknown trailing bytes to be 0;
 *  - 64-bit fields are 8-byte aligned on every architecture (hence the
 *    explicit alignment below, which matters on 32-bit x86);
 *  - a flags bit or a reserved field the kernel does not know is refused
 *    with EOPNOTSUPP; an unknown ioctl number fails with ENOTTY.
 *
 * Every size and offset is pinned with a _Static_assert: a wrong layout is a
 * build failure, never a silent corruption of an ioctl argument.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

typedef uint64_t iofd_u64 __attribute__((aligned(8)));

#define IOFD_ASSERT_SIZE(type, n) \
	_Static_assert(sizeof(struct type) == (n), "size of " #type)
#define IOFD_ASSERT_OFF(type, field, n)                       \
	_Static_assert(offsetof(struct type, field) == (n), \
		       "offset of " #type "." #field)

/* ------------------------------------------------------------ iommufd */

#define IOFD_IOCTL_TYPE ';'
#define IOFD_CMD(n) _IO(IOFD_IOCTL_TYPE, 0x80 + (n))

/* Command numbers (0x80 + n); fixed forever once a kernel shipped them. */
#define IOFD_NR_DESTROY 0x00
#define IOFD_NR_IOAS_ALLOC 0x01
#define IOFD_NR_IOAS_ALLOW_IOVAS 0x02
#define IOFD_NR_IOAS_COPY 0x03
#define IOFD_NR_IOAS_IOVA_RANGES 0x04
#define IOFD_NR_IOAS_MAP 0x05
#define IOFD_NR_IOAS_UNMAP 0x06
#define IOFD_NR_OPTION 0x07
#define IOFD_NR_HWPT_ALLOC 0x09 /* Linux 6.6 and later */
#define IOFD_NR_GET_HW_INFO 0x0a
#define IOFD_NR_HWPT_INVALIDATE 0x0d /* Linux 6.8 and later */
#define IOFD_NR_VIOMMU_ALLOC 0x10 /* Linux 6.13 and later */
#define IOFD_NR_VDEVICE_ALLOC 0x11
#define IOFD_NR_VEVENTQ_ALLOC 0x13 /* Linux 6.15 and later */
#define IOFD_NR_IOAS_MAP_FILE 0x0f /* Linux 6.13 and later */
#define IOFD_NR_TEST 0x20 /* only with CONFIG_IOMMUFD_TEST */

#define IOFD_DESTROY IOFD_CMD(IOFD_NR_DESTROY)
#define IOFD_IOAS_ALLOC IOFD_CMD(IOFD_NR_IOAS_ALLOC)
#define IOFD_IOAS_ALLOW_IOVAS IOFD_CMD(IOFD_NR_IOAS_ALLOW_IOVAS)
#define IOFD_IOAS_COPY IOFD_CMD(IOFD_NR_IOAS_COPY)
#define IOFD_IOAS_IOVA_RANGES IOFD_CMD(IOFD_NR_IOAS_IOVA_RANGES)
#define IOFD_IOAS_MAP IOFD_CMD(IOFD_NR_IOAS_MAP)
#define IOFD_IOAS_UNMAP IOFD_CMD(IOFD_NR_IOAS_UNMAP)
#define IOFD_OPTION IOFD_CMD(IOFD_NR_OPTION)
#define IOFD_IOAS_MAP_FILE IOFD_CMD(IOFD_NR_IOAS_MAP_FILE)
#define IOFD_HWPT_ALLOC IOFD_CMD(IOFD_NR_HWPT_ALLOC)
#define IOFD_GET_HW_INFO IOFD_CMD(IOFD_NR_GET_HW_INFO)
#define IOFD_HWPT_INVALIDATE IOFD_CMD(IOFD_NR_HWPT_INVALIDATE)
#define IOFD_VIOMMU_ALLOC IOFD_CMD(IOFD_NR_VIOMMU_ALLOC)
#define IOFD_VDEVICE_ALLOC IOFD_CMD(IOFD_NR_VDEVICE_ALLOC)
#define IOFD_VEVENTQ_ALLOC IOFD_CMD(IOFD_NR_VEVENTQ_ALLOC)
#define IOFD_TEST_CMD IOFD_CMD(IOFD_NR_TEST)

_Static_assert(IOFD_DESTROY == 0x3b80, "IOMMU_DESTROY number");
_Static_assert(IOFD_IOAS_MAP == 0x3b85, "IOMMU_IOAS_MAP number");
_Static_assert(IOFD_IOAS_MAP_FILE == 0x3b8f, "IOMMU_IOAS_MAP_FILE number");
_Static_assert(IOFD_TEST_CMD == 0x3ba0, "IOMMU_TEST_CMD number");
_Static_assert(IOFD_HWPT_ALLOC == 0x3b89, "IOMMU_HWPT_ALLOC number");
_Static_assert(IOFD_GET_HW_INFO == 0x3b8a, "IOMMU_GET_HW_INFO number");
_Static_assert(IOFD_HWPT_INVALIDATE == 0x3b8d, "IOMMU_HWPT_INVALIDATE number");
_Static_assert(IOFD_VIOMMU_ALLOC == 0x3b90, "IOMMU_VIOMMU_ALLOC number");
_Static_assert(IOFD_VEVENTQ_ALLOC == 0x3b93, "IOMMU_VEVENTQ_ALLOC number");

/* Map / copy flags. */
#define IOFD_MAP_FIXED_IOVA (1u << 0)
#define IOFD_MAP_WRITEABLE (1u << 1)
#define IOFD_MAP_READABLE (1u << 2)

/* IOMMU_OPTION option ids and ops. */
#define IOFD_OPTION_RLIMIT_MODE 0
#define IOFD_OPTION_HUGE_PAGES 1
#define IOFD_OPTION_OP_SET 0
#define IOFD_OPTION_OP_GET 1

/* Destroy any object of the context by id. */
struct iofd_destroy {
	uint32_t size;
	uint32_t id;
};
IOFD_ASSERT_SIZE(iofd_destroy, 8);
IOFD_ASSERT_OFF(iofd_destroy, id, 4);

/* New, empty IOAS; flags must be 0. */
struct iofd_ioas_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t out_ioas_id;
};
IOFD_ASSERT_SIZE(iofd_ioas_alloc, 12);
IOFD_ASSERT_OFF(iofd_ioas_alloc, flags, 4);
IOFD_ASSERT_OFF(iofd_ioas_alloc, out_ioas_id, 8);

/* One IOVA interval, last inclusive. */
struct iofd_iova_range {
	iofd_u64 start;
	iofd_u64 last;
};
IOFD_ASSERT_SIZE(iofd_iova_range, 16);
IOFD_ASSERT_OFF(iofd_iova_range, last, 8);

/*
 * Read the usable IOVA intervals of an IOAS. num_iovas: in, room in the
 * array at allowed_iovas; out, how many intervals exist (EMSGSIZE when that
 * is more than the room; the array then holds the first ones that fitted).
 */
struct iofd_ioas_iova_ranges {
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas;
	uint32_t reserved;
	iofd_u64 allowed_iovas; /* user pointer to struct iofd_iova_range[] */
	iofd_u64 out_iova_alignment;
};
IOFD_ASSERT_SIZE(iofd_ioas_iova_ranges, 32);
IOFD_ASSERT_OFF(iofd_ioas_iova_ranges, ioas_id, 4);
IOFD_ASSERT_OFF(iofd_ioas_iova_ranges, num_iovas, 8);
IOFD_ASSERT_OFF(iofd_ioas_iova_ranges, reserved, 12);
IOFD_ASSERT_OFF(iofd_ioas_iova_ranges, allowed_iovas, 16);
IOFD_ASSERT_OFF(iofd_ioas_iova_ranges, out_iova_alignment, 24);

/* Replace the list of IOVA intervals that automatic allocation may use. */
struct iofd_ioas_allow_iovas {
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas;
	uint32_t reserved;
	iofd_u64 allowed_iovas; /* user pointer to struct iofd_iova_range[] */
};
IOFD_ASSERT_SIZE(iofd_ioas_allow_iovas, 24);
IOFD_ASSERT_OFF(iofd_ioas_allow_iovas, ioas_id, 4);
IOFD_ASSERT_OFF(iofd_ioas_allow_iovas, num_iovas, 8);
IOFD_ASSERT_OFF(iofd_ioas_allow_iovas, reserved, 12);
IOFD_ASSERT_OFF(iofd_ioas_allow_iovas, allowed_iovas, 16);

/* Map [user_va, user_va + length) at iova (in with FIXED_IOVA, else out). */
struct iofd_ioas_map {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	uint32_t reserved;
	iofd_u64 user_va;
	iofd_u64 length;
	iofd_u64 iova;
};
IOFD_ASSERT_SIZE(iofd_ioas_map, 40);
IOFD_ASSERT_OFF(iofd_ioas_map, flags, 4);
IOFD_ASSERT_OFF(iofd_ioas_map, ioas_id, 8);
IOFD_ASSERT_OFF(iofd_ioas_map, reserved, 12);
IOFD_ASSERT_OFF(iofd_ioas_map, user_va, 16);
IOFD_ASSERT_OFF(iofd_ioas_map, length, 24);
IOFD_ASSERT_OFF(iofd_ioas_map, iova, 32);

/* Like iofd_ioas_map, but the memory is [start, start + length) of file fd. */
struct iofd_ioas_map_file {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	int32_t fd;
	iofd_u64 start;
	iofd_u64 length;
	iofd_u64 iova;
};
IOFD_ASSERT_SIZE(iofd_ioas_map_file, 40);
IOFD_ASSERT_OFF(iofd_ioas_map_file, flags, 4);
IOFD_ASSERT_OFF(iofd_ioas_map_file, ioas_id, 8);
IOFD_ASSERT_OFF(iofd_ioas_map_file, fd, 12);
IOFD_ASSERT_OFF(iofd_ioas_map_file, start, 16);
IOFD_ASSERT_OFF(iofd_ioas_map_file, length, 24);
IOFD_ASSERT_OFF(iofd_ioas_map_file, iova, 32);

/* Map the pages behind [src_iova, +length) of src into dst. */
struct iofd_ioas_copy {
	uint32_t size;
	uint32_t flags;
	uint32_t dst_ioas_id;
	uint32_t src_ioas_id;
	iofd_u64 length;
	iofd_u64 dst_iova;
	iofd_u64 src_iova;
};
IOFD_ASSERT_SIZE(iofd_ioas_copy, 40);
IOFD_ASSERT_OFF(iofd_ioas_copy, flags, 4);
IOFD_ASSERT_OFF(iofd_ioas_copy, dst_ioas_id, 8);
IOFD_ASSERT_OFF(iofd_ioas_copy, src_ioas_id, 12);
IOFD_ASSERT_OFF(iofd_ioas_copy, length, 16);
IOFD_ASSERT_OFF(iofd_ioas_copy, dst_iova, 24);
IOFD_ASSERT_OFF(iofd_ioas_copy, src_iova, 32);

/* Unmap whole mappings inside [iova, +length); length out = bytes unmapped. */
struct iofd_ioas_unmap {
	uint32_t size;
	uint32_t ioas_id;
	iofd_u64 iova;
	iofd_u64 length;
};
IOFD_ASSERT_SIZE(iofd_ioas_unmap, 24);
IOFD_ASSERT_OFF(iofd_ioas_unmap, ioas_id, 4);
IOFD_ASSERT_OFF(iofd_ioas_unmap, iova, 8);
IOFD_ASSERT_OFF(iofd_ioas_unmap, length, 16);

/* Get or set one option; object_id is 0 for global options. */
struct iofd_option {
	uint32_t size;
	uint32_t option_id;
	uint16_t op;
	uint16_t reserved;
	uint32_t object_id;
	iofd_u64 val64;
};
IOFD_ASSERT_SIZE(iofd_option, 24);
IOFD_ASSERT_OFF(iofd_option, option_id, 4);
IOFD_ASSERT_OFF(iofd_option, op, 8);
IOFD_ASSERT_OFF(iofd_option, reserved, 10);
IOFD_ASSERT_OFF(iofd_option, object_id, 12);
IOFD_ASSERT_OFF(iofd_option, val64, 16);

/* ------------------------------------------------ hardware page tables */

/* IOMMU_HWPT_ALLOC flags (enum iommufd_hwpt_alloc_flags). */
#define IOFD_HWPT_ALLOC_NEST_PARENT (1u << 0)
#define IOFD_HWPT_ALLOC_DIRTY_TRACKING (1u << 1)
#define IOFD_HWPT_FAULT_ID_VALID (1u << 2)
#define IOFD_HWPT_ALLOC_PASID (1u << 3) /* Linux 6.15 and later */

/* enum iommu_hwpt_data_type: driver data of IOMMU_HWPT_ALLOC. */
#define IOFD_HWPT_DATA_NONE 0
#define IOFD_HWPT_DATA_VTD_S1 1
#define IOFD_HWPT_DATA_ARM_SMMUV3 2 /* 6.12: absent */
#define IOFD_HWPT_DATA_AMD_GUEST 3  /* 6.12: absent */
#define IOFD_HWPT_DATA_SELFTEST 0xdead /* CONFIG_IOMMUFD_TEST */

/* enum iommu_hwpt_invalidate_data_type. */
#define IOFD_HWPT_INVALIDATE_DATA_VTD_S1 0
#define IOFD_HWPT_INVALIDATE_DATA_SELFTEST 0xdeadbeef

/* enum iommu_hw_info_type. */
#define IOFD_HW_INFO_TYPE_NONE 0
#define IOFD_HW_INFO_TYPE_INTEL_VTD 1
#define IOFD_HW_INFO_TYPE_ARM_SMMUV3 2
#define IOFD_HW_INFO_TYPE_SELFTEST 0xfeedbeef

/* enum iommufd_hw_capabilities. */
#define IOFD_HW_CAP_DIRTY_TRACKING (1u << 0)
#define IOFD_HW_CAP_PCI_PASID_EXEC (1u << 1)
#define IOFD_HW_CAP_PCI_PASID_PRIV (1u << 2)
#define IOFD_HW_CAP_PCI_ATS_NOT_SUPPORTED (1u << 3) /* 7.2 */

/* Allocate a paging HWPT from an IOAS, or a nested one from a nesting
 * parent HWPT (7.2: or from a vIOMMU) with driver data. */
struct iofd_hwpt_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t dev_id;
	uint32_t pt_id;
	uint32_t out_hwpt_id;
	uint32_t reserved;
	uint32_t data_type;
	uint32_t data_len;
	iofd_u64 data_uptr;
	uint32_t fault_id;
	uint32_t reserved2;
};
IOFD_ASSERT_SIZE(iofd_hwpt_alloc, 48);
IOFD_ASSERT_OFF(iofd_hwpt_alloc, dev_id, 8);
IOFD_ASSERT_OFF(iofd_hwpt_alloc, pt_id, 12);
IOFD_ASSERT_OFF(iofd_hwpt_alloc, out_hwpt_id, 16);
IOFD_ASSERT_OFF(iofd_hwpt_alloc, data_type, 24);
IOFD_ASSERT_OFF(iofd_hwpt_alloc, data_len, 28);
IOFD_ASSERT_OFF(iofd_hwpt_alloc, data_uptr, 32);
IOFD_ASSERT_OFF(iofd_hwpt_alloc, fault_id, 40);
IOFD_ASSERT_OFF(iofd_hwpt_alloc, reserved2, 44);

/* What the IOMMU behind a bound device is. data_len in: the buffer's room;
 * out: the driver's length (the kernel copies the smaller, zero-fills the
 * rest of a larger buffer). 7.2 reads the type in with
 * IOMMU_HW_INFO_FLAG_INPUT_TYPE; 6.12 refuses any flag (EOPNOTSUPP). */
struct iofd_hw_info {
	uint32_t size;
	uint32_t flags;
	uint32_t dev_id;
	uint32_t data_len;
	iofd_u64 data_uptr;
	uint32_t out_data_type;
	uint8_t out_max_pasid_log2;
	uint8_t reserved[3];
	iofd_u64 out_capabilities;
};
IOFD_ASSERT_SIZE(iofd_hw_info, 40);
IOFD_ASSERT_OFF(iofd_hw_info, dev_id, 8);
IOFD_ASSERT_OFF(iofd_hw_info, data_len, 12);
IOFD_ASSERT_OFF(iofd_hw_info, data_uptr, 16);
IOFD_ASSERT_OFF(iofd_hw_info, out_data_type, 24);
IOFD_ASSERT_OFF(iofd_hw_info, out_max_pasid_log2, 28);
IOFD_ASSERT_OFF(iofd_hw_info, out_capabilities, 32);

/* Invalidate caches of a nested HWPT (7.2: or a vIOMMU) with entry_num
 * entries of entry_len bytes; entry_num out: how many were handled. */
struct iofd_hwpt_invalidate {
	uint32_t size;
	uint32_t hwpt_id;
	iofd_u64 data_uptr;
	uint32_t data_type;
	uint32_t entry_len;
	uint32_t entry_num;
	uint32_t reserved;
};
IOFD_ASSERT_SIZE(iofd_hwpt_invalidate, 32);
IOFD_ASSERT_OFF(iofd_hwpt_invalidate, data_uptr, 8);
IOFD_ASSERT_OFF(iofd_hwpt_invalidate, data_type, 16);
IOFD_ASSERT_OFF(iofd_hwpt_invalidate, entry_len, 20);
IOFD_ASSERT_OFF(iofd_hwpt_invalidate, entry_num, 24);

/* ------------------------------------------- vIOMMU (Linux 6.13 and later) */

/* enum iommu_viommu_type; the self-test's is CONFIG_IOMMUFD_TEST only. */
#define IOFD_VIOMMU_TYPE_DEFAULT 0
#define IOFD_VIOMMU_TYPE_ARM_SMMUV3 1
#define IOFD_VIOMMU_TYPE_SELFTEST 0xdeadbeef
#define IOFD_VEVENTQ_TYPE_SELFTEST 0xbeefbeef
#define IOFD_VIOMMU_INVALIDATE_DATA_SELFTEST 0xdeadbeef

/* A vIOMMU for a device's IOMMU on a nesting parent HWPT. */
struct iofd_viommu_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t type;
	uint32_t dev_id;
	uint32_t hwpt_id;
	uint32_t out_viommu_id;
	uint32_t data_len;   /* 6.15 and later (0 before: reserved) */
	uint32_t reserved;
	iofd_u64 data_uptr;
};
IOFD_ASSERT_SIZE(iofd_viommu_alloc, 40);
IOFD_ASSERT_OFF(iofd_viommu_alloc, hwpt_id, 16);
IOFD_ASSERT_OFF(iofd_viommu_alloc, out_viommu_id, 20);
IOFD_ASSERT_OFF(iofd_viommu_alloc, data_uptr, 32);

/* A device's virtual id (vSID, vRID) in a vIOMMU. */
struct iofd_vdevice_alloc {
	uint32_t size;
	uint32_t viommu_id;
	uint32_t dev_id;
	uint32_t out_vdevice_id;
	iofd_u64 virt_id;
};
IOFD_ASSERT_SIZE(iofd_vdevice_alloc, 24);
IOFD_ASSERT_OFF(iofd_vdevice_alloc, out_vdevice_id, 12);
IOFD_ASSERT_OFF(iofd_vdevice_alloc, virt_id, 16);

/* A queue of a vIOMMU's events: read() from out_veventq_fd gives
 * struct iommufd_vevent_header {u32 flags, sequence} + the type's data. */
struct iofd_veventq_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t viommu_id;
	uint32_t type;
	uint32_t veventq_depth;
	uint32_t out_veventq_id;
	uint32_t out_veventq_fd;
	uint32_t reserved;
};
IOFD_ASSERT_SIZE(iofd_veventq_alloc, 32);
IOFD_ASSERT_OFF(iofd_veventq_alloc, veventq_depth, 16);
IOFD_ASSERT_OFF(iofd_veventq_alloc, out_veventq_fd, 24);

/* ------------------------------------------- iommufd self-test (debug) */
/*
 * Present only in kernels built with CONFIG_IOMMUFD_TEST: a software "mock"
 * IOMMU domain and device that can be attached to an IOAS, and a check that
 * the mock domain translates an IOVA range to given user memory.
 */
#define IOFD_TEST_OP_MOCK_DOMAIN 2
#define IOFD_TEST_OP_MD_CHECK_MAP 3
#define IOFD_TEST_OP_MOCK_DOMAIN_REPLACE 10 /* .id = the mock device */
#define IOFD_TEST_OP_MD_CHECK_IOTLB 14 /* .id = nested HWPT */
#define IOFD_TEST_OP_DEV_CHECK_CACHE 16 /* .id = the mock's device object */
#define IOFD_TEST_OP_TRIGGER_VEVENT 17 /* 7.2: the mock device's vEVENT */

struct iofd_test_cmd {
	uint32_t size;
	uint32_t op;
	uint32_t id; /* IOAS for MOCK_DOMAIN, domain (hwpt) for MD_CHECK_MAP */
	uint32_t reserved;
	union {
		struct {
			uint32_t out_stdev_id;
			uint32_t out_hwpt_id;
			uint32_t out_idev_id;
		} mock_domain;
		struct {
			iofd_u64 iova;
			iofd_u64 length;
			iofd_u64 uptr;
		} check_map;
		struct {
			uint32_t pt_id; /* in: IOAS or HWPT; out: the HWPT */
		} mock_domain_replace;
		struct {
			uint32_t dev_id; /* the mock's device object */
		} trigger_vevent;
		struct {
			uint32_t id;    /* which of the mock's IOTLBs (0..3) */
			uint32_t iotlb; /* the value expected there */
		} check_iotlb;
		struct {
			uint32_t id;    /* which of the mock device's caches (0..3) */
			uint32_t cache; /* the value expected there */
		} check_dev_cache;
		/* the largest member of the kernel's union is 48 bytes */
		uint8_t union_room[48];
	};
	uint32_t last; /* unused; marks the end the kernel requires */
};
IOFD_ASSERT_SIZE(iofd_test_cmd, 72);
IOFD_ASSERT_OFF(iofd_test_cmd, op, 4);
IOFD_ASSERT_OFF(iofd_test_cmd, id, 8);
IOFD_ASSERT_OFF(iofd_test_cmd, mock_domain.out_stdev_id, 16);
IOFD_ASSERT_OFF(iofd_test_cmd, mock_domain.out_hwpt_id, 20);
IOFD_ASSERT_OFF(iofd_test_cmd, mock_domain.out_idev_id, 24);
IOFD_ASSERT_OFF(iofd_test_cmd, check_map.iova, 16);
IOFD_ASSERT_OFF(iofd_test_cmd, check_map.length, 24);
IOFD_ASSERT_OFF(iofd_test_cmd, check_map.uptr, 32);
IOFD_ASSERT_OFF(iofd_test_cmd, check_iotlb.iotlb, 20);
IOFD_ASSERT_OFF(iofd_test_cmd, check_dev_cache.cache, 20);
IOFD_ASSERT_OFF(iofd_test_cmd, mock_domain_replace.pt_id, 16);
IOFD_ASSERT_OFF(iofd_test_cmd, last, 64);

/* ------------------------------------------------------------ VFIO cdev */
/*
 * VFIO uses the same ioctl type character with its own base (100). These
 * are issued on a /dev/vfio/devices/vfioN fd; their first field is argsz.
 */
#define IOFD_VFIO_BASE 100
#define IOFD_VFIO_DEVICE_BIND_IOMMUFD _IO(IOFD_IOCTL_TYPE, IOFD_VFIO_BASE + 18)
#define IOFD_VFIO_DEVICE_ATTACH_IOMMUFD_PT \
	_IO(IOFD_IOCTL_TYPE, IOFD_VFIO_BASE + 19)
#define IOFD_VFIO_DEVICE_DETACH_IOMMUFD_PT \
	_IO(IOFD_IOCTL_TYPE, IOFD_VFIO_BASE + 20)

_Static_assert(IOFD_VFIO_DEVICE_BIND_IOMMUFD == 0x3b76, "VFIO bind number");

/* Bind a device fd to an iommufd context; out_devid is its object id. */
struct iofd_vfio_bind_iommufd {
	uint32_t argsz;
	uint32_t flags;
	int32_t iommufd;
	uint32_t out_devid;
};
IOFD_ASSERT_SIZE(iofd_vfio_bind_iommufd, 16);
IOFD_ASSERT_OFF(iofd_vfio_bind_iommufd, flags, 4);
IOFD_ASSERT_OFF(iofd_vfio_bind_iommufd, iommufd, 8);
IOFD_ASSERT_OFF(iofd_vfio_bind_iommufd, out_devid, 12);

/*
 * Attach a bound device to an IOAS or HWPT; pt_id out is the HWPT actually
 * used. Newer kernels added pasid, read only with their PASID flag; older
 * ones read the first 12 bytes and ignore the rest of argsz.
 */
struct iofd_vfio_attach_pt {
	uint32_t argsz;
	uint32_t flags;
	uint32_t pt_id;
	uint32_t pasid;
};
IOFD_ASSERT_SIZE(iofd_vfio_attach_pt, 16);
IOFD_ASSERT_OFF(iofd_vfio_attach_pt, flags, 4);
IOFD_ASSERT_OFF(iofd_vfio_attach_pt, pt_id, 8);
IOFD_ASSERT_OFF(iofd_vfio_attach_pt, pasid, 12);

struct iofd_vfio_detach_pt {
	uint32_t argsz;
	uint32_t flags;
};
IOFD_ASSERT_SIZE(iofd_vfio_detach_pt, 8);
IOFD_ASSERT_OFF(iofd_vfio_detach_pt, flags, 4);
