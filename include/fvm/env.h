/*
 * env.h — the environment contract between fvm-exec and libfvm.
 *
 * fvm-exec sets these; libfvm reads them once, in its constructor, and re-injects
 * them into the environment of every exec so that children stay in the VM.
 */
#ifndef FVM_ENV_H
#define FVM_ENV_H

#define FVM_ENV_PRELOAD "LD_PRELOAD"  /* absolute path of libfvm.so */
#define FVM_ENV_VM      "FVM_VM"      /* the VM's name */
#define FVM_ENV_ROOT    "FVM_ROOT"    /* the VM's directory, $FVM_HOME/vms/NAME */
#define FVM_ENV_POLICY  "FVM_POLICY"  /* the compiled policy file */
#define FVM_ENV_DEBUG   "FVM_DEBUG"   /* optional: an fd number for libfvm's debug log */
#define FVM_ENV_HOME    "FVM_HOME"    /* the store; libfvm hides it from the VM */
#define FVM_ENV_MQ      "FVM_MQ_BROKER" /* optional: the queue broker's socket (mqbroker.h) */
#define FVM_ENV_CU      "FVM_CU_BROKER" /* optional, root runs: the copy-up broker's socket path (cubroker.h) */
/* optional, "1": the run's supervisor maps SysV keys (fvm-exec/run/ipcguard.c), libfvm
 * passes them unchanged; unset (--enforce off), libfvm maps them itself */
#define FVM_ENV_SYSV    "FVM_SYSV_GUARD"
/* optional, "1": the run's supervisor resolves in the VM the path calls made from an
 * executable's own code (fvm-exec/run/virtguard.c: a run without root); libfvm then
 * does not warn at the exec of a static program */
#define FVM_ENV_VIRT    "FVM_VIRT_GUARD"
/* optional, 16 hex digits: the run has a disk-limit and its supervisor accounts every
 * write(2), pwrite64, writev, pwritev(2), ftruncate, fallocate, copy_file_range,
 * sendfile and splice of the VM (fvm-exec/run/quotaguard.c), from any code, but the
 * write, pwrite64, writev and pwritev calls whose sixth argument register holds this
 * marker: libfvm's write wrappers count those themselves and leave the rest to it */
#define FVM_ENV_QUOTA   "FVM_QUOTA_GUARD"
/* set by libfvm's exec when it added its loader module to LD_AUDIT (libfvm/loader.c):
 * the program's own LD_AUDIT ("" for none), which libfvm's constructor puts back */
#define FVM_ENV_AUDIT   "FVM_AUDIT"
/* set with FVM_AUDIT when the exec gave the loader real paths for LD_LIBRARY_PATH
 * entries only the VM has: the program's own LD_LIBRARY_PATH, put back the same way */
#define FVM_ENV_AUDIT_LIBPATH "FVM_AUDIT_LIBPATH"
/* optional: the determinism options of the run (fvm/determ.h) */
#define FVM_ENV_DET "FVM_DET"

/* set by libfvm's exec when it runs a static-PIE program through fvm-pieload
 * (libfvm/pieload/pieload.c): the program as the caller named it, which the loader
 * opens (its open is the supervisor's to answer, in the VM) and takes out of the
 * program's environment */
#define FVM_ENV_PIE     "FVM_PIE_PROGRAM"

/* optional, fvm-exec --trace: the supervisor's trace socket (fvm/trace.h), to which
 * libfvm sends what the process reads, writes and runs */
#define FVM_ENV_TRACE   "FVM_TRACE"

/* The variables re-injected at exec, in this order. */
#define FVM_ENV_CONTRACT { FVM_ENV_VM, FVM_ENV_ROOT, FVM_ENV_POLICY, FVM_ENV_HOME, FVM_ENV_DEBUG, \
			   FVM_ENV_MQ, FVM_ENV_SYSV, FVM_ENV_CU, FVM_ENV_VIRT, \
			   FVM_ENV_DET, FVM_ENV_TRACE, FVM_ENV_QUOTA }
#define FVM_ENV_CONTRACT_N 12

#endif
