package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callctl/callctl/cmd/internal/ctlsock"
	"github.com/callctl/callctl/pkg/sdk"
)

func TestResolveSession(t *testing.T) {
	if s, err := resolveSession("x", nil); err != nil || s != "x" {
		t.Errorf("explicit: %q %v", s, err)
	}
	if _, err := resolveSession("a/b", []string{"a"}); exitCodeFor(err) != ExitUsage {
		t.Errorf("invalid explicit name: %v", err)
	}
	if s, err := resolveSession("", []string{"only"}); err != nil || s != "only" {
		t.Errorf("single live: %q %v", s, err)
	}
	var ce *controlError
	if _, err := resolveSession("", nil); !errors.As(err, &ce) || ce.code != codeNoSession || ce.exit != ExitNoSession {
		t.Errorf("none: %v", err)
	}
	if _, err := resolveSession("", []string{"a", "b"}); !errors.As(err, &ce) || ce.code != codeAmbiguousSession ||
		ce.exit != ExitNoSession || len(ce.sessions) != 2 || !strings.Contains(ce.msg, "a, b") {
		t.Errorf("several: %v", err)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code string
		exit int
	}{
		{&ctlsock.NoSessionError{Name: "x"}, codeNoSession, ExitNoSession},
		{ctlsock.ErrSessionEnded, codeSessionEnded, ExitNoSession},
		{context.DeadlineExceeded, codeTimeout, ExitError},
		{ctlsock.Errorf(codeNotPublished, "no video"), codeNotPublished, ExitRefused},
		{ctlsock.Errorf(codeNotJoined, "not yet"), codeNotJoined, ExitRefused},
		{ctlsock.Errorf(codeServerError, "500"), codeServerError, ExitRefused},
		{ctlsock.Errorf(ctlsock.CodeUnknownCommand, "?"), ctlsock.CodeUnknownCommand, ExitError},
		{errors.New("disk on fire"), codeError, ExitError},
	} {
		ce := classify(tc.err)
		if ce.code != tc.code || ce.exit != tc.exit {
			t.Errorf("classify(%v) = %s/%d, want %s/%d", tc.err, ce.code, ce.exit, tc.code, tc.exit)
		}
	}
	se := errorCode("mute audio", &sdk.ServerError{Method: "pauseProducer", Code: 500, Reason: "x"})
	if se.Code != codeServerError {
		t.Errorf("server error → %s", se.Code)
	}
	if e := errorCode("stats", sdk.ErrNotJoined); e.Code != codeNotJoined {
		t.Errorf("not joined → %s", e.Code)
	}
}

// runCLI runs callctl in-process.
func runCLI(t *testing.T, args ...string) (code int, stdout []map[string]any, raw, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			if isControlCmd(args[0]) && !strings.Contains(strings.Join(args, " "), "table") {
				t.Errorf("%v: stdout line is not JSON: %q", args, l)
			}
			continue
		}
		stdout = append(stdout, m)
	}
	return code, stdout, out.String(), errOut.String()
}

func isControlCmd(name string) bool {
	switch name {
	case "sessions", "mute", "unmute", "stats", "leave":
		return true
	}
	return false
}

func runtimeDirForTest(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "cc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	t.Setenv(ctlsock.EnvDir, d)
	return d
}

