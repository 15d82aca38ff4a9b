#!/usr/bin/env bash
# Installs Debian's Chromium, which the viewer page's browser test
# (cmd/viewer_e2e_test.go) drives headless. Idempotent: a no-op when
# /usr/bin/chromium (or $CALLCTL_CHROMIUM) is already there.
#
#   bash scripts/mediasoup-server/viewer/install-chromium.sh
set -euo pipefail

log() { printf '[viewer/install-chromium] %s\n' "$*" >&2; }

if [ -n "${CALLCTL_CHROMIUM:-}" ] && [ -x "$CALLCTL_CHROMIUM" ]; then
	exit 0
fi
if [ -x /usr/bin/chromium ]; then
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
	log "no apt-get: install Chromium with your package manager (or point CALLCTL_CHROMIUM at one)"
	exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
log "apt-get install chromium"
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
[ -x /usr/bin/chromium ] || { log "chromium installed but /usr/bin/chromium is missing"; exit 1; }
log "ok: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
