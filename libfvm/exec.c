/*
 * exec.c — running programs inside the VM: the exec family (execveat and fexecve too),
 * posix_spawn and its file actions, system, popen; and dlopen. Some 690 lines, kept
 * whole: every entry point shares the one program lookup (PATH search, "#!" line) and
 * the environment contract, with no allocation on the vfork path.
 *
 * Rules:
 *  - The program path is resolved in the virtual namespace; a "#!" line is read and its
 *    interpreter resolved too, so a script or interpreter the VM changed is the one run.
 *    The script keeps its virtual name in the interpreter's argv.
 *  - execvp-style PATH searches are done here, in the virtual namespace.
 *  - The environment contract (LD_PRELOAD with libfvm, FVM_*) is put back into every
 *    new environment that lost it (env -i), so children stay in the VM; the loader
 *    module joins LD_AUDIT when the program needs it (loader.c decides).
 *  - A static-PIE program (x86-64, not setuid or setgid) in a run whose supervisor
 *    virtualizes static programs is run through fvm-pieload (pieload/pieload.c),
 *    beside libfvm.so: same argv, FVM_PIE_PROGRAM naming the program as the caller
 *    did. The kernel would map it where libraries lie, unseen by the supervisor.
 *  - No allocation on the exec path (it runs in vfork children): buffers are on the stack.
 */
#include <dlfcn.h>
#include <elf.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fvm/env.h"
#include "fvm/layout.h"
#include "libfvm.h"

extern char **environ;

#define MAX_ARGS 4096
#define ENV_BUF  (4 * PATH_MAX)

/* The value of NAME in ENVP, or NULL. */
static const char *env_get(char *const envp[], const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; envp && envp[i]; i++) {
		if (strncmp(envp[i], name, nl) == 0 && envp[i][nl] == '=') {
			return envp[i] + nl + 1;
		}
	}
	return NULL;
}

/* Entries of a NULL-terminated vector (NULL: none). */
static size_t vec_len(char *const v[])
{
	size_t n = 0;

	while (v && v[n]) {
		n++;
	}
	return n;
}

/*
 * True when the kernel would answer EFAULT for vector V (NULL is an empty vector):
 * the array or one of its strings is a bad pointer (fvm_bad_ptr). libfvm reads both
 * before the exec, so it must not where the kernel would refuse.
 */
static bool vec_bad(char *const v[])
{
	if (!v) {
		return false;
	}
	if (fvm_bad_ptr(v)) {
		return true;
	}
	for (size_t i = 0; v[i]; i++) {
		if (fvm_bad_ptr(v[i])) {
			return true;
		}
	}
	return false;
}

/* Entries fvm_env_fixup() may need for ENVP, its terminator included. */
static size_t env_room(char *const envp[])
{
	return vec_len(envp) + FVM_ENV_CONTRACT_N + 3 + FVM_LOADER_ENV_N;
}

char **fvm_env_fixup(int prog_loader, char *const envp[], char **out, size_t outn, char *buf,
		     size_t buflen)
{
	static const char *const contract[] = FVM_ENV_CONTRACT;
	size_t n = 0, used = 0;
	unsigned have = 0; /* bit c: contract[c] is in OUT */
	bool preload = false;

	if (!fvm_active) {
		return (char **)envp;
	}
	const char *lib = fvm_lib_path(), *det = fvm_det_lib_path();
	/* One pass: what is there is noted on the way (every contract name starts "FVM_"). */
	for (size_t i = 0; envp && envp[i] && n + FVM_ENV_CONTRACT_N + 2 < outn; i++) {
		const char *e = envp[i];
		if (e[0] == 'L' && strncmp(e, "LD_PRELOAD=", 11) == 0) {
			preload = true;
			bool need_lib = lib[0] && !strstr(e + 11, lib), need_det = det[0] && !strstr(e + 11, det);
			if (need_lib || need_det) {
				/* Keep the program's own preloads, after libfvm (and libfvm-det). */
				int len = snprintf(buf + used, buflen - used, "LD_PRELOAD=%s%s%s%s%s",
						   need_lib ? lib : "", need_lib ? ":" : "", need_det ? det : "",
						   need_det ? ":" : "", e + 11);
				if (len > 0 && used + (size_t)len + 1 <= buflen) {
					out[n++] = buf + used;
					used += (size_t)len + 1;
					continue;
				}
			}
		} else if (e[0] == 'F' && strncmp(e, "FVM_", 4) == 0) {
			for (size_t c = 0; c < FVM_ENV_CONTRACT_N; c++) {
				size_t nl = strlen(contract[c]);
				if (strncmp(e, contract[c], nl) == 0 && e[nl] == '=') {
					have |= 1u << c;
					break;
				}
			}
		}
		out[n++] = envp[i];
	}
	if (lib[0] && !preload) {
		int len = snprintf(buf + used, buflen - used, "LD_PRELOAD=%s%s%s", lib, det[0] ? ":" : "", det);
		if (len > 0 && used + (size_t)len + 1 <= buflen) {
			out[n++] = buf + used;
			used += (size_t)len + 1;
		}
	}
	for (size_t c = 0; c < FVM_ENV_CONTRACT_N; c++) {
		const char *val = fvm_env_saved[c];
		if ((have & (1u << c)) || !val) {
			continue;
		}
		int len = snprintf(buf + used, buflen - used, "%s=%s", contract[c], val);
		if (len > 0 && used + (size_t)len + 1 <= buflen) {
			out[n++] = buf + used;
			used += (size_t)len + 1;
		}
	}
	n = fvm_loader_env(prog_loader, out, n, outn, buf + used, buflen - used);
	out[n] = NULL;
	return out;
}