func TestControlCommandsWithoutSession(t *testing.T) {
	runtimeDirForTest(t)
	for _, args := range [][]string{
		{"mute", "audio"},
		{"unmute", "video", "--session", "nope"},
		{"stats"},
		{"stats", "--session", "nope", "--watch", "1s"},
		{"leave", "--session", "nope"},
	} {
		code, res, _, stderr := runCLI(t, args...)
		if code != ExitNoSession {
			t.Errorf("%v: exit %d, want %d", args, code, ExitNoSession)
		}
		if len(res) != 1 || res[0]["ok"] != false || res[0]["v"] != float64(1) || res[0]["cmd"] != args[0] {
			t.Errorf("%v: want one ok:false result, got %v", args, res)
			continue
		}
		e, _ := res[0]["error"].(map[string]any)
		if e["code"] != codeNoSession || e["exitCode"] != float64(ExitNoSession) || e["message"] == "" {
			t.Errorf("%v: error %v", args, e)
		}
		if !strings.Contains(stderr, "no running session") {
			t.Errorf("%v: stderr %q", args, stderr)
		}
	}
	code, res, _, _ := runCLI(t, "sessions")
	if code != 0 || len(res) != 1 || res[0]["ok"] != true || len(res[0]["sessions"].([]any)) != 0 {
		t.Errorf("sessions with none running: %d %v", code, res)
	}
	// Usage errors: exit 2, nothing on stdout.
	for _, args := range [][]string{
		{"mute"}, {"mute", "screen"}, {"unmute", "audio", "video"}, {"stats", "--format", "xml"},
		{"leave", "--session", "../etc"}, {"sessions", "extra"},
	} {
		code, _, raw, stderr := runCLI(t, args...)
		if code != ExitUsage || raw != "" || stderr == "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2, nothing, a message", args, code, raw, stderr)
		}
	}
}

