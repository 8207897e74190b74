"""Cells v2 at CERN's scale of cells, gently: 70 small cells and their API DB on one MariaDB server.

    python3 bench/v2_cells.py --bin target/release/cellaudit [--cells 70] [--instances 1000] [--rounds 3] [--regen]

Generates (inside the server, with Nova 34's real schemas from fixtures/schema/) an API DB whose cell_mappings name
cell0 and N cells, each cell with 20 compute hosts (service, compute node, host mapping) and `--instances`
instances, each instance with its mapping and a request spec; everything consistent. Then audits it with the
default read limits (--jobs 8, one database per server at a time), with --jobs-per-server 8 (as many as --jobs), and
with --jobs 1, and prints medians of wall time and peak RSS, the slowest cell's read time and the rows read, from
the JSON report. Measures, never asserts. Data is kept in --dir and reused unless --regen is given.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Server, log, rss_and_wall  # noqa: E402

HOSTS = 20


def cell_sql(n, instances):
    tag = f"c{n:02d}"
    return f"""
INSERT INTO services (created_at, host, `binary`, topic, report_count, disabled, deleted, version, uuid)
SELECT '2025-06-01 12:00:00', CONCAT('{tag}-cmp-', seq), 'nova-compute', 'compute', 0, 0, 0, 66,
       CONCAT('5e5e5e5e-0000-4000-8{n:03d}-', LPAD(seq, 12, '0'))
FROM seq_1_to_{HOSTS};
INSERT INTO compute_nodes (created_at, service_id, vcpus, memory_mb, local_gb, vcpus_used, memory_mb_used,
  local_gb_used, hypervisor_type, hypervisor_version, cpu_info, hypervisor_hostname, deleted, host, uuid, mapped)
SELECT '2025-06-01 12:00:00', NULL, 64, 262144, 2000, 0, 0, 0, 'QEMU', 8002000, '{{}}', CONCAT('{tag}-cmp-', seq),
       0, CONCAT('{tag}-cmp-', seq), CONCAT('c0c0c0c0-0000-4000-8{n:03d}-', LPAD(seq, 12, '0')), 1
FROM seq_1_to_{HOSTS};
INSERT INTO instances (created_at, updated_at, user_id, project_id, power_state, vm_state, host, node,
  display_name, availability_zone, uuid, deleted, hidden, instance_type_id)
SELECT '2025-06-01 12:00:00', '2025-06-01 12:00:00', CONCAT('u-', seq % 50), CONCAT('p-', seq % 20), 1, 'active',
       CONCAT('{tag}-cmp-', 1 + seq % {HOSTS}), CONCAT('{tag}-cmp-', 1 + seq % {HOSTS}), CONCAT('vm-', seq),
       'nova', CONCAT('00000000-0000-4000-8{n:03d}-', LPAD(seq, 12, '0')), 0, 0, 1
FROM seq_1_to_{instances};
"""


def api_sql(n, instances):
    tag = f"c{n:02d}"
    spec = ('{"nova_object.name": "RequestSpec", "nova_object.namespace": "nova", "nova_object.version": "1.15", '
            '"nova_object.data": {"availability_zone": null, "num_instances": 1}}')
    return f"""
INSERT INTO host_mappings (created_at, cell_id, host)
SELECT '2025-06-01 12:00:00', (SELECT id FROM cell_mappings WHERE name = 'cell{n:02d}'), CONCAT('{tag}-cmp-', seq)
FROM seq_1_to_{HOSTS};
INSERT INTO instance_mappings (created_at, instance_uuid, cell_id, project_id, queued_for_delete, user_id)
SELECT '2025-06-01 12:00:00', CONCAT('00000000-0000-4000-8{n:03d}-', LPAD(seq, 12, '0')),
       (SELECT id FROM cell_mappings WHERE name = 'cell{n:02d}'), CONCAT('p-', seq % 20), 0, CONCAT('u-', seq % 50)
