"""Benchmark driver for bench/run.sh: private MariaDB, Nova-shaped data, the full audit, and the pair comparison.

Generation runs inside the server (INSERT ... SELECT from MariaDB's seq_1_to_N sequence tables), so it costs a
few minutes, not hours; data is kept in the bench directory and reused unless --regen is given.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

CHILDREN = 10
PER_CHILD = 100_000
PAIR_ROWS = 300_000
# Drift: of every 3000 child rows (by generation order), 1 is missing at the top and 1 changed there; the top also
# gets 1 extra (ghost) row per 3000: 0.1% of the rows differ, spread evenly over the key space (uuids are hashes).
DRIFT_EVERY = 3000
USER, PASSWORD = "bench", "bench"
# The columns the instances check compares, also given to the other tools (cell_name and ids differ by design).
COMPARED = ["uuid", "display_name", "deleted", "host", "node", "vm_state", "task_state", "power_state",
            "availability_zone", "project_id", "user_id", "instance_type_id"]
RELADIFF = os.environ.get("RELADIFF", "/work/reladiff-venv/bin/reladiff")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Server:
    def __init__(self, base):
        self.base = base
        self.data = os.path.join(base, "data")
        self.sock = os.path.join(base, "sock")
        self.port = None
        self.proc = None

    def start(self):
        fresh = not os.path.isdir(self.data)
        if fresh:
            os.makedirs(self.base, exist_ok=True)
            subprocess.run(["mariadb-install-db", "--no-defaults", "--auth-root-authentication-method=normal",
                            "--skip-test-db", f"--datadir={self.data}"] + (["--user=root"] if os.geteuid() == 0 else []),
                           check=True, stdout=subprocess.DEVNULL)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        args = ["mariadbd", "--no-defaults", f"--datadir={self.data}", f"--socket={self.sock}",
                f"--port={self.port}", "--bind-address=127.0.0.1", f"--pid-file={self.base}/pid",
                f"--log-error={self.base}/error.log", "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci", "--innodb-buffer-pool-size=3G",
                "--innodb-log-file-size=512M", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0", "--performance-schema=OFF", "--skip-name-resolve"]
        if os.geteuid() == 0:
            args.append("--user=root")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            if os.path.exists(self.sock) and self.sql(None, "SELECT 1", check=False).returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise SystemExit(f"mariadbd did not start; see {self.base}/error.log")
        self.sql(None, f"CREATE USER IF NOT EXISTS '{USER}'@'%' IDENTIFIED BY '{PASSWORD}';"
                       f"GRANT ALL ON *.* TO '{USER}'@'%'")
        return fresh

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait()

    def client(self, db, *extra):
        return ["mariadb", "--no-defaults", f"--socket={self.sock}", "-uroot"] + list(extra) + ([db] if db else [])

    def sql(self, db, text, check=True):
        r = subprocess.run(self.client(db), input=text.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if check and r.returncode != 0:
            raise SystemExit(f"SQL failed in {db}: {r.stderr.decode()}\n{text[:500]}")
        return r

    def tcp_url(self, db):
        return f"mysql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{db}"


def child_rows_sql(db, tag, n):
    """n Nova-shaped instance rows with hash uuids (random order against the primary key)."""
    h = f"MD5(CONCAT('{tag}-', seq))"
    uuid = (f"CONCAT(SUBSTR({h},1,8),'-',SUBSTR({h},9,4),'-4',SUBSTR({h},14,3),'-8',SUBSTR({h},18,3),'-',"
            f"SUBSTR({h},21,12))")
    return f"""
INSERT INTO `{db}`.instances (created_at, updated_at, user_id, project_id, image_ref, kernel_id, ramdisk_id,
  launch_index, key_name, key_data, power_state, vm_state, memory_mb, vcpus, hostname, host, user_data,
  reservation_id, launched_at, display_name, display_description, availability_zone, locked, os_type, launched_on,
  instance_type_id, vm_mode, uuid, architecture, root_device_name, access_ip_v4, config_drive, task_state,
  progress, auto_disk_config, shutdown_terminate, disable_terminate, root_gb, ephemeral_gb, cell_name, node,
  deleted, cleaned, hidden)
