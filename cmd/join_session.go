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
	"github.com/callctl/callctl/pkg/sdk"
)

// leaveRequest asks a running join to end. Every trigger (a signal, the
// control socket's leave, a closed stdout, --duration, the expectations,
// the call ending by itself) sends one on joinSession.leaveReqs; the
// first one received decides how the session ends.
type leaveRequest struct {
	// trigger is what asked for the leave, as the "left" event reports
	// it: signal, leave, stdout-closed, duration, expect.passed,
	// expect.failed; empty when the call ended without being asked to.
	trigger string
	code    int   // the exit code
	err     error // why, when code is not ExitOK
	// ended is set when there is no call left to leave: the server or
	// the network ended it, or the join failed or was cancelled.
	ended bool
}

// joinSession is one run of callctl join. start claims the control
// socket, builds the client and starts the trigger watchers; join enters
// the call; run serves it until a leave request; leave ends the call and
// writes the final "left" event; close releases what start took.
type joinSession struct {
	o       *joinOptions
	io      IO
	log     *slog.Logger
	started time.Time
	// exit ends the process on a second signal (os.Exit; tests replace it).
	exit func(code int)

	ln       *ctlsock.Listener
	srv      *ctlsock.Server
	client   *sdk.Client
	out      *printer
	ctl      *controlHandler
	pumpDone chan sdk.Left // the call's Left, once its events are all out

	sigs chan os.Signal
	leaveQueue
	stopWatch  context.CancelFunc
	finishOnce sync.Once
}

func newJoinSession(o *joinOptions, io IO, log *slog.Logger) *joinSession {
	return &joinSession{
		o: o, io: io, log: log, started: time.Now(), exit: os.Exit,
		pumpDone:   make(chan sdk.Left, 1),
		sigs:       make(chan os.Signal, 2),
		leaveQueue: newLeaveQueue(4),
		stopWatch:  func() {},
	}
}

// start prepares everything before the join. Errors are usage errors
// and leave nothing behind: stdout is still untouched.
func (s *joinSession) start(ctx context.Context) error {
	tlsCfg, err := s.o.tlsConfig()
	if err != nil {
		return err
	}
	// Claim the control socket first: a session name in use is a usage
	// error, reported before anything is written to stdout.
	rd, err := ctlsock.Resolve()
	if err != nil {
		return &usageError{err}
	}
	if rd.Skipped != "" {
		s.log.Warn("control socket directory not safe, using another", "skipped", rd.Skipped, "reason", rd.Reason, "dir", rd.Dir)
	}
	if s.ln, err = ctlsock.Claim(rd.Dir, s.o.session); err != nil {
		return &usageError{err}
	}
	if s.client, err = s.newClient(tlsCfg); err != nil {
		_ = s.ln.Close()
		return err
	}
	s.out = newPrinter(s.io.Out, s.o.session)
	go pumpEvents(s.client.Events(), s.out, s.pumpDone)
	s.ctl = newControlHandler(s.o, s.client, s.out, s.log, s.started)
	s.srv = ctlsock.Serve(s.ln, s.ctl.handle)
	s.log.Debug("control socket", "path", s.srv.Path())
	s.watchTriggers(ctx)
	return nil
}

func (s *joinSession) newClient(tlsCfg *tls.Config) (*sdk.Client, error) {
	audio, video, err := s.o.media.sources()
	if err != nil {
		return nil, err
	}
	sink, err := s.o.media.sink()
	if err != nil {
		return nil, err
	}
	client, err := sdk.NewClient(s.o.clientConfig(tlsCfg, audio, video, sink, s.log))
	if err != nil {
		return nil, &usageError{err}
	}
	return client, nil
}

// watchTriggers starts the watchers that turn signals, the control
// socket's leave and a closed stdout into leave requests.
func (s *joinSession) watchTriggers(ctx context.Context) {
	signal.Notify(s.sigs, syscall.SIGINT, syscall.SIGTERM)
	// A closed stdout (`callctl join … | head -1`) must not kill the
	// process with SIGPIPE: writes then fail, and join leaves gracefully.
	signal.Ignore(syscall.SIGPIPE)
	watchCtx, stop := context.WithCancel(ctx)
	s.stopWatch = stop
	watchStdout(watchCtx, s.io.Out, s.out)
	s.wg.Add(1)
	go s.watchSignals()
	s.forward(s.ctl.leaveRequested(), func() leaveRequest {
		s.log.Info("leaving on request")
		return leaveRequest{trigger: "leave"}
	})
	s.forward(s.out.Broken(), func() leaveRequest {
		s.log.Info("stdout closed, leaving")
		return leaveRequest{trigger: "stdout-closed"}
	})
}

