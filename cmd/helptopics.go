package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newHelpTopics(io IO) []*cobra.Command {
	exitCodes := func() string {
		var b strings.Builder
		b.WriteString("callctl exit codes:\n\n")
		for _, e := range exitCodeHelp {
			fmt.Fprintf(&b, "  %3d  %s\n", e.code, e.text)
		}
		return b.String()
	}
	topic := func(use, short string, text func() string) *cobra.Command {
		c := &cobra.Command{
			Use:   use,
			Short: short,
			Run:   func(*cobra.Command, []string) { fmt.Fprint(io.Out, text()) },
			// Help topics are reachable as `callctl help <topic>`, not
			// listed as commands.
			Hidden: true,
		}
		c.SetHelpFunc(func(*cobra.Command, []string) { fmt.Fprint(io.Out, text()) })
		return c
	}
	return []*cobra.Command{
		topic("exit-codes", "Exit codes of callctl commands", exitCodes),
		topic("events", "The NDJSON event stream of callctl join", func() string { return eventsHelp }),
		topic("control", "Controlling a running join: sessions, sockets, protocol", func() string { return controlHelp }),
		topic("impair", "Impairing the media path (--impair) and relaying through TURN", func() string { return impairHelp }),
	}
}

const eventsHelp = `callctl join writes one JSON object per line on stdout (schema v1):

  {"v":1,"ts":"2026-01-02T15:04:05.123Z","seq":7,"session":"demo-bot1",
   "type":"consumer.created","data":{...}}

  v        schema major version; fields are only ever added
  ts       RFC 3339 time (UTC, nanoseconds)
  seq      1, 2, 3, … per process: a gap means a lost line
  session  the session name (ROOM-USER unless --session)
  type     one of the types below; data holds its fields

Types: connection.status, joined, participant.joined, participant.left,
producer.created, producer.paused, producer.resumed, producer.closed,
consumer.created, consumer.paused, consumer.resumed, consumer.closed,
consumer.media (first RTP packet of a consumer), consumer.layers,
consumer.adapted, data.message (with --data: peerId, label, text, size), active_speaker,
transport.state, transport.recovered, producer.adapted, reconnected, stats, error, control, expect.passed,
expect.failed, left (always last; carries the exit code).

  control        a control command changed the session (callctl mute, unmute,
                 send, leave): {"cmd":"mute","kind":"audio","ok":true,"changed":true};
                 a refused one carries "error" and "code" instead. The SDK's
                 own events (producer.paused, …) follow in their own order.
  expect.passed  every --expect-* holds: {"elapsedMs":1830,"participants":[…]}
                 (the participants everything expected arrives from)
  expect.failed  --expect-within passed first: {"elapsedMs":30000,"withinMs":30000,
                 "missing":["2 participants (have 1)","video from bob"],
                 "participants":[…]}; the session then leaves with exit code 7
  left           {"reason":"requested","exitCode":0,"trigger":"leave"}; trigger
                 (when the leave was requested) is signal, duration, leave,
                 expect.passed or expect.failed

callctl fleet writes the same stream for many participants: each
participant's events carry "participant":"<peer id>" next to "session"
(its own "left" ends only that participant), plus

  fleet.started  first: {"participants":3,"publishers":2,"subscribers":1,"rooms":2,
                 "shard":{"index":1,"count":3},"metricsAddr":"127.0.0.1:9464"}
  fleet.stats    every --stats-interval and at the end: participants by state
                 (joined, failed, rejoined, …), joinMs percentiles, sent and
                 received packets/bytes/loss/frames/freezes per kind, rooms[]
  fleet.expect   --expect-subscribers-decoding decided: {"verdict":"passed",
                 "subscribers":5,"required":5,"met":5,"failed":0,…}

and ends with the fleet's own left (no participant field), whose "fleet"
object says how many participants joined, failed and met the expectation.

Full reference: docs/events.md.
`

const controlHelp = `Controlling a running callctl join

Every 'callctl join' listens on a Unix socket named after its session
(--session, default ROOM-USER; characters other than letters, digits,
. _ - become _, and then a short hash of ROOM-USER is appended so that
names differing only there stay distinct):

  $CALLCTL_RUNTIME_DIR/<session>.sock        when CALLCTL_RUNTIME_DIR is set
  $XDG_RUNTIME_DIR/callctl/<session>.sock    else when XDG_RUNTIME_DIR is set
  $TMPDIR/callctl-<uid>/<session>.sock       otherwise

The directory is created 0700 and must belong to you and be closed to
others; sockets are 0600. The socket is removed when join exits; one left
behind by a killed process is detected (connection refused) and removed by
the next join, sessions or control command. A join whose session is served
by a live process fails with exit code 2.

Commands (each prints one JSON object per result on stdout; errors too, as
{"v":1,"ok":false,"cmd":…,"error":{"code":…,"message":…,"exitCode":…}}, with
the message also on stderr):

  callctl sessions                          live sessions
  callctl mute audio|video   [--session S]  pause the producer, send no RTP
  callctl unmute audio|video [--session S]  resume it
  callctl stats [--session S] [--watch D] [--count N] [--format json|table]
  callctl leave [--session S] [--wait=false]

A 'callctl fleet' session serves stats, mute, unmute and leave for the whole
fleet, or with --participant ID for one participant (args
{"participant":ID}); a participant the fleet does not have is code
"no_participant" (exit 6). A fleet's leave --participant answers once that
participant has left; the others stay in their calls.

Without --session the only running session is used; none, or several,
is exit code 6 (codes "no_session", "ambiguous_session").

Error codes: no_session, ambiguous_session, session_ended (exit 6);
not_published, not_joined, server_error, failed (exit 8); timeout (exit 1).
Usage errors (bad arguments) exit 2 and print nothing on stdout.

Protocol (for scripts and socat): newline-delimited JSON, one request per
line, answered in order; requests up to 64 KiB.

  $ socat - UNIX-CONNECT:$XDG_RUNTIME_DIR/callctl/demo-bot1.sock
  {"v":1,"id":1,"cmd":"mute","args":{"kind":"audio"}}
  {"v":1,"id":1,"ok":true,"result":{"kind":"audio","producerId":"…","muted":true,"changed":true}}
  {"v":1,"id":2,"cmd":"mute","args":{"kind":"video"}}
  {"v":1,"id":2,"ok":false,"error":{"code":"not_published","message":"…"}}

Commands: info (what sessions lists), mute and unmute {"kind":…}, stats
(sdk.CallStats), leave (answers {"leaving":true}, then the session leaves
and closes the connection when it exits). Commands sent while the session
is still joining wait for the join to finish (up to 15 s).
`
