"""`tslite ingest DBFILE` (cli/ingest.c): a generated Telegraf-like agent
stream (cpu, mem, disk, system, net for 10 hosts, with malformed and
type-conflicting lines at known places) piped through it in batches; every
table's rows checked against the generator, rejected lines reported with
their line numbers over the whole input; the idle flush (lines written while
the pipe stays open), SIGTERM (the pending batch written before exit), an
overlong line skipped with later line numbers intact, usage errors, and
bounded memory (peak RSS does not grow with the input)."""
import fcntl
import json
import os
import resource
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import termios
import time

import tshelp  # tests/py/tshelp.py
tshelp.asan_reexec()

n_fail = 0


def eq(name, got, exp):
    global n_fail
    if got == exp:
        print(f"PASS ingest: {name}")
    else:
        n_fail += 1
        print(f"FAIL ingest: {name}: got {got!r}, expected {exp!r}")


root = os.environ.get("TS_ROOT") or os.path.join(os.path.dirname(__file__), "..", "..")
build = os.environ.get("TS_BUILD") or os.path.join(root, "build")
ext = os.environ.get("TS_EXT") or os.path.join(build, "tslite")
cli = os.path.join(build, "bin", "tslite")
if not os.access(cli, os.X_OK):
    print(f"SKIP ingest: {cli} not built")
    sys.exit(0)
if not hasattr(sqlite3.Connection, "enable_load_extension"):
    print("SKIP ingest: this python's sqlite3 cannot load extensions")
    sys.exit(0)
# The CLI is linked with ASan in an ASan build: no preload for it.
child_env = dict(os.environ)
child_env.pop("LD_PRELOAD", None)
child_env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"


def connect(path):
    db = sqlite3.connect(path)
    db.enable_load_extension(True)
    db.load_extension(ext)
    return db


def run(args, data):
    p = subprocess.run([cli, "ingest"] + args, input=data, capture_output=True, env=child_env)
    return p.returncode, p.stderr.decode()


tmp = tempfile.mkdtemp(prefix="ts_ingest_")

# --- A generated agent stream --------------------------------------------
now = int(time.time())
t0 = now - 600
lines = []
expect = {"cpu": [], "mem": [], "disk": [], "system": [], "net": []}
bad = {}        # line number -> reason prefix
for step in range(60):
    ts = t0 + step * 10
    for h in range(10):
        host = f"host-{h:02d}"
        uu = round((step * 7 + h) % 100 / 3, 6)
        lines.append(f"cpu,cpu=cpu-total,host={host} usage_user={uu},usage_system=1.25,usage_idle={100-uu} {ts}")
        expect["cpu"].append((ts * 10**9, host, uu))
        used = 1000000 + step * 1000 + h
        lines.append(f"mem,host={host} used={used}i,available={8000000-used}i,used_percent={used/80000} {ts}")
        expect["mem"].append((ts * 10**9, host, used))
        lines.append(f"disk,device=sda1,fstype=ext4,host={host},mode=rw,path=/ free={50000000-step}u,"
                     f"used={step}u,inodes_used={step*2}i {ts}")
        expect["disk"].append((ts * 10**9, host, 50000000 - step))
        lines.append(f'system,host={host} load1={h/10},n_cpus=4i,uptime_format="{step} min, \\"ok\\"" {ts}')
        expect["system"].append((ts * 10**9, host, f'{step} min, "ok"'))
        lines.append(f"net,host={host},interface=eth0 bytes_recv={step*1500}u,err_in=0i,up={'true' if h % 2 else 'F'} {ts}")
        expect["net"].append((ts * 10**9, host, 1 if h % 2 else 0))
    if step == 20:
        lines.append("cpu,host=x")
        bad[len(lines)] = "missing fields after measurement 'cpu'"
        lines.append("mem,host=x used=1.5 %d" % ts)
        bad[len(lines)] = "field 'used' is a float but measure 'used' of table mem is BIGINT"
        lines.append("")
        lines.append("# a comment")
    if step == 40:
        lines.append('net,host=x,interface=eth0 up="yes" %d' % ts)
        bad[len(lines)] = "field 'up' is a string but measure 'up' of table net is BOOLEAN"
        lines.append("disk,host=x,rack=r1 free=1u %d" % ts)
        bad[len(lines)] = "table disk has no dimension 'rack' (tag)"
n_points = sum(len(v) for v in expect.values())
data = ("\r\n".join(lines[:100]) + "\r\n" + "\n".join(lines[100:])).encode()   # CRLF too

