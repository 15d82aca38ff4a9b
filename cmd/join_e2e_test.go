package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "callctl-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "callctl")
	out, err := exec.Command("go", "build", "-o", binary, "..").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build callctl: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// line is one NDJSON event as a consumer of stdout sees it.
type line struct {
	V       int             `json:"v"`
	TS      string          `json:"ts"`
	Seq     uint64          `json:"seq"`
	Session string          `json:"session"`
	Type    string          `json:"type"`
	Data    json.RawMessage `json:"data"`
}

// proc is a running callctl process whose stdout is parsed as it arrives.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr syncBuffer // read while the process still writes
	mu     sync.Mutex
	lines  []line
	raw    [][]byte
	bad    []string
	exited chan struct{}
	code   int
}

// syncBuffer is a bytes.Buffer safe to read while exec writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runtimeDirs gives every test its own control-socket directory, so the
// processes of a test see each other's sessions and nobody else's.
var runtimeDirs sync.Map // *testing.T → string

func testRuntimeDir(t *testing.T) string {
	t.Helper()
	if d, ok := runtimeDirs.Load(t); ok {
		return d.(string)
	}
	d, err := os.MkdirTemp("", "cc") // short: socket paths are limited to 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	runtimeDirs.Store(t, d)
	t.Cleanup(func() {
		runtimeDirs.Delete(t)
		_ = os.RemoveAll(d)
	})
	return d
}

func testEnv(t *testing.T) []string {
	return append(os.Environ(), "CALLCTL_RUNTIME_DIR="+testRuntimeDir(t))
}

func start(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, cmd: exec.Command(binary, args...), exited: make(chan struct{})}
	p.cmd.Env = testEnv(t)
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l line
			err := json.Unmarshal(sc.Bytes(), &l)
			p.mu.Lock()
			if err != nil {
				p.bad = append(p.bad, sc.Text())
			} else {
				p.lines = append(p.lines, l)
				p.raw = append(p.raw, append([]byte(nil), sc.Bytes()...))
			}
			p.mu.Unlock()
		}
	}()
	go func() {
		<-scanned
		err := p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		_ = err
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		// Every event line must match the published schema.
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, raw := range p.raw {
			validateLine(t, "event", raw)
		}
	})
	return p
}

func (p *proc) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.code
	case <-time.After(d):
		p.t.Fatalf("callctl %v still running after %s\nstderr:\n%s", p.cmd.Args[1:], d, p.stderr.String())
		return -1
	}
}

func (p *proc) snapshot() []line {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]line(nil), p.lines...)
}

func (p *proc) waitFor(typ string, d time.Duration, pred func(map[string]any) bool) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if len(p.find(typ, pred)) > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("no %s event within %s; got %v", typ, d, types(p.snapshot()))
}

func (p *proc) find(typ string, pred func(map[string]any) bool) []map[string]any {
	var out []map[string]any
	for _, l := range p.snapshot() {
		if l.Type != typ {
			continue
		}
		var m map[string]any
		_ = json.Unmarshal(l.Data, &m)
		if pred == nil || pred(m) {
			out = append(out, m)
		}
	}
	return out
}

func types(ls []line) []string {
	var s []string
	for _, l := range ls {
		s = append(s, l.Type)
	}
	return s
}

// checkStream asserts the NDJSON contract: every stdout line is a v1
// envelope, seq runs 1..n, timestamps parse, and the last line is "left"
// carrying the exit code.
func (p *proc) checkStream(session string, exitCode int) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.bad) > 0 {
		p.t.Errorf("stdout carried non-JSON lines: %q", p.bad)
	}
	if len(p.lines) == 0 {
		p.t.Fatalf("no events; stderr:\n%s", p.stderr.String())
	}
	for i, l := range p.lines {
		if l.V != 1 || l.Seq != uint64(i+1) || l.Session != session || l.Type == "" {
			p.t.Errorf("line %d: bad envelope %+v", i, l)
		}
		if _, err := time.Parse(time.RFC3339Nano, l.TS); err != nil {
			p.t.Errorf("line %d: ts %q: %v", i, l.TS, err)
		}
	}
	last := p.lines[len(p.lines)-1]
	var left struct {
		ExitCode int `json:"exitCode"`
	}
	_ = json.Unmarshal(last.Data, &left)
	if last.Type != "left" || left.ExitCode != exitCode {
		p.t.Errorf("last event %s %s, want left with exitCode %d", last.Type, last.Data, exitCode)
	}
}

func consumersWithMedia(stats map[string]any, peer string) (n int) {
	cs, _ := stats["consumers"].([]any)
	for _, c := range cs {
		m := c.(map[string]any)
		if m["peerId"] == peer && m["packetsReceived"].(float64) > 20 && m["bytesReceived"].(float64) > 1000 {
			n++
		}
	}
	return n
}

