package cmd

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/callctl/callctl/cmd/internal/ctlsock"
	"github.com/callctl/callctl/pkg/fleet"
	"github.com/callctl/callctl/pkg/sdk"
)

// fleetRunner runs a fleet whose flags are parsed and valid: runFleet, or
// a recorder in tests of the flag wiring.
type fleetRunner func(ctx context.Context, io IO, log *slog.Logger, o *fleetOptions) error

// fleetOptions are the flags of callctl fleet. The connection flags reuse
// join's (conn), and so does the media (sources are built once for the
// whole fleet).
type fleetOptions struct {
	conn                    joinOptions // server, origin, TLS, ICE, reconnect, leave timeout
	rooms                   int
	publishers, subscribers int
	prefix, roomPrefix      string
	indexOffset             int
	joinRate                float64
	session                 string
	duration, statsInterval time.Duration
	media                   mediaOptions
	subscribe               string
	subscribePeers          []string
	decode                  bool
	expectPct               float64
	expectWithin            time.Duration
	exitOnPass              bool
	shard                   shardOptions   // fleet_shard.go
	metrics                 metricsOptions // fleet_metrics.go
}

func newFleetCmd(io IO, g *globalOptions, run fleetRunner) *cobra.Command {
	o := &fleetOptions{}
	c := &cobra.Command{
		Use:   "fleet --server URL --publishers N --subscribers M [--rooms R]",
		Short: "Run many participants (publishers and subscribers) in one process, for load tests",
		Long: `Run a fleet of participants in one process: publishers send one shared
audio/video source (each layer encoded, or read from a clip, once for the
whole fleet), subscribers consume and optionally decode. Participant i of a
role is <prefix>-p<i> or <prefix>-s<i> in room <room>-<i mod rooms>;
--index-offset lets several processes or machines run shards of one fleet.

Stdout is one NDJSON stream: every participant's events carry a
"participant" field next to "session"; fleet.stats (every --stats-interval
and at the end) aggregates states, join times, packets, bytes, loss, frames
and freezes per kind, and per-room counts. The last line is the fleet's
"left" (no participant field) with the exit code: 0, or 7 when
--expect-subscribers-decoding was not met.

The first SIGINT/SIGTERM makes every participant leave gracefully; a second
exits at once (130). stats, mute, unmute and leave act on the whole fleet,
or with --participant ID on one participant.

--shard-count K splits the --publishers/--subscribers totals over K
processes running the same command line, each taking its slice from
--shard-index or JOB_COMPLETION_INDEX (a Kubernetes Indexed Job);
--metrics-addr serves Prometheus metrics to judge the aggregate
(docs/metrics.md, deploy/README.md).`,
		Example: `  # 20 publishers replaying clips and 5 decoding subscribers in 2 rooms, 60 s
  callctl clips --out clips --width 320 --height 180
  callctl fleet --server ws://127.0.0.1:4443 --rooms 2 --publishers 20 --subscribers 5 \
    --video file:clips --audio file:clips/callctl.ogg --decode --duration 60s --stats-interval 5s

  # a second machine adds 20 more publishers to the same rooms
  callctl fleet --server wss://sfu.example.com --rooms 2 --publishers 20 --index-offset 20 ...

  # a CI gate: 95% of subscribers decode every publisher within 20 s
  callctl fleet ... --decode --expect-subscribers-decoding 95 --expect-within 20s --exit-on-pass`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.validate(c.Flags().Changed); err != nil {
				return err
			}
			log, err := g.logger(io)
			if err != nil {
				return err
			}
			return run(c.Context(), io, log, o)
		},
	}
	o.addFlags(c)
	return c
}

