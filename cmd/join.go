package cmd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/callctl/callctl/cmd/internal/ctlsock"
	"github.com/callctl/callctl/pkg/sdk"
)

type joinOptions struct {
	server, room, user, name, session string
	origin, caFile                    string
	insecure                          bool
	duration, statsInterval           time.Duration
	leaveTimeout                      time.Duration
	media                             mediaOptions
	iceLoopback                       string
	reconnectAttempts                 int
	fallbackServers                   []string
	iceInterfaces                     []string
	expect                            expectations
	expectSet                         bool // any --expect-* flag given
}

func (o *joinOptions) displayName() string {
	if o.name != "" {
		return o.name
	}
	return o.user
}

func newJoinCmd(io IO, g *globalOptions) *cobra.Command {
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
			return runJoin(c.Context(), io, log, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.server, "server", "", "signaling server URL, ws:// or wss:// (required)")
	f.StringVar(&o.room, "room", "", "room id (required)")
	f.StringVar(&o.user, "user", "", "peer id (required)")
	f.StringVar(&o.name, "name", "", "display name (default: the user)")
	f.StringVar(&o.session, "session", "", "session name for events and the control socket: letters, digits, . _ - (default ROOM-USER, other characters replaced by _)")
	f.StringVar(&o.origin, "origin", "", "HTTP Origin header (default derived from --server)")
	f.BoolVar(&o.insecure, "insecure", false, "accept any TLS certificate (self-signed wss:// servers)")
	f.StringVar(&o.caFile, "ca", "", "PEM file of CA certificates to trust for wss://")
	f.DurationVar(&o.duration, "duration", 0, "leave after this long (0 = until signal)")
	f.DurationVar(&o.statsInterval, "stats-interval", 0, "emit a stats event this often (0 = only at the end)")
	f.DurationVar(&o.leaveTimeout, "leave-timeout", 5*time.Second, "give up a graceful leave after this long")
	o.media.addFlags(f)
	f.StringVar(&o.iceLoopback, "ice-loopback", "auto", "gather loopback candidates: auto (when the server is on loopback), on, off")
	f.StringSliceVar(&o.iceInterfaces, "ice-interface", nil, "gather candidates only on these interfaces (default all; lo when the server is on loopback)")
	f.IntVar(&o.reconnectAttempts, "reconnect-attempts", 5, "rejoin a lost call (connection dropped, transport failed) this many times before giving up; 0 disables")
	f.StringSliceVar(&o.fallbackServers, "fallback-server", nil, "other signaling servers to rejoin on, in turn, when the call is lost (multi-server failover)")
	f.IntVar(&o.expect.Participants, "expect-participants", 0, "check: this many other participants join (default 1 with --expect-video/--expect-audio)")
	f.BoolVar(&o.expect.Video, "expect-video", false, "check: decodable video arrives from each expected participant")
	f.BoolVar(&o.expect.Audio, "expect-audio", false, "check: audible audio arrives from each expected participant")
	f.DurationVar(&o.expect.Within, "expect-within", 30*time.Second, "check: deadline for the expectations, from start (then exit 7)")
	f.BoolVar(&o.expect.ExitOnPass, "exit-on-pass", false, "check: leave and exit 0 as soon as the expectations hold")
	return c
}

// validateExpect checks the --expect-* flags; changed reports whether a
// flag was given.
func (o *joinOptions) validateExpect(changed func(string) bool) error {
	bad := func(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }
	o.expectSet = changed("expect-participants") || o.expect.Video || o.expect.Audio
	if !o.expectSet {
		if changed("expect-within") || o.expect.ExitOnPass {
			return bad("--expect-within and --exit-on-pass need --expect-participants, --expect-video or --expect-audio")
		}
		return nil
	}
	if o.expect.Participants < 0 {
		return bad("--expect-participants must not be negative")
	}
	if !changed("expect-participants") {
		o.expect.Participants = 1
	}
	if o.expect.Within <= 0 {
		return bad("--expect-within must be positive")
	}
	return nil
}

func (o *joinOptions) validate() error {
	bad := func(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }
	switch {
	case o.server == "":
		return bad("--server is required")
	case o.room == "":
		return bad("--room is required")
	case o.user == "":
		return bad("--user is required")
	}
	for _, srv := range append([]string{o.server}, o.fallbackServers...) {
		u, err := url.Parse(srv)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return bad("server %q: want ws://host:port or wss://host:port", srv)
		}
	}
	if o.reconnectAttempts < 0 {
		return bad("--reconnect-attempts must not be negative")
	}
	if err := o.media.validate(); err != nil {
		return &usageError{err}
	}
	if o.iceLoopback != "auto" && o.iceLoopback != "on" && o.iceLoopback != "off" {
		return bad("--ice-loopback %q: want auto, on or off", o.iceLoopback)
	}
	if o.duration < 0 || o.statsInterval < 0 {
		return bad("--duration and --stats-interval must not be negative")
	}
	if o.session == "" {
		o.session = ctlsock.SanitizeName(o.room + "-" + o.user)
	} else if err := ctlsock.ValidateName(o.session); err != nil {
		return bad("--session: %v", err)
	}
	return nil
}