dbf = os.path.join(tmp, "agent.db")
rc, err = run([dbf, "--precision", "s", "--batch-lines", "500"], data)
eq("stream exit status", rc, 0)
counted = len([l for l in lines if l.strip() and not l.startswith("#")])
summary = [l for l in err.splitlines() if " lines, " in l]
eq("stream summary", summary[-1].split(", ")[:3] if summary else None,
   [f"tslite ingest: {counted} lines", f"{n_points} written", f"{len(bad)} rejected"])
nb = int(summary[-1].split(", ")[3].split()[0]) if summary else 0
eq("stream in several batches", nb >= 3, True)
got_bad = {}
for l in err.splitlines():
    if l.startswith("tslite ingest: line "):
        n, reason = l[len("tslite ingest: line "):].split(": ", 1)
        got_bad[int(n)] = reason
eq("rejected lines and reasons", got_bad, bad)
eq("tables created reported",
   sorted(l.split()[-1] for l in err.splitlines() if "created table" in l),
   sorted(expect))

db = connect(dbf)
eq("cpu rows", db.execute("SELECT time, host, usage_user FROM cpu ORDER BY time, host").fetchall(),
   sorted(expect["cpu"]))
eq("mem rows", db.execute("SELECT time, host, used FROM mem ORDER BY time, host").fetchall(),
   sorted(expect["mem"]))
eq("disk rows", db.execute("SELECT time, host, free FROM disk ORDER BY time, host").fetchall(),
   sorted(expect["disk"]))
eq("system rows", db.execute("SELECT time, host, uptime_format FROM system ORDER BY time, host").fetchall(),
   sorted(expect["system"]))
eq("net rows", db.execute("SELECT time, host, up FROM net ORDER BY time, host").fetchall(),
   sorted(expect["net"]))
eq("disk schema", db.execute("SELECT sql FROM sqlite_schema WHERE name='disk'").fetchone()[0],
   'CREATE VIRTUAL TABLE "disk" USING timeseries("device" DIMENSION, "fstype" DIMENSION, '
   '"host" DIMENSION, "mode" DIMENSION, "path" DIMENSION, "free" BIGINT, "used" BIGINT, '
   '"inodes_used" BIGINT)')
eq("check cpu", db.execute("SELECT ts_check('cpu')").fetchone()[0], "ok")
db.close()

# The same stream again: every point is a duplicate with the same values,
# which the write rules accept as no-ops.
rc, err = run([dbf, "--precision", "s"], data)
eq("replay is a no-op", (rc, [l for l in err.splitlines() if " lines, " in l][-1].split(", ")[1]),
   (0, f"{n_points} written"))
db = connect(dbf)
eq("replay adds no rows", db.execute("SELECT count(*) FROM cpu").fetchone()[0], len(expect["cpu"]))
db.close()

# --- Options -----------------------------------------------------------------
dbo = os.path.join(tmp, "opts.db")
rc, err = run([dbo, "--options", '{"memory_retention":"24h"}'],
              f"w,host=a v=1 {(now - 20 * 3600) * 10**9}\n".encode())
eq("options: CREATE option applied", rc, 0)
db = connect(dbo)
eq("options: old row accepted with 24h retention", db.execute("SELECT count(*) FROM w").fetchone()[0], 1)
db.close()
rc, err = run([dbo, "--options", "[1]"], b"")
eq("options: bad JSON is a usage error", (rc, err.strip()),
   (2, "tslite ingest: --options: ts_write_lp: options must be a JSON object"))
rc, err = run([dbo, "--precision", "h"], b"")
eq("bad precision", (rc, err.strip()), (2, "tslite ingest: bad --precision 'h' (expected ns, us, ms or s)"))
rc, err = run([dbo, "--batch-lines", "0"], b"")
eq("bad batch-lines", (rc, err.strip()),
   (2, "tslite ingest: bad --batch-lines '0' (expected a positive integer)"))
rc, err = run([], b"")
eq("no DBFILE", (rc, err.startswith("usage: tslite ingest DBFILE")), (2, True))
p = subprocess.run([cli, "ingest", "--help"], capture_output=True, env=child_env)
eq("--help", (p.returncode, p.stdout.decode().startswith("usage: tslite ingest DBFILE")), (0, True))
p = subprocess.run([cli, "--help"], capture_output=True, env=child_env)
eq("listed in tslite --help", "ingest DBFILE" in p.stdout.decode(), True)

# --- An overlong line is skipped; later line numbers stay right -------------
dbl = os.path.join(tmp, "long.db")
long_line = "x,host=a v=\"" + "a" * (1024 * 1024 + 10) + "\""
rc, err = run([dbl], ("ok v=1\n" + long_line + "\nok v=2\nbroken\nok v=3").encode())
eq("overlong: reported", [l for l in err.splitlines() if l.startswith("tslite ingest: line")],
   ["tslite ingest: line 2: longer than 1048576 bytes, skipped",
    "tslite ingest: line 4: missing fields after measurement 'broken'"])
