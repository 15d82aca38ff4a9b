package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newHelpTopics(io IO) []*cobra.Command {
	exitCodes := &cobra.Command{
		Use:   "exit-codes",
		Short: "Exit codes of callctl commands",
		Run: func(c *cobra.Command, _ []string) {
			var b strings.Builder
			b.WriteString("callctl exit codes:\n\n")
			for _, e := range exitCodeHelp {
				fmt.Fprintf(&b, "  %3d  %s\n", e.code, e.text)
			}
			fmt.Fprint(io.Out, b.String())
		},
	}
	events := &cobra.Command{
		Use:   "events",
		Short: "The NDJSON event stream of callctl join",
		Run: func(c *cobra.Command, _ []string) {
			fmt.Fprint(io.Out, eventsHelp)
		},
	}
	// Help topics are reachable as `callctl help <topic>`, not as commands.
	exitCodes.Hidden, events.Hidden = true, true
	return []*cobra.Command{exitCodes, events}
}

const eventsHelp = `callctl join writes one JSON object per line on stdout (schema v1):

  {"v":1,"ts":"2026-01-02T15:04:05.123Z","seq":7,"session":"demo/bot1",
   "type":"consumer.created","data":{...}}

  v        schema major version; fields are only ever added
  ts       RFC 3339 time (UTC, nanoseconds)
  seq      1, 2, 3, … per process: a gap means a lost line
  session  the session name (room/user unless --session)
  type     one of the types below; data holds its fields

Types: connection.status, joined, participant.joined, participant.left,
producer.created, producer.paused, producer.resumed, producer.closed,
consumer.created, consumer.paused, consumer.resumed, consumer.closed,
consumer.media (first RTP packet of a consumer), consumer.layers,
active_speaker, transport.state, stats, error, left (always last; carries
the exit code).

Full reference: docs/events.md.
`
