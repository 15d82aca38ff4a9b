package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/callctl/callctl/cmd/internal/ctlsock"
	"github.com/callctl/callctl/pkg/sdk"
)

// statsCmdResult is one sample printed by `callctl stats`.
type statsCmdResult struct {
	resultHeader
	Sample int `json:"sample"`
	statsReply
}

// statsReply is a session's answer to "stats": a join's sample, or for
// a whole fleet the aggregate and its participants (empty lists above).
type statsReply struct {
	sdk.CallStats
	Fleet        json.RawMessage `json:"fleet,omitempty"`
	Participants json.RawMessage `json:"participants,omitempty"`
}

type statsOptions struct {
	controlOptions
	watch  time.Duration
	count  int
	format string
}

func newStatsCmd(io IO, run func(ctx context.Context, io IO, o *statsOptions) error) *cobra.Command {
	o := &statsOptions{}
	c := &cobra.Command{
		Use:   "stats [--session S] [--watch INTERVAL] [--count N] [--format json|table]",
		Short: "Print the media statistics of a running callctl join",
		Long: `Print media statistics of a running 'callctl join', one JSON object per sample:

  {"v":1,"ok":true,"cmd":"stats","session":"demo-bot1","sample":1,"time":"…",
   "transports":[{"transport":"send","state":"connected","iceState":"connected",
                  "dtlsState":"connected","localAddress":"…","remoteAddress":"…",
                  "rttMs":0.4,"bytesSent":123456,"bytesReceived":789}],
   "producers":[{"kind":"video","paused":false,"layers":[{"ssrc":…,"bitrateBps":…,
                 "packetsSent":…,"nacks":0,"plis":1,"score":10}]}],
   "consumers":[{"peerId":"bob","kind":"video","bitrateBps":…,"packetsReceived":…,
                 "packetsLost":0,"jitterMs":1.2,"framesDecoded":…,"frameWidth":640,
                 "frameHeight":360,"framesPerSecond":30,"freezeCount":0,"score":10}]}

Per transport: ICE and DTLS state, the selected candidate pair, RTT, bytes.
Per producer layer: bitrate, packets, NACKs, PLIs, the server's score. Per
consumer: bitrate, loss, jitter, and (when the session decodes what it
receives) frames decoded, resolution, frame rate, freezes; the server's score.

--watch INTERVAL prints a sample every INTERVAL until Ctrl-C, --count
samples, or the session ends (exit 0). --format table is for people.`,
		Example: `  callctl stats --session demo-bot1 | jq '.transports[] | {transport, bytesSent, bytesReceived}'
  callctl stats --watch 1s --format table`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.format != "json" && o.format != "table" {
				return &usageError{fmt.Errorf("--format %q: want json or table", o.format)}
			}
			if o.watch < 0 || o.count < 0 {
				return &usageError{errors.New("--watch and --count must not be negative")}
			}
			if o.count > 1 && o.watch == 0 {
				o.watch = time.Second
			}
			return run(c.Context(), io, o)
		},
	}
	o.addFlags(c)
	o.addParticipantFlag(c)
	c.Flags().DurationVar(&o.watch, "watch", 0, "print a sample every INTERVAL (e.g. 1s) until interrupted")
	c.Flags().IntVar(&o.count, "count", 0, "stop after N samples (default 1, or unlimited with --watch; --count N alone implies --watch 1s)")
	c.Flags().StringVar(&o.format, "format", "json", "output: json (one object per sample) or table")
	return c
}

func runStats(ctx context.Context, io IO, o *statsOptions) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	connCtx, cancel := context.WithTimeout(ctx, o.timeout)
	cl, name, err := o.connectTarget(connCtx)
	cancel()
	if err != nil {
		return failResult(io, "stats", name, err)
	}
	defer cl.Close()
	count := o.count
	if count == 0 && o.watch == 0 {
		count = 1
	}
	var tick <-chan time.Time
	if o.watch > 0 {
		t := time.NewTicker(o.watch)
		defer t.Stop()
		tick = t.C
	}
	for n := 1; count == 0 || n <= count; n++ {
		if n > 1 {
			select {
			case <-ctx.Done():
				return nil // interrupted while watching
			case <-tick:
			}
		}
		var s statsReply
		callCtx, cancel := context.WithTimeout(ctx, o.timeout)
		err := cl.Call(callCtx, "stats", participantArgs(o.participant, ""), &s)
		cancel()
		if err != nil {
			if n > 1 && (ctx.Err() != nil || errors.Is(err, ctlsock.ErrSessionEnded)) {
				return nil // interrupted, or the watched session ended
			}
			return failResult(io, "stats", name, err)
		}
		res := statsCmdResult{resultHeader: okHeader("stats", name), Sample: n, statsReply: s}
		if o.format == "table" {
			err = writeStatsTable(io.Out, res)
		} else {
			err = writeResult(io.Out, res)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeStatsTable prints a sample for people.
func writeStatsTable(w io.Writer, r statsCmdResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "session %s  sample %d  %s\n\n", r.Session, r.Sample, r.Time.Local().Format("15:04:05.000"))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TRANSPORT\tSTATE\tICE\tDTLS\tLOCAL\tREMOTE\tRTT\tSENT\tRECEIVED")
	for _, t := range r.Transports {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.1fms\t%s\t%s\n", t.Transport, t.State, t.ICEState, t.DTLSState,
			dash(t.LocalAddress), dash(t.RemoteAddress), t.RTTMillis, bytesHuman(t.BytesSent), bytesHuman(t.BytesReceived))
	}
	_ = tw.Flush()
	b.WriteString("\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PRODUCER\tCODEC\tLAYER\tBITRATE\tPACKETS\tSENT\tNACKS\tPLIS\tLOST\tSCORE\tPAUSED")
	for _, p := range r.Producers {
		for _, l := range p.Layers {
			layer := l.RID
			if layer == "" {
				layer = fmt.Sprint(l.SSRC)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%v\n", p.Kind, p.Codec, layer, bitrateHuman(l.BitrateBps),
				l.PacketsSent, bytesHuman(l.BytesSent), l.NACKs, l.PLIs, l.PacketsLost, l.Score, p.Paused)
		}
	}
	_ = tw.Flush()
	b.WriteString("\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONSUMER\tKIND\tCODEC\tBITRATE\tPACKETS\tLOST\tJITTER\tFRAMES\tSIZE\tFPS\tFREEZES\tSCORE\tPAUSED")
	for _, c := range r.Consumers {
		size := "-"
		if c.Width > 0 {
			size = fmt.Sprintf("%dx%d", c.Width, c.Height)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%.1fms\t%d\t%s\t%.1f\t%d\t%d\t%v\n", c.PeerID, c.Kind, c.Codec,
			bitrateHuman(c.BitrateBps), c.PacketsReceived, c.PacketsLost, c.JitterMillis, c.FramesDecoded, size, c.FPS,
			c.Freezes, c.Score, c.ProducerPaused)
	}
	_ = tw.Flush()
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func bytesHuman(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%dB", n)
	}
}

func bitrateHuman(bps float64) string {
	switch {
	case bps >= 1e6:
		return fmt.Sprintf("%.2fMb/s", bps/1e6)
	case bps >= 1e3:
		return fmt.Sprintf("%.0fkb/s", bps/1e3)
	default:
		return fmt.Sprintf("%.0fb/s", bps)
	}
}
