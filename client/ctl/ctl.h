/* SPDX-License-Identifier: MIT */
/*
 * ioasctl inside: the state of one invocation (struct ctl) and what the
 * files of ioasctl give each other:
 *   main.c        options, the command table, usage, the connection
 *   output.c      JSON and text printers, error messages and exit codes
 *   args.c        numbers, sizes, handles, $variables, --options
 *   batch.c       the batch interpreter
 *   demo.c        the demo, a table of steps
 *   cmd-ioas.c    IOASes: alloc, destroy, IOVA ranges, huge pages
 *   cmd-map.c     memory and mappings: register, map, unmap, copy
 *   cmd-share.c   export, import, revoke, shares, notifications
 *   cmd-device.c  attach-device, detach-device, devices
 *   cmd-query.c   hello, stats, whoami
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

	bool jfirst;
};

/* An --option of a command, for parse_args(). */
struct opt {
	const char *name;
	bool has_arg;
	const char *val; /* filled in */
	bool set;
};

/* main.c */
int ensure_client(struct ctl *ctl);
int run_command(struct ctl *ctl, int argc, char **argv);

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
int cmd_ioas_alloc(struct ctl *ctl, int argc, char **argv);
int cmd_ioas_destroy(struct ctl *ctl, int argc, char **argv);
int cmd_unregister(struct ctl *ctl, int argc, char **argv);
int cmd_iova_ranges(struct ctl *ctl, int argc, char **argv);
int cmd_allow_iovas(struct ctl *ctl, int argc, char **argv);
int cmd_register(struct ctl *ctl, int argc, char **argv);
int cmd_map(struct ctl *ctl, int argc, char **argv);
int cmd_unmap(struct ctl *ctl, int argc, char **argv);
int cmd_unmap_all(struct ctl *ctl, int argc, char **argv);
int cmd_copy(struct ctl *ctl, int argc, char **argv);
int cmd_huge_pages(struct ctl *ctl, int argc, char **argv);
int cmd_whoami(struct ctl *ctl, int argc, char **argv);
int cmd_stats(struct ctl *ctl, int argc, char **argv);
int cmd_demo(struct ctl *ctl, int argc, char **argv);
int cmd_attach_device(struct ctl *ctl, int argc, char **argv);
int cmd_detach_device(struct ctl *ctl, int argc, char **argv);
int cmd_devices(struct ctl *ctl, int argc, char **argv);
int cmd_export(struct ctl *ctl, int argc, char **argv);
int cmd_import(struct ctl *ctl, int argc, char **argv);
int cmd_revoke(struct ctl *ctl, int argc, char **argv);
int cmd_shares(struct ctl *ctl, int argc, char **argv);
int cmd_notifications(struct ctl *ctl, int argc, char **argv);
int cmd_batch(struct ctl *ctl, int argc, char **argv);