/* What kind of program an ELF file is, for the supervisor's virtualization. */
enum elf_kind {
	ELF_DYNAMIC,    /* has PT_INTERP (or not an ELF file): libfvm loads into it */
	ELF_STATIC,     /* a 64-bit static executable (ET_EXEC): the supervisor virtualizes it */
	ELF_STATIC_PIE, /* an x86-64 static-PIE (ET_DYN): the kernel maps it where libraries
			   lie; run through fvm-pieload, the supervisor virtualizes it */
	ELF_STATIC_RAW, /* static, another ABI (i386), or a static-PIE of another machine:
			   only fenced */
};

/*
 * The kind of the ELF program whose first N bytes are HEAD; program headers beyond
 * HEAD are read from FD. E_CLASS selects the 64- or 32-bit layout.
 */
static enum elf_kind elf_kind(const char *head, size_t n, int fd)
{
	unsigned char cls = n > EI_CLASS ? (unsigned char)head[EI_CLASS] : 0;
	size_t ehsize = cls == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	size_t phsize = cls == ELFCLASS64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	uint64_t phoff;
	unsigned phnum, phentsize, type, machine;

	if (n < ehsize || memcmp(head, ELFMAG, SELFMAG) != 0 || (cls != ELFCLASS64 && cls != ELFCLASS32)) {
		return ELF_DYNAMIC;
	}
	if (cls == ELFCLASS64) {
		Elf64_Ehdr eh;
		memcpy(&eh, head, sizeof(eh));
		phoff = eh.e_phoff, phnum = eh.e_phnum, phentsize = eh.e_phentsize, type = eh.e_type;
		machine = eh.e_machine;
	} else {
		Elf32_Ehdr eh;
		memcpy(&eh, head, sizeof(eh));
		phoff = eh.e_phoff, phnum = eh.e_phnum, phentsize = eh.e_phentsize, type = eh.e_type;
		machine = eh.e_machine;
	}
	if (phentsize != phsize) {
		return ELF_DYNAMIC;
	}
	for (unsigned i = 0; i < phnum; i++) {
		uint64_t off = phoff + (uint64_t)i * phsize;
		uint32_t pt;
		if (off + phsize <= n) {
			memcpy(&pt, head + off, sizeof(pt)); /* p_type comes first in both layouts */
		} else if (sys_pread(fd, &pt, sizeof(pt), (off_t)off) != (ssize_t)sizeof(pt)) {
			return ELF_DYNAMIC;
		}
		if (pt == PT_INTERP) {
			return ELF_DYNAMIC;
		}
	}
	if (cls == ELFCLASS64 && type == ET_EXEC) {
		return ELF_STATIC;
	}
	return cls == ELFCLASS64 && type == ET_DYN && machine == EM_X86_64 ? ELF_STATIC_PIE : ELF_STATIC_RAW;
}

#define BINPRM_BUF 256 /* the kernel's buffer for a "#!" line */

/* What exec_target found. */
struct target {
	char rprog[FVM_RPATH_MAX];   /* the real path to exec */
	char interp[PATH_MAX];       /* a "#!" script's interpreter (virtual), or "" */
	char iarg[256];              /* and its optional argument */
	enum elf_kind kind;          /* rprog's kind of program (ELF_DYNAMIC: also a script) */
	bool setid;                  /* rprog is setuid or setgid */
	bool in_proc;                /* the program's name leads into /proc (/dev/fd/N...) */
	int loader;                  /* the loader module: 1 needed, 0 if the environment
					says so, -1 never (fvm_loader_prog) */
};

/*
 * The "#!" line in HEAD (NUL-terminated) into T: the interpreter, resolved in the VM,
 * replaces the script as the program. Returns 0 or -errno.
 */
