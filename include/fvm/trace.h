/*
 * trace.h — the records libfvm sends to the run's supervisor under fvm-exec --trace
 * (libfvm/trace.c writes them, fvm-exec/run/trace.c reads them; the trace file the
 * supervisor keeps is fvm-exec/store/trace.h's).
 *
 * Rules:
 *  - A process connects one AF_UNIX datagram socket to the path FVM_TRACE names (the
 *    supervisor's, in the VM's data area) and sends batches of records, each batch one
 *    datagram of at most FVM_TRACE_BATCH bytes. The supervisor takes the sender's pid
 *    from the kernel (SO_PASSCRED), never from the batch.
 *  - A record is a struct fvm_trace_rec, then NSTR NUL-terminated strings, the whole
 *    padded to a multiple of 8 bytes (LEN). The reader checks every length against the
 *    datagram and drops a batch it cannot parse whole.
 *  - What a record says is the sending process's word: any process of the VM can send
 *    any record. Only the pid is the kernel's.
 */
#ifndef FVM_TRACE_H
#define FVM_TRACE_H

#include <stdint.h>

#include "fvm/env.h" /* FVM_ENV_TRACE */

#define FVM_TRACE_BATCH 16384        /* bytes of one datagram, at most */
#define FVM_TRACE_SOCK  "tr"         /* the socket's name in the data area: tr.PID */

enum fvm_trace_kind {
	FVM_TR_READ = 'R',   /* a file opened for reading: identity; rpath, vpath */
	FVM_TR_WRITE = 'W',  /* a file opened for writing: vpath */
	FVM_TR_CREATE = 'C', /* a name made (mkdir, symlink, link, mknod, O_CREAT): vpath */
	FVM_TR_DELETE = 'D', /* a name removed (unlink, rmdir): vpath */
	FVM_TR_RENAME = 'N', /* a rename: old vpath, new vpath */
	FVM_TR_EXEC = 'X',   /* a program run: its identity; rpath, the name asked, argv... */
	FVM_TR_ENV = 'E',    /* an environment variable the program asked for: name; SIZE 1
				when it was set */
	FVM_TR_NET = 'S',    /* a connect or send to an address: "connect inet 1.2.3.4:80" */
	FVM_TR_LOST = 'L',   /* SIZE records this process could not keep (reentered) */
};

/* Where a file read or run lies (WHERE). */
enum fvm_trace_where {
	FVM_TR_HOST = 'h',  /* the host's file */
	FVM_TR_VM = 'v',    /* the VM's upper/ */
	FVM_TR_LAYER = 'l', /* one of the VM's read-only layers */
};

struct fvm_trace_rec {
	uint16_t len;     /* the record's bytes, strings and padding included */
	uint8_t kind;     /* enum fvm_trace_kind */
	uint8_t where;    /* enum fvm_trace_where, or 0 */
	uint32_t nstr;    /* strings after the header */
	uint64_t dev, ino;
	int64_t size;
	int64_t mtime_ns, ctime_ns;
};

#endif
