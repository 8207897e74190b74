#!/bin/sh
# Benchmark of the instances check at the scale of a large cells v1 deployment (not a test: it measures, never asserts).
#
#   bench/run.sh [--rounds N] [--regen] [--skip-full] [--skip-pair] [--dir DIR]
#
# Starts a private MariaDB (unix socket plus 127.0.0.1 on a free port, data in DIR, default /tmp/cellaudit-bench),
# generates with Nova's real schema (fixtures/schema/main.mysql.sql) a parent with ~1,000,000 instances mirrored from
# 10 children of 100,000 each, ~0.1% drift (missing, extra, changed), plus a separate 300,000-instance parent/child
# pair; runs the full audit with /usr/bin/time -v in each --instances-mode (stream, hash; --modes to choose); then, on
# the pair, interleaved rounds of cellaudit (stream mode, and hash mode as cellaudit-hash), an ordered
# `mariadb -N --quick ... ORDER BY uuid` dump of both sides piped to diff, pt-table-sync --print and reladiff, and
# prints medians, ratios against each cellaudit mode and whether every tool found the same differing uuids.
#
# Needs: mariadb-server, percona-toolkit (apt-get install -y percona-toolkit), reladiff in a venv outside the repo
# (python3 -m venv /work/reladiff-venv && /work/reladiff-venv/bin/pip install 'reladiff[mysql]'; or set RELADIFF).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cd "$repo"
cargo build --release --quiet
exec python3 "$here/bench.py" --repo "$repo" "$@"
