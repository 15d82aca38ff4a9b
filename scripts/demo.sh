#!/usr/bin/env bash
# A demo call on this machine: the reference mediasoup server on loopback,
# three callctl bots in one room, their events as readable lines.
# Ctrl-C stops everything this script started: each bot gets exactly one
# SIGTERM and leaves gracefully (its last event is "left", reason
# "requested", exit code 0), then the server stops.
#
#   make demo            (or: bash scripts/demo.sh)
#   DEMO_BOTS=2 DEMO_ROOM=myroom LISTEN=127.0.0.1:4555 make demo
#   DEMO_LOG_DIR=/tmp/demo make demo     also keep each bot's raw NDJSON there
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin/callctl}
ROOM=${DEMO_ROOM:-demo}
BOTS=${DEMO_BOTS:-3}
LISTEN=${LISTEN:-127.0.0.1:4443}
DURATION=${DEMO_DURATION:-0}
LOG_DIR=${DEMO_LOG_DIR:-}

[ -x "$BIN" ] || { echo "demo: $BIN missing; run 'make demo' (it builds first)" >&2; exit 1; }
command -v setsid >/dev/null || { echo "demo: setsid (util-linux) is missing" >&2; exit 1; }
[ -z "$LOG_DIR" ] || mkdir -p "$LOG_DIR"

# The server and the bots run under setsid, in sessions of their own: the
# terminal's Ctrl-C (a SIGINT to the whole foreground process group) reaches
# only this script, which then sends each bot a single SIGTERM. A bot that
# got both would take the TERM as a second signal and exit without leaving.
# (A background child of a non-interactive shell is no process-group
# leader, so setsid execs in place and $! is the bot's own pid.)
server=""
bots=()
cleanup() {
  trap - INT TERM HUP EXIT
  for p in "${bots[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  local i=0
  for p in "${bots[@]}"; do
    i=$((i + 1))
    code=0
    wait "$p" 2>/dev/null || code=$?
    echo "demo: bot$i exited with code $code" >&2
  done
  # The server goes last, so the bots' goodbyes reach it.
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  echo "demo: stopped" >&2
}
trap cleanup INT TERM HUP EXIT

ready=$(mktemp)
setsid node scripts/mediasoup-server/server.js --listen "$LISTEN" --log-level warn </dev/null >"$ready" &
server=$!
for _ in $(seq 1 100); do [ -s "$ready" ] && break; sleep 0.1; done
url=$(jq -r .url <"$ready" 2>/dev/null || true)
rm -f "$ready"
[ -n "$url" ] && [ "$url" != null ] || { echo "demo: the server did not start (is $LISTEN free? try LISTEN=127.0.0.1:4555)" >&2; exit 1; }
echo "demo: mediasoup server at $url, room '$ROOM', $BOTS bots; Ctrl-C to stop" >&2
http_url=${url/ws:/http:}
http_url=${http_url/wss:/https:}
echo "demo: viewer page: $http_url/?roomId=$ROOM" >&2

# One readable line per event: time, session, type, the interesting fields.
pretty='[.ts[11:23], .session, .type,
  (.data | if .kind then .kind else empty end),
  (.data | if .peerId then "peer=" + .peerId elif .id then "peer=" + .id else empty end),
  (.data | if .status then .status elif .state then .transport + "=" + .state elif .reason then "reason=" + .reason else empty end),
  (.data | if .consumers then ([.consumers[] | "\(.peerId)/\(.kind) \(.packetsReceived) pkts \((.bytesReceived/1024)|floor) KiB"] | join(", ")) else empty end)
 ] | join("  ")'

# The pretty-printer ignores SIGINT too: it ends when its bot's stdout
# closes, after printing the final "left".
pretty_out() {
  trap '' INT
  if [ -n "$LOG_DIR" ]; then
    tee "$LOG_DIR/$1.ndjson" | jq -r --unbuffered "$pretty"
  else
    jq -r --unbuffered "$pretty"
  fi
}

for i in $(seq 1 "$BOTS"); do
  args=(join --server "$url" --room "$ROOM" --user "bot$i" --name "Bot $i" --stats-interval 5s --log-level warn)
  [ "$DURATION" != 0 ] && args+=(--duration "$DURATION")
  setsid "$BIN" "${args[@]}" </dev/null > >(pretty_out "bot$i") &
  bots+=($!)
  sleep 0.5
done
wait "${bots[@]}" || true
