#!/usr/bin/env bash
# Install the reference mediasoup room server used by callctl's interop tests.
#
#   bash scripts/mediasoup-server/install.sh
#
# 1. npm ci --ignore-scripts   (mediasoup's own postinstall would try to build
#    the worker inside node_modules; newer mediasoup versions download it)
# 2. build mediasoup-worker 3.8.4 from the sources bundled in the npm package
#    (all C++ deps are vendored, no network needed) and cache the binary at
#    ${XDG_CACHE_HOME:-~/.cache}/callctl/mediasoup-worker/<version>/mediasoup-worker
#    so fresh clones and repeated runs skip the ~3 min build.
# 3. bundle the viewer page (viewer/build.js, esbuild) into viewer/dist/
#    (done right after step 1; a no-op when dist/ is up to date).
#
# Idempotent; a no-op (well under 2 s) when everything is already present.
# Progress goes to stderr. Exits non-zero with a message on failure.
#
# Environment:
#   MEDIASOUP_WORKER_BIN  use this worker binary instead of building one
#   MEDIASOUP_PYTHON      python interpreter for gyp (else auto-detected)
#   XDG_CACHE_HOME        cache root (default ~/.cache)
#   MEDIASOUP_MAX_CORES   limit parallel compile jobs
#   CALLCTL_FORCE_WORKER_BUILD=1  rebuild the cached worker
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

log() { printf '[mediasoup-server/install] %s\n' "$*" >&2; }
die() { printf '[mediasoup-server/install] ERROR: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
APT_UPDATED=0
apt_install() {
	command -v apt-get >/dev/null 2>&1 || return 1
	if [ "$(id -u)" != "0" ] && [ -z "$SUDO" ]; then return 1; fi
	if [ "$APT_UPDATED" = 0 ]; then
		log "apt-get update"
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
		APT_UPDATED=1
	fi
	log "apt-get install $*"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# ---------------------------------------------------------------------------
# 0. node / npm
command -v node >/dev/null 2>&1 || die "node not found (Node >= 18 required)"
command -v npm >/dev/null 2>&1 || die "npm not found"
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
[ "$NODE_MAJOR" -ge 18 ] || die "Node >= 18 required, found $(node -v)"

# ---------------------------------------------------------------------------
# 1. node_modules (stamp = hash of package-lock.json + node version)
[ -f package-lock.json ] || die "package-lock.json missing in $HERE"
lock_hash() {
	if command -v sha256sum >/dev/null 2>&1; then
		{ sha256sum package-lock.json | cut -d' ' -f1; node -v; } | tr '\n' ' '
	else
		node -e 'const c=require("crypto"),f=require("fs");process.stdout.write(c.createHash("sha256").update(f.readFileSync("package-lock.json")).digest("hex")+" "+process.version+" ")'
	fi
}
STAMP=node_modules/.callctl-install-stamp
WANT_STAMP="$(lock_hash)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT_STAMP" ] && [ -f node_modules/mediasoup/package.json ]; then
	:
else
	log "npm ci --ignore-scripts (node_modules)"
	npm ci --ignore-scripts --include=dev --no-audit --no-fund --loglevel=error >&2 \
		|| die "npm ci failed (is the npm registry reachable?)"
	printf '%s' "$WANT_STAMP" >"$STAMP"
fi

# ---------------------------------------------------------------------------
# 1b. the viewer page (viewer/ -> viewer/dist/, esbuild; skipped when up to date)
node viewer/build.js || die "building the viewer page failed"

MS_VERSION="$(node -p 'require("./node_modules/mediasoup/package.json").version')"
MS_MAJOR_MINOR="$(printf '%s' "$MS_VERSION" | cut -d. -f1,2)"

# ---------------------------------------------------------------------------
# 2. worker binary
if [ -n "${MEDIASOUP_WORKER_BIN:-}" ]; then
	[ -x "$MEDIASOUP_WORKER_BIN" ] || die "MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not an executable file"
	log "using MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN (no build)"
	exit 0
fi

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}"
CACHE_DIR="$CACHE_ROOT/callctl/mediasoup-worker/$MS_VERSION"
CACHE_BIN="$CACHE_DIR/mediasoup-worker"

