#!/usr/bin/env bash
# Compatibility: sqlite3 creates a WAL-mode database in a host directory; a writer and
# concurrent readers in two processes of the VM; PRAGMA integrity_check; the host has no
# database file afterwards (checked by the harness's host manifest).
. "$(dirname "$0")/../lib/harness.sh"
VM_SHELL=bash
command -v sqlite3 >/dev/null || { skip sqlite_scenario "sqlite3 is not installed (make deps)"; done_testing; exit; }
mkdir -p "$HOST/db"

vm_check_ok sqlite_wal_writer_and_concurrent_readers 'set -e
sqlite3 db/app.db "PRAGMA journal_mode=WAL; CREATE TABLE t(i INTEGER PRIMARY KEY, v TEXT);"
( for i in $(seq 1 200); do echo "INSERT INTO t(v) VALUES (\"row$i\");"; done | sqlite3 -cmd ".timeout 5000" db/app.db ) &
w=$!
for r in 1 2 3 4 5; do sqlite3 -cmd ".timeout 5000" db/app.db "SELECT count(*) >= 0 FROM t;"; done > readers.out &
r=$!
wait $w; wait $r; sort -u readers.out
sqlite3 db/app.db "SELECT count(*), min(v), max(i) FROM t; PRAGMA integrity_check; PRAGMA journal_mode;"
ls db | sort'

vm_check_ok sqlite_python_two_processes_share_wal 'set -e
python3 - <<EOF
import sqlite3, subprocess, sys
c = sqlite3.connect("db/py.db"); c.execute("PRAGMA journal_mode=WAL")
c.execute("CREATE TABLE k(x)"); c.commit()
c.execute("INSERT INTO k VALUES (1)")  # open write transaction, not yet committed
out = subprocess.run([sys.executable, "-c", "import sqlite3; print(sqlite3.connect(\"db/py.db\").execute(\"SELECT count(*) FROM k\").fetchone()[0])"], capture_output=True, text=True).stdout.strip()
print("reader saw before commit:", out)
c.commit()
out = subprocess.run([sys.executable, "-c", "import sqlite3; print(sqlite3.connect(\"db/py.db\").execute(\"SELECT count(*) FROM k\").fetchone()[0])"], capture_output=True, text=True).stdout.strip()
print("reader saw after commit:", out)
print(c.execute("PRAGMA integrity_check").fetchone()[0])
EOF'

done_testing
