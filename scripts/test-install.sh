#!/usr/bin/env bash
# The install route, end to end, as a Python developer meets it: builds the wheel with maturin,
# installs it into a fresh CPython 3.15 virtualenv, and drives examples/python-project with the
# installed `tachygate` only: --version, init (must reproduce the example's scenarios and
# workflow byte for byte), doctor (finds the active virtualenv), the project's unit tests,
# baseline update + check (baseline mode) and, when this build has it, check --base (paired mode).
#
# The wheel is built with `--profile dev`: the same kind of binary as a release wheel (one
# executable under <name>.data/scripts, tag py3-none-manylinux_*), built in about 30 s instead of
# ~4 min of fat LTO. Set TACHYGATE_WHEEL_PROFILE=release to test the release build itself.
# Without maturin or CPython 3.15 this prints SKIPPED, and fails when CI is set.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

skip() {
    if [[ -n "${CI:-}" ]]; then
        echo "test-install: FAILED (CI is set): $*" >&2
        exit 1
    fi
    echo "test-install: SKIPPED: $*"
    exit 0
}
log() { printf 'test-install: %s\n' "$*"; }
fail() { echo "test-install: FAILED: $*" >&2; exit 1; }

if command -v maturin >/dev/null 2>&1; then
    maturin=(maturin)
elif python3 -m maturin --version >/dev/null 2>&1; then
    maturin=(python3 -m maturin)
else
    skip "maturin is not installed (python3 -m pip install maturin)"
fi
python=${TACHYGATE_PYTHON:-$repo/.tachygate/python/usr/bin/python3.15}
[[ -x "$python" ]] || python=$(command -v python3.15 || true)
[[ -n "$python" && -x "$python" ]] || skip "no CPython 3.15 (scripts/provision-python.sh)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The same file tests/common::profiler_lock() locks (std::env::temp_dir()).
lock=${TMPDIR:-/tmp}/tachygate-tests-profiler.lock
# Profiled commands hold the machine-wide profiler lock, one at a time.
profiled() { flock "$lock" "$@"; }

