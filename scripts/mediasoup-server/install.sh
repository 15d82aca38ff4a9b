#!/usr/bin/env bash
# Install the reference mediasoup room server used by callctl's interop tests.
#
#   bash scripts/mediasoup-server/install.sh [VERSION...]
#
# Two mediasoup versions, both offline (npm registry and Debian only):
#   3.27.1  the default: package.json -> node_modules/mediasoup; worker built
#           with meson against Debian's libraries (worker-build/build-meson.sh,
#           recipe in worker-build/3.27.1/), 4-8 min on 2 cores;
#   3.8.4   the legacy leg (2021): legacy/3.8.4/node_modules/mediasoup; worker
#           built with gyp from the vendored sources (worker-build/build-gyp.sh),
#           about 3 min on 2 cores.
# With VERSION arguments (or MEDIASOUP_VERSION=V) only those versions are
# installed; the default version's npm packages are always installed.
#
# 1. npm ci --ignore-scripts for the server (mediasoup's postinstall would
#    download a prebuilt worker) and for each legacy package;
# 2. bundle the viewer page (viewer/build.js, esbuild) into viewer/dist/;
# 3. build each version's mediasoup-worker once and cache it outside the
#    clone, so fresh clones and repeated runs skip the build:
#      ${XDG_CACHE_HOME:-~/.cache}/callctl/mediasoup-worker/<version>/mediasoup-worker
#    (lib/worker.js finds it there).
#
# Idempotent; a no-op (about 2 s) when everything is already present.
# Progress goes to stderr. Exits non-zero with a message on failure.
#
# Environment:
#   MEDIASOUP_VERSION     install only this version (same as one argument)
#   MEDIASOUP_WORKER_BIN  use this worker binary instead of building any
#   MEDIASOUP_PYTHON      python interpreter for gyp (3.8.4 build)
#   XDG_CACHE_HOME        cache root (default ~/.cache)
#   MEDIASOUP_MAX_CORES   limit parallel compile jobs
#   CALLCTL_FORCE_WORKER_BUILD=1  rebuild the cached workers
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
# shellcheck source=worker-build/common.sh
. "$HERE/worker-build/common.sh"

# ---------------------------------------------------------------------------
# 0. node / npm
command -v node >/dev/null 2>&1 || die "node not found (Node >= 18 required)"
command -v npm >/dev/null 2>&1 || die "npm not found"
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
[ "$NODE_MAJOR" -ge 18 ] || die "Node >= 18 required, found $(node -v)"

# ---------------------------------------------------------------------------
# 1. node_modules (stamp = hash of package-lock.json + node version)
lock_hash() {
	node -e 'const c=require("crypto"),f=require("fs");process.stdout.write(c.createHash("sha256").update(f.readFileSync("package-lock.json")).digest("hex")+" "+process.version)'
}

# npm_ci DIR: npm ci --ignore-scripts in DIR unless its stamp is current.
npm_ci() {
	local dir="$1" stamp want
	(
		cd "$dir"
		[ -f package-lock.json ] || die "package-lock.json missing in $dir"
		stamp=node_modules/.callctl-install-stamp
		want="$(lock_hash)"
		if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f node_modules/mediasoup/package.json ]; then
			exit 0
		fi
		log "npm ci --ignore-scripts ($dir/node_modules)"
		# mediasoup 3.27 declares Node >= 22 but runs on Node 20: npm only warns.
		npm ci --ignore-scripts --include=dev --no-audit --no-fund --loglevel=error >&2 \
			|| die "npm ci failed in $dir (is the npm registry reachable?)"
		printf '%s' "$want" >"$stamp"
	)
}

npm_ci "$HERE"
DEFAULT_VERSION="$(node -p 'require("./node_modules/mediasoup/package.json").version')"

# ---------------------------------------------------------------------------
# 1b. the viewer page (viewer/ -> viewer/dist/, esbuild; skipped when up to date)
node viewer/build.js || die "building the viewer page failed"

