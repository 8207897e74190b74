#!/bin/sh
# Benchmark of the placement allocations check at 1,000,000 allocation rows (not a test: it measures, never asserts).
#
#   bench/placement.sh [--rounds N] [--regen] [--dir DIR]
#
# See bench/placement.py for what it generates. Needs mariadb-server and /usr/bin/time.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cd "$repo"
cargo build --release --quiet
exec python3 "$here/placement.py" --repo "$repo" "$@"
