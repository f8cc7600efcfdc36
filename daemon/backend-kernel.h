/* SPDX-License-Identifier: MIT */
/*
 * Kernel-backend extras that are not part of struct backend_ops: code that
 * must issue ioctls the broker does not wrap (VFIO cdev binding in the
 * real-kernel tests, the iommufd self-test commands) needs the context fd.
 */
#pragma once

#include "backend.h"

/*
 * The /dev/iommu context fd of a kernel backend, still owned by the backend
 * (do not close it). -EINVAL when b is not a kernel backend.
 */
int backend_kernel_fd(struct backend *b);