static int script_target(char *head, struct target *t)
{
	struct fvm_res res;
	int ret;

	head[BINPRM_BUF - 1] = '\0'; /* the kernel reads no more of the line */
	char *p = head + 2, *end = strchr(p, '\n');
	if (end) {
		*end = '\0';
	}
	while (*p == ' ' || *p == '\t') {
		p++;
	}
	char *q = p;
	while (*q && *q != ' ' && *q != '\t') {
		q++;
	}
	if (*q) {
		*q++ = '\0';
		while (*q == ' ' || *q == '\t') {
			q++;
		}
		/* Linux passes the rest of the line, trailing blanks removed, as one argument. */
		size_t ql = strlen(q);
		while (ql > 0 && (q[ql - 1] == ' ' || q[ql - 1] == '\t' || q[ql - 1] == '\r')) {
			q[--ql] = '\0';
		}
		snprintf(t->iarg, sizeof(t->iarg), "%s", q);
	}
	if (!*p) {
		return -ENOEXEC;
	}
	snprintf(t->interp, sizeof(t->interp), "%s", p);
	ret = fvm_resolve_at(AT_FDCWD, t->interp, 0, &res);
	if (ret < 0) {
		return ret;
	}
	if (res.where == FVM_ABSENT) {
		return -ENOENT;
	}
	snprintf(t->rprog, sizeof(t->rprog), "%s", res.rpath);
	return 0;
}

/*
 * What exec_target read of the last host program it ran, by the identity of its file
 * (issue 15): a shell that runs the same program again knows its kind from the stat the
 * lookup made anyway, and opens and reads nothing (open, read, pread, close: four
 * system calls fewer per exec; in a vfork child the store lands in the shell's memory).
 * Only an answer that is the file's alone is kept (prog_memo_put): a host program's
 * (not upper/'s nor a layer's), not a script (its interpreter is looked up at each
 * exec), a loader answer that asked nothing of the VM (fvm_loader_prog's FILE_ONLY).
 * The host changing the file in place changes its size, mtime or ctime (ctime is set
 * by the kernel, and fine-grained once a stat has read it), replacing it its inode.
 * A seqlock: threads racing here each go without when they meet a write.
 */
struct prog_memo {
	unsigned seq; /* odd while written */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
	enum elf_kind kind;
	int loader;
};
static struct prog_memo prog_memo;

