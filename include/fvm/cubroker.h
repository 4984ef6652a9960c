/*
 * cubroker.h — the copy-up broker: how a process of a root run that changed uid gets a
 * host object copied up with the host's owner.
 *
 * A copy-up keeps the host object's owner, mode, times and xattrs, and it enters
 * upper/ by a rename into a directory that mirrors the host's (owner and mode): a
 * process that dropped root (setpriv, su, runuser, a daemon, apt's _apt) can do
 * neither, although it may well write the object itself (a 0666 file) or create in
 * its directory (a 1777 one). Making upper/ writable for it would widen what the host
 * gives; copying with its own uid would make the copy its own. So in a root run the
 * supervisor serves copy-ups (fvm-exec/run/cubroker.c): libfvm (core/copyup.c, through
 * struct fvm_vm's copyup_broker) connects to the socket FVM_ENV_CU names (a path in
 * the VM's data area, reached with a raw connect: libfvm hides the store), sends one
 * request and reads the errno on the same connection.
 *
 * Rules the broker keeps:
 *  - A copy-up changes nothing a process of the VM sees (owner, mode, content, times,
 *    the identity through the origin xattr): serving any process of the VM any path is
 *    no gain to it. The caller checks the host's permission for what it does next, as
 *    before; the broker checks none.
 *  - The work is done by a child of the supervisor that has entered the VM's mount
 *    namespace (the root fence's: the host read-only, the store covered but the VM's
 *    data area), which the command's process handed over before its exec. Who asks is
 *    not checked (a process the AF_UNIX guard connects for shows the supervisor's
 *    credentials): any process that reaches the socket may have host objects copied
 *    up, which costs the layer space and shows it nothing new.
 *  - Only objects of the VM's namespace class (neither shared nor read-only) are copied;
 *    a path in the store is refused (EACCES).
 */
#ifndef FVM_CUBROKER_H
#define FVM_CUBROKER_H

#include <limits.h>
#include <stdint.h>

#define FVM_CU_VERSION 1u

enum fvm_cu_kind {
	FVM_CU_OBJECT = 1, /* copy up the object at vpath (and its parents) */
	FVM_CU_PARENT,     /* copy up the parents of vpath, for a name to be made there */
};

struct fvm_cu_request {
	uint32_t version;       /* FVM_CU_VERSION */
	uint32_t kind;          /* enum fvm_cu_kind */
	char vpath[PATH_MAX];   /* canonical virtual path, NUL-terminated */
};

struct fvm_cu_reply {
	int32_t err;            /* 0, or the errno of the copy-up */
};

#endif
