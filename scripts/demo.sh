#!/usr/bin/env bash
# A demo call on this machine: the reference mediasoup server on loopback,
# three callctl bots in one room, their events as readable lines.
# Ctrl-C stops everything this script started.
#
#   make demo            (or: bash scripts/demo.sh)
#   DEMO_BOTS=2 DEMO_ROOM=myroom LISTEN=127.0.0.1:4555 make demo
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin/callctl}
ROOM=${DEMO_ROOM:-demo}
BOTS=${DEMO_BOTS:-3}
LISTEN=${LISTEN:-127.0.0.1:4443}
DURATION=${DEMO_DURATION:-0}

[ -x "$BIN" ] || { echo "demo: $BIN missing; run 'make demo' (it builds first)" >&2; exit 1; }

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo: stopped" >&2
}
trap cleanup INT TERM EXIT

ready=$(mktemp)
node scripts/mediasoup-server/server.js --listen "$LISTEN" --log-level warn >"$ready" &
pids+=($!)
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

for i in $(seq 1 "$BOTS"); do
  args=(join --server "$url" --room "$ROOM" --user "bot$i" --name "Bot $i" --stats-interval 5s --log-level warn)
  [ "$DURATION" != 0 ] && args+=(--duration "$DURATION")
  "$BIN" "${args[@]}" | jq -r --unbuffered "$pretty" &
  pids+=($!)
  sleep 0.5
done
wait
