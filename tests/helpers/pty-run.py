#!/usr/bin/env python3
"""pty-run — runs a command on a new pseudo-terminal it controls, for the terminal tests.

    pty-run.py [--keys STRING] [--delay S] -- COMMAND [ARG...]

The command gets the pty as its controlling terminal (stdin, stdout, stderr); STRING
(Python escapes: \\n, \\x1b) is typed into it after DELAY seconds (default 0.5). When
the command has exited, prints what the terminal showed (less carriage returns): its
output and the echo of its input — a byte a TIOCSTI pushed into the input, which the
shell behind the terminal would have read, shows there too. Exit status: the command's.
The test's own terminal is never touched."""
import fcntl, os, select, sys, termios, time

args = sys.argv[1:]
keys, delay = b"", 0.5
while args and args[0] != "--":
    if args[0] == "--keys":
        keys = args[1].encode().decode("unicode_escape").encode("latin-1"); args = args[2:]
    elif args[0] == "--delay":
        delay = float(args[1]); args = args[2:]
    else:
        sys.exit("usage: pty-run.py [--keys STRING] [--delay S] -- COMMAND [ARG...]")
cmd = args[1:]
master, slave = os.openpty()
os.set_inheritable(slave, True)
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.close(master)
    os.environ.setdefault("TERM", "xterm")
    os.execvp(cmd[0], cmd)
out, start, typed, status = b"", time.time(), False, None
while status is None or select.select([master], [], [], 0.05)[0]:
    if not typed and time.time() - start >= delay:
        os.write(master, keys); typed = True
    if select.select([master], [], [], 0.05)[0]:
        try:
            out += os.read(master, 65536)
        except OSError:
            pass
    if status is None:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
    if status is None and time.time() - start > 30:
        os.kill(pid, 9)
        start = time.time()  # once: its exit is read next
sys.stdout.write(out.decode("utf-8", "replace").replace("\r", ""))
sys.exit(status if status is not None and status >= 0 else 1)