func (o *fleetOptions) addFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&o.conn.server, "server", "", "signaling server URL, ws:// or wss:// (required)")
	f.IntVar(&o.rooms, "rooms", 1, "spread the participants over this many rooms")
	f.StringVar(&o.roomPrefix, "room", "fleet", "room name prefix: rooms are <room>-0 … <room>-<rooms-1>")
	f.IntVar(&o.publishers, "publishers", 0, "publishers in this process (send the shared media, consume nothing)")
	f.IntVar(&o.subscribers, "subscribers", 0, "subscribers in this process (send nothing, consume per --subscribe)")
	f.StringVar(&o.prefix, "prefix", "bot", "participant id prefix: <prefix>-p<index>, <prefix>-s<index>")
	f.IntVar(&o.indexOffset, "index-offset", 0, "first index of each role (shards of one fleet in several processes)")
	f.Float64Var(&o.joinRate, "join-rate", 5, "joins started per second (0: all at once)")
	f.StringVar(&o.session, "session", "", "session name for events and the control socket (default ROOM-PREFIX, ROOM-PREFIX-OFFSET with --index-offset, plus -shardI with --shard-count)")
	f.DurationVar(&o.duration, "duration", 0, "leave after this long (0 = until signal)")
	f.DurationVar(&o.statsInterval, "stats-interval", 5*time.Second, "emit fleet.stats this often: 0 (only at the end) or at least 100ms")
	f.DurationVar(&o.conn.leaveTimeout, "leave-timeout", 5*time.Second, "give up a participant's graceful leave after this long")
	f.StringVar(&o.media.video, "video", "test", "publishers' video: test (synthetic, encoded once), file:PATH (clip or simulcast set, read once), camera[:DEVICE] or none")
	f.StringVar(&o.media.audio, "audio", "tone", "publishers' audio: tone, file:PATH (Ogg Opus), mic[:DEVICE] or none")
	f.StringVar(&o.media.codec, "codec", "vp8", "live video codec: vp8 or h264")
	f.IntVar(&o.media.width, "width", 640, "live video width (the top simulcast layer)")
	f.IntVar(&o.media.height, "height", 360, "live video height (the top simulcast layer)")
	f.IntVar(&o.media.fps, "fps", 30, "live video frame rate")
	f.BoolVar(&o.media.simulcast, "simulcast", true, "send 3 simulcast layers; --simulcast=false sends one")
	f.StringVar(&o.subscribe, "subscribe", "all", "what subscribers consume: all, audio or video")
	f.StringSliceVar(&o.subscribePeers, "subscribe-peer", nil, "subscribers consume only these participants (repeatable; default everyone)")
	f.BoolVar(&o.decode, "decode", false, "subscribers decode what they receive (frames, freezes, audio level); default: count packets only")
	f.Float64Var(&o.expectPct, "expect-subscribers-decoding", 0, "check: this percentage of subscribers decode video from every publisher of their room (needs --decode)")
	f.DurationVar(&o.expectWithin, "expect-within", 30*time.Second, "check: each subscriber's deadline, from its join")
	f.BoolVar(&o.exitOnPass, "exit-on-pass", false, "check: leave and exit 0 as soon as the expectation holds")
	f.StringVar(&o.conn.origin, "origin", "", "HTTP Origin header (default derived from --server)")
	f.BoolVar(&o.conn.insecure, "insecure", false, "accept any TLS certificate (self-signed wss:// servers)")
	f.StringVar(&o.conn.caFile, "ca", "", "PEM file of CA certificates to trust for wss://")
	f.StringVar(&o.conn.iceLoopback, "ice-loopback", "auto", "gather loopback candidates: auto (when the server is on loopback), on, off")
	f.StringSliceVar(&o.conn.iceInterfaces, "ice-interface", nil, "gather candidates only on these interfaces")
	f.IntVar(&o.conn.reconnectAttempts, "reconnect-attempts", 5, "rejoin a participant's lost call this many times; 0 disables")
	o.addShardFlags(f)
	o.addMetricsFlags(f)
	o.conn.network.addFleetFlags(f)
	o.conn.talk.addFlags(f, true)
}

