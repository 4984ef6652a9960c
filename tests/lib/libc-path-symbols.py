#!/usr/bin/env python3
"""libc-path-symbols.py — the functions the installed libc exports that take a file or
object name, found from glibc's own prototypes (its headers name parameters __file,
__path, __name, __template, ...). Prints one name per line, sorted.

Usage: libc-path-symbols.py CC LIBC_SO
"""
import re
import subprocess
import sys

HEADERS = """
stdio.h stdlib.h unistd.h fcntl.h sys/stat.h sys/statfs.h sys/statvfs.h sys/xattr.h
sys/inotify.h sys/mman.h sys/time.h sys/mount.h sys/swap.h sys/acct.h sys/ipc.h
sys/shm.h sys/sem.h sys/msg.h dirent.h ftw.h fts.h glob.h spawn.h dlfcn.h utime.h
mqueue.h semaphore.h utmp.h utmpx.h mntent.h link.h libgen.h sys/socket.h sys/un.h
sys/fanotify.h sys/quota.h sys/vfs.h sys/file.h sys/prctl.h sys/sendfile.h stdio_ext.h
""".split()

# Parameter names glibc gives to file and object names.
NAMES = ("file|path|filename|name|dir|old|new|from|to|oldpath|newpath|fname|pathname|"
         "target|linkpath|dev|special|template|tmpl|pattern|pfx")
PARAM = re.compile(r"(?:const )?char \*(?:__restrict )?__(?:%s)\b" % NAMES)
PROTO = re.compile(r"\b(\w+)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)\s*(?:__attribute__|__asm__|$)")


def main():
    cc, libc = sys.argv[1], sys.argv[2]
    src = "#define _GNU_SOURCE\n" + "".join("#include <%s>\n" % h for h in HEADERS)
    pre = subprocess.run([cc, "-E", "-P", "-x", "c", "-"], input=src, text=True,
                         capture_output=True, check=True).stdout
    dump = subprocess.run(["objdump", "-T", libc], text=True, capture_output=True,
                          check=True).stdout
    exported = {l.split()[-1] for l in dump.splitlines() if " .text" in l}
    found = set()
    for decl in pre.replace("\n", " ").split(";"):
        decl = decl.strip()
        if not decl.startswith("extern"):
            continue
        m = PROTO.search(decl)
        if m and m.group(1) in exported and PARAM.search(m.group(2)):
            found.add(m.group(1))
    print("\n".join(sorted(found)))


if __name__ == "__main__":
    main()