static bool same_file(const struct prog_memo *m, const struct stat *st)
{
	return m->dev == st->st_dev && m->ino == st->st_ino && m->size == st->st_size &&
	       m->mtim.tv_sec == st->st_mtim.tv_sec && m->mtim.tv_nsec == st->st_mtim.tv_nsec &&
	       m->ctim.tv_sec == st->st_ctim.tv_sec && m->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

/* True with T's kind and loader answer when RES is the host program last kept. */
static bool prog_memo_get(const struct fvm_res *res, struct target *t)
{
	unsigned seq = __atomic_load_n(&prog_memo.seq, __ATOMIC_ACQUIRE);
	bool hit;

	if ((seq & 1) || seq == 0 || res->where != FVM_HOST || res->layer >= 0 || !S_ISREG(res->st.st_mode)) {
		return false;
	}
	hit = same_file(&prog_memo, &res->st);
	enum elf_kind kind = prog_memo.kind;
	int loader = prog_memo.loader;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (!hit || __atomic_load_n(&prog_memo.seq, __ATOMIC_RELAXED) != seq) {
		return false;
	}
	t->kind = kind;
	t->loader = loader;
	return true;
}

static void prog_memo_put(const struct fvm_res *res, enum elf_kind kind, int loader)
{
	unsigned seq = __atomic_load_n(&prog_memo.seq, __ATOMIC_RELAXED);

	if (res->where != FVM_HOST || res->layer >= 0 || !S_ISREG(res->st.st_mode) || (seq & 1) ||
	    !__atomic_compare_exchange_n(&prog_memo.seq, &seq, seq + 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED)) {
		return;
	}
	prog_memo.dev = res->st.st_dev;
	prog_memo.ino = res->st.st_ino;
	prog_memo.size = res->st.st_size;
	prog_memo.mtim = res->st.st_mtim;
	prog_memo.ctim = res->st.st_ctim;
	prog_memo.kind = kind;
	prog_memo.loader = loader;
	__atomic_store_n(&prog_memo.seq, seq + 2, __ATOMIC_RELEASE);
}

/*
 * The program to run for VPATH, into *T. NEED_X: check execute permission here (a
 * PATH search must skip what the kernel would refuse); otherwise only a script's is
 * checked, the kernel checking the program it runs. Returns 0 or -errno (the
 * kernel's exec errors).
 */
static int exec_target(const char *vpath, bool need_x, struct target *t)
{
	struct fvm_res res;
	char head[1024];
	int fd, ret;
	ssize_t n;

	t->interp[0] = t->iarg[0] = '\0';
	t->kind = ELF_DYNAMIC;
	t->loader = 0;
	t->setid = t->in_proc = false;
	ret = fvm_resolve_at(AT_FDCWD, vpath, 0, &res);
	if (ret < 0) {
		return ret;
	}
	if (res.where == FVM_ABSENT) {
		return -ENOENT;
	}
	if (S_ISDIR(res.st.st_mode)) {
		return -EACCES;
	}
	if (need_x) {
		ret = sys_faccessat2(AT_FDCWD, res.rpath, X_OK, AT_EACCESS);
		if (ret < 0) {
			return ret;
		}
	}
	snprintf(t->rprog, sizeof(t->rprog), "%s", res.rpath);
	if (prog_memo_get(&res, t)) {
		goto known;
	}
	fd = sys_openat(AT_FDCWD, res.rpath, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		return 0; /* execute-only: let the kernel decide */
	}
	n = sys_read(fd, head, sizeof(head) - 1);
	if (n >= 2 && head[0] == '#' && head[1] == '!') {
		if (fvm_tracing) {
			fvm_trace_open(fd, O_RDONLY, res.rpath, res.vpath); /* the script is an input */
		}
		sys_close(fd);
		if (!need_x) {
			ret = sys_faccessat2(AT_FDCWD, res.rpath, X_OK, AT_EACCESS);
			if (ret < 0) {
				return ret;
			}
		}
		head[n] = '\0';
		return script_target(head, t);
	}
	t->kind = n > 0 ? elf_kind(head, (size_t)n, fd) : ELF_DYNAMIC;
	bool file_only = true;
	t->loader = n > 0 && t->kind == ELF_DYNAMIC ? fvm_loader_prog(&res, head, (size_t)n, fd, &file_only) : -1;
	sys_close(fd);
	if (n > 0 && file_only) {
		prog_memo_put(&res, t->kind, t->loader);
	}
known:
	t->setid = (res.st.st_mode & (S_ISUID | S_ISGID)) != 0;
	/* the loader's own open of such a name would meet its own fds, not the caller's */
	t->in_proc = strncmp(res.vpath, "/proc/", 6) == 0 || strncmp(vpath, "/proc/", 6) == 0 ||
		     strncmp(vpath, "/dev/fd/", 8) == 0;
	if (t->kind == ELF_STATIC_PIE && !need_x) {
		/* fvm-pieload may run it: the kernel checks the loader's execute permission,
		 * this the program's (a noexec mount answers EACCES too, as the exec would). */
		ret = sys_faccessat2(AT_FDCWD, res.rpath, X_OK, AT_EACCESS);
		if (ret < 0) {
			return ret;
		}
	}
	return 0;
}

#define PIELOAD "fvm-pieload"

/* fvm-pieload beside libfvm.so; "" when it is not there. */
static const char *pieload_path(void)
{
	static char path[PATH_MAX] FVM_LARGE_BSS;
	static int state; /* 0 unknown, 1 found, -1 absent */

	if (state == 0) {
		state = fvm_lib_sibling(PIELOAD, path, sizeof(path)) ? 1 : -1;
	}
	return state > 0 ? path : "";
}

/*
 * Why T's program, a static one, is not virtualized: a reason for warn_static, or NULL
 * when it is (the supervisor sees its calls, directly or through fvm-pieload: *LOADER
 * is then fvm-pieload's path, or NULL for the program itself).
 */
static const char *static_unseen(const struct target *t, const char **loader)
{
	*loader = NULL;
	if (t->kind == ELF_DYNAMIC) {
		return NULL;
	}
	if ((t->kind == ELF_STATIC || t->kind == ELF_STATIC_PIE) && !fvm_env_saved[C_VIRT]) {
		return " and this run has no supervisor (--enforce off)";
	}
	if (t->kind == ELF_STATIC) {
		return NULL;
	}
	if (t->kind == ELF_STATIC_RAW) {
		return " (32-bit, or static-PIE of another machine, which fvm-exec's supervisor cannot tell "
		       "from libraries' code)";
	}
	if (t->setid) {
		return " (static-PIE and setuid or setgid, which fvm-pieload does not run)";
	}
	if (t->in_proc) {
		return " (static-PIE named through /proc, which fvm-pieload cannot open)";
	}
	if (!pieload_path()[0]) {
		return " (static-PIE, and " PIELOAD " is not installed beside libfvm.so)";
	}
	*loader = pieload_path();
	return NULL;
}

/*
 * ENV (NULL-terminated) with FVM_PIE_PROGRAM=VPATH first, into OUT (vec_len(ENV) + 2
 * entries), the entry's text in BUF. Returns OUT, or NULL when VPATH does not fit.
 */
static char **pie_env(const char *vpath, char **env, char **out, char *buf, size_t buflen)
{
	size_t n = 0;
	int len = snprintf(buf, buflen, FVM_ENV_PIE "=%s", vpath);

	if (len < 0 || (size_t)len >= buflen) {
		return NULL;
	}
	out[n++] = buf;
	for (size_t i = 0; env && env[i]; i++) {
		out[n++] = env[i];
	}
	out[n] = NULL;
	return out;
}

/*
 * A static program cannot load libfvm. fvm-exec's supervisor virtualizes the calls of a
 * 64-bit static executable's own code (fvm-exec/run/virtguard.c, FVM_ENV_VIRT), and of
 * a static-PIE program run through fvm-pieload; an i386 one, a static-PIE fvm-pieload
 * does not run (static_unseen), or any static program in a run without the supervisor
 * (--enforce off), is only fenced. Says so, with WHY, once per exec of such a program,
 * on stderr and in the VM's log ($FVM_ROOT/log).
 */
static void warn_static(const char *vpath, const char *why)
{
	char msg[PATH_MAX + 320], log[PATH_MAX + 8];
	int len, fd;

	len = snprintf(msg, sizeof(msg), "fvm: warning: %s is statically linked%s: it is not virtualized, "
		       "only fenced: it sees the host's files, and its changes outside the VM fail\n", vpath, why);
	if (len <= 0 || (size_t)len >= sizeof(msg)) {
		return;
	}
	sys_write(2, msg, (size_t)len);
	snprintf(log, sizeof(log), "%s/" FVM_LOG_FILE, fvm_g.root);
	fd = sys_openat(AT_FDCWD, log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		sys_write(fd, msg, (size_t)len);
		sys_close(fd);
	}
}


/*
 * fexecve (execveat AT_EMPTY_PATH) of a program with no name in the VM (a memfd): a
 * static-PIE or a 32-bit static one runs only fenced (fvm-pieload opens its program by
 * name); says so as warn_static does, when FD can be read.
 */
static void warn_nameless(int fd)
{
	char head[sizeof(Elf64_Ehdr)], name[32];
	ssize_t n = sys_pread(fd, head, sizeof(head), 0);
	enum elf_kind k = n > 0 ? elf_kind(head, (size_t)n, fd) : ELF_DYNAMIC;

	if (k == ELF_STATIC_PIE || k == ELF_STATIC_RAW) {
		snprintf(name, sizeof(name), "fd %d", fd);
		warn_static(name, k == ELF_STATIC_PIE ? " (static-PIE without a name, which fvm-pieload cannot open)"
						      : " (32-bit, or static-PIE of another machine, which fvm-exec's "
							"supervisor cannot tell from libraries' code)");
	}
}

/*
 * The arguments that run script NAME through T's interpreter: interp [iarg] NAME
 * argv[1..], into OUT (vec_len(argv) + 3 entries at least).
 */
static char *const *script_argv(const struct target *t, const char *name, char *const argv[],
				char **out)
{
	size_t n = 0;

	out[n++] = (char *)t->interp;
	if (t->iarg[0]) {
		out[n++] = (char *)t->iarg;
	}
	out[n++] = (char *)name;
	for (size_t i = 1; argv && argv[0] && argv[i]; i++) {
		out[n++] = argv[i];
	}
	out[n] = NULL;
	return out;
}

static int fvm_execve(const char *vpath, char *const argv[], char *const envp[])
{
	struct target t;
	char envbuf[ENV_BUF];
	char *const *args = argv;
	int ret;

	if (!fvm_on()) {
		return (int)FVM_SC(SYS_execve, vpath, argv, envp, 0, 0, 0);
	}
	fvm_count_exec();
	ret = exec_target(vpath, false, &t);
	if (ret < 0) {
		return ret;
	}
	if (vec_bad(argv) || vec_bad(envp)) {
		return -EFAULT; /* after the program's lookup, as the kernel orders them */
	}
	const char *pieload, *why = static_unseen(&t, &pieload);
	if (why) {
		warn_static(vpath, why); /* not when the supervisor virtualizes it (FVM_ENV_VIRT) */
	}
	/* Sized to what is passed: no argument or variable is dropped, no page wasted. */
	char *argv2[t.interp[0] ? vec_len(argv) + 3 : 1];
	size_t envn = env_room(envp);
	char *envv[envn];
	if (t.interp[0]) {
		args = script_argv(&t, vpath, argv, argv2);
	}
	char **env = fvm_env_fixup(t.loader, envp, envv, envn, envbuf, sizeof(envbuf));
	if (fvm_tracing) {
		fvm_trace_exec(t.rprog, vpath, args);
		fvm_trace_flush(); /* the exec replaces the buffer */
	}
	if (pieload) {
		char *envp2[envn + 2], piebuf[sizeof(FVM_ENV_PIE) + PATH_MAX];
		if (!pie_env(vpath, env, envp2, piebuf, sizeof(piebuf))) {
			return -ENAMETOOLONG;
		}
		return (int)FVM_SC(SYS_execve, pieload, args, envp2, 0, 0, 0);
	}
	return (int)FVM_SC(SYS_execve, t.rprog, args, env, 0, 0, 0);
}

int execve(const char *vpath, char *const argv[], char *const envp[])
{
	return fvm_ret(fvm_execve(vpath, argv, envp));
}

int execv(const char *vpath, char *const argv[])
{
	return fvm_ret(fvm_execve(vpath, argv, environ));
}

/*
 * execvpe's search, in the virtual namespace: FILE with a '/' is run as is; otherwise
 * each PATH entry is tried. ENOEXEC runs the file with /bin/sh, as glibc does.
 */
static int fvm_execvpe(const char *file, char *const argv[], char *const envp[])
{
	char vpath[PATH_MAX];
	const char *path;
	bool eacces = false;
	int ret = -ENOENT;

	fvm_touch(file); /* libc's reads FILE first: a bad pointer faults, as natively */
	if (!*file) {
		return -ENOENT;
	}
	if (strchr(file, '/')) {
		ret = fvm_execve(file, argv, envp);
		goto noexec;
	}
	path = fvm_getenv("PATH");
	if (fvm_tracing) {
		fvm_trace_env("PATH", path != NULL);
	}
	if (!path) {
		path = "/bin:/usr/bin";
	}
	for (const char *p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t dl = end ? (size_t)(end - p) : strlen(p);
		int n = dl ? snprintf(vpath, sizeof(vpath), "%.*s/%s", (int)dl, p, file)
			   : snprintf(vpath, sizeof(vpath), "%s", file);
		if (n > 0 && (size_t)n < sizeof(vpath)) {
			ret = fvm_execve(vpath, argv, envp);
			if (ret == -ENOEXEC) {
				file = vpath;
				goto noexec;
			}
			if (ret == -EACCES) {
				eacces = true;
			} else if (ret != -ENOENT && ret != -ENOTDIR && ret != -ESTALE && ret != -ENODEV &&
				   ret != -ETIMEDOUT) {
				return ret;
			}
		}
		if (!end) {
			break;
		}
		p = end;
	}
	return eacces ? -EACCES : ret;
noexec:
	if (ret == -ENOEXEC) {
		char *argv2[vec_len(argv) + 3];
		size_t n = 0;
		argv2[n++] = (char *)"/bin/sh";
		argv2[n++] = (char *)file;
		for (size_t i = 1; argv && argv[0] && argv[i]; i++) {
			argv2[n++] = argv[i];
		}
		argv2[n] = NULL;
		ret = fvm_execve("/bin/sh", argv2, envp);
	}
	return ret;
}

int execvp(const char *file, char *const argv[])
{
	return fvm_ret(fvm_execvpe(file, argv, environ));
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return fvm_ret(fvm_execvpe(file, argv, envp));
}

/* Gathers the list arguments of execl-style calls into ARGV (stack, MAX_ARGS). */
#define COLLECT_ARGS(first, argv, ap)                              \
	do {                                                       \
		size_t n_ = 0;                                     \
		argv[n_++] = (char *)(first);                      \
		while (n_ < MAX_ARGS && (argv[n_ - 1] != NULL)) {  \
			argv[n_++] = va_arg(ap, char *);           \
		}                                                  \
		argv[MAX_ARGS - 1] = NULL;                         \
	} while (0)

int execl(const char *vpath, const char *arg, ...)
{
	char *argv[MAX_ARGS];
	va_list ap;

	va_start(ap, arg);
	COLLECT_ARGS(arg, argv, ap);
	va_end(ap);
	return fvm_ret(fvm_execve(vpath, argv, environ));
}

int execle(const char *vpath, const char *arg, ...)
{
	char *argv[MAX_ARGS];
	char *const *envp;
	va_list ap;

	va_start(ap, arg);
	COLLECT_ARGS(arg, argv, ap);
	envp = va_arg(ap, char *const *);
	va_end(ap);
	return fvm_ret(fvm_execve(vpath, argv, envp));
}

int execlp(const char *file, const char *arg, ...)
{
	char *argv[MAX_ARGS];
	va_list ap;

	va_start(ap, arg);
	COLLECT_ARGS(arg, argv, ap);
	va_end(ap);
	return fvm_ret(fvm_execvpe(file, argv, environ));
}

/*
 * execveat: a name relative to DIRFD is an ordinary exec of its virtual path; an fd
 * (AT_EMPTY_PATH) runs the fd's file, by its virtual name when it has one (so a "#!"
 * interpreter is mapped too), else (a memfd, a deleted file) as the kernel would.
 */
static int fvm_execveat(int dirfd, const char *vpath, char *const argv[], char *const envp[],
			int flags)
{
	char full[PATH_MAX], envbuf[ENV_BUF];
	struct fvm_res res;
	int ret;

	if (!fvm_on()) {
		return (int)FVM_SC(SYS_execveat, dirfd, vpath, argv, envp, flags, 0);
	}
	if (!fvm_bad_ptr(vpath) && !vpath[0] && (flags & AT_EMPTY_PATH)) {
		ret = fvm_fd_vpath(dirfd, full, sizeof(full));
		if (ret >= 0 && fvm_resolve(&fvm_g, full, 0, &res) == 0 && res.where != FVM_ABSENT) {
			return fvm_execve(full, argv, envp);
		}
		if (vec_bad(argv) || vec_bad(envp)) {
			return -EFAULT;
		}
		warn_nameless(dirfd);
		size_t envn = env_room(envp);
		char *envv[envn];
		char **env = fvm_env_fixup(0, envp, envv, envn, envbuf, sizeof(envbuf));
		fvm_count_exec();
		return (int)FVM_SC(SYS_execveat, dirfd, vpath, argv, env, flags, 0);
	}
	ret = fvm_vpath_at(dirfd, vpath, full, sizeof(full));
	if (ret < 0) {
		return ret;
	}
	if (flags & AT_SYMLINK_NOFOLLOW) {
		ret = fvm_resolve(&fvm_g, full, FVM_R_NOFOLLOW, &res);
		if (ret == 0 && res.where != FVM_ABSENT && S_ISLNK(res.st.st_mode)) {
			return -ELOOP;
		}
	}
	return fvm_execve(full, argv, envp);
}

int execveat(int dirfd, const char *vpath, char *const argv[], char *const envp[], int flags)
{
	return fvm_ret(fvm_execveat(dirfd, vpath, argv, envp, flags));
}

int fexecve(int fd, char *const argv[], char *const envp[])
{
	if (fd < 0 || !argv || !envp) {
		return fvm_ret(-EINVAL); /* glibc's own check */
	}
	return fvm_ret(fvm_execveat(fd, "", argv, envp, AT_EMPTY_PATH));
}

/*
 * posix_spawn(p): the child is created by libc, whose exec is not ours, so the program,
 * the interpreter and the environment are settled here and libc runs the real path.
 */
static int spawn_common(pid_t *pid, const char *file, bool search,
			const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
			char *const argv[], char *const envp[])
{
	struct target t;
	char vpath[PATH_MAX], envbuf[ENV_BUF];
	char *const *args = argv;
	int ret = -ENOENT;

	if (argv) {
		volatile size_t argc = vec_len(argv); /* libc's counts ARGV in the parent: a */
		(void)argc;			      /* bad vector faults there, as natively */
	}
	if (vec_bad(argv) || vec_bad(envp)) {
		return EFAULT; /* the child's execve would say so */
	}
	if (search && (fvm_bad_ptr(file) || fvm_strlen_user(file) < 0)) {
		/* libc's child faults on FILE, and its spawn reports what it reports. */
		return REAL(posix_spawnp)(pid, file, fa, attr, argv, envp);
	}
	if (search && !strchr(file, '/')) {
		const char *path = fvm_getenv("PATH");
		if (fvm_tracing) {
			fvm_trace_env("PATH", path != NULL);
		}
		if (!path) {
			path = "/bin:/usr/bin";
		}
		for (const char *p = path;; p++) {
			const char *end = strchr(p, ':');
			size_t dl = end ? (size_t)(end - p) : strlen(p);
			snprintf(vpath, sizeof(vpath), "%.*s%s%s", (int)dl, p, dl ? "/" : "", file);
			ret = exec_target(vpath, true, &t);
			if (ret == 0 || !end) {
				break;
			}
			p = end;
		}
		file = vpath;
	} else {
		ret = exec_target(file, true, &t);
	}
	if (ret < 0) {
		return -ret;
	}
	char *argv2[t.interp[0] ? vec_len(argv) + 3 : 1];
	size_t envn = env_room(envp);
	char *envv[envn];
	if (t.interp[0]) {
		args = script_argv(&t, file, argv, argv2);
	}
	char **env = fvm_env_fixup(t.loader, envp, envv, envn, envbuf, sizeof(envbuf));
	if (fvm_tracing) {
		fvm_trace_exec(t.rprog, file, args);
	}
	const char *pieload;
	if (!static_unseen(&t, &pieload) && pieload) {
		char *envp2[envn + 2], piebuf[sizeof(FVM_ENV_PIE) + PATH_MAX];
		if (!pie_env(file, env, envp2, piebuf, sizeof(piebuf))) {
			return ENAMETOOLONG;
		}
		return REAL(posix_spawn)(pid, pieload, fa, attr, args, envp2);
	}
	return REAL(posix_spawn)(pid, t.rprog, fa, attr, args, env);
}

int posix_spawn(pid_t *pid, const char *vpath, const posix_spawn_file_actions_t *fa,
		const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	if (!fvm_on()) {
		return REAL(posix_spawn)(pid, vpath, fa, attr, argv, envp);
	}
	int ret = spawn_common(pid, vpath, false, fa, attr, argv, envp);
	if (ret == 0) {
		fvm_count_process();
	}
	return ret;
}

int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	if (!fvm_on()) {
		return REAL(posix_spawnp)(pid, file, fa, attr, argv, envp);
	}
	int ret = spawn_common(pid, file, true, fa, attr, argv, envp);
	if (ret == 0) {
		fvm_count_process();
	}
	return ret;
}