// validate checks the flags; changed reports whether a flag was given.
func (o *fleetOptions) validate(changed func(string) bool) error {
	bad := func(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }
	// join's checks cover the server, ICE, reconnect and media flags;
	// room and user only have to be non-empty there.
	o.conn.room, o.conn.user, o.conn.session = o.roomPrefix, o.prefix, o.session
	if o.indexOffset > 0 {
		// Shards of one fleet on one machine get distinct default
		// session names: ROOM-PREFIX-OFFSET.
		o.conn.user = fmt.Sprintf("%s-%d", o.prefix, o.indexOffset)
	}
	if err := o.validateShard(changed); err != nil {
		return err
	}
	o.conn.media, o.conn.duration, o.conn.statsInterval = o.media, o.duration, o.statsInterval
	if err := o.conn.validate(); err != nil {
		return err
	}
	o.media, o.session = o.conn.media, o.conn.session
	if _, err := fleet.Plan(o.planOptions()); err != nil {
		return bad("%v", err)
	}
	if err := o.validateMetrics(); err != nil {
		return err
	}
	if err := ctlsock.ValidateName(o.prefix); err != nil {
		return bad("--prefix: %v", err)
	}
	if o.publishers > 0 && o.media.video == "none" && o.media.audio == "none" {
		return bad("publishers need --video or --audio (both are none)")
	}
	switch o.subscribe {
	case "all", "audio", "video":
	default:
		return bad("--subscribe %q: want all, audio or video", o.subscribe)
	}
	if o.joinRate < 0 {
		return bad("--join-rate must not be negative")
	}
	if changed("expect-within") || o.exitOnPass {
		if !changed("expect-subscribers-decoding") {
			return bad("--expect-within and --exit-on-pass need --expect-subscribers-decoding")
		}
	}
	if changed("expect-subscribers-decoding") {
		switch {
		case o.expectPct <= 0 || o.expectPct > 100:
			return bad("--expect-subscribers-decoding %v: want a percentage, 0 < p ≤ 100", o.expectPct)
		case o.expectWithin <= 0:
			return bad("--expect-within must be positive")
		case !o.decode:
			return bad("--expect-subscribers-decoding needs --decode")
		case o.subscribe == "audio":
			return bad("--expect-subscribers-decoding needs subscribers that receive video")
		case o.subscribers == 0:
			return bad("--expect-subscribers-decoding needs --subscribers")
		}
	}
	return nil
}

func (o *fleetOptions) planOptions() fleet.PlanOptions {
	return fleet.PlanOptions{
		Prefix: o.prefix, RoomPrefix: o.roomPrefix, Rooms: o.rooms,
		Publishers: o.publishers, Subscribers: o.subscribers, IndexOffset: o.indexOffset,
		ShardIndex: o.shard.index, ShardCount: o.shard.count,
	}
}

// subscribeOptions turns --subscribe and --subscribe-peer into the SDK's
// selection.
func (o *fleetOptions) subscribeOptions() sdk.ConsumeOptions {
	c := sdk.ConsumeOptions{Peers: o.subscribePeers}
	if o.subscribe == "audio" || o.subscribe == "video" {
		c.Kinds = []string{o.subscribe}
	}
	return c
}

// expectations is the fleet's check, nil without one.
func (o *fleetOptions) expectations() *fleet.Expectations {
	if o.expectPct == 0 {
		return nil
	}
	return &fleet.Expectations{SubscribersDecodingPercent: o.expectPct, Within: o.expectWithin}
}

// sharedSources opens the publishers' media once for the whole fleet.
// Without publishers nothing is opened.
func (o *fleetOptions) sharedSources() (audio, video *fleet.SharedSource, err error) {
	if o.publishers == 0 {
		return nil, nil, nil
	}
	a, v, err := o.media.sources()
	if err != nil {
		return nil, nil, err
	}
	if a != nil {
		audio = fleet.NewSharedSource(a)
	}
	if v != nil {
		video = fleet.NewSharedSource(v)
	}
	return audio, video, nil
}
