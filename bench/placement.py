#!/usr/bin/env python3
"""Benchmark of the placement `allocations` check at 1,000,000 allocation rows (measures, never asserts).

    bench/placement.sh [--rounds N] [--regen] [--dir DIR]

A private MariaDB (unix socket, data in DIR, default /tmp/cellaudit-bench-placement) gets Nova 34's schemas
(fixtures/schema) for nova_api and two cells, and placement 16.0.0's (fixtures/placement/placement-schema.sql):
1,000 compute hosts (500 per cell, one node and one provider each), 333,334 instances (VCPU, MEMORY_MB and
DISK_GB: 1,000,002 allocation rows and as many consumers), and 0.1% drift of each kind the check reports
(orphaned, missing, wrong provider). Then `cellaudit audit --check allocations` runs under /usr/bin/time -v:
median wall time and peak RSS over the rounds, and the findings it counted.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

HOSTS_PER_CELL = 500
INSTANCES_PER_CELL = 166667
DRIFT_EVERY = 1000


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Server:
    def __init__(self, base):
        self.base, self.data, self.sock = base, os.path.join(base, "data"), os.path.join(base, "sock")
        self.proc = None

    def start(self):
        fresh = not os.path.isdir(self.data)
        if fresh:
            os.makedirs(self.base, exist_ok=True)
            subprocess.run(["mariadb-install-db", "--no-defaults", "--auth-root-authentication-method=socket",
                            "--skip-test-db", f"--datadir={self.data}", "--user=root"],
                           check=True, stdout=subprocess.DEVNULL)
        os.makedirs(os.path.join(self.base, "tmp"), exist_ok=True)
        self.proc = subprocess.Popen(
            ["mariadbd", "--no-defaults", f"--datadir={self.data}", f"--socket={self.sock}", "--skip-networking",
             f"--pid-file={self.base}/pid", f"--log-error={self.base}/error.log", f"--tmpdir={self.base}/tmp",
             "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
             "--innodb-buffer-pool-size=2G", "--innodb-log-file-size=512M", "--skip-log-bin",
             "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--performance-schema=OFF",
             "--user=root"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            if os.path.exists(self.sock) and self.sql(None, "SELECT 1", check=False).returncode == 0:
                return fresh
            time.sleep(0.1)
        raise SystemExit(f"mariadbd did not start; see {self.base}/error.log")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait()

    def sql(self, db, text, check=True):
        r = subprocess.run(["mariadb", "--no-defaults", f"--socket={self.sock}", "-uroot"] + ([db] if db else []),
                           input=text.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if check and r.returncode != 0:
            raise SystemExit(f"SQL failed in {db}: {r.stderr.decode()}\n{text[:500]}")
        return r

    def load(self, db, path):
        with open(path, "rb") as f:
            self.sql(db, f.read().decode())

    def url(self, db):
        return f"mysql://root@localhost/{db}?socket={self.sock}"


def uuid_expr(tag):
    h = f"MD5(CONCAT('{tag}-', seq))"
    return (f"CONCAT(SUBSTR({h},1,8),'-',SUBSTR({h},9,4),'-4',SUBSTR({h},14,3),'-8',SUBSTR({h},18,3),'-',"
            f"SUBSTR({h},21,12))")


def generate(srv, repo):
    t0 = time.time()
    schema = os.path.join(repo, "fixtures/schema")
    for db in ["pb_api", "pb_cell0", "pb_cell1", "pb_cell2", "pb_placement"]:
        srv.sql(None, f"DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db}")
    srv.load("pb_api", os.path.join(schema, "api.mysql.sql"))
    srv.load("pb_cell0", os.path.join(schema, "main.mysql.sql"))
    srv.load("pb_placement", os.path.join(repo, "fixtures/placement/placement-schema.sql"))
    srv.sql("pb_api", """INSERT INTO cell_mappings (uuid, name, transport_url, database_connection, disabled)
        VALUES ('00000000-0000-0000-0000-000000000000', 'cell0', 'none:///', 'unused', 0),
               ('c1111111-1111-4111-8111-111111111111', 'cell1', 'rabbit://x', 'unused', 0),
               ('c2222222-2222-4222-8222-222222222222', 'cell2', 'rabbit://x', 'unused', 0);""")
    srv.sql("pb_placement", "INSERT INTO projects (id, external_id) VALUES (1, 'p-bench');"
                            "INSERT INTO users (id, external_id) VALUES (1, 'u-bench');")
    for c in (1, 2):
        db = f"pb_cell{c}"
        srv.load(db, os.path.join(schema, "main.mysql.sql"))
        off = (c - 1) * HOSTS_PER_CELL
        srv.sql(db, f"""
INSERT INTO services (host, `binary`, topic, report_count, disabled, deleted, version)
SELECT CONCAT('cmp-{c}-', seq), 'nova-compute', 'compute', 0, 0, 0, 66 FROM seq_1_to_{HOSTS_PER_CELL};
INSERT INTO compute_nodes (uuid, service_id, host, hypervisor_hostname, vcpus, memory_mb, local_gb, vcpus_used,
  memory_mb_used, local_gb_used, hypervisor_type, hypervisor_version, cpu_info, deleted, mapped)
SELECT {uuid_expr(f'node-{c}')}, seq, CONCAT('cmp-{c}-', seq), CONCAT('cmp-{c}-', seq), 64, 262144, 2000, 0, 0, 0,
  'QEMU', 8002000, '{{}}', 0, 1 FROM seq_1_to_{HOSTS_PER_CELL};
INSERT INTO instances (uuid, display_name, host, node, vm_state, power_state, task_state, project_id, user_id,
  memory_mb, vcpus, root_gb, deleted, hidden, created_at)