# A newer mediasoup that somehow already has its own worker (prebuilt) needs nothing.
if [ "$MS_MAJOR_MINOR" != "3.8" ] && [ -x node_modules/mediasoup/worker/out/Release/mediasoup-worker ]; then
	log "mediasoup $MS_VERSION ships its own worker; nothing to build"
	exit 0
fi

if [ -x "$CACHE_BIN" ] && [ -s "$CACHE_BIN" ] && [ "${CALLCTL_FORCE_WORKER_BUILD:-0}" != "1" ]; then
	log "ok: mediasoup $MS_VERSION, worker $CACHE_BIN"
	exit 0
fi

# --- build ------------------------------------------------------------------
WORKER_SRC="$HERE/node_modules/mediasoup/worker"
[ -f "$WORKER_SRC/Makefile" ] || die "worker sources not found in $WORKER_SRC"
if [ "$MS_MAJOR_MINOR" != "3.8" ]; then
	log "WARNING: building worker for mediasoup $MS_VERSION; only 3.8.x is known to build offline"
fi

# toolchain
missing=()
for t in gcc g++ make; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
if [ "${#missing[@]}" -gt 0 ]; then
	log "missing build tools: ${missing[*]}"
	apt_install build-essential || die "need gcc, g++ and make (apt-get install build-essential)"
fi

# python for gyp: the bundled gyp was written for Python 2.7 / <= 3.9; we patch
# its one 3.10+ incompatibility (collections.MutableSet) in the build copy, so
# any Python >= 2.7 works, but an old one is preferred when present.
py_version() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }
py_ok_old() { case "$1" in 2.7|3.5|3.6|3.7|3.8|3.9) return 0;; esac; return 1; }
PY=""
PY_FALLBACK=""
consider_py() {
	local c="$1" v
	[ -n "$PY" ] && return 0
	[ -n "$c" ] || return 0
	command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] || return 0
	v="$(py_version "$c")" || return 0
	[ -n "$v" ] || return 0
	if py_ok_old "$v"; then PY="$c"; PYV="$v"; return 0; fi
	case "$v" in 3.*) [ -z "$PY_FALLBACK" ] && { PY_FALLBACK="$c"; PY_FALLBACK_V="$v"; };; esac
	return 0
}
if [ -n "${MEDIASOUP_PYTHON:-}" ]; then
	v="$(py_version "$MEDIASOUP_PYTHON")" || die "MEDIASOUP_PYTHON=$MEDIASOUP_PYTHON does not run"
	PY="$MEDIASOUP_PYTHON"; PYV="$v"
fi
PYENV_DIR="${PYENV_ROOT:-$HOME/.pyenv}/versions"
for c in python3.9 python3.8 python2.7 python2 python3.7 python3.6; do consider_py "$c"; done
if [ -d "$PYENV_DIR" ]; then
	for pat in '3.9.*' '3.8.*' '2.7.*' '3.7.*' '3.6.*'; do
		for d in $(ls -d "$PYENV_DIR"/$pat 2>/dev/null | sort -r); do consider_py "$d/bin/python"; done
	done
fi
for c in python3 python /usr/bin/python3; do consider_py "$c"; done
if [ -z "$PY" ] && [ -z "$PY_FALLBACK" ]; then
	apt_install python3 || die "no Python found for gyp (install python3, or set MEDIASOUP_PYTHON)"
	consider_py python3
fi
if [ -z "$PY" ]; then
	[ -n "$PY_FALLBACK" ] || die "no usable Python found for gyp (set MEDIASOUP_PYTHON)"
	PY="$PY_FALLBACK"; PYV="$PY_FALLBACK_V"
fi
log "python for gyp: $PY ($PYV)"

mkdir -p "$CACHE_DIR" || die "cannot create $CACHE_DIR"