SELECT '2019-01-01 10:00:00' + INTERVAL (seq % 86400) SECOND, '2019-06-01 10:00:00' + INTERVAL (seq % 86400) SECOND,
  CONCAT('user-', seq % 5000), CONCAT('project-', LPAD(seq % 2000, 8, '0')), CONCAT('img-', seq % 40), '', '',
  0, CONCAT('key-', seq % 5000), REPEAT('k', 380), IF(seq % 10 = 0, 4, 1), IF(seq % 10 = 0, 'stopped', 'active'),
  2048 * (1 + seq % 4), 1 + seq % 4, CONCAT('vm-{tag}-', seq), CONCAT('cmp-{tag}-', seq % 200), REPEAT('u', 200),
  CONCAT('r-', LPAD(seq, 8, '0')), '2019-01-01 10:05:00', CONCAT('vm-{tag}-', seq), CONCAT('instance ', seq, ' of {tag}'),
  CONCAT('az-', seq % 3), 0, 'linux', CONCAT('cmp-{tag}-', seq % 200), 1 + seq % 6, 'hvm', {uuid}, 'x86_64',
  '/dev/vda', CONCAT('10.', seq % 250, '.', (seq DIV 250) % 250, '.', seq % 7), '', NULL, 0, 0, 0, 0,
  20 * (1 + seq % 4), 0, NULL, CONCAT('cmp-{tag}-', seq % 200, '.example.org'), 0, 0, 0
FROM seq_1_to_{n};
"""


def mirror_sql(parent, child, cell, tag, n):
    """The parent's copy of a child, minus the missing rows, with changed rows and ghosts."""
    cols = ("created_at, updated_at, user_id, project_id, image_ref, kernel_id, ramdisk_id, launch_index, key_name, "
            "key_data, power_state, vm_state, memory_mb, vcpus, hostname, host, user_data, reservation_id, launched_at, "
            "display_name, display_description, availability_zone, locked, os_type, launched_on, instance_type_id, "
            "vm_mode, uuid, architecture, root_device_name, access_ip_v4, config_drive, task_state, progress, "
            "auto_disk_config, shutdown_terminate, disable_terminate, root_gb, ephemeral_gb, node, deleted, cleaned, hidden")
    ghosts = child_rows_sql(parent, f"ghost-{tag}", n // DRIFT_EVERY).replace(
        "NULL, CONCAT('cmp-", f"'api!{cell}', CONCAT('cmp-", 1)
    return f"""
INSERT INTO `{parent}`.instances ({cols}, cell_name)
SELECT {cols}, 'api!{cell}' FROM `{child}`.instances WHERE id % {DRIFT_EVERY} <> 1;
UPDATE `{parent}`.instances p JOIN `{child}`.instances c ON c.uuid = p.uuid
  SET p.vm_state = 'error' WHERE c.id % {DRIFT_EVERY} = 2;
{ghosts}
"""


