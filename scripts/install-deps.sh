#!/usr/bin/env bash
# Installs what building and testing callctl needs on a fresh Debian/Ubuntu
# machine, idempotently: system packages (cgo toolchain, libvpx, Node.js),
# Go modules, and the reference mediasoup server (npm packages of mediasoup
# 3.27.1 and the legacy 3.8.4, and one worker per version, built offline once
# and cached outside the clone under ~/.cache/callctl; the 3.27.1 build
# apt-installs meson and Debian's libraries itself).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'install-deps: %s\n' "$*" >&2; }

need_pkgs=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

for p in $(awk '!/^#/ && NF {print $1}' scripts/deps.txt); do
  have_pkg "$p" || need_pkgs+=("$p")
done
have_cmd node || need_pkgs+=(nodejs npm)

if ((${#need_pkgs[@]})); then
  if ! have_cmd apt-get; then
    log "missing ${need_pkgs[*]} and no apt-get: install them with your package manager"
    exit 1
  fi
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  log "apt-get install ${need_pkgs[*]}"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# Prometheus for the metrics e2e test (cmd/metrics_e2e_test.go), which runs
# its own server on loopback: the package's service must not start (a
# policy-rc.d denies it while installing, unless the machine has one).
if ! have_cmd prometheus && have_cmd apt-get; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  log "apt-get install prometheus"
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
  fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null || status=$?
  [ -z "$policy" ] || $SUDO rm -f "$policy"
  [ -z "${status:-}" ] || exit "$status"
fi

if ! have_cmd go; then
  if [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    log "Go is not installed (need Go >= $(awk '/^go /{print $2}' go.mod)); see https://go.dev/dl/"
    exit 1
  fi
fi
log "go mod download"
go mod download

bash scripts/mediasoup-server/install.sh
# Headless Chromium for the viewer-page test (Debian's package).
bash scripts/mediasoup-server/viewer/install-chromium.sh
log "ready"
