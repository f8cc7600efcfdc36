/* SPDX-License-Identifier: MIT */
/*
 * ioasctl inside: the state of one invocation (struct ctl) and what the
 * files of ioasctl give each other:
 *   main.c        options, the command table, usage, the connection
 *   output.c      JSON and text printers, error messages and exit codes
 *   args.c        numbers, sizes, handles, $variables, --options
 *   batch.c       the batch interpreter: commands grouped into Batch requests
 *   ops.c         commands that can go in a batch: sent alone or batched
 *   demo.c        the demo, a table of steps
 *   cmd-ioas.c    IOASes: alloc, destroy, IOVA ranges, huge pages
 *   cmd-map.c     memory and mappings: register, map, unmap, copy
 *   cmd-share.c   export, import, revoke, shares, notifications
 *   cmd-device.c  attach-device, detach-device, devices
 *   cmd-hwpt.c    hw-info, hwpt-alloc(-nested), hwpt-destroy, hwpt-invalidate,
 *                 device-replace, hwpts
 *   cmd-viommu.c  viommu-alloc, vdevice-alloc, veventq-alloc/-read,
 *                 viommu/vdevice/veventq-destroy
 *   cmd-faults.c  fault-alloc, fault-destroy, hwpt-set-dirty, hwpt-get-dirty,
 *                 pasid-attach, pasid-detach, pasids
 *   cmd-query.c   hello, stats, whoami
 *   cmd-show.c    show: a picture of one IOVA space (show.h, show-model.c:
 *                 what it learns of the IOAS)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ioas.h"

enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,
	EXIT_USAGE = 2,
	EXIT_CONNECT = 3,
	EXIT_PROTOCOL = 4,
	EXIT_LOCAL = 5,
};

#define MAX_ARGS 32
#define MAX_RANGES 64

struct known_memory {
	uint32_t id;
	uint64_t length;
};

struct ctl {
	const char *socket;
	bool json;
	bool keep_going;
	unsigned int timeout_ms;
	const char *reclaim;   /* --reclaim TOKEN */
	const char *name;      /* --name NAME: Hello.client_name */
	struct ioas_client *client;

	/* Batch context: line number for messages (0 = command line). */
	unsigned int line;

	/* What this session created, for defaults and $variables. */
	struct known_memory mems[64];
	size_t n_mems;
	bool have_ioas, have_mem, have_iova;
	uint32_t last_ioas, last_mem;
	uint64_t last_iova;
	char last_token[IOAS_SHARE_TOKEN_LEN + 1]; /* $token: the last export */
	uint32_t last_share;                       /* $share */
	bool have_share;
	uint32_t last_device;                      /* $device */
	bool have_device;
	uint32_t last_hwpt;                        /* $hwpt */
	bool have_hwpt;
	uint32_t last_viommu;                      /* $viommu */
	bool have_viommu;
	/* vEVENTQs allocated here, with their fds (veventq-read). */
	struct { uint32_t handle; int fd; } veventqs[8];
	size_t n_veventqs;
	/* Fault queues allocated in this run and their fds (cmd-faults.c),
	 * kept for fault-read and fault-respond; closed at exit. */
	uint32_t fault_ids[8];
	int fault_fds[8];
	size_t n_faults;

	bool jfirst;
};

/* An --option of a command, for parse_args(). */
struct opt {
	const char *name;
	bool has_arg;
	const char *val; /* filled in */
	bool set;
};

/*
 * A command that can also go in a Batch request (ioasctl batch): its
 * arguments parsed into a struct ctl_op, then sent alone (run, the
 * synchronous call) or in a batch (add), and its outcome printed by done,
 * the same either way. One kind per such command (ops.c, cmd-*.c).
 */