def generate(srv, schema):
    log(f"generating: {CHILDREN} children x {PER_CHILD:,}, their {CHILDREN * PER_CHILD:,}-row parent, and a {PAIR_ROWS:,}-row pair ...")
    t0 = time.time()
    dbs = ["parent"] + [f"child{i:02d}" for i in range(1, CHILDREN + 1)] + ["pair_parent", "pair_child"]
    srv.sql(None, "DROP DATABASE IF EXISTS bench_generated")
    for db in dbs:
        srv.sql(None, f"DROP DATABASE IF EXISTS `{db}`; CREATE DATABASE `{db}` CHARACTER SET utf8mb3")
        subprocess.run(srv.client(db), stdin=open(schema, "rb"), check=True)
    for i in range(1, CHILDREN + 1):
        c = f"child{i:02d}"
        # seq_1_to_N (MariaDB's Sequence engine) resolves in the current database.
        srv.sql(c, child_rows_sql(c, c, PER_CHILD))
        srv.sql("parent", mirror_sql("parent", c, c, c, PER_CHILD))
        # The parent's `cells` rows and each child's parent row, as nova-manage cell create makes them.
        srv.sql(None, f"INSERT INTO parent.cells (created_at, name, is_parent, deleted, transport_url) "
                      f"VALUES (NOW(), '{c}', 0, 0, 'rabbit://nova:x@mq-{c}:5672/');"
                      f"INSERT INTO {c}.cells (created_at, name, is_parent, deleted, transport_url) "
                      f"VALUES (NOW(), 'api', 1, 0, 'rabbit://nova:x@mq-api:5672/')")
        log(f"  {c} done ({time.time() - t0:.0f}s)")
    srv.sql("pair_child", child_rows_sql("pair_child", "pair", PAIR_ROWS))
    srv.sql("pair_parent", mirror_sql("pair_parent", "pair_child", "pair_child", "pair", PAIR_ROWS))
    srv.sql(None, "ANALYZE TABLE parent.instances, pair_parent.instances, pair_child.instances")
    srv.sql(None, "CREATE DATABASE bench_generated")
    log(f"generated in {time.time() - t0:.0f}s")


