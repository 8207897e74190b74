#!/usr/bin/env bash
# Builds cellaudit's Debian package (target/debian/cellaudit_*.deb) with cargo-deb, installing
# cargo-deb from crates.io first when it is missing. Generated files the package carries (man pages,
# shell completions, the systemd unit with the packaged binary's path) are made under
# target/deb-assets/ from the release binary itself, so they always match its --help.
# Then it lists the package's contents, checks the paths an operator relies on, and runs lintian
# when it is installed (`apt-get install lintian`). Not part of scripts/test.sh: it needs a release build.
set -euo pipefail

log() { printf 'scripts/build-deb.sh: %s\n' "$*" >&2; }

cd "$(dirname "$0")/.."

if ! cargo deb --version >/dev/null 2>&1; then
    log "cargo-deb missing; cargo install cargo-deb --locked"
    cargo install cargo-deb --locked
fi

log "cargo build --release"
cargo build --release

assets=target/deb-assets
rm -rf "$assets"
mkdir -p "$assets/man" "$assets/completions" "$assets/systemd"
bin=target/release/cellaudit
"$bin" man --dir "$assets/man" >/dev/null
gzip -9n "$assets"/man/*.1
"$bin" completions bash >"$assets/completions/cellaudit"
"$bin" completions zsh >"$assets/completions/_cellaudit"
"$bin" completions fish >"$assets/completions/cellaudit.fish"
# contrib/ documents a manual install under /usr/local; the package puts the binary in /usr/bin
# and the units in /usr/lib/systemd/system (installed, not enabled).
sed -e 's#/usr/local/bin/cellaudit#/usr/bin/cellaudit#g' \
    -e 's#^\# Install: copy to /etc/systemd/system/, then#\# Installed by the cellaudit package, not enabled: after configuring /etc/cellaudit, run#' \
    contrib/systemd/cellaudit.service >"$assets/systemd/cellaudit.service"
cp contrib/systemd/cellaudit.timer "$assets/systemd/cellaudit.timer"

log "cargo deb --no-build"
mkdir -p target/debian
deb=$(cargo deb --no-build --output target/debian/ | tail -n 1)
[ -f "$deb" ] || deb=$(ls -t target/debian/*.deb | head -n 1)
log "built $deb"

dpkg-deb --info "$deb"
contents=$(dpkg-deb --contents "$deb")
printf '%s\n' "$contents"

missing=0
for path in ./usr/bin/cellaudit ./usr/share/man/man1/cellaudit.1.gz ./usr/share/man/man1/cellaudit-audit.1.gz \
    ./usr/share/bash-completion/completions/cellaudit ./usr/share/zsh/vendor-completions/_cellaudit \
    ./usr/share/fish/vendor_completions.d/cellaudit.fish ./usr/lib/systemd/system/cellaudit.service \
    ./usr/lib/systemd/system/cellaudit.timer ./etc/cellaudit/cellaudit.toml; do
    if ! printf '%s\n' "$contents" | grep -q " $path\$"; then
        log "MISSING from the package: $path"
        missing=1
    fi
done
if ! printf '%s\n' "$contents" | grep -q '^-rw-r----- .* ./etc/cellaudit/cellaudit.toml$'; then
    log "/etc/cellaudit/cellaudit.toml is not mode 0640"
    missing=1
fi
if ! dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/cellaudit/cellaudit.toml; then
    log "/etc/cellaudit/cellaudit.toml is not a conffile"
    missing=1
fi
[ "$missing" -eq 0 ] || exit 1

if command -v lintian >/dev/null 2>&1; then
    log "lintian $deb"
    # Informational: lintian's verdict is printed, not enforced (see the README for known tags).
    lintian --info --display-info "$deb" || true
else
    log "lintian not installed (apt-get install lintian); package not linted"
fi
echo "$deb"