struct ctl_op;
struct ctl_op_kind {
	/* 0, or an exit status (usage error, said) */
	int (*parse)(struct ctl *ctl, int argc, char **argv, struct ctl_op *op);
	/* ioas_batch_*(): the operation's index or -errno */
	int (*add)(struct ioas_batch *b, const struct ctl_op *op);
	/* the synchronous call: 0 or -errno, the outcome in *ret */
	int (*run)(struct ctl *ctl, const struct ctl_op *op, struct ioas_batch_result *ret);
	/* print a success, remember what it made ($ioas, ...) */
	void (*done)(struct ctl *ctl, const struct ctl_op *op,
		     const struct ioas_batch_result *res);
	/* the daemon can undo it: it may be in an all-or-nothing batch */
	bool undone;
	/* the $variables its success sets (CTL_VAR_*) */
	unsigned int sets;
};
#define CTL_VAR_IOAS (1u << 0)
#define CTL_VAR_MEM (1u << 1)
#define CTL_VAR_IOVA (1u << 2)
#define CTL_VAR_SHARE (1u << 3)
#define CTL_VAR_TOKEN (1u << 4)
#define CTL_VAR_DEVICE (1u << 5)

struct ctl_op {
	const struct ctl_op_kind *kind;
	char cmd[24];            /* the command as given (argv[0]) */
	unsigned int line;       /* in a batch: its line */
	uint32_t ioas, ioas2, handle, flags;
	uint64_t offset, length, iova, iova2;
	bool writeable;
};

extern const struct ctl_op_kind op_ioas_alloc, op_ioas_destroy, op_unregister,
	op_map, op_unmap, op_unmap_all, op_copy, op_export, op_revoke;

/* ops.c: run one command of kind k alone: parse, send, print. */
int ctl_op_command(struct ctl *ctl, const struct ctl_op_kind *k, int argc, char **argv);
/* ops.c: COMMAND HANDLE into op->handle; what names it in messages. */
int ctl_op_parse_handle(struct ctl *ctl, int argc, char **argv, struct ctl_op *op,
			const char *what);
/* ops.c: "DONE WHAT HANDLE" (or JSON). */
void ctl_op_print_handle(struct ctl *ctl, const struct ctl_op *op, const char *what,
			 const char *done);
/* The $variables args name (CTL_VAR_*). */
unsigned int ctl_vars_used(int argc, char **argv);

/* main.c */
int ensure_client(struct ctl *ctl);
int run_command(struct ctl *ctl, int argc, char **argv);
/* The kind of a command that can go in a batch, or NULL. */
const struct ctl_op_kind *batchable_command(const char *name);

/* output.c */
void jopen(struct ctl *ctl);
void jkey(struct ctl *ctl, const char *k);
void jstr(struct ctl *ctl, const char *k, const char *v);
void ju64(struct ctl *ctl, const char *k, uint64_t v);
void jbool(struct ctl *ctl, const char *k, bool v);
void jclose(void);
const char *fmt_size(uint64_t v, char *buf, size_t len);
const char *fmt_flags(uint32_t flags, char *buf, size_t len);
const char *errname(int errnum);
__attribute__((format(printf, 3, 4))) int usage_error(struct ctl *ctl,
						      const char *cmd,
						      const char *fmt, ...);
__attribute__((format(printf, 4, 5))) int local_error(struct ctl *ctl,
						      const char *cmd,
						      int neg_errno,
						      const char *fmt, ...);
int op_error(struct ctl *ctl, const char *cmd, int r);
/* The same with the reason given (a batched operation's). */
int op_error_reason(struct ctl *ctl, const char *cmd, int r, const char *reason);

/* args.c */
int parse_size(struct ctl *ctl, const char *s, uint64_t *ret);
int parse_u32(struct ctl *ctl, const char *s, uint32_t *ret);
int parse_args(struct ctl *ctl, int argc, char **argv, struct opt *opts,
	       size_t nopts, char **pos, size_t min_pos, size_t max_pos,
	       size_t *ret_npos);
int bad_value(struct ctl *ctl, const char *cmd, const char *what,
	      const char *s);
void remember_memory(struct ctl *ctl, uint32_t id, uint64_t length);
bool known_memory_length(struct ctl *ctl, uint32_t id, uint64_t *ret);
void forget_memory(struct ctl *ctl, uint32_t id);

