package cmd

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/callctl/callctl/cmd/internal/ctlsock"
	"github.com/callctl/callctl/pkg/capture"
	"github.com/callctl/callctl/pkg/fleet"
	"github.com/callctl/callctl/pkg/sdk"
)

// fleetLeftData is the data of the fleet's final "left" event: join's,
// plus what became of the participants.
type fleetLeftData struct {
	leftData
	Fleet fleetResult `json:"fleet"`
}

// fleetResult sums up a fleet run.
type fleetResult struct {
	Planned    int `json:"planned"`
	EverJoined int `json:"everJoined"`
	Failed     int `json:"failed"`
	Rejoined   int `json:"rejoined"`
	// Subscribers and Met: how many subscribers were checked and met the
	// expectation (with --expect-subscribers-decoding).
	Subscribers int                  `json:"subscribers"`
	Met         int                  `json:"met"`
	Expect      *fleet.ExpectSummary `json:"expect,omitempty"`
	Shard       *fleet.Shard         `json:"shard,omitempty"`
}

// fleetSession is one run of callctl fleet: start claims the control
// socket, opens the shared media and plans the fleet; run serves it until
// a leave request; leave ends every participant and writes the final
// "left"; close releases what start took.
type fleetSession struct {
	o       *fleetOptions
	io      IO
	log     *slog.Logger
	started time.Time
	exit    func(code int) // os.Exit; tests replace it

	ln  *ctlsock.Listener
	srv *ctlsock.Server
	fl  *fleet.Fleet
	out *printer
	ctl *fleetControl

	metrics *fleetMetrics // fleet_metrics.go; nil without --metrics-addr/--metrics-push

	sigs chan os.Signal
	leaveQueue
	stopWatch  context.CancelFunc
	finishOnce sync.Once

	errMu    sync.Mutex
	firstErr error // the first participant failure, for the exit code
}

func runFleet(ctx context.Context, io IO, log *slog.Logger, o *fleetOptions) error {
	s := &fleetSession{
		o: o, io: io, log: log, started: time.Now(), exit: os.Exit,
		sigs: make(chan os.Signal, 2), leaveQueue: newLeaveQueue(8),
		stopWatch: func() {},
	}
	if err := s.start(ctx); err != nil {
		return err
	}
	defer s.close()
	return s.leave(ctx, s.run(ctx))
}

// start prepares everything; its errors are usage errors and leave
// nothing behind (stdout untouched).
func (s *fleetSession) start(ctx context.Context) error {
	tlsCfg, err := s.o.conn.tlsConfig()
	if err != nil {
		return err
	}
	dir, err := ctlsock.Dir()
	if err != nil {
		return &usageError{err}
	}
	if s.ln, err = ctlsock.Claim(dir, s.o.session); err != nil {
		return &usageError{err}
	}
	s.out = newPrinter(s.io.Out, s.o.session)
	if s.metrics, err = s.startMetrics(); err != nil {
		_ = s.ln.Close()
		return err
	}
	if s.fl, err = s.newFleet(tlsCfg); err != nil {
		s.metrics.close()
		_ = s.ln.Close()
		return err
	}
	s.metrics.attach(s.fl)
	s.ctl = newFleetControl(s)
	s.srv = ctlsock.Serve(s.ln, s.ctl.handle)
	s.watchTriggers(ctx)
	return nil
}