FROM seq_1_to_{instances};
INSERT INTO request_specs (created_at, instance_uuid, spec)
SELECT '2025-06-01 12:00:00', CONCAT('00000000-0000-4000-8{n:03d}-', LPAD(seq, 12, '0')), '{spec}'
FROM seq_1_to_{instances};
"""


def generate(srv, repo, cells, instances):
    log(f"generating: an API DB and {cells} cells of {HOSTS} hosts and {instances} instances ...")
    t0 = time.time()
    api_schema = os.path.join(repo, "fixtures/schema/api.mysql.sql")
    main_schema = os.path.join(repo, "fixtures/schema/main.mysql.sql")
    srv.sql(None, "DROP DATABASE IF EXISTS v2_generated; DROP DATABASE IF EXISTS v2_api; CREATE DATABASE v2_api")
    subprocess.run(srv.client("v2_api"), stdin=open(api_schema, "rb"), check=True)
    names = ["cell0"] + [f"cell{n:02d}" for n in range(1, cells + 1)]
    for i, name in enumerate(names):
        db = f"v2_{name}"
        srv.sql(None, f"DROP DATABASE IF EXISTS `{db}`; CREATE DATABASE `{db}`")
        subprocess.run(srv.client(db), stdin=open(main_schema, "rb"), check=True)
        uuid = "00000000-0000-0000-0000-000000000000" if i == 0 else f"c{i:07d}-0000-4000-8000-000000000000"
        srv.sql("v2_api", f"INSERT INTO cell_mappings (created_at, uuid, name, transport_url, database_connection, "
                          f"disabled) VALUES ('2025-06-01 12:00:00', '{uuid}', '{name}', 'rabbit://x:y@mq/', "
                          f"'{srv.tcp_url(db)}', 0)")
        if i > 0:
            srv.sql(db, cell_sql(i, instances))
            srv.sql("v2_api", api_sql(i, instances))
        if i % 10 == 0:
            log(f"  {name} done ({time.time() - t0:.0f}s)")
    srv.sql(None, "CREATE DATABASE v2_generated")
    log(f"generated in {time.time() - t0:.0f}s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--dir", default="/tmp/cellaudit-bench-v2")
    ap.add_argument("--cells", type=int, default=70)
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--regen", action="store_true")
    a = ap.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if a.regen and os.path.isdir(a.dir):
        shutil.rmtree(a.dir)
    srv = Server(a.dir)
    work = os.path.join(a.dir, "out")
    os.makedirs(work, exist_ok=True)
    try:
        fresh = srv.start()
        if fresh or srv.sql(None, "SHOW DATABASES LIKE 'v2_generated'").stdout.strip() == b"":
            generate(srv, repo, a.cells, a.instances)
        # The server listens on a new port each start: point the mappings at it.
        srv.sql("v2_api", "UPDATE cell_mappings SET database_connection = "
                          f"CONCAT('{srv.tcp_url('v2_')}', name)")
        version = srv.sql(None, "SELECT VERSION()").stdout.decode().split()[-1]
        print(f"data: {a.cells} cells + cell0 + API DB on one MariaDB {version}, {HOSTS} hosts and {a.instances} "
              f"instances per cell; {os.cpu_count()} CPUs; medians of {a.rounds} interleaved rounds")
        base = [a.bin, "audit", "--api-db", srv.tcp_url("v2_api"), "--format", "json"]
        variants = [("default (--jobs 8, 1 per server)", []),
                    ("--jobs-per-server 8", ["--jobs-per-server", "8"]),
                    ("--jobs 1", ["--jobs", "1"])]
        res = {label: [] for label, _ in variants}
        for r in range(a.rounds):
            for label, extra in variants[r % len(variants):] + variants[:r % len(variants)]:
                out = os.path.join(work, "audit.json")
                wall, rss, code = rss_and_wall(base + extra, out)
                doc = json.load(open(out))
                slow = max(doc["cells"], key=lambda c: c.get("read_seconds") or 0)
                rows = sum(c.get("rows_read") or 0 for c in doc["cells"])
                res[label].append((wall, rss, slow.get("read_seconds") or 0, slow["name"], rows, code,
                                   len(doc["findings"])))
                log(f"round {r + 1}: {label}: {wall:.2f}s exit {code}")
        print("| run | median wall (s) | peak RSS (MB) | slowest cell read (s) | rows read | exit | findings |")
        print("|---|---|---|---|---|---|---|")
        for label, _ in variants:
            runs = res[label]
            med = statistics.median(r[0] for r in runs)
            rss = statistics.median(r[1] for r in runs)
            slow = statistics.median(r[2] for r in runs)
            print(f"| {label} | {med:.2f} | {rss:.1f} | {slow:.3f} | {runs[-1][4]:,} | {runs[-1][5]} | "
                  f"{runs[-1][6]} |")
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