/* Puts the environment contract back into environ for libc's own spawns. */
static void restore_contract(void)
{
	static const char *const contract[] = FVM_ENV_CONTRACT;
	size_t envn = env_room(environ);
	char *envv[envn], envbuf[ENV_BUF];
	char **env = fvm_env_fixup(0, environ, envv, envn, envbuf, sizeof(envbuf));

	if (!env_get(environ, "LD_PRELOAD") || !strstr(env_get(environ, "LD_PRELOAD"), fvm_lib_path())) {
		const char *v = env_get(env, "LD_PRELOAD");
		if (v) {
			setenv("LD_PRELOAD", v, 1);
		}
	}
	for (size_t c = 0; c < FVM_ENV_CONTRACT_N; c++) {
		const char *v = env_get(env, contract[c]);
		if (v && !env_get(environ, contract[c])) {
			setenv(contract[c], v, 1);
		}
	}
}

int system(const char *command)
{
	if (fvm_on() && command) {
		restore_contract();
	}
	return REAL(system)(command);
}

FILE *popen(const char *command, const char *mode)
{
	if (fvm_on()) {
		restore_contract();
	}
	return REAL(popen)(command, mode);
}

/*
 * posix_spawn file actions run in libc's child, with libc's own open and chdir: the
 * name is settled here, in the VM. An open of a regular file (or a new name) is done
 * now through libfvm (permission checks, copy-up, creation, whiteouts) and the action
 * reopens the resulting real file; O_CREAT|O_EXCL therefore takes effect when the
 * action is added. Other objects (fifos, devices, shared paths) are passed by their
 * real path untouched. A relative name is taken from the cwd at the time of the call.
 */
