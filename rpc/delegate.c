/* SPDX-License-Identifier: MIT */
/*
 * OpenContext and OpenDevice: the hand-off to VMMs (issue 17). Each reply
 * carries one fd the daemon keeps no copy of; the tenant layer decides
 * (Delegate=, AllowDevice=, RlimitMode=), the audit record says who got
 * what: the device, or the context's accounting mode.
 */
#include "iommu/backend-kernel.h"
#include "rpc/rpc-internal.h"

static const char *mode_name(uint64_t mode)
{
	return mode ? "process" : "user";
}

int h_open_context(struct rpc_ctx *x)
{
	Ioasd__OpenContextReply *r = &x->body.open_context;
	const struct rpc_env *env = x->c->env;
	uint64_t mode, got;
	int fd = -1, ret;

	ret = tenant_context_delegate_mode(T(x), &mode, &x->err);
	if (ret < 0)
		return ret;
	ret = rpc_check_fd_reply(x, "an iommufd context");
	if (ret < 0)
		return ret;
	if (backend_sim_model(env->backend))
		return err_set(&x->err, EOPNOTSUPP,
			       "the sim backend has no iommufd context to hand out "
			       "(a delegated context is a real /dev/iommu file: run the "
			       "daemon with the kernel backend)");
	if (!env->open_context)
		return err_set(&x->err, ESRCH, "this daemon makes no delegated contexts");
	ret = env->open_context(env->userdata, mode, &fd, &x->err);
	if (ret < 0)
		return ret;
	/* What the receiver gets is what the kernel says it is. */
	ret = backend_kernel_context_mode(fd, &got);
	if (ret < 0 || got != mode) {
		safe_close(fd);
		if (ret < 0)
			return err_errno(&x->err, ret, "reading back the context's RLIMIT_MODE");
		return err_set(&x->err, EIO, "the context's RLIMIT_MODE is %s, not %s",
			       mode_name(got), mode_name(mode));
	}
	x->out_fd = fd;
	x->has_out_fd = true;
	ioasd__open_context_reply__init(r);
	r->rlimit_mode = (char *)mode_name(mode);
	x->resp->result_case = IOASD__RESPONSE__RESULT_OPEN_CONTEXT;
	x->resp->open_context = r;
	return 0;
}

int h_open_device(struct rpc_ctx *x)
{
	Ioasd__DeviceInfo *r = &x->body.open_device;
	int fd = -1, ret;

	ret = rpc_check_fd_reply(x, "a device file");
	if (ret < 0)
		return ret;
	ret = tenant_device_delegate(T(x), x->req->open_device->pci_address, &fd,
				     &x->dev_info, &x->has_dev, &x->err);
	/* The identity is audited whether or not the hand-out is allowed. */
	if (x->has_dev)
		backend_device_format(&x->dev_info, x->dev_desc, sizeof(x->dev_desc));
	if (ret < 0)
		return ret;
	x->out_fd = fd;
	x->has_out_fd = true;
	device_info_fill(r, 0, 0, &x->dev_info, x->dev_pci, x->dev_name);
	x->resp->result_case = IOASD__RESPONSE__RESULT_OPEN_DEVICE;
	x->resp->open_device = r;
	return 0;
}

/* The audit's note for a hand-out: which accounting the context got. */
void fill_open_context(struct audit_record *a, const Ioasd__Request *req,
		       const Ioasd__Response *resp)
{
	(void)req;
	if (resp->result_case == IOASD__RESPONSE__RESULT_OPEN_CONTEXT)
		a->reason = resp->open_context->rlimit_mode[0] == 'p' ?
			"delegated iommufd context, RlimitMode=process" :
			"delegated iommufd context, RlimitMode=user";
}

void fill_open_device(struct audit_record *a, const Ioasd__Request *req,
		      const Ioasd__Response *resp)
{
	(void)req;
	if (resp->result_case == IOASD__RESPONSE__RESULT_OPEN_DEVICE)
		a->reason = "delegated VFIO device file, unbound";
}
