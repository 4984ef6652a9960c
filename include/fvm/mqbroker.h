/*
 * mqbroker.h — the message-queue broker: how a fenced VM opens POSIX queues for writing.
 *
 * Landlock grants write rights by the inode a rule is attached to, walking up from the
 * file. A queue lives in the IPC namespace's internal mqueue mount; when no mqueue file
 * system is mounted at /dev/mqueue, no path leads to that mount's root, no rule can be
 * attached to it, and mq_open(O_WRONLY or O_RDWR) fails with EACCES under the fence (a
 * read-only open and mq_unlink are not write rights Landlock knows, and pass).
 *
 * So fvm-exec starts, outside the fence, one broker process per run (fvm-exec/run/mqbroker.c). libfvm
 * (ipc.c) sends it a request over the socket named by FVM_ENV_MQ ("FD:PID", PID being
what SO_PEERCRED reports on it: fvm-exec, which made the socketpair), together
 * with one end of a fresh socketpair; the broker answers on that socketpair with the
 * errno of its own mq_open and, on success, the queue's descriptor (SCM_RIGHTS).
 *
 * Rules the broker keeps:
 *  - It opens only names that carry the VM's IPC prefix (fvm/ipcname.h): a VM reaches
 *    no queue of the host or of another VM through it.
 *  - It runs with fvm-exec's credentials, the VM's own (no_new_privs: no setuid gain),
 *    so the kernel's permission checks on the queue are the VM's.
 *  - It creates with the requester's umask and flags; it never writes to a queue.
 *  - It ends when the last process holding the socket has closed it.
 */
#ifndef FVM_MQBROKER_H
#define FVM_MQBROKER_H

#include <limits.h>
#include <stdint.h>

#include "fvm/env.h"
#define FVM_MQ_VERSION 1u

/* The oflag bits a request may carry. */
#define FVM_MQ_OFLAGS (O_ACCMODE | O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC)

struct fvm_mq_request {
	uint32_t version;           /* FVM_MQ_VERSION */
	int32_t oflag;
	uint32_t mode;              /* with O_CREAT */
	uint32_t umask;             /* the requester's */
	int32_t has_attr;           /* with O_CREAT: attr is given */
	int64_t maxmsg, msgsize;    /* mq_attr's */
	char name[NAME_MAX + 2];    /* "/" + mapped name, NUL-terminated */
};

struct fvm_mq_reply {
	int32_t err;                /* 0, or the errno of the broker's mq_open */
};

#endif
