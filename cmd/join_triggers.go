package cmd

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
)

// leaveQueue is what every leave trigger of a session (join or fleet)
// feeds: one buffered channel whose first request decides, and the
// watcher goroutines, which return when done is closed.
type leaveQueue struct {
	leaveReqs chan leaveRequest
	done      chan struct{} // closed by the session's close: the watchers return
	wg        sync.WaitGroup
}

func newLeaveQueue(size int) leaveQueue {
	return leaveQueue{leaveReqs: make(chan leaveRequest, size), done: make(chan struct{})}
}

// request queues a leave request without blocking: the first one
// received decides; when the queue is full, later ones are dropped.
func (q *leaveQueue) request(req leaveRequest) {
	select {
	case q.leaveReqs <- req:
	default:
	}
}

// forward turns the first receive from ch into the leave request reqFor
// returns, until the session closes.
func (q *leaveQueue) forward(ch <-chan struct{}, reqFor func() leaveRequest) {
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		select {
		case <-ch:
			q.request(reqFor())
		case <-q.done:
		}
	}()
}

// callEnded is the request of a call the server or the network ended.
func (s *joinSession) callEnded() leaveRequest {
	err := s.client.Err()
	return leaveRequest{code: exitCodeFor(err), err: err, ended: true}
}

// watchSignals turns the first SIGINT/SIGTERM into a leave request; a
// second one ends the process at once (exit 130) instead of waiting for
// the graceful leave.
func (s *joinSession) watchSignals() {
	defer s.wg.Done()
	first := true
	for {
		select {
		case sig := <-s.sigs:
			if !first {
				s.forceExit()
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

// forceExit writes a "forced" left event and exits 130, unless the
// session has already written its final event: then it is about to exit
// with the code that event reports.
func (s *joinSession) forceExit() {
	if !s.finish(leftData{Reason: "forced", ExitCode: ExitInterrupted, Trigger: "signal"}) {
		return
	}
	s.log.Warn("second signal: exiting without a graceful leave")
	_ = s.ln.Close()
	s.exit(ExitInterrupted)
}

// watchExpectations checks the --expect-* flags every second and at the
// deadline until they pass or fail, reporting the verdict as an event
// and, with --exit-on-pass or on failure, as a leave request.
func (s *joinSession) watchExpectations(ctx context.Context) {
	chk := newExpectChecker(s.o.expect, s.started)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	deadline := time.NewTimer(time.Until(chk.Deadline()))
	defer deadline.Stop()
	for !s.checkExpectations(ctx, chk) {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-deadline.C:
		}
	}
}

// checkExpectations checks once; it reports whether checking is over.
func (s *joinSession) checkExpectations(ctx context.Context, chk *expectChecker) bool {
	statsCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	stats, err := s.client.Stats(statsCtx)
	cancel()
	if ctx.Err() != nil {
		return true // leaving: the verdict no longer matters
	}
	if err != nil {
		s.log.Debug("stats unavailable", "err", err)
	}
	res := chk.Check(time.Now(), s.client.State().Snapshot().Participants, stats, err)
	switch res.Verdict {
	case expectPassed:
		s.log.Info("expectations met")
		_ = s.out.event("expect.passed", res.Passed)
		if s.o.expect.ExitOnPass {
			s.request(leaveRequest{trigger: "expect.passed"})
		}
	case expectFailed:
		s.log.Warn("expectations not met", "missing", res.Missing)
		_ = s.out.event("expect.failed", res.Failed)
		s.request(leaveRequest{trigger: "expect.failed", code: ExitExpectation,
			err: errors.New("expectations not met: " + strings.Join(res.Missing, ", "))})
	}
	return chk.Decided()
}