// join enters the call. It returns nil once joined, or the request to
// end with: a failed or cancelled join, or a trigger that arrived just
// as the join completed (it is not lost).
func (s *joinSession) join(ctx context.Context) *leaveRequest {
	joinCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	joined := make(chan error, 1)
	s.log.Info("joining", "server", s.o.server, "room", s.o.room, "user", s.o.user)
	go func() { joined <- s.client.JoinCall(joinCtx, s.o.room, s.o.user, s.o.name) }()
	var pending *leaveRequest
	var err error
	select {
	case err = <-joined:
	case req := <-s.leaveReqs:
		// Any trigger while joining cancels the join.
		pending = &req
		cancel()
		err = <-joined
	}
	if err != nil {
		req := joinFailed(err, pending)
		return &req
	}
	s.ctl.setJoined()
	s.log.Info("joined", "room", s.o.room, "user", s.o.user)
	return pending
}

// joinFailed is how a failed join ends: a join cancelled by a trigger is
// a requested leave (exit 0), one cancelled otherwise exit 130, any
// other failure its error's exit code.
func joinFailed(err error, pending *leaveRequest) leaveRequest {
	req := leaveRequest{code: exitCodeFor(err), err: err, ended: true}
	if errors.Is(err, context.Canceled) {
		req.code = ExitInterrupted
		if pending != nil && pending.trigger != "" {
			req.code, req.trigger = ExitOK, pending.trigger
		}
	}
	return req
}

// run serves the joined call until the first leave request: it adds the
// triggers that only make sense in a call (its end, --duration, the
// expectations) and emits stats every --stats-interval.
func (s *joinSession) run(ctx context.Context) leaveRequest {
	ctx, cancel := context.WithCancel(ctx)
	var checks sync.WaitGroup
	// The expectation watcher is done before the leave starts: its
	// events come before the final stats and "left".
	defer checks.Wait()
	defer cancel()
	s.forward(s.client.Done(), s.callEnded)
	if s.o.duration > 0 {
		t := time.AfterFunc(s.o.duration, func() {
			s.log.Info("duration elapsed, leaving")
			s.request(leaveRequest{trigger: "duration"})
		})
		defer t.Stop()
	}
	if s.o.expectSet {
		checks.Add(1)
		go func() {
			defer checks.Done()
			s.watchExpectations(ctx)
		}()
	}
	var tick <-chan time.Time
	if s.o.statsInterval > 0 {
		t := time.NewTicker(s.o.statsInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case req := <-s.leaveReqs:
			return req
		case <-tick:
			s.emitStats(ctx)
		}
	}
}

// leave ends the session as req says: a call still running is left
// gracefully (bounded by --leave-timeout; a second signal cuts it short),
// then the final "left" event carries the exit code.
func (s *joinSession) leave(ctx context.Context, req leaveRequest) error {
	if !req.ended {
		s.emitStats(ctx)
		leaveCtx, cancel := context.WithTimeout(ctx, s.o.leaveTimeout)
		defer cancel()
		if err := s.client.LeaveCall(leaveCtx); err != nil {
			s.log.Warn("graceful leave did not finish", "err", err)
		}
	}
	left := <-s.pumpDone
	if req.ended && req.trigger != "" {
		// The join was cancelled because a leave was asked for.
		left.Reason, left.Error = sdk.LeftRequested, ""
	}
	s.finish(leftData{Reason: left.Reason, Error: left.Error, ExitCode: req.code, Trigger: req.trigger})
	if req.code == ExitOK {
		return nil
	}
	return &silentError{withCode(req.code, req.err)}
}

// close releases what start took, after the final "left" event: a
// `callctl leave` waiting for the socket to close has seen the session
// finish.
func (s *joinSession) close() {
	signal.Stop(s.sigs)
	s.stopWatch()
	close(s.done)
	s.wg.Wait()
	s.ctl.setEnded()
	_ = s.srv.Close()
	_ = s.ln.Close()
}