/* The commands, each int cmd_NAME(struct ctl *ctl, int argc, char **argv):
 * argv[0] is the command's name; returns an exit status. */
int cmd_one_handle(struct ctl *ctl, int argc, char **argv,
		   const char *what, const char *done,
		   int (*fn)(struct ioas_client *, uint32_t));
int cmd_hello(struct ctl *ctl, int argc, char **argv);
int cmd_exec(struct ctl *ctl, int argc, char **argv);
int cmd_iova_ranges(struct ctl *ctl, int argc, char **argv);
int cmd_allow_iovas(struct ctl *ctl, int argc, char **argv);
int cmd_register(struct ctl *ctl, int argc, char **argv);
int cmd_huge_pages(struct ctl *ctl, int argc, char **argv);
int cmd_whoami(struct ctl *ctl, int argc, char **argv);
int cmd_stats(struct ctl *ctl, int argc, char **argv);
int cmd_demo(struct ctl *ctl, int argc, char **argv);
int cmd_attach_device(struct ctl *ctl, int argc, char **argv);
int cmd_detach_device(struct ctl *ctl, int argc, char **argv);
int cmd_devices(struct ctl *ctl, int argc, char **argv);
int cmd_hw_info(struct ctl *ctl, int argc, char **argv);
int cmd_hwpt_alloc(struct ctl *ctl, int argc, char **argv);
int cmd_hwpt_alloc_nested(struct ctl *ctl, int argc, char **argv);
int cmd_hwpt_destroy(struct ctl *ctl, int argc, char **argv);
int cmd_hwpt_invalidate(struct ctl *ctl, int argc, char **argv);
int cmd_device_replace(struct ctl *ctl, int argc, char **argv);
int cmd_hwpts(struct ctl *ctl, int argc, char **argv);
int cmd_viommu_alloc(struct ctl *ctl, int argc, char **argv);
int cmd_vdevice_alloc(struct ctl *ctl, int argc, char **argv);
int cmd_veventq_alloc(struct ctl *ctl, int argc, char **argv);
int cmd_veventq_read(struct ctl *ctl, int argc, char **argv);
int cmd_reclaim(struct ctl *ctl, int argc, char **argv);
int cmd_viommu_destroy(struct ctl *ctl, int argc, char **argv);
int cmd_vdevice_destroy(struct ctl *ctl, int argc, char **argv);
int cmd_veventq_destroy(struct ctl *ctl, int argc, char **argv);
void ctl_veventqs_close(struct ctl *ctl);
/* cmd-hwpt.c: "efbead0b" -> bytes, at most room of them; -EINVAL. */
int ctl_parse_hex(const char *s, uint8_t *buf, size_t room, size_t *ret_len);
int cmd_fault_alloc(struct ctl *ctl, int argc, char **argv);
int cmd_fault_destroy(struct ctl *ctl, int argc, char **argv);
int cmd_hwpt_set_dirty(struct ctl *ctl, int argc, char **argv);
int cmd_hwpt_get_dirty(struct ctl *ctl, int argc, char **argv);
int cmd_pasid_attach(struct ctl *ctl, int argc, char **argv);
int cmd_pasid_detach(struct ctl *ctl, int argc, char **argv);
int cmd_pasids(struct ctl *ctl, int argc, char **argv);
int cmd_fault_read(struct ctl *ctl, int argc, char **argv);
int cmd_fault_respond(struct ctl *ctl, int argc, char **argv);
int cmd_fault_close(struct ctl *ctl, int argc, char **argv);
void ctl_faults_close(struct ctl *ctl);
int cmd_import(struct ctl *ctl, int argc, char **argv);
int cmd_shares(struct ctl *ctl, int argc, char **argv);
int cmd_notifications(struct ctl *ctl, int argc, char **argv);
int cmd_batch(struct ctl *ctl, int argc, char **argv);
int cmd_show(struct ctl *ctl, int argc, char **argv);