// newFleet opens the shared sources and plans the fleet.
func (s *fleetSession) newFleet(tlsCfg *tls.Config) (*fleet.Fleet, error) {
	audio, video, err := s.o.sharedSources()
	if err != nil {
		return nil, err
	}
	opts := fleet.Options{
		ServerURL: s.o.conn.server, Origin: s.o.conn.origin, TLS: tlsCfg,
		Plan: s.o.planOptions(), JoinRate: s.o.joinRate, Audio: audio, Video: video,
		Subscribe: s.o.subscribeOptions(), NewSink: s.sink, Expect: s.o.expectations(),
		ICE:          s.o.conn.iceConfig(),
		NewNet:       s.o.conn.network.fleetNet,
		Reconnect:    sdk.ReconnectConfig{MaxAttempts: s.o.conn.reconnectAttempts},
		LeaveTimeout: s.o.conn.leaveTimeout, Logger: s.log, OnEvent: s.onEvent,
		OnStats: s.metrics.onStats(),
		Talk:    s.o.conn.talk.talk(""),
	}
	fl, err := fleet.New(opts)
	if err != nil {
		for _, src := range []*fleet.SharedSource{audio, video} {
			if src != nil {
				_ = src.Release()
			}
		}
		return nil, &usageError{err}
	}
	return fl, nil
}

// sink is a subscriber's receive sink: decoding with --decode, else
// counting only.
func (s *fleetSession) sink(fleet.Member) (sdk.ReceiveSink, error) {
	return capture.NewReceiveSink(capture.ReceiveOptions{NoDecode: !s.o.decode})
}

// onEvent writes the fleet's output. A participant's "left" carries the
// exit code a join of that participant would have ended with.
func (s *fleetSession) onEvent(ev fleet.Event) {
	if ev.Participant == "" {
		_ = s.out.event(ev.Type, ev.Data)
		return
	}
	data := ev.Data
	if l, ok := data.(sdk.Left); ok {
		code := exitCodeFor(l.Err)
		if l.Err != nil {
			s.errMu.Lock()
			if s.firstErr == nil {
				s.firstErr = l.Err
			}
			s.errMu.Unlock()
		}
		data = leftData{Reason: l.Reason, Error: l.Error, ExitCode: code}
	}
	_ = s.out.participantEvent(ev.Participant, ev.Type, data)
}

// watchTriggers turns signals, the control socket's leave and a closed
// stdout into leave requests.
func (s *fleetSession) watchTriggers(ctx context.Context) {
	signal.Notify(s.sigs, syscall.SIGINT, syscall.SIGTERM)
	signal.Ignore(syscall.SIGPIPE)
	watchCtx, stop := context.WithCancel(ctx)
	s.stopWatch = stop
	watchStdout(watchCtx, s.io.Out, s.out)
	s.wg.Add(1)
	go s.watchSignals()
	s.forward(s.ctl.leaveRequested(), func() leaveRequest { return leaveRequest{trigger: "leave"} })
	s.forward(s.out.Broken(), func() leaveRequest { return leaveRequest{trigger: "stdout-closed"} })
}

// watchSignals: the first signal leaves gracefully, a second exits 130.
func (s *fleetSession) watchSignals() {
	defer s.wg.Done()
	first := true
	for {
		select {
		case sig := <-s.sigs:
			if !first {
				if s.finish(fleetLeftData{leftData: leftData{Reason: "forced", ExitCode: ExitInterrupted, Trigger: "signal"}}) {
					s.log.Warn("second signal: exiting without a graceful leave")
					_ = s.ln.Close()
					s.exit(ExitInterrupted)
				}
				return
			}
			first = false
			s.log.Info("leaving on signal", "signal", sig)
			s.request(leaveRequest{trigger: "signal"})
		case <-s.done:
			return
		}
	}
}