int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *fa, int fd, const char *vpath,
				     int oflag, mode_t mode)
{
	char proc[64], rpath[FVM_RPATH_MAX];
	struct fvm_res res;
	int ret, tmp;
	ssize_t n;

	if (!fvm_on() || fvm_bad_ptr(vpath)) {
		return REAL(posix_spawn_file_actions_addopen)(fa, fd, vpath, oflag, mode);
	}
	ret = fvm_resolve_at(AT_FDCWD, vpath, (oflag & O_NOFOLLOW) ? FVM_R_NOFOLLOW : 0, &res);
	if (ret < 0 || res.klass == FVM_CLASS_SHARED ||
	    (res.where != FVM_ABSENT && !S_ISREG(res.st.st_mode))) {
		/* Errors are the child's to report, as natively. */
		return REAL(posix_spawn_file_actions_addopen)(fa, fd, ret < 0 ? vpath : res.rpath,
							     oflag, mode);
	}
	tmp = fvm_openat(AT_FDCWD, vpath, (oflag & ~O_TRUNC) | O_CLOEXEC | O_NONBLOCK, mode);
	if (tmp < 0) {
		return REAL(posix_spawn_file_actions_addopen)(fa, fd, res.rpath, oflag, mode);
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", tmp);
	n = sys_readlinkat(AT_FDCWD, proc, rpath, sizeof(rpath) - 1);
	sys_close(tmp);
	if (n <= 0) {
		return REAL(posix_spawn_file_actions_addopen)(fa, fd, res.rpath, oflag, mode);
	}
	rpath[n] = '\0';
	return REAL(posix_spawn_file_actions_addopen)(fa, fd, rpath, oflag & ~(O_CREAT | O_EXCL), mode);
}

int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *fa, const char *vpath)
{
	struct fvm_res res;

	if (fvm_on() && !fvm_bad_ptr(vpath) && fvm_resolve_at(AT_FDCWD, vpath, 0, &res) == 0 &&
	    res.where != FVM_ABSENT) {
		return REAL(posix_spawn_file_actions_addchdir_np)(fa, res.rpath);
	}
	return REAL(posix_spawn_file_actions_addchdir_np)(fa, vpath);
}

