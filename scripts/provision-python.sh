#!/usr/bin/env bash
# Provision a private CPython 3.15 (with profiling.sampling) into a project-local prefix.
#
# Why this way: the machines run Debian bookworm (glibc 2.36), CPython 3.15 exists only as
# Debian sid binaries that need glibc >= 2.42. We download the sid .debs with a private apt
# configuration, unpack them with `dpkg -x` into a prefix, and point the interpreter at the
# unpacked loader and libc with patchelf. Nothing is installed system-wide except patchelf
# (a bookworm package) when it is missing.
#
# Usage: scripts/provision-python.sh [PREFIX]        (default: <repo>/.tachygate/python)
# Prints the interpreter path on its last line. Idempotent: a second call only re-checks.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=${1:-${TACHYGATE_PYTHON_PREFIX:-$repo_root/.tachygate/python}}
python="$prefix/usr/bin/python3.15"
stamp="$prefix/.provisioned"

log() { printf 'provision-python: %s\n' "$*" >&2; }

check() {
    "$python" -c "import profiling.sampling, _remote_debugging, ssl, sqlite3, zlib, compression.zstd" 2>/dev/null
}

if [[ -f "$stamp" && -x "$python" ]] && check; then
    echo "$python"
    exit 0
fi

packages=(python3.15 python3.15-minimal libpython3.15-minimal libpython3.15-stdlib libc6
          libssl3t64 libexpat1 libgcc-s1 libzstd1 zlib1g libbz2-1.0 libffi8 liblzma5
          libncursesw6 libreadline8t64 libsqlite3-0 libtinfo6 libuuid1)

# Read the mirror from the machine's own apt configuration rather than naming a host here.
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    mirror=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
    [[ -n "$mirror" ]] && break
done
if [[ -z "$mirror" && -f /etc/apt/sources.list ]]; then
    mirror=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list)
fi
if [[ -z "$mirror" ]]; then
    log "could not find a Debian mirror in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
    exit 1
fi

if ! command -v patchelf >/dev/null 2>&1; then
    log "installing patchelf (bookworm package)"
    if [[ $(id -u) -eq 0 ]]; then
        (apt-get install -y -qq patchelf >/dev/null 2>&1) || { apt-get update -qq >/dev/null && apt-get install -y -qq patchelf >/dev/null; }
    else
        sudo apt-get install -y -qq patchelf >/dev/null
    fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/sources.d" "$work/lists/partial" "$work/debs" "$work/cache/archives/partial"
cat > "$work/sources.d/sid.sources" <<SRC
Types: deb
URIs: $mirror
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC

apt_opts=(-o "Dir::Etc::sourcelist=/dev/null" -o "Dir::Etc::sourceparts=$work/sources.d"
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
          -o "APT::Architecture=amd64" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")

log "fetching sid package lists from $mirror"
apt-get "${apt_opts[@]}" update -qq >/dev/null
log "downloading ${#packages[@]} packages"
(cd "$work/debs" && apt-get "${apt_opts[@]}" download -qq "${packages[@]}" >/dev/null)

rm -rf "$prefix"
mkdir -p "$prefix"
for deb in "$work"/debs/*.deb; do
    dpkg -x "$deb" "$prefix"
done

patchelf --set-interpreter "$prefix/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \
    --force-rpath --set-rpath "$prefix/usr/lib/x86_64-linux-gnu" "$python"

if ! check; then
    log "the unpacked interpreter does not import profiling.sampling; see README.md, "Development""
    exit 1
fi
"$python" -c 'import sys; print(sys.version)' > "$stamp"
log "ready: $("$python" -c 'import sys; print(sys.version.split()[0])') at $python"
echo "$python"
