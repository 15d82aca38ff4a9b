package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callctl/callctl/cmd/internal/ctlsock"
	"github.com/callctl/callctl/pkg/sdk"
)

func TestJoinFailed(t *testing.T) {
	connect := &sdk.ConnectError{URL: "ws://127.0.0.1:1", Err: errors.New("refused")}
	for _, tc := range []struct {
		name    string
		err     error
		pending *leaveRequest
		code    int
		trigger string
	}{
		{"cancelled by a signal: a requested leave", context.Canceled, &leaveRequest{trigger: "signal"}, ExitOK, "signal"},
		{"cancelled by callctl leave", context.Canceled, &leaveRequest{trigger: "leave"}, ExitOK, "leave"},
		{"cancelled from outside", context.Canceled, nil, ExitInterrupted, ""},
		{"cancelled as the call ended", context.Canceled, &leaveRequest{ended: true}, ExitInterrupted, ""},
		{"failed while a signal arrived", connect, &leaveRequest{trigger: "signal"}, ExitConnect, ""},
		{"refused", &sdk.JoinError{}, nil, ExitJoinRefused, ""},
	} {
		req := joinFailed(tc.err, tc.pending)
		if req.code != tc.code || req.trigger != tc.trigger || !req.ended || !errors.Is(req.err, tc.err) {
			t.Errorf("%s: %+v, want code %d trigger %q", tc.name, req, tc.code, tc.trigger)
		}
	}
}

// signalSession is a joinSession with just what its signal watcher uses.
func signalSession(t *testing.T) (s *joinSession, out *bytes.Buffer, exited chan int) {
	t.Helper()
	dir := runtimeDirForTest(t)
	ln, err := ctlsock.Claim(dir, "sig")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	out = &bytes.Buffer{}
	s = newJoinSession(&joinOptions{session: "sig"}, IO{Out: out}, slog.New(slog.DiscardHandler))
	s.ln, s.out = ln, newPrinter(out, "sig")
	exited = make(chan int, 1)
	s.exit = func(code int) { exited <- code }
	s.wg.Add(1)
	go s.watchSignals()
	return s, out, exited
}

func nextRequest(t *testing.T, s *joinSession) leaveRequest {
	t.Helper()
	select {
	case req := <-s.leaveReqs:
		return req
	case <-time.After(5 * time.Second):
		t.Fatal("no leave request")
		return leaveRequest{}
	}
}

func TestSecondSignalForcesExit(t *testing.T) {
	s, out, exited := signalSession(t)
	s.sigs <- syscall.SIGINT
	if req := nextRequest(t, s); req.trigger != "signal" || req.code != ExitOK || req.ended {
		t.Errorf("first signal: %+v", req)
	}
	s.sigs <- syscall.SIGTERM
	select {
	case code := <-exited:
		if code != ExitInterrupted {
			t.Errorf("exit %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second signal did not end the process")
	}
	s.wg.Wait()
	var ev struct {
		Type string   `json:"type"`
		Data leftData `json:"data"`
	}
	if err := json.Unmarshal(out.Bytes(), &ev); err != nil || ev.Type != "left" ||
		ev.Data != (leftData{Reason: "forced", ExitCode: ExitInterrupted, Trigger: "signal"}) {
		t.Errorf("stdout %q (%v)", out.String(), err)
	}
}

func TestSecondSignalAfterFinishKeepsTheExitCode(t *testing.T) {
	s, out, exited := signalSession(t)
	s.sigs <- syscall.SIGINT
	nextRequest(t, s)
	if !s.finish(leftData{Reason: sdk.LeftRequested, Trigger: "signal"}) {
		t.Fatal("finish did not write")
	}
	s.sigs <- syscall.SIGINT
	s.wg.Wait() // the watcher returns after the second signal
	select {
	case code := <-exited:
		t.Errorf("exited %d after the final event", code)
	default:
	}
	if n := strings.Count(out.String(), "\n"); n != 1 || !strings.Contains(out.String(), `"exitCode":0`) {
		t.Errorf("stdout %q: want the one left event with exit code 0", out.String())
	}
}

func TestLeaveRequestsDoNotBlock(t *testing.T) {
	s := newJoinSession(&joinOptions{}, IO{}, slog.New(slog.DiscardHandler))
	for i := 0; i < 3*cap(s.leaveReqs); i++ {
		s.request(leaveRequest{trigger: "duration"})
	}
	ch := make(chan struct{})
	s.forward(ch, func() leaveRequest { return leaveRequest{trigger: "leave"} })
	close(ch)
	close(s.done)
	s.wg.Wait()
	if req := nextRequest(t, s); req.trigger != "duration" {
		t.Errorf("first request %+v", req)
	}
}
