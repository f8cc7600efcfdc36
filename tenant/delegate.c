/* SPDX-License-Identifier: MIT */
/*
 * Delegation (issue 17): what a tenant with Delegate=yes may be handed for
 * a VMM of its own -- a fresh iommufd context, the unbound VFIO cdev of a
 * device AllowDevice= names. The decisions live here; the tables keep
 * nothing of what is handed out (the receiver's process owns it).
 */
#include "tenant/tenant-internal.h"

static int check_delegate(const struct tenant *t, const char *what, struct err *e)
{
	char why[400];
	int r = check_not_orphaned(t, e);

	if (r < 0)
		return r;
	if (!t->pt)
		return err_set(e, EPERM,
			       "%s needs a policy section with Delegate=yes "
			       "(the daemon runs with --no-policy)", what);
	if (!t->pt->delegate)
		return err_set(e, EPERM, "tenant %s may not be handed %s: Delegate=no%s",
			       t->name, what, cite(t, POLICY_KEY_DELEGATE, why, sizeof(why)));
	return 0;
}

int tenant_context_delegate_mode(const struct tenant *t, uint64_t *ret_mode,
				 struct err *e)
{
	int r = check_delegate(t, "an iommufd context", e);

	if (r < 0)
		return r;
	*ret_mode = t->pt->rlimit_mode == POLICY_RLIMIT_PROCESS ? 1 : 0;
	return 0;
}

int tenant_device_delegate(const struct tenant *t, const char *address, int *ret_fd,
			   struct backend_device_info *ret_info, bool *ret_identified,
			   struct err *e)
{
	_cleanup_close_ int fd = -1;
	struct backend_device_info info;
	struct pci_address a;
	char dev[64], bdf[PCI_ADDRESS_LEN], why[400];
	int r = check_delegate(t, "a VFIO device file", e);

	if (r < 0)
		return r;
	if (!address || pci_parse_address(address, &a) < 0)
		return err_set(e, EINVAL, "\"%s\" is not a PCI address (DDDD:BB:SS.F or BB:SS.F)",
			       address ? address : "");
	pci_format_address(bdf, sizeof(bdf), a.domain, a.bus, a.slot, a.function);
	r = backend_device_open(t->backend, &a, &fd);
	if (r == -EOPNOTSUPP)
		return err_set(e, EOPNOTSUPP,
			       "the %s backend has no VFIO device files to hand out "
			       "(a delegated device is a real /dev/vfio/devices/vfioN)",
			       backend_name(t->backend));
	if (r == -ENOENT)
		return err_set(e, ENOENT, "no PCI device %s", bdf);
	if (r == -ENODEV)
		return err_set(e, ENODEV,
			       "PCI device %s has no VFIO cdev (not bound to vfio-pci, "
			       "or the kernel lacks CONFIG_VFIO_DEVICE_CDEV)", bdf);
	if (r < 0)
		return err_errno(e, r, "opening the VFIO cdev of %s", bdf);
	/* The identity the policy judges is the file's, from the kernel. */
	r = backend_device_identify(t->backend, fd, &info);
	if (r < 0)
		return err_errno(e, r, "identifying the VFIO cdev of %s", bdf);
	*ret_info = info;
	*ret_identified = true;
	backend_device_format(&info, dev, sizeof(dev));
	if (!policy_tenant_device_allowed(t->pt, info.vendor, info.device, bdf))
		return err_set(e, EPERM, "device %s is not in AllowDevice=%s", dev,
			       cite(t, POLICY_KEY_ALLOW_DEVICE, why, sizeof(why)));
	*ret_fd = TAKE_FD(fd);
	return 0;
}
