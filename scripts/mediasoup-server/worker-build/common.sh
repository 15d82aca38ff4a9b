# Shared helpers of install.sh and the worker build scripts (sourced, not run).
# Expects: nothing; defines log, die, apt_install, have_pkg, install_worker_bin.

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

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# apt_ensure PKG...: installs the Debian packages that are not installed yet.
apt_ensure() {
	local missing=() p
	command -v dpkg-query >/dev/null 2>&1 || return 0
	for p in "$@"; do have_pkg "$p" || missing+=("$p"); done
	[ "${#missing[@]}" -eq 0 ] && return 0
	apt_install "${missing[@]}"
}

# install_worker_bin BIN CACHE_BIN: strips BIN and moves it into the cache
# atomically (a concurrent reader never sees a half-written worker).
install_worker_bin() {
	local bin="$1" dest="$2"
	strip "$bin" 2>/dev/null || true
	cp "$bin" "$dest.tmp.$$" && chmod 755 "$dest.tmp.$$" && mv -f "$dest.tmp.$$" "$dest" \
		|| die "cannot install worker into $dest"
}

build_cores() {
	local cores
	cores="$(nproc 2>/dev/null || echo 2)"
	if [ -n "${MEDIASOUP_MAX_CORES:-}" ] && [ "$MEDIASOUP_MAX_CORES" -lt "$cores" ]; then cores="$MEDIASOUP_MAX_CORES"; fi
	echo "$cores"
}