log "building the wheel (profile ${TACHYGATE_WHEEL_PROFILE:-dev})"
nice -n 19 "${maturin[@]}" build --quiet --profile "${TACHYGATE_WHEEL_PROFILE:-dev}" --out "$work/wheels" 2>&1 | tail -n 3
wheels=("$work"/wheels/tachygate-*-py3-none-*.whl)
[[ ${#wheels[@]} -eq 1 && -f "${wheels[0]}" ]] || fail "expected one py3-none wheel, got: ${wheels[*]}"
wheel=${wheels[0]}
log "built $(basename "$wheel")"

log "fresh virtualenv of $("$python" -c 'import sys; print(sys.version.split()[0])')"
"$python" -m venv --without-pip "$work/venv"
# The provisioned interpreter has no ensurepip: run a current pip from its wheel (PyPI) inside
# the virtualenv, which is what `pip install tachygate` in a user's 3.15 virtualenv does.
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: -d "$work/pip" pip
pips=("$work"/pip/pip-*.whl)
"$work/venv/bin/python" "${pips[0]}/pip" install --quiet --disable-pip-version-check --no-index "$wheel"

# The other install route the README gives: uvx runs the wheel's executable from its own cache.
if command -v uvx >/dev/null 2>&1; then
    got=$(UV_CACHE_DIR="$work/uv-cache" uvx --offline --no-index --from "$wheel" tachygate --version)
    [[ $got == "tachygate "* ]] || fail "uvx --from WHEEL tachygate --version printed '$got'"
    log "uvx: $got"
elif [[ -n "${CI:-}" ]]; then
    fail "uvx is not installed (python3 -m pip install uv)"
else
    log "SKIPPED the uvx check: uv is not installed (python3 -m pip install uv)"
fi

# From here on, only what a user has: the activated virtualenv, no TACHYGATE_PYTHON, no repository.
export VIRTUAL_ENV="$work/venv"
export PATH="$work/venv/bin:$PATH"
unset TACHYGATE_PYTHON
hash -r
[[ $(command -v tachygate) == "$work/venv/bin/tachygate" ]] || fail "tachygate on PATH is $(command -v tachygate), not the virtualenv's"
want=$(awk -F'"' '/^version = / { print $2; exit }' "$repo/Cargo.toml")
got=$(tachygate --version)
[[ $got == "tachygate $want"* ]] || fail "--version printed '$got', expected tachygate $want"
log "installed: $got"

project="$work/project"
cp -r "$repo/examples/python-project" "$project"
rm -rf "$project/scenarios" "$project/.github/workflows/tachygate.yml" "$project/reports" "$project/.tachygate" "$project/baselines"
cd "$project"
tachygate init --script bench/nearest.py >/dev/null
tachygate init --module minigeo.bench --name tour >/dev/null
for f in scenarios/nearest.toml scenarios/tour.toml .github/workflows/tachygate.yml; do
    cmp -s "$f" "$repo/examples/python-project/$f" || { diff -u "$repo/examples/python-project/$f" "$f" >&2 || true; fail "init's $f differs from the example project's"; }
done
# Running init again keeps identical files and refuses to replace an edited one (exit 2).
echo "# edited" >>scenarios/nearest.toml
set +e
tachygate init --script bench/nearest.py 2>"$work/err" >/dev/null
code=$?
set -e
[[ $code -eq 2 ]] || fail "init over an edited scenario exited $code, expected 2"
grep -q "scenarios/nearest.toml" "$work/err" || fail "init's refusal does not name the file: $(cat "$work/err")"
cp "$repo/examples/python-project/scenarios/nearest.toml" scenarios/nearest.toml
log "init reproduces the example's scenarios and workflow, and refuses to overwrite an edited file"

PYTHONPATH=src python -m unittest discover -s tests -q 2>&1 | tail -n 1

# The project is a git repository, as in CI: paths in reports are repository-relative.
git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm example

profiled tachygate doctor >"$work/doctor" || { cat "$work/doctor" >&2; fail "doctor"; }
grep -q "from the active virtualenv" "$work/doctor" || { cat "$work/doctor" >&2; fail "doctor did not use the active virtualenv"; }
log "doctor: $(grep 'interpreter' "$work/doctor")"

# The machine running this is shared and often loaded: runs descheduled for milliseconds are
# flagged by the health checks (tested elsewhere). Loosen them in this copy only, so that what
# is tested here is the install route and the pipeline, not the machine's load.
sed -i 's/^# max_error_rate = 5$/max_error_rate = 30\nmax_gap_ratio = 50\nretries = 4/' scenarios/*.toml
unloosened=$(grep -L '^max_error_rate = 30$' scenarios/*.toml || true)
[ -z "$unloosened" ] || fail "health limits not loosened in $unloosened (did init's template change?)"

verdict() {
    local code=$1 dir=$2
    case $code in
        0 | 1) ;; # pass, or an A/A false alarm on a loaded machine: the pipeline worked
        *) cat "$dir/summary.md" >&2 2>/dev/null || true; fail "check exited $code" ;;
    esac
    for f in index.html summary.md report.json junit.xml; do
        [[ -s "$dir/$f" ]] || fail "check wrote no $dir/$f"
    done
    python3 - "$dir/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
names = sorted(s["scenario"] for s in r["scenarios"])
assert names == ["nearest", "tour"], names
for s in r["scenarios"]:
    assert s["status"] in ("pass", "fail"), (s["scenario"], s["status"], s["errors"])
    files = {f["function"]["file"] for f in s["functions"] if f["gated"]}
    assert any(f.startswith("src/minigeo/") for f in files), (s["scenario"], sorted(files))
PY
}

log "baseline mode: baseline update, then check"
profiled tachygate baseline update --repeats 3 -q
# One file per scenario per machine class: baselines/<scenario>/<class>.json.
compgen -G 'baselines/nearest/*.json' >/dev/null && compgen -G 'baselines/tour/*.json' >/dev/null \
    || fail "baseline update wrote no baselines"
set +e
profiled tachygate check --repeats 3 --reports reports/baseline -q
code=$?
set -e
verdict "$code" reports/baseline
log "check (baseline mode) exited $code; reports in place"

if tachygate check --help | grep -qE -- '--base([^a-z_-]|$)'; then
    log "paired mode: check --base HEAD"
    set +e
    profiled tachygate check --base HEAD --repeats 3 --reports reports/paired -q
    code=$?
    set -e
    verdict "$code" reports/paired
    log "check --base (paired mode) exited $code"
else
    fail "paired mode: this build's check has no --base"
fi
log "OK"
