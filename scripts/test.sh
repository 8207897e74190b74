#!/usr/bin/env bash
# Runs cellaudit's whole test suite. On a fresh Debian machine it first installs the MariaDB server
# and client binaries; the tests start their own private servers, so no MariaDB service is started
# or needed. SQLite fixtures are built through sqlx, so the sqlite3 CLI is not needed.
set -euo pipefail

log() { printf 'scripts/test.sh: %s\n' "$*" >&2; }

# mariadbd is often only in /usr/sbin, which a non-root PATH may lack.
have() {
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]
}

if ! have mariadbd || ! have mariadb-install-db || ! have mariadb; then
    log "MariaDB binaries missing; installing mariadb-server and mariadb-client"
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        log "not root and no sudo: install mariadb-server and mariadb-client, then rerun"
        exit 1
    fi
    # policy-rc.d exit 101 keeps Debian's maintainer scripts from starting the system service.
    policy=/usr/sbin/policy-rc.d
    added_policy=false
    if [ ! -e "$policy" ]; then
        log "temporarily creating $policy so the system MariaDB service is not started"
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
        "${sudo[@]}" chmod 755 "$policy"
        added_policy=true
    fi
    remove_policy() { if "$added_policy"; then "${sudo[@]}" rm -f "$policy"; fi; }
    trap remove_policy EXIT
    log "apt-get update"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    log "apt-get install -y mariadb-server mariadb-client"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        mariadb-server mariadb-client
    remove_policy
    trap - EXIT
    added_policy=false
else
    log "MariaDB binaries present"
fi

# The HTML report is checked in a real headless browser (tests/hostile_output.rs): Debian's chromium.
# The test fails without it where apt exists, and is skipped (loudly) only where apt is unavailable.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        log "chromium missing; installing Debian's chromium for the HTML report test"
        if [ "$(id -u)" -eq 0 ]; then
            sudo=()
        elif command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            log "not root and no sudo: install chromium, then rerun"
            exit 1
        fi
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
    else
        log "WARNING: no chromium and no apt-get: the headless-browser check of the HTML report will be SKIPPED"
    fi
else
    log "chromium present"
fi

cd "$(dirname "$0")/.."
log "cargo test --all-targets $*"
cargo test --all-targets "$@"