SELECT {uuid_expr(f'vm-{c}')}, CONCAT('vm-', seq), CONCAT('cmp-{c}-', 1 + seq % {HOSTS_PER_CELL}),
  CONCAT('cmp-{c}-', 1 + seq % {HOSTS_PER_CELL}), IF(seq % {DRIFT_EVERY} = 3, 'deleted', 'active'), 1, NULL,
  'p-bench', 'u-bench', 2048, 1, 20, IF(seq % {DRIFT_EVERY} = 3, 1, 0), 0, '2025-06-01 12:00:00'
FROM seq_1_to_{INSTANCES_PER_CELL};
""")
        # Providers: id = cell offset + host number, uuid = the compute node's.
        srv.sql("pb_placement", f"""
INSERT INTO resource_providers (id, uuid, name, generation, root_provider_id, parent_provider_id)
SELECT {off} + seq, {uuid_expr(f'node-{c}')}, CONCAT('cmp-{c}-', seq), 1, {off} + seq, NULL
FROM seq_1_to_{HOSTS_PER_CELL};
INSERT INTO inventories (resource_provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size,
  allocation_ratio)
SELECT {off} + h.seq, rc.seq, 100000, 0, 1, 100000, 1, 1.0 FROM seq_1_to_{HOSTS_PER_CELL} h JOIN seq_0_to_2 rc;
INSERT INTO consumers (uuid, project_id, user_id, generation)
SELECT {uuid_expr(f'vm-{c}')}, 1, 1, 1 FROM seq_1_to_{INSTANCES_PER_CELL} WHERE seq % {DRIFT_EVERY} <> 5;
INSERT INTO allocations (resource_provider_id, consumer_id, resource_class_id, used)
SELECT {off} + 1 + ((i.seq + IF(i.seq % {DRIFT_EVERY} = 7, 1, 0)) % {HOSTS_PER_CELL}), {uuid_expr(f'vm-{c}').replace('seq', 'i.seq')},
  rc.seq, ELT(rc.seq + 1, 1, 2048, 20)
FROM seq_1_to_{INSTANCES_PER_CELL} i JOIN seq_0_to_2 rc WHERE i.seq % {DRIFT_EVERY} <> 5;
""")
    # Top up to exactly 1,000,002 allocation rows with orphans: consumers that are no instance.
    n = int(srv.sql("pb_placement", "SELECT COUNT(*) FROM allocations").stdout.split()[-1])
    missing = (1000002 - n) // 3
    srv.sql("pb_placement", f"""
INSERT INTO allocations (resource_provider_id, consumer_id, resource_class_id, used)
SELECT 1 + i.seq % {HOSTS_PER_CELL}, {uuid_expr('orphan').replace('seq', 'i.seq')}, rc.seq, 1
FROM seq_1_to_{missing} i JOIN seq_0_to_2 rc;
""")
    n = srv.sql("pb_placement", "SELECT COUNT(*) FROM allocations").stdout.split()[-1].decode()
    srv.sql(None, "CREATE DATABASE IF NOT EXISTS pb_generated")
    log(f"generated {n} allocation rows in {time.time() - t0:.0f}s")


def run(bin_, srv, out_path):
    # Every cell read (cell0 empty): consumers found nowhere are orphans, not undecided.
    cmd = [bin_, "audit", "--api-db", srv.url("pb_api"), "--cell-url", f"cell0={srv.url('pb_cell0')}",
           "--cell-url", f"cell1={srv.url('pb_cell1')}", "--cell-url", f"cell2={srv.url('pb_cell2')}",
           "--placement-db", srv.url("pb_placement"), "--check", "allocations", "--format", "json"]
    t0 = time.perf_counter()
    with open(out_path, "wb") as out:
        r = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdout=out, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    m = re.search(rb"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    if r.returncode not in (0, 1, 2):
        raise SystemExit(f"cellaudit failed ({r.returncode}): {r.stderr.decode()[-2000:]}")
    return wall, int(m.group(1)) / 1024 if m else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--dir", default="/tmp/cellaudit-bench-placement")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--regen", action="store_true")
    a = ap.parse_args()
    srv = Server(a.dir)
    srv.start()
    try:
        have = srv.sql(None, "SHOW DATABASES LIKE 'pb_generated'").stdout.strip()
        if a.regen or not have:
            generate(srv, a.repo)
        if not srv.sql(None, "SHOW DATABASES LIKE 'pb_cell0'").stdout.strip():
            srv.sql(None, "CREATE DATABASE pb_cell0")
            srv.load("pb_cell0", os.path.join(a.repo, "fixtures/schema/main.mysql.sql"))
        bin_ = os.path.join(a.repo, "target/release/cellaudit")
        rows = srv.sql("pb_placement", "SELECT COUNT(*), COUNT(DISTINCT consumer_id) FROM allocations")
        log("allocations, consumers: " + rows.stdout.decode().split("\n")[1])
        walls, rss = [], []
        out = os.path.join(a.dir, "report.json")
        for i in range(a.rounds):
            w, m = run(bin_, srv, out)
            walls.append(w)
            rss.append(m)
            log(f"round {i + 1}: {w:.2f}s, peak RSS {m:.0f} MB")
        kinds = {}
        for f in json.load(open(out))["findings"]:
            kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
        print(f"allocations check, 1,000,002 allocation rows / 333,334 instances in 2 cells: "
              f"wall {statistics.median(walls):.2f}s (median of {a.rounds}), peak RSS {statistics.median(rss):.0f} MB; "
              f"findings {json.dumps(kinds, sort_keys=True)}")
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