func TestJoinTwoProcesses(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	a := start(t, "join", "--server", srv.URL, "--room", "e2e", "--user", "alice", "--duration", "10s", "--stats-interval", "2s",
		"--width", "320", "--height", "180", "--fps", "15")
	a.waitFor("producer.created", 10*time.Second, func(m map[string]any) bool { return m["kind"] == "video" })
	b := start(t, "join", "--server", srv.URL, "--room", "e2e", "--user", "bob", "--name", "Bob", "--duration", "5s",
		"--width", "320", "--height", "180", "--fps", "15")

	if code := b.wait(20 * time.Second); code != 0 {
		t.Fatalf("bob exited %d\nstderr:\n%s", code, b.stderr.String())
	}
	if code := a.wait(20 * time.Second); code != 0 {
		t.Fatalf("alice exited %d\nstderr:\n%s", code, a.stderr.String())
	}
	a.checkStream("e2e-alice", 0)
	b.checkStream("e2e-bob", 0)

	// Bob joined a room where Alice already produced.
	if len(b.find("participant.joined", func(m map[string]any) bool { return m["id"] == "alice" })) != 1 {
		t.Error("bob did not see alice")
	}
	if n := len(b.find("consumer.created", func(m map[string]any) bool { return m["peerId"] == "alice" })); n != 2 {
		t.Errorf("bob has %d consumers of alice, want audio and video", n)
	}
	final := b.find("stats", nil)
	if len(final) == 0 || consumersWithMedia(final[len(final)-1], "alice") != 2 {
		t.Errorf("bob's final stats lack RTP from alice's audio and video: %v", final)
	}
	// Alice saw Bob arrive, received his media, then saw him leave.
	if len(a.find("participant.joined", func(m map[string]any) bool { return m["id"] == "bob" && m["displayName"] == "Bob" })) != 1 {
		t.Error("alice did not see bob")
	}
	got := 0
	for _, s := range a.find("stats", nil) {
		got = max(got, consumersWithMedia(s, "bob"))
	}
	if got != 2 {
		t.Errorf("no stats sample of alice shows RTP on both of bob's consumers")
	}
	if len(a.find("participant.left", func(m map[string]any) bool { return m["id"] == "bob" })) != 1 ||
		len(a.find("consumer.closed", func(m map[string]any) bool { return m["peerId"] == "bob" })) != 2 {
		t.Errorf("alice did not see bob leave with his consumers: %v", types(a.snapshot()))
	}
}

func TestJoinBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"join", "--room", "r", "--user", "u"},
		{"join", "--server", "http://x", "--room", "r", "--user", "u"},
		{"join", "--server", "ws://127.0.0.1:1", "--room", "r", "--user", "u", "--video", "webcam9"},
		{"join", "--no-such-flag"},
		{"join", "--server", "ws://127.0.0.1:1", "--room", "r", "--user", "u", "--width", "641"},
	} {
		p := start(t, args...)
		if code := p.wait(10 * time.Second); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, ExitUsage)
		}
		if len(p.snapshot()) != 0 || len(p.bad) != 0 {
			t.Errorf("%v: usage errors must print nothing on stdout", args)
		}
		if p.stderr.Len() == 0 {
			t.Errorf("%v: no message on stderr", args)
		}
	}
}

func TestJoinUnreachableServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	p := start(t, "join", "--server", "ws://"+addr, "--room", "r", "--user", "u")
	if code := p.wait(15 * time.Second); code != ExitConnect {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitConnect, p.stderr.String())
	}
	p.checkStream("r-u", ExitConnect)
	if len(p.find("error", func(m map[string]any) bool { return m["fatal"] == true })) != 1 {
		t.Errorf("want a fatal error event: %v", types(p.snapshot()))
	}
}

func TestJoinRefusedByServer(t *testing.T) {
	url := sdktest.NewFakeServer(t, func(c *sdktest.FakeConn) {
		for {
			req, ok := c.ReadRequest()
			if !ok {
				return
			}
			c.RespondError(req, 500, "boom: "+req.Method)
		}
	})
	p := start(t, "join", "--server", url, "--room", "r", "--user", "u")
	if code := p.wait(15 * time.Second); code != ExitJoinRefused {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitJoinRefused, p.stderr.String())
	}
	p.checkStream("r-u", ExitJoinRefused)
	errs := p.find("error", nil)
	if len(errs) != 1 || errs[0]["code"] != float64(500) {
		t.Errorf("error events %v", errs)
	}
}