# serialize concurrent installs on the same cache
if command -v flock >/dev/null 2>&1; then
	exec 9>"$CACHE_DIR/.lock"
	flock 9
	if [ -x "$CACHE_BIN" ] && [ -s "$CACHE_BIN" ] && [ "${CALLCTL_FORCE_WORKER_BUILD:-0}" != "1" ]; then
		log "ok: worker was built by a concurrent install: $CACHE_BIN"
		exit 0
	fi
fi

BUILD_DIR="$(mktemp -d "$CACHE_DIR/build.XXXXXX")"
BUILD_LOG="$CACHE_DIR/build.log"
cleanup() { rm -rf "$BUILD_DIR"; }
trap cleanup EXIT

log "copying worker sources to $BUILD_DIR"
cp -R "$WORKER_SRC/." "$BUILD_DIR/" || die "copy of worker sources failed"
rm -rf "$BUILD_DIR/out"

# patch 1: glibc >= 2.34 makes SIGSTKSZ non-constant -> std::max type mismatch
ABSL_FSH="$BUILD_DIR/deps/libwebrtc/deps/abseil-cpp/abseil-cpp/absl/debugging/failure_signal_handler.cc"
if [ -f "$ABSL_FSH" ] && grep -q 'std::max(SIGSTKSZ, 65536)' "$ABSL_FSH"; then
	sed -i 's/std::max(SIGSTKSZ, 65536)/std::max<long>(SIGSTKSZ, 65536)/' "$ABSL_FSH"
	log "patched abseil failure_signal_handler.cc (SIGSTKSZ)"
fi
# patch 2: gyp on Python >= 3.10 (collections.MutableSet moved to collections.abc);
# written so that it still works on Python 2.7.
GYP_COMMON="$BUILD_DIR/deps/gyp/pylib/gyp/common.py"
if [ -f "$GYP_COMMON" ] && grep -q 'collections\.MutableSet' "$GYP_COMMON"; then
	"$PY" - "$GYP_COMMON" <<'PYEOF' || die "patching gyp failed"
import sys
p = sys.argv[1]
s = open(p).read()
shim = ("try:\n  from collections.abc import MutableSet as _GypMutableSet\n"
        "except ImportError:\n  from collections import MutableSet as _GypMutableSet\n")
s = s.replace("class OrderedSet(collections.MutableSet):", shim + "\n\nclass OrderedSet(_GypMutableSet):", 1)
open(p, "w").write(s)
PYEOF
	log "patched gyp common.py (collections.abc)"
fi

CORES="$(nproc 2>/dev/null || echo 2)"
if [ -n "${MEDIASOUP_MAX_CORES:-}" ] && [ "$MEDIASOUP_MAX_CORES" -lt "$CORES" ]; then CORES="$MEDIASOUP_MAX_CORES"; fi
log "building mediasoup-worker $MS_VERSION with $CORES jobs (a few minutes; log: $BUILD_LOG)"
START=$(date +%s)
if ! (
	cd "$BUILD_DIR"
	unset MEDIASOUP_WORKER_BIN
	export MEDIASOUP_OUT_DIR="$BUILD_DIR/out"
	export PYTHONWARNINGS=ignore
	"$PY" ./scripts/configure.py -R mediasoup-worker
	make -j"$CORES" BUILDTYPE=Release -C "$BUILD_DIR/out"
) >"$BUILD_LOG" 2>&1; then
	tail -n 30 "$BUILD_LOG" >&2 || true
	die "worker build failed (full log: $BUILD_LOG)"
fi
BIN="$BUILD_DIR/out/Release/mediasoup-worker"
[ -x "$BIN" ] || die "build finished but $BIN is missing (log: $BUILD_LOG)"
strip "$BIN" 2>/dev/null || true
cp "$BIN" "$CACHE_BIN.tmp.$$" && chmod 755 "$CACHE_BIN.tmp.$$" && mv -f "$CACHE_BIN.tmp.$$" "$CACHE_BIN" \
	|| die "cannot install worker into $CACHE_BIN"
END=$(date +%s)
{
	echo "mediasoup=$MS_VERSION"
	echo "python=$PY ($PYV)"
	echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "seconds=$((END - START))"
} >"$CACHE_DIR/BUILD-INFO"
log "built $CACHE_BIN in $((END - START)) s"