eq("overlong: summary", [l for l in err.splitlines() if " lines, " in l][-1],
   "tslite ingest: 5 lines, 3 written, 2 rejected, 1 batches")
db = connect(dbl)
eq("overlong: other rows written", db.execute("SELECT v FROM ok ORDER BY v").fetchall(), [(1.0,), (2.0,), (3.0,)])
eq("overlong: no table x", db.execute("SELECT count(*) FROM sqlite_schema WHERE name='x'").fetchone()[0], 0)
db.close()

# --- Idle flush: lines are written while the pipe stays open -----------------
dbi = os.path.join(tmp, "idle.db")
p = subprocess.Popen([cli, "ingest", dbi, "--flush-ms", "200"], stdin=subprocess.PIPE,
                     stderr=subprocess.PIPE, env=child_env)
p.stdin.write(b"idle,host=a v=1\nidle,host=a v=2 %d\n" % ((now - 5) * 10**9))
p.stdin.flush()
n = 0
for _ in range(100):
    time.sleep(0.1)
    if os.path.exists(dbi):
        try:
            db = connect(dbi)
            n = db.execute("SELECT count(*) FROM idle").fetchone()[0]
            db.close()
        except sqlite3.OperationalError:
            n = 0
    if n == 2:
        break
eq("idle flush: rows visible while stdin is open", n, 2)
p.stdin.write(b"idle,host=b v=3\n")
p.stdin.close()
p.wait(timeout=60)
db = connect(dbi)
eq("idle flush: rest written at EOF", (p.returncode, db.execute("SELECT count(*) FROM idle").fetchone()[0]), (0, 3))
db.close()
p.stderr.close()

# --- SIGTERM: the pending batch is written before exit ----------------------
dbs = os.path.join(tmp, "sig.db")
p = subprocess.Popen([cli, "ingest", dbs, "--flush-ms", "600000"], stdin=subprocess.PIPE,
                     stderr=subprocess.PIPE, env=child_env)
p.stdin.write(b"".join(b"sig,host=h%d v=%d\n" % (i, i) for i in range(5)))
p.stdin.flush()
# Signal only once the CLI has installed its SIGTERM handler and drained the
# pipe (a fixed sleep loses on a loaded machine, where an ASan start-up can
# take longer than that): SigCgt bit 15 in /proc, FIONREAD 0 on the pipe.
for _ in range(600):
    try:
        cgt = int(next(l for l in open(f"/proc/{p.pid}/status") if l.startswith("SigCgt:")).split()[1], 16)
    except (OSError, StopIteration):
        cgt = 0
    left = struct.unpack("i", fcntl.ioctl(p.stdin.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
    if cgt & (1 << (signal.SIGTERM - 1)) and left == 0:
        break
    time.sleep(0.05)
time.sleep(0.3)
p.send_signal(signal.SIGTERM)
err = p.stderr.read().decode()
p.wait(timeout=60)
p.stdin.close()
db = connect(dbs)
eq("SIGTERM: exit 0, rows written", (p.returncode, db.execute("SELECT count(*) FROM sig").fetchone()[0]), (0, 5))
eq("SIGTERM: summary says so", err.strip().splitlines()[-1],
   "tslite ingest: 5 lines, 5 written, 0 rejected, 1 batches (stopped by signal)")
db.close()

# --- Bounded memory: peak RSS does not grow with the input -------------------
if os.environ.get("TS_SANITIZE"):
    print("SKIP ingest: bounded memory: not measured under sanitizers")
else:
    def peak(nlines, name):
        path = os.path.join(tmp, name)
        gen = "".join(f"big,host=h{i % 20} v={i} {(now - 3000) * 10**9 + i * 1000}\n" for i in range(nlines))
        code = ("import resource,subprocess,sys;"
                "p=subprocess.run(sys.argv[1:],stdin=sys.stdin);"
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        r = subprocess.run([sys.executable, "-c", code, cli, "ingest", path, "--batch-bytes", "262144"],
                           input=gen.encode(), capture_output=True, env=child_env)
        return int(r.stdout.decode().strip() or 0)
    small = peak(20000, "m1.db")
    large = peak(400000, "m2.db")
    print(f"# ingest peak RSS: {small} KiB for 20k lines, {large} KiB for 400k lines")
    eq("bounded memory: 20x the input, under 8 MiB more peak RSS", large - small < 8192, True)

sys.exit(1 if n_fail else 0)