func TestJoinLeavesOnSIGINTAndServerEndingCall(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	p := start(t, "join", "--server", srv.URL, "--room", "sig", "--user", "u", "--video", "none")
	p.waitFor("producer.created", 10*time.Second, nil)
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(10 * time.Second); code != ExitOK {
		t.Fatalf("exit %d after SIGINT; stderr:\n%s", code, p.stderr.String())
	}
	p.checkStream("sig-u", ExitOK)

	// The same peer id joining twice: the server replaces the first
	// session, which must end with "lost the call". (The second process
	// needs its own session name: the first one's is taken.)
	first := start(t, "join", "--server", srv.URL, "--room", "dup", "--user", "u", "--video", "none")
	first.waitFor("producer.created", 10*time.Second, nil)
	second := start(t, "join", "--server", srv.URL, "--room", "dup", "--user", "u", "--video", "none", "--duration", "1s", "--session", "dup-u-2")
	if code := first.wait(15 * time.Second); code != ExitLost {
		t.Fatalf("replaced session exited %d, want %d; stderr:\n%s", code, ExitLost, first.stderr.String())
	}
	first.checkStream("dup-u", ExitLost)
	if code := second.wait(15 * time.Second); code != ExitOK {
		t.Fatalf("second session exited %d", code)
	}
}

// A reader that stops reading (`callctl join | head -3`) makes join leave
// gracefully and exit 0 instead of dying of SIGPIPE.
func TestJoinLeavesWhenStdoutCloses(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	other := start(t, "join", "--server", srv.URL, "--room", "pipe", "--user", "watcher", "--video", "none", "--audio", "none")
	other.waitFor("joined", 10*time.Second, nil)

	// Nobody publishes: after joining, the call is quiet and join has
	// nothing more to write; it must notice the closed pipe anyway.
	cmd := exec.Command(binary, "join", "--server", srv.URL, "--room", "pipe", "--user", "u", "--video", "none", "--audio", "none")
	cmd.Env = testEnv(t)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() && !strings.Contains(sc.Text(), `"participant.joined"`) {
	}
	_ = out.Close() // the reader goes away
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("join did not exit cleanly after stdout closed: %v\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("join kept running after its stdout closed")
	}
	other.waitFor("participant.left", 10*time.Second, func(m map[string]any) bool { return m["id"] == "u" })
}

// The server crashes: join rejoins on --fallback-server and keeps
// receiving; then it leaves normally with exit 0.
func TestJoinFailsOverToFallbackServer(t *testing.T) {
	a := sdktest.StartServer(t, sdktest.ServerOptions{})
	b := sdktest.StartServer(t, sdktest.ServerOptions{})
	args := func(user string) []string {
		return []string{"join", "--server", a.URL, "--fallback-server", b.URL, "--room", "fo", "--user", user,
			"--width", "320", "--height", "180", "--fps", "15", "--no-simulcast", "--duration", "8s"}
	}
	alice := start(t, args("alice")...)
	bob := start(t, args("bob")...)
	alice.waitFor("consumer.media", 10*time.Second, func(m map[string]any) bool { return m["peerId"] == "bob" })
	a.Kill()
	for _, p := range []*proc{alice, bob} {
		p.waitFor("reconnected", 20*time.Second, func(m map[string]any) bool { return m["serverUrl"] == b.URL })
	}
	alice.waitFor("consumer.media", 10*time.Second, func(m map[string]any) bool {
		return m["peerId"] == "bob" && len(alice.find("consumer.media", nil)) > 2
	})
	for _, p := range []*proc{alice, bob} {
		if code := p.wait(30 * time.Second); code != ExitOK {
			t.Fatalf("exit %d after failover; stderr:\n%s", code, p.stderr.String())
		}
	}
	alice.checkStream("fo-alice", ExitOK)
	if len(alice.find("connection.status", func(m map[string]any) bool { return m["status"] == "reconnecting" })) == 0 {
		t.Error("no reconnecting status event")
	}
}

// SIGINT while the join is still in progress (the server never answers
// join) is a requested leave: exit 0, not 130.
func TestJoinSIGINTWhileJoining(t *testing.T) {
	url := sdktest.NewFakeServer(t, func(c *sdktest.FakeConn) {
		for {
			if _, ok := c.ReadRequest(); !ok { // never answers
				return
			}
		}
	})
	p := start(t, "join", "--server", url, "--room", "r", "--user", "u", "--video", "none", "--audio", "none")
	p.waitFor("connection.status", 10*time.Second, func(m map[string]any) bool { return m["status"] == "connected" })
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(10 * time.Second); code != ExitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, p.stderr.String())
	}
	p.checkStream("r-u", ExitOK)
	if l := p.find("left", nil); len(l) != 1 || l[0]["reason"] != "requested" || l[0]["trigger"] != "signal" {
		t.Errorf("left %v", l)
	}
}