# ---------------------------------------------------------------------------
# which versions
if [ "$#" -gt 0 ]; then
	VERSIONS=("$@")
elif [ -n "${MEDIASOUP_VERSION:-}" ]; then
	VERSIONS=("$MEDIASOUP_VERSION")
else
	VERSIONS=("$DEFAULT_VERSION")
	for d in legacy/*/; do
		[ -f "$d/package.json" ] && VERSIONS+=("$(basename "$d")")
	done
fi

# pkg_dir VERSION: where that version's mediasoup package is (after npm ci).
pkg_dir() {
	if [ "$1" = "$DEFAULT_VERSION" ]; then
		echo "$HERE/node_modules/mediasoup"
	elif [ -f "$HERE/legacy/$1/package.json" ]; then
		npm_ci "$HERE/legacy/$1"
		echo "$HERE/legacy/$1/node_modules/mediasoup"
	else
		die "mediasoup $1 is not available here (default $DEFAULT_VERSION; legacy: $(ls legacy 2>/dev/null | tr '\n' ' '))"
	fi
}

# ---------------------------------------------------------------------------
# 2. worker binaries
if [ -n "${MEDIASOUP_WORKER_BIN:-}" ]; then
	[ -x "$MEDIASOUP_WORKER_BIN" ] || die "MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not an executable file"
	for v in "${VERSIONS[@]}"; do pkg_dir "$v" >/dev/null; done
	log "using MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN (no build)"
	exit 0
fi

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}"

# ensure_worker VERSION: builds and caches the worker unless it is cached.
ensure_worker() {
	local version="$1" dir pkg_version cache_dir cache_bin
	dir="$(pkg_dir "$version")"
	pkg_version="$(node -p "require('$dir/package.json').version")"
	[ "$pkg_version" = "$version" ] || die "$dir holds mediasoup $pkg_version, expected $version"
	cache_dir="$CACHE_ROOT/callctl/mediasoup-worker/$version"
	cache_bin="$cache_dir/mediasoup-worker"
	if [ -x "$cache_bin" ] && [ -s "$cache_bin" ] && [ "${CALLCTL_FORCE_WORKER_BUILD:-0}" != "1" ]; then
		# A meson-built worker links Debian's shared libraries (libuv,
		# OpenSSL, libsrtp2, abseil, flatbuffers): reinstall them if a cached
		# worker outlived them.
		if command -v ldd >/dev/null 2>&1 && ldd "$cache_bin" 2>/dev/null | grep -q 'not found'; then
			log "worker $cache_bin misses shared libraries: $(ldd "$cache_bin" | grep 'not found' | awk '{print $1}' | tr '\n' ' ')"
			apt_ensure libuv1 libssl3 libsrtp2-1 libabsl20220623 libflatbuffers2 \
				|| die "cannot install the worker's shared libraries"
		fi
		log "ok: mediasoup $version, worker $cache_bin"
		return 0
	fi
	mkdir -p "$cache_dir" || die "cannot create $cache_dir"
	(
		# serialize concurrent installs on the same cache
		if command -v flock >/dev/null 2>&1; then
			exec 9>"$cache_dir/.lock"
			flock 9
			if [ -x "$cache_bin" ] && [ -s "$cache_bin" ] && [ "${CALLCTL_FORCE_WORKER_BUILD:-0}" != "1" ]; then
				log "ok: worker was built by a concurrent install: $cache_bin"
				exit 0
			fi
		fi
		if [ -f "$dir/worker/meson.build" ]; then
			bash "$HERE/worker-build/build-meson.sh" "$version" "$dir/worker" "$cache_dir"
		else
			bash "$HERE/worker-build/build-gyp.sh" "$version" "$dir/worker" "$cache_dir"
		fi
	)
}

for v in "${VERSIONS[@]}"; do
	ensure_worker "$v"
done