// iceConfig picks candidate gathering for the server's address: a server
// on loopback gets loopback-only candidates, so no pair leaves 127.0.0.1.
func (o *joinOptions) iceConfig() sdk.ICEConfig {
	u, _ := url.Parse(o.server)
	local := isLoopbackHost(u.Hostname())
	var ice sdk.ICEConfig
	if local && o.iceLoopback == "auto" && len(o.iceInterfaces) == 0 {
		ice = sdk.LoopbackICE()
	}
	if o.iceLoopback == "on" {
		ice.IncludeLoopback = true
	}
	if len(o.iceInterfaces) > 0 {
		ice.Interfaces = o.iceInterfaces
	}
	return ice
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func (o *joinOptions) tlsConfig() (*tls.Config, error) {
	if !o.insecure && o.caFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.insecure {
		cfg.InsecureSkipVerify = true //nolint:gosec // the user asked for it with --insecure
	}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--ca: %w", err)}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &usageError{fmt.Errorf("--ca %s: no PEM certificates found", o.caFile)}
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

func runJoin(ctx context.Context, io IO, log *slog.Logger, o *joinOptions) error {
	started := time.Now()
	tlsCfg, err := o.tlsConfig()
	if err != nil {
		return err
	}
	// Claim the control socket first: a session name in use is a usage
	// error, reported before anything is written to stdout.
	dir, err := ctlsock.Dir()
	if err != nil {
		return &usageError{err}
	}
	ln, err := ctlsock.Claim(dir, o.session)
	if err != nil {
		return &usageError{err}
	}
	defer ln.Close()
	audio, video, err := o.media.sources()
	if err != nil {
		return err
	}
	sink, err := o.media.sink()
	if err != nil {
		return err
	}
	client, err := sdk.NewClient(sdk.Config{
		ServerURL: o.server, Origin: o.origin, TLS: tlsCfg,
		Audio: audio, Video: video, Sink: sink, VideoLayers: o.media.layers, AdaptiveLayers: o.media.adaptive, ICE: o.iceConfig(), Logger: log,
		Reconnect: sdk.ReconnectConfig{MaxAttempts: o.reconnectAttempts, FallbackURLs: o.fallbackServers},
	})
	if err != nil {
		return &usageError{err}
	}
	out := newPrinter(io.Out, o.session)
	pumpDone := make(chan sdk.Left, 1)
	go pumpEvents(client.Events(), out, pumpDone)

	ctl := newControlHandler(o, client, out, log, started)
	srv := ctlsock.Serve(ln, ctl.handle)
	// Deferred calls run after the final "left" event: a `callctl leave`
	// waiting for the socket to close has seen the session finish.
	defer srv.Close()
	defer ctl.setEnded()
	log.Debug("control socket", "path", srv.Path())

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	// A closed stdout (`callctl join … | head -1`) must not kill the
	// process with SIGPIPE: writes then fail, and join leaves gracefully.
	signal.Ignore(syscall.SIGPIPE)
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watchStdout(watchCtx, io.Out, out)

	var expectDeadline <-chan time.Time
	if o.expectSet {
		t := time.NewTimer(o.expect.Within - time.Since(started))
		defer t.Stop()
		expectDeadline = t.C
	}

	// While joining, a signal or `callctl leave` cancels the join. The
	// watcher reports what it consumed, so a signal that lands just as the
	// join completes is not lost.
	joinCtx, cancelJoin := context.WithCancel(ctx)
	defer cancelJoin()
	interrupted := make(chan string, 1)
	watcherDone := make(chan struct{})
	go func() {
		defer close(watcherDone)
		select {
		case <-sigs:
			interrupted <- "signal"
			cancelJoin()
		case <-ctl.leaveRequested():
			cancelJoin()
		case <-joinCtx.Done():
		}
	}()
	log.Info("joining", "server", o.server, "room", o.room, "user", o.user)
	if err := client.JoinCall(joinCtx, o.room, o.user, o.name); err != nil {
		left, trigger := <-pumpDone, ""
		code := exitCodeFor(err)
		if errors.Is(err, context.Canceled) {
			<-watcherDone
			code = ExitInterrupted
			select {
			case trigger = <-interrupted: // the first signal: a requested leave
			default:
				if ctl.wantsLeave() {
					trigger = "leave"
				}
			}
			if trigger != "" {
				code, left.Reason, left.Error = ExitOK, sdk.LeftRequested, ""
			}
		}
		finish(out, left, code, trigger)
		if code == ExitOK {
			return nil
		}
		return &silentError{withCode(code, err)}
	}
	cancelJoin()
	<-watcherDone
	ctl.setJoined()
	log.Info("joined", "room", o.room, "user", o.user)

	var deadline <-chan time.Time
	if o.duration > 0 {
		t := time.NewTimer(o.duration)
		defer t.Stop()
		deadline = t.C
	}
	var tick <-chan time.Time
	if o.statsInterval > 0 {
		t := time.NewTicker(o.statsInterval)
		defer t.Stop()
		tick = t.C
	}
	var expectTick <-chan time.Time
	if o.expectSet {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		expectTick = t.C
	}
	// evaluate checks the expectations once; it reports whether they hold
	// and emits expect.passed the first time they do.
	passed := false
	evaluate := func() (expectOutcome, bool) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		s, err := client.Stats(ctx)
		if err != nil {
			log.Debug("stats unavailable", "err", err)
			return expectOutcome{Missing: []string{"statistics (" + err.Error() + ")"}}, false
		}
		res := evaluateExpectations(o.expect, client.State().Snapshot().Participants, s)
		if len(res.Missing) > 0 {
			return res, false
		}
		if !passed {
			passed = true
			expectTick, expectDeadline = nil, nil
			log.Info("expectations met")
			_ = out.event("expect.passed", expectPassedData{
				ElapsedMillis: time.Since(started).Milliseconds(), Participants: orEmpty(res.Met),
			})
		}
		return res, true
	}
	if o.expectSet {
		evaluate()
	}

	code, trigger := ExitOK, ""
	select {
	case trigger = <-interrupted: // signalled at the very end of the join
		log.Info("leaving on signal")
	default:
	}
	var missing []string
	for trigger == "" {
		if passed && o.expect.ExitOnPass {
			trigger = "expect.passed"
			break
		}
		select {
		case <-tick:
			emitStats(ctx, client, out, log)
		case <-expectTick:
			evaluate()
		case <-expectDeadline:
			if res, ok := evaluate(); !ok {
				log.Warn("expectations not met", "missing", res.Missing)
				_ = out.event("expect.failed", expectFailedData{
					ElapsedMillis: time.Since(started).Milliseconds(), WithinMillis: o.expect.Within.Milliseconds(),
					Missing: res.Missing, Participants: orEmpty(res.Present),
				})
				code, trigger, missing = ExitExpectation, "expect.failed", res.Missing
			}
		case <-client.Done():
			left := <-pumpDone
			err := client.Err()
			code := exitCodeFor(err)
			finish(out, left, code, "")
			if err != nil {
				return &silentError{withCode(code, err)}
			}
			return nil
		case <-deadline:
			log.Info("duration elapsed, leaving")
			trigger = "duration"
		case <-ctl.leaveRequested():
			log.Info("leaving on request")
			trigger = "leave"
		case s := <-sigs:
			log.Info("leaving on signal", "signal", s)
			trigger = "signal"
		case <-out.Broken():
			log.Info("stdout closed, leaving")
			trigger = "stdout-closed"
		}
	}
	emitStats(ctx, client, out, log)
	leaveCtx, cancel := context.WithTimeout(ctx, o.leaveTimeout)
	defer cancel()
	go func() {
		select {
		case <-sigs:
			log.Warn("second signal: exiting without a graceful leave")
			_ = out.event("left", leftData{Reason: "forced", ExitCode: ExitInterrupted, Trigger: "signal"})
			_ = ln.Close()
			os.Exit(ExitInterrupted)
		case <-leaveCtx.Done():
		}
	}()
	if err := client.LeaveCall(leaveCtx); err != nil {
		log.Warn("graceful leave did not finish", "err", err)
	}
	left := <-pumpDone
	finish(out, left, code, trigger)
	if code != ExitOK {
		return &silentError{withCode(code, errors.New("expectations not met: "+strings.Join(missing, ", ")))}
	}
	return nil
}

func emitStats(ctx context.Context, client *sdk.Client, out *printer, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := client.Stats(ctx)
	if err != nil {
		log.Debug("stats unavailable", "err", err)
		return
	}
	_ = out.event("stats", s)
}

type leftData struct {
	Reason   string `json:"reason"`
	Error    string `json:"error,omitempty"`
	ExitCode int    `json:"exitCode"`
	// Trigger is what made a requested leave happen: signal, duration,
	// leave (control command), expect.passed, expect.failed.
	Trigger string `json:"trigger,omitempty"`
}

func finish(out *printer, left sdk.Left, code int, trigger string) {
	_ = out.event("left", leftData{Reason: left.Reason, Error: left.Error, ExitCode: code, Trigger: trigger})
}

// pumpEvents copies SDK events to stdout, holding back Left: the command
// writes it last, with the exit code.
func pumpEvents(events <-chan sdk.Event, out *printer, done chan<- sdk.Left) {
	var left sdk.Left
	for ev := range events {
		if l, ok := ev.(sdk.Left); ok {
			left = l
			continue
		}
		_ = out.event(ev.Type(), ev)
	}
	if left.Reason == "" {
		left.Reason = "ended"
	}
	done <- left
}
