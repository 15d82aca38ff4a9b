#!/usr/bin/env bash
# Builds the legacy (gyp-based, 3.8.x) mediasoup-worker from the C++ sources
# bundled in the npm package; all its C++ dependencies are vendored there, so
# no network is needed:
#
#   build-gyp.sh VERSION WORKER_SRC CACHE_DIR
#
# Two patches on the build copy: abseil `std::max<long>(SIGSTKSZ, 65536)`
# (glibc >= 2.34) and gyp's `collections.MutableSet` (Python >= 3.10).
# Result: CACHE_DIR/mediasoup-worker (stripped), BUILD-INFO, build.log.
# Run by install.sh, which holds the cache lock.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
. "$HERE/common.sh"

MS_VERSION="${1:?version}"
WORKER_SRC="${2:?worker source dir}"
CACHE_DIR="${3:?cache dir}"
CACHE_BIN="$CACHE_DIR/mediasoup-worker"
[ -f "$WORKER_SRC/Makefile" ] || die "worker sources not found in $WORKER_SRC"

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

CORES="$(build_cores)"
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
install_worker_bin "$BIN" "$CACHE_BIN"
END=$(date +%s)
{
	echo "mediasoup=$MS_VERSION"
	echo "python=$PY ($PYV)"
	echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "seconds=$((END - START))"
	echo "bytes=$(stat -c %s "$CACHE_BIN")"
} >"$CACHE_DIR/BUILD-INFO"
log "built $CACHE_BIN in $((END - START)) s"