// run starts the fleet and serves it until the first leave request: a
// trigger, --duration, the expectation's verdict, or every participant
// having ended by itself.
func (s *fleetSession) run(ctx context.Context) leaveRequest {
	s.log.Info("fleet starting", "participants", len(s.fl.Members()), "rooms", s.o.rooms, "server", s.o.conn.server)
	_ = s.out.event("fleet.started", s.startedData())
	if req, ok := s.waitStartAt(ctx); !ok {
		return req
	}
	s.fl.Start(ctx)
	s.forward(s.fl.Done(), func() leaveRequest { return leaveRequest{ended: true} })
	if s.o.duration > 0 {
		t := time.AfterFunc(s.o.duration, func() { s.request(leaveRequest{trigger: "duration"}) })
		defer t.Stop()
	}
	var tick <-chan time.Time
	if s.o.statsInterval > 0 {
		t := time.NewTicker(s.o.statsInterval)
		defer t.Stop()
		tick = t.C
	}
	verdict := s.fl.Verdict()
	for {
		select {
		case req := <-s.leaveReqs:
			return req
		case <-tick:
			_ = s.out.event("fleet.stats", s.fl.Sample(ctx))
			s.metrics.pushAsync()
		case v := <-verdict:
			verdict = nil
			switch {
			case v.Verdict == fleet.VerdictFailed:
				s.request(leaveRequest{trigger: "expect.failed", code: ExitExpectation, err: errors.New("fleet expectations not met")})
			case s.o.exitOnPass:
				s.request(leaveRequest{trigger: "expect.passed"})
			}
		}
	}
}

// leave makes every participant leave (each bounded by --leave-timeout),
// emits the final fleet.stats and the fleet's "left" with the exit code.
func (s *fleetSession) leave(ctx context.Context, req leaveRequest) error {
	leaveCtx, cancel := context.WithTimeout(ctx, s.o.conn.leaveTimeout+10*time.Second)
	if err := s.fl.Leave(leaveCtx); err != nil {
		s.log.Warn("the fleet's graceful leave did not finish", "err", err)
	}
	cancel()
	if err := s.fl.Wait(); err != nil {
		s.log.Warn("closing the shared media", "err", err)
	}
	final := s.fl.Aggregate()
	_ = s.out.event("fleet.stats", final)
	s.metrics.pushFinal(ctx)
	code, err := s.exitCode(req, final)
	reason := sdk.LeftRequested
	if req.trigger == "" {
		reason = "ended"
	}
	d := fleetLeftData{leftData: leftData{Reason: reason, ExitCode: code, Trigger: req.trigger}, Fleet: fleetSummary(final)}
	if err != nil {
		d.Error = err.Error()
	}
	s.finish(d)
	if code == ExitOK {
		return nil
	}
	return &silentError{withCode(code, err)}
}

// exitCode decides the fleet's exit code: with an expectation, 0 when it
// held (decided or, at the end, met by enough subscribers) and 7 when not;
// without, 0 unless no participant ever joined (then the first failure's
// code).
func (s *fleetSession) exitCode(req leaveRequest, final fleet.Stats) (int, error) {
	if req.code != ExitOK {
		return req.code, req.err
	}
	if e := final.Expect; e != nil {
		if e.Verdict == fleet.VerdictPassed || (e.Verdict == fleet.VerdictPending && e.Met >= e.Required) {
			return ExitOK, nil
		}
		return ExitExpectation, errors.New("fleet expectations not met")
	}
	s.errMu.Lock()
	first := s.firstErr
	s.errMu.Unlock()
	if final.Participants.EverJoined == 0 && first != nil {
		return exitCodeFor(first), first
	}
	return ExitOK, nil
}

func fleetSummary(st fleet.Stats) fleetResult {
	r := fleetResult{
		Planned: st.Participants.Planned, EverJoined: st.Participants.EverJoined,
		Failed: st.Participants.Failed, Rejoined: st.Participants.Rejoined, Expect: st.Expect,
		Shard: st.Shard,
	}
	if st.Expect != nil {
		r.Subscribers, r.Met = st.Expect.Subscribers, st.Expect.Met
	}
	return r
}

func (s *fleetSession) finish(d fleetLeftData) bool {
	won := false
	s.finishOnce.Do(func() {
		won = true
		_ = s.out.event("left", d)
	})
	return won
}

// close releases what start took, after the final "left".
func (s *fleetSession) close() {
	signal.Stop(s.sigs)
	s.stopWatch()
	close(s.done)
	s.wg.Wait()
	_ = s.srv.Close()
	_ = s.ln.Close()
	s.metrics.close()
}
