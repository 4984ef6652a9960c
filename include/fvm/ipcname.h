/*
 * ipcname.h — per-VM names for the namespaces that are not files: POSIX shm, semaphore
 * and queue names, abstract AF_UNIX names, SysV keys, the private loopback address.
 * Pure functions (no system calls), shared by libfvm and the tools (fvm rm).
 *
 * Invariants:
 *  - Every VM has one prefix, "fvm.NAME.HHHHHHHH." where NAME is the VM's name and
 *    HHHHHHHH the first 32 bits of SHA-256 of the VM directory: two VMs named alike in
 *    two stores (two users' "default") never share a name.
 *  - A mapped name is PREFIX + NAME when that fits the limit; otherwise PREFIX + a head
 *    of NAME + "~" + 32 hex digits of SHA-256(NAME): stable across processes and runs,
 *    and two different names collide only if SHA-256 truncated to 128 bits does.
 *  - Derived keys and addresses are functions of the prefix alone (or prefix + input).
 */
#ifndef FVM_IPCNAME_H
#define FVM_IPCNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FVM_IPC_PREFIX_MAX 96

/* SHA-256 of LEN bytes at DATA into OUT (32 bytes). */
void fvm_sha256(const void *data, size_t len, uint8_t out[32]);

/*
 * The IPC prefix of the VM whose directory is ROOT (absolute, last component = name).
 * Writes it into OUT (FVM_IPC_PREFIX_MAX bytes); returns its length or -ENAMETOOLONG.
 */
int fvm_ipc_prefix(const char *root, char *out, size_t outlen);

/*
 * Maps NAME (LEN bytes, may hold NULs: abstract socket names) to PREFIX + NAME, shortened
 * as above so that the result is at most LIMIT bytes. Writes into OUT (OUTLEN >= LIMIT+1,
 * NUL-terminated for the caller's convenience). Returns the mapped length, or -EINVAL
 * when LIMIT cannot hold the prefix and a hash, -ENAMETOOLONG when OUT is too small.
 */
int fvm_ipc_map(const char *prefix, const char *name, size_t len, size_t limit, char *out,
		size_t outlen);

/*
 * The inverse for listings: the name behind MAPPED (LEN bytes) if it carries PREFIX and
 * was not shortened, as a pointer into MAPPED; NULL when it is not the VM's or was
 * shortened (*SHORTENED then says which).
 */
const char *fvm_ipc_unmap(const char *prefix, const char *mapped, size_t len, int *shortened);

/*
 * The VM's own directory beneath /dev/shm, where its POSIX shm objects and named
 * semaphores live (under their mapped names) and what a path /dev/shm/NAME means in
 * it: FVM_SHM_ROOT "/" + PREFIX less its final '.'. fvm-exec makes it before the fence
 * (which grants writes beneath it and nowhere else in /dev/shm); the name never starts
 * with PREFIX itself, so no mapped name of the VM is it. Writes it into OUT; returns its
 * length or -ENAMETOOLONG.
 */
#define FVM_SHM_ROOT "/dev/shm"
int fvm_ipc_shmdir(const char *prefix, char *out, size_t outlen);

/* The SysV key of KEY inside the VM of PREFIX: never IPC_PRIVATE (0). */
int32_t fvm_ipc_key(const char *prefix, int32_t key);

/*
 * The VM's private loopback address in 127.0.0.0/8, host byte order: 127.A.B.C with
 * A in 1..254 (so never the host's 127.0.0.x) and C in 1..254.
 */
uint32_t fvm_ipc_loopback(const char *prefix);

/*
 * The VM's IPC registry, ROOT/ipc (ipcreg.c; raw system calls, unlike the rest): one
 * line per object the VM created, "KIND MAPPED ORIGINAL", KIND one of shm sem mq shmkey
 * semkey msgkey (keys in decimal), MAPPED and ORIGINAL each escaped as a field
 * (fvm_escape_field, fvm/escape.h: no raw space, tab or newline), so a name may hold
 * any byte but NUL. It is how fvm rm finds queues (whose filesystem may not be
 * mounted) and SysV objects, and how a listing shows the name behind a shortened one.
 * Appended with one O_APPEND write per line, so concurrent processes never interleave;
 * duplicates are harmless. The VM can write it: fvm rm acts on a line only when its
 * MAPPED is what the VM's own prefix makes of its ORIGINAL (fvm_ipc_key, fvm_ipc_map).
 * At most FVM_IPC_FILE_MAX bytes are read.
 * The control area holds a registry of the same format, ctl/NAME/ipc, written only by
 * the runs' supervisors (fvm-exec/run/ipcguard.c): the SysV keys ("shmkey" ...) and
 * IPC_PRIVATE ids ("shmid ID 0", "semid", "msgid") the VM got, and the queues it made.
 */
#define FVM_IPC_FILE "ipc"
#define FVM_IPC_FILE_MAX ((size_t)16 << 20)

/*
 * Appends one line. Best effort: a failure is returned (-errno) but changes nothing;
 * -EINVAL for a KIND or MAPPED that is empty or holds a blank or newline.
 */
int fvm_ipc_record(const char *root, const char *kind, const char *mapped, const char *orig);

/*
 * Splits registry LINE (its newline removed) in place into its three fields, unescaped.
 * False for a line that is not exactly three well-escaped fields.
 */
bool fvm_ipc_parse_line(char *line, char **kind, char **mapped, char **orig);

/*
 * Calls FN(kind, mapped, orig, ARG) for each line of ROOT's registry (unescaped).
 * Stops with FN's value when non-zero. Returns 0, FN's value, or -errno (a missing
 * registry is empty: 0; a link, FIFO or other non-regular file -EBADFD; a file larger
 * than FVM_IPC_FILE_MAX -EFBIG).
 */
int fvm_ipc_each(const char *root,
		 int (*fn)(const char *kind, const char *mapped, const char *orig, void *arg),
		 void *arg);

#endif
