#!/usr/bin/env bash
# Builds a current (meson-based, >= 3.11) mediasoup-worker offline from the
# C++ sources in the npm package, against Debian's libraries:
#
#   build-meson.sh VERSION WORKER_SRC CACHE_DIR
#
# The npm package's own route needs the network twice: its postinstall
# downloads a prebuilt worker, and tasks.py installs meson with pip and lets
# meson download every subproject (wraps). Instead:
#   - Debian's meson/ninja and libuv, OpenSSL, libsrtp2, abseil, flatbuffers
#     (apt-get, idempotent);
#   - VERSION/subprojects/<dir>/: stand-in subprojects placed where each wrap's
#     `directory =` points, so meson takes the wrap as already downloaded; each
#     calls dependency() on the Debian package and sets the variables the
#     worker's meson.build reads (unordered_dense: our own small header);
#   - VERSION/patches/*.patch, applied in order: the libsrtp2 port, the DTLS
#     BIO callback fix, meson_version lowered to Debian's meson 1.0.1.
# Result: CACHE_DIR/mediasoup-worker (stripped), BUILD-INFO, build.log.
# Run by install.sh, which holds the cache lock.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
. "$HERE/common.sh"

VERSION="${1:?version}"
WORKER_SRC="${2:?worker source dir}"
CACHE_DIR="${3:?cache dir}"
RECIPE="$HERE/$VERSION"

[ -d "$RECIPE/subprojects" ] || die "no offline build recipe for mediasoup $VERSION in $RECIPE (have: $(ls -d "$HERE"/[0-9]* 2>/dev/null | xargs -n1 basename | tr '\n' ' '))"
[ -f "$WORKER_SRC/meson.build" ] || die "worker sources not found in $WORKER_SRC"

# Debian 12 (bookworm) package names.
apt_ensure build-essential pkg-config patch meson ninja-build libuv1-dev libssl-dev libsrtp2-dev \
	libabsl-dev libflatbuffers-dev flatbuffers-compiler \
	|| die "cannot install the Debian packages the worker build needs (meson, ninja-build, libuv1-dev, libssl-dev, libsrtp2-dev, libabsl-dev, libflatbuffers-dev, flatbuffers-compiler)"
for t in meson ninja flatc c++ pkg-config patch; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found after installing the build packages"
done

BUILD_DIR="$(mktemp -d "$CACHE_DIR/build.XXXXXX")"
BUILD_LOG="$CACHE_DIR/build.log"
cleanup() { rm -rf "$BUILD_DIR"; }
trap cleanup EXIT

log "copying worker sources to $BUILD_DIR"
mkdir -p "$BUILD_DIR/src" && cp -R "$WORKER_SRC/." "$BUILD_DIR/src/" || die "copy of worker sources failed"
SRC="$BUILD_DIR/src"
rm -rf "$SRC/out"
cp -R "$RECIPE/subprojects/." "$SRC/subprojects/" || die "copying the stand-in subprojects failed"
for p in "$RECIPE"/patches/*.patch; do
	[ -f "$p" ] || continue
	patch -d "$SRC" -p1 --forward --quiet <"$p" >&2 || die "patch $(basename "$p") does not apply to mediasoup $VERSION"
	log "applied $(basename "$p")"
done

CORES="$(build_cores)"
log "building mediasoup-worker $VERSION with meson, $CORES jobs (4-8 min on 2 cores; log: $BUILD_LOG)"
START=$(date +%s)
if ! (
	cd "$SRC"
	meson setup "$BUILD_DIR/out" --buildtype release -Db_ndebug=true --wrap-mode=nodownload
	ninja -C "$BUILD_DIR/out" -j"$CORES" mediasoup-worker
) >"$BUILD_LOG" 2>&1; then
	tail -n 40 "$BUILD_LOG" >&2 || true
	die "worker build failed (full log: $BUILD_LOG)"
fi
BIN="$BUILD_DIR/out/mediasoup-worker"
[ -x "$BIN" ] || die "build finished but $BIN is missing (log: $BUILD_LOG)"
install_worker_bin "$BIN" "$CACHE_DIR/mediasoup-worker"
END=$(date +%s)
{
	echo "mediasoup=$VERSION"
	echo "builder=meson $(meson --version) (Debian libraries, stand-in subprojects, patches: $(cd "$RECIPE/patches" && ls ./*.patch 2>/dev/null | xargs -n1 basename | tr '\n' ' '))"
	echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "seconds=$((END - START))"
	echo "bytes=$(stat -c %s "$CACHE_DIR/mediasoup-worker")"
} >"$CACHE_DIR/BUILD-INFO"
log "built $CACHE_DIR/mediasoup-worker in $((END - START)) s"