def rss_and_wall(cmd, out_path):
    """Runs cmd under /usr/bin/time -v; returns (wall seconds, peak RSS in MB, exit code)."""
    t0 = time.perf_counter()
    with open(out_path, "wb") as out:
        r = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdout=out, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    m = re.search(rb"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    return wall, int(m.group(1)) / 1024 if m else float("nan"), r.returncode


def cellaudit_cmd(bin_, srv, parent, children, check, mode="stream"):
    cmd = [bin_, "audit", "--parent", srv.tcp_url(parent), "--parent-name", "api", "--format", "json",
           "--instances-mode", mode]
    for name, db in children:
        cmd += ["--child", f"{name}={srv.tcp_url(db)}"]
    if check:
        cmd += ["--check", check]
    return cmd


UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def uuids_from_cellaudit(path):
    doc = json.load(open(path))
    return {f["key"]["instance"] for f in doc["findings"] if f["check"] == "instances" and "instance" in f["key"]}


def run_cellaudit(ctx, work, mode="stream"):
    out = os.path.join(work, f"cellaudit-{mode}.json")
    cmd = cellaudit_cmd(ctx.bin, ctx.srv, ctx.pp, [(ctx.pc, ctx.pc)], "instances", mode)
    t0 = time.perf_counter()
    with open(out, "wb") as f:
        subprocess.run(cmd, stdout=f, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0, uuids_from_cellaudit(out)


def dump_diff(ctx, work, sort_data):
    cols = ", ".join(COMPARED)
    setting = "SET SESSION max_length_for_sort_data = 8192; " if sort_data else ""
    q = f"{setting}SELECT {cols} FROM instances ORDER BY uuid"
    tcp = ["--no-defaults", "-h127.0.0.1", f"-P{ctx.srv.port}", f"-u{USER}", f"-p{PASSWORD}"]
    script = (f"diff <(mariadb {' '.join(tcp)} -N --quick -e '{q}' {ctx.pp}) "
              f"<(mariadb {' '.join(tcp)} -N --quick -e '{q}' {ctx.pc})")
    t0 = time.perf_counter()
    r = subprocess.run(["bash", "-c", script], stdout=subprocess.PIPE)
    wall = time.perf_counter() - t0
    found = set()
    for line in r.stdout.decode().splitlines():
        if line[:2] in ("< ", "> "):
            found.add(line[2:].split("\t", 1)[0])
    return wall, found


def run_cellaudit_hash(ctx, work):
    return run_cellaudit(ctx, work, "hash")


def run_dump(ctx, work):
    return dump_diff(ctx, work, False)


def run_dump_sort(ctx, work):
    return dump_diff(ctx, work, True)


def sql_values(text):
    """Splits a VALUES(...) list of pt-table-sync's output into Python strings (quotes and NULL handled)."""
    vals, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "'":
            j, buf = i + 1, []
            while j < n:
                if text[j] == "\\":
                    buf.append(text[j + 1])
                    j += 2
                elif text[j] == "'":
                    break
                else:
                    buf.append(text[j])
                    j += 1
            vals.append("".join(buf))
            i = j + 1
        elif c in ", ":
            i += 1
        else:
            j = i
            while j < n and text[j] != ",":
                j += 1
            vals.append(text[i:j].strip())
            i = j
    return vals


def run_pt(ctx, work):
    dsn = f"h=127.0.0.1,P={ctx.srv.port},u={USER},p={PASSWORD}"
    cmd = ["pt-table-sync", "--print", "--no-check-triggers", "--chunk-index", "uniq_instances0uuid",
           "--columns", ",".join(COMPARED), f"{dsn},D={ctx.pc},t=instances", f"D={ctx.pp},t=instances"]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    if r.returncode not in (0, 1, 2):
        log("pt-table-sync failed: " + r.stderr.decode()[-500:])
    found = set()
    for line in r.stdout.decode().splitlines():
        m = re.search(r"WHERE .*`uuid`='([^']+)'", line)
        if m:
            found.add(m.group(1))
            continue
        m = re.match(r"(?:REPLACE|INSERT) INTO \S+\((.*?)\) VALUES \((.*)\) /\*", line) or \
            re.match(r"(?:REPLACE|INSERT) INTO \S+\((.*?)\) VALUES \((.*)\);", line)
        if m:
            cols = [c.strip().strip("`") for c in m.group(1).split(",")]
            vals = sql_values(m.group(2))
            found.add(vals[cols.index("uuid")])
    return wall, found


def run_reladiff(ctx, work):
    cmd = [RELADIFF, ctx.srv.tcp_url(ctx.pc), "instances", ctx.srv.tcp_url(ctx.pp), "instances",
           "-k", "uuid", "--json"] + sum((["-c", c] for c in COMPARED if c != "uuid"), [])
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        log("reladiff failed: " + r.stderr.decode()[-800:])
    found = set()
    for line in r.stdout.decode().splitlines():
        for u in UUID_RE.findall(line):
            found.add(u)
    return wall, found


class Ctx:
    pass


def main():
    global CHILDREN, PER_CHILD, PAIR_ROWS
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--dir", default="/tmp/cellaudit-bench")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--regen", action="store_true")
    ap.add_argument("--skip-full", action="store_true")
    ap.add_argument("--skip-pair", action="store_true")
    ap.add_argument("--tools", default="cellaudit,cellaudit-hash,dump-diff,dump-diff-8192,pt-table-sync,reladiff")
    ap.add_argument("--modes", default="auto,stream,hash", help="--instances-mode values for the full audit")
    ap.add_argument("--bin", help="the cellaudit binary [default: target/release/cellaudit of --repo]")
    ap.add_argument("--children", type=int, default=CHILDREN, help="children (and rows of the full audit)")
    ap.add_argument("--per-child", type=int, default=PER_CHILD, help="instances per child")
    ap.add_argument("--pair-rows", type=int, default=PAIR_ROWS, help="instances of the pair's child")
    a = ap.parse_args()
    CHILDREN, PER_CHILD, PAIR_ROWS = a.children, a.per_child, a.pair_rows
    if a.regen and os.path.isdir(a.dir):
        shutil.rmtree(a.dir)
    ctx = Ctx()
    ctx.bin = a.bin or os.path.join(a.repo, "target/release/cellaudit")
    ctx.srv = srv = Server(a.dir)
    ctx.pp, ctx.pc = "pair_parent", "pair_child"
    work = os.path.join(a.dir, "out")
    os.makedirs(work, exist_ok=True)
    try:
        fresh = srv.start()
        if fresh or srv.sql(None, "SHOW DATABASES LIKE 'bench_generated'").stdout.strip() == b"":
            generate(srv, os.path.join(a.repo, "fixtures/schema/main.mysql.sql"))
        counts = srv.sql(None, "SELECT (SELECT COUNT(*) FROM parent.instances), "
                               "(SELECT COUNT(*) FROM pair_parent.instances), "
                               "(SELECT COUNT(*) FROM pair_child.instances)").stdout.decode().split()[-3:]
        parent_rows, pair_p, pair_c = map(int, counts)
        children = [(f"child{i:02d}", f"child{i:02d}") for i in range(1, CHILDREN + 1)]
        print(f"data: parent {parent_rows:,} instances, {CHILDREN} children x {PER_CHILD:,}; "
              f"pair {pair_p:,} / {pair_c:,}; MariaDB {srv.sql(None, 'SELECT VERSION()').stdout.decode().split()[-1]}; "
              f"{os.cpu_count()} CPUs")

        if not a.skip_full:
            total = parent_rows + CHILDREN * PER_CHILD
            runs = [(f"{label}, {mode} mode", check, mode) for mode in a.modes.split(",")
                    for label, check in [("instances check", "instances"), ("all checks", None)]]
            for label, check, mode in runs:
                # One warm-up so the buffer pool holds the data, then the measured run.
                rss_and_wall(cellaudit_cmd(ctx.bin, srv, "parent", children, check, mode), os.devnull)
                out = os.path.join(work, f"full-{check or 'all'}-{mode}.json")
                wall, rss, code = rss_and_wall(cellaudit_cmd(ctx.bin, srv, "parent", children, check, mode), out)
                doc = json.load(open(out))
                kinds = {}
                for f in doc["findings"]:
                    if f["check"] == "instances":
                        kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
                print(f"full audit, {label}: wall {wall:.2f} s, peak RSS {rss:.1f} MB, "
                      f"{total / wall:,.0f} instance rows/s, exit {code}, instance findings {kinds}")

        if not a.skip_pair:
            tools = {"cellaudit": run_cellaudit, "cellaudit-hash": run_cellaudit_hash,
                     "dump-diff": run_dump, "dump-diff-8192": run_dump_sort,
                     "pt-table-sync": run_pt, "reladiff": run_reladiff}
            names = [t for t in a.tools.split(",") if t in tools]
            times = {n: [] for n in names}
            found = {}
            for r in range(a.rounds):
                order = names[r % len(names):] + names[:r % len(names)]
                for n in order:
                    wall, uu = tools[n](ctx, work)
                    times[n].append(wall)
                    found[n] = uu
                    log(f"round {r + 1}: {n} {wall:.2f}s ({len(uu)} uuids)")
            # cellaudit's time over each tool's, for each mode measured (0.5x: cellaudit takes half the time).
            bases = [(m, statistics.median(times[m])) for m in ("cellaudit", "cellaudit-hash") if m in times]
            print(f"\npair: {pair_p:,}-row parent vs {pair_c:,}-row child, medians of {a.rounds} interleaved rounds; "
                  f"cellaudit = --instances-mode stream, cellaudit-hash = --instances-mode hash")
            print("| tool | median wall (s) | rounds (s) | " + " | ".join(f"{m} / tool" for m, _ in bases)
                  + " | differing uuids | same as cellaudit |")
            print("|---|---|---|" + "---|" * len(bases) + "---|---|")
            ref = found.get("cellaudit", found.get("cellaudit-hash"))
            for n in names:
                med = statistics.median(times[n])
                ratios = " | ".join(f"{b / med:.2f}x" for _, b in bases)
                same = "yes" if ref is not None and found[n] == ref else (
                    "-" if ref is None else f"NO (+{len(found[n] - ref)} / -{len(ref - found[n])})")
                print(f"| {n} | {med:.2f} | {' '.join(f'{t:.2f}' for t in times[n])} | {ratios} | {len(found[n])} | {same} |")
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