/*
 * dlopen: a name with a '/' is the VM's file. A bare name is searched by the dynamic
 * linker (host paths, RUNPATH of the caller): it is passed on by a tail call, so libc
 * still sees the program's own return address as the caller. The mapped name lives
 * on the heap, its pointer in thread-local storage, for the same reason: nothing of
 * this frame is passed on. It is kept until the thread's next dlopen (a thread's
 * static TLS block is zeroed at every thread's start: a 12 KiB buffer there cost every
 * thread of every process three pages; issue 15). Without memory, the virtual name
 * goes on and the loader's error says so.
 */
static __thread char *dl_rpath;

static __attribute__((noinline)) const char *dl_map(const char *vpath)
{
	struct fvm_res res;
	char *copy;

	if (fvm_resolve_at(AT_FDCWD, vpath, 0, &res) < 0 || res.where == FVM_ABSENT) {
		return vpath; /* the dynamic linker reports the error, in its words */
	}
	copy = strdup(res.rpath);
	if (!copy) {
		return vpath;
	}
	free(dl_rpath);
	dl_rpath = copy;
	return dl_rpath;
}

void *dlopen(const char *file, int mode)
{
	if (fvm_on() && file && strchr(file, '/')) {
		file = dl_map(file);
	}
	return REAL(dlopen)(file, mode);
}

void *dlmopen(Lmid_t lmid, const char *file, int mode)
{
	if (fvm_on() && file && strchr(file, '/')) {
		file = dl_map(file);
	}
	return REAL(dlmopen)(lmid, file, mode);
}