// fakeSession serves the control protocol the way a join does, without
// a call behind it.
func fakeSession(t *testing.T, dir, name string, h ctlsock.Handler) *ctlsock.Server {
	t.Helper()
	ln, err := ctlsock.Claim(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	srv := ctlsock.Serve(ln, h)
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func TestControlCommandsAgainstFakeSession(t *testing.T) {
	dir := runtimeDirForTest(t)
	var samples atomic.Uint64
	var srvp atomic.Pointer[ctlsock.Server]
	srv := fakeSession(t, dir, "fake-1", func(ctx context.Context, req ctlsock.Request) ctlsock.Reply {
		switch req.Cmd {
		case "info":
			return ctlsock.Reply{Result: sessionInfo{Name: "fake-1", Room: "fake", User: "1", PID: 42, Status: "joined"}}
		case "mute":
			var a muteArgs
			_ = json.Unmarshal(req.Args, &a)
			if a.Kind == "video" {
				return ctlsock.Reply{Err: ctlsock.Errorf(codeNotPublished, "session fake-1 does not publish video")}
			}
			return ctlsock.Reply{Result: muteResult{Kind: a.Kind, ProducerID: "p1", Muted: true, Changed: true}}
		case "stats":
			n := samples.Add(1)
			return ctlsock.Reply{Result: sdk.CallStats{
				Time:       time.Now(),
				Transports: []sdk.TransportStats{{Transport: "send", State: "connected", ICEState: "connected", DTLSState: "connected", BytesSent: 1000 * n}},
				Producers:  []sdk.ProducerStats{{Kind: "audio", Codec: "audio/opus", Layers: []sdk.LayerStats{{SSRC: 1, PacketsSent: 50, BitrateBps: 32000, Score: 10}}}},
				Consumers: []sdk.ConsumerStats{{PeerID: "bob", Kind: "video", Codec: "video/VP8", PacketsReceived: 300, BitrateBps: 1.2e6,
					ReceiveStats: sdk.ReceiveStats{FramesDecoded: 90, Width: 320, Height: 180, FPS: 15}}},
			}}
		case "leave":
			return ctlsock.Reply{Result: leaveResult{Leaving: true}, Then: func() { go srvp.Load().Close() }}
		}
		return ctlsock.Reply{Err: ctlsock.Errorf(ctlsock.CodeUnknownCommand, "unknown")}
	})

	srvp.Store(srv)
	code, res, _, _ := runCLI(t, "sessions")
	if code != 0 || len(res) != 1 {
		t.Fatalf("sessions: %d %v", code, res)
	}
	if ss := res[0]["sessions"].([]any); len(ss) != 1 || ss[0].(map[string]any)["name"] != "fake-1" || ss[0].(map[string]any)["pid"] != float64(42) {
		t.Errorf("sessions: %v", res)
	}

	// --session omitted: the only live session is used.
	code, res, _, _ = runCLI(t, "mute", "audio")
	if code != 0 || len(res) != 1 || res[0]["session"] != "fake-1" || res[0]["muted"] != true || res[0]["kind"] != "audio" || res[0]["changed"] != true {
		t.Errorf("mute audio: %d %v", code, res)
	}
	code, res, _, stderr := runCLI(t, "mute", "video")
	if code != ExitRefused || len(res) != 1 || res[0]["error"].(map[string]any)["code"] != codeNotPublished || !strings.Contains(stderr, "does not publish video") {
		t.Errorf("mute video: %d %v %q", code, res, stderr)
	}

	code, res, _, _ = runCLI(t, "stats", "--watch", "10ms", "--count", "3")
	if code != 0 || len(res) != 3 {
		t.Fatalf("stats --watch --count 3: %d %v", code, res)
	}
	for i, r := range res {
		if r["sample"] != float64(i+1) || r["session"] != "fake-1" || r["ok"] != true || len(r["consumers"].([]any)) != 1 {
			t.Errorf("sample %d: %v", i, r)
		}
	}
	code, _, raw, _ := runCLI(t, "stats", "--format", "table")
	for _, want := range []string{"TRANSPORT", "send", "PRODUCER", "32kb/s", "CONSUMER", "bob", "320x180", "1.20Mb/s"} {
		if !strings.Contains(raw, want) {
			t.Errorf("table lacks %q:\n%s", want, raw)
		}
	}
	if code != 0 {
		t.Errorf("stats table: exit %d", code)
	}

	// Two sessions: --session becomes necessary.
	fakeSession(t, dir, "fake-2", func(ctx context.Context, req ctlsock.Request) ctlsock.Reply {
		return ctlsock.Reply{Result: sessionInfo{Name: "fake-2"}}
	})
	code, res, _, _ = runCLI(t, "stats")
	if code != ExitNoSession || len(res) != 1 || res[0]["error"].(map[string]any)["code"] != codeAmbiguousSession {
		t.Errorf("stats with two sessions: %d %v", code, res)
	}

	// A watch ends with exit 0 when its session goes away.
	type watchResult struct {
		code int
		res  []map[string]any
	}
	watched := make(chan watchResult, 1)
	go func() {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"stats", "--session", "fake-1", "--watch", "20ms"}, IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		var res []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil {
				res = append(res, m)
			}
		}
		watched <- watchResult{code, res}
	}()
	time.Sleep(100 * time.Millisecond)

	// leave waits until the session has gone.
	code, res, _, _ = runCLI(t, "leave", "--session", "fake-1")
	if code != 0 || len(res) != 1 || res[0]["left"] != true {
		t.Errorf("leave: %d %v", code, res)
	}
	if _, err := os.Stat(srv.Path()); !os.IsNotExist(err) {
		t.Errorf("socket still there after leave returned: %v", err)
	}
	code, _, _, _ = runCLI(t, "stats", "--session", "fake-1")
	if code != ExitNoSession {
		t.Errorf("stats after leave: exit %d", code)
	}
	select {
	case w := <-watched:
		if w.code != 0 || len(w.res) < 2 {
			t.Errorf("stats --watch of a session that left: exit %d, %d samples", w.code, len(w.res))
		}
		for _, r := range w.res {
			if r["ok"] != true {
				t.Errorf("watch printed a failure: %v", r)
			}
		}
	case <-time.After(5 * time.Second):
		t.Error("stats --watch still running after its session left")
	}
}

func TestHelpTopics(t *testing.T) {
	for _, args := range [][]string{{"help", "exit-codes"}, {"exit-codes"}} {
		code, _, raw, _ := runCLI(t, args...)
		if code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		for _, e := range exitCodeHelp {
			if !strings.Contains(raw, fmt.Sprintf("%3d  %s", e.code, e.text)) {
				t.Errorf("%v lacks exit code %d:\n%s", args, e.code, raw)
			}
		}
	}
	for _, want := range []int{ExitNoSession, ExitExpectation, ExitRefused} {
		found := false
		for _, e := range exitCodeHelp {
			found = found || e.code == want
		}
		if !found {
			t.Errorf("exit code %d undocumented", want)
		}
	}
	for topic, want := range map[string]string{"events": "expect.failed", "control": "UNIX-CONNECT"} {
		if code, _, raw, _ := runCLI(t, "help", topic); code != 0 || !strings.Contains(raw, want) {
			t.Errorf("help %s: exit %d, lacks %q", topic, code, want)
		}
	}
}
