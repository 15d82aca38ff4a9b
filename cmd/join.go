package cmd

import (
	"context"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
)

// joinRunner runs a join whose flags are parsed and valid: runJoin, or a
// recorder in tests of the flag wiring.
type joinRunner func(ctx context.Context, io IO, log *slog.Logger, o *joinOptions) error

func newJoinCmd(io IO, g *globalOptions, run joinRunner) *cobra.Command {
	o := &joinOptions{}
	c := &cobra.Command{
		Use:   "join --server URL --room ROOM --user USER",
		Short: "Join a room and stream call events as NDJSON on stdout",
		Long: `Join a mediasoup room, publish audio and video, consume every other
participant, and write one JSON event per line on stdout until SIGINT/SIGTERM,
--duration, or the server ends the session. The first signal leaves
gracefully; a second one exits at once (code 130).`,
		Example: `  # join and watch who arrives
  callctl join --server ws://127.0.0.1:4443 --room demo --user bot1 | jq -c 'select(.type=="participant.joined")'

  # a 10 s probe that receives only
  callctl join --server wss://sfu.example.com:4443 --room r --user probe --video none --audio none --duration 10s

  # a CI check: within 20 s, two others send decodable video and audible audio
  callctl join --server ws://127.0.0.1:4443 --room ci --user check --expect-participants 2 \
    --expect-video --expect-audio --expect-within 20s --exit-on-pass

  # control it from another shell (see callctl mute --help, stats, leave, sessions)
  callctl mute audio --session demo-bot1`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.validateExpect(c.Flags().Changed); err != nil {
				return err
			}
			if err := o.validate(); err != nil {
				return err
			}
			log, err := g.logger(io)
			if err != nil {
				return err
			}
			return run(c.Context(), io, log, o)
		},
	}
	f := c.Flags()
	f.StringSliceVar(&o.servers, "server", nil, "signaling server URL, ws:// or wss:// (required); repeat it to balance rooms over several servers (every participant of a room picks the same one, by rendezvous hashing of the room, and fails over in the same order)")
	f.StringVar(&o.room, "room", "", "room id (required)")
	f.StringVar(&o.user, "user", "", "peer id (required)")
	f.StringVar(&o.name, "name", "", "display name (default: the user)")
	f.StringVar(&o.session, "session", "", "session name for events and the control socket: letters, digits, . _ - (default ROOM-USER; when other characters had to become _, a short hash of ROOM-USER is appended)")
	f.StringVar(&o.origin, "origin", "", "HTTP Origin header (default derived from --server)")
	f.BoolVar(&o.insecure, "insecure", false, "accept any TLS certificate (self-signed wss:// servers)")
	f.StringVar(&o.caFile, "ca", "", "PEM file of CA certificates to trust for wss://")
	f.DurationVar(&o.duration, "duration", 0, "leave after this long (0 = until signal)")
	f.DurationVar(&o.statsInterval, "stats-interval", 0, "emit a stats event this often: 0 (only at the end) or at least 100ms")
	f.DurationVar(&o.leaveTimeout, "leave-timeout", 5*time.Second, "give up a graceful leave after this long")
	o.media.addFlags(f)
	o.network.addFlags(f)
	o.talk.addFlags(f, false)
	f.StringVar(&o.iceLoopback, "ice-loopback", "auto", "gather loopback candidates: auto (when the server is on loopback), on, off")
	f.StringSliceVar(&o.iceInterfaces, "ice-interface", nil, "gather candidates only on these interfaces (default all; lo when the server is on loopback)")
	f.IntVar(&o.reconnectAttempts, "reconnect-attempts", 5, "rejoin a lost call (connection dropped, transport failed) this many times before giving up; 0 disables")
	f.StringSliceVar(&o.fallbackServers, "fallback-server", nil, "other signaling servers to rejoin on, in turn, when the call is lost (multi-server failover)")
	f.BoolVar(&o.data, "data", false, "open DataChannels: receive the room's chat messages as data.message events and send with 'callctl send'")
	f.StringVar(&o.consume, "consume", "all", "what to receive: all, none (publish only), audio or video")
	f.StringSliceVar(&o.consumePeers, "consume-peer", nil, "receive only these participants (repeatable; default everyone)")
	f.IntVar(&o.expect.Participants, "expect-participants", 0, "check: this many other participants join (default 1 with --expect-video/--expect-audio)")
	f.BoolVar(&o.expect.Video, "expect-video", false, "check: decodable video arrives from each expected participant")
	f.BoolVar(&o.expect.Audio, "expect-audio", false, "check: audible audio arrives from each expected participant")
	f.DurationVar(&o.expect.Within, "expect-within", 30*time.Second, "check: deadline for the expectations, from start (then exit 7)")
	f.BoolVar(&o.expect.ExitOnPass, "exit-on-pass", false, "check: leave and exit 0 as soon as the expectations hold")
	return c
}

// runJoin is callctl join: start, join, run until something asks to
// leave (or the call ends), leave.
func runJoin(ctx context.Context, io IO, log *slog.Logger, o *joinOptions) error {
	s := newJoinSession(o, io, log)
	if err := s.start(ctx); err != nil {
		return err
	}
	defer s.close()
	req := s.join(ctx)
	if req == nil {
		r := s.run(ctx)
		req = &r
	}
	return s.leave(ctx, *req)
}
