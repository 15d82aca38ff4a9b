package cmd

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// ctl runs a control command of the built binary against the test's
// sessions and returns its exit code and JSON results.
func ctl(t *testing.T, args ...string) (int, []map[string]any, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = testEnv(t)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	_ = cmd.Run()
	var res []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("callctl %v: stdout line is not JSON: %q", args, l)
			continue
		}
		validateLine(t, "result", []byte(l))
		if m["v"] != float64(1) || m["cmd"] != args[0] {
			t.Errorf("callctl %v: result lacks v:1 or cmd: %s", args, l)
		}
		res = append(res, m)
	}
	return cmd.ProcessState.ExitCode(), res, errOut.String()
}

// ctlOK runs a control command that must succeed with one result.
func ctlOK(t *testing.T, args ...string) map[string]any {
	t.Helper()
	code, res, stderr := ctl(t, args...)
	if code != 0 || len(res) != 1 || res[0]["ok"] != true {
		t.Fatalf("callctl %v: exit %d, results %v\nstderr: %s", args, code, res, stderr)
	}
	return res[0]
}

// ctlFail runs a control command that must fail with code and exit.
func ctlFail(t *testing.T, exit int, code string, args ...string) map[string]any {
	t.Helper()
	got, res, stderr := ctl(t, args...)
	if got != exit || len(res) != 1 || res[0]["ok"] != false {
		t.Fatalf("callctl %v: exit %d (want %d), results %v\nstderr: %s", args, got, exit, res, stderr)
	}
	e, _ := res[0]["error"].(map[string]any)
	if e["code"] != code || e["exitCode"] != float64(exit) || e["message"] == "" || stderr == "" {
		t.Fatalf("callctl %v: error %v (want code %s), stderr %q", args, e, code, stderr)
	}
	return res[0]
}

func num(m map[string]any, k string) float64 {
	f, _ := m[k].(float64)
	return f
}

func list(m map[string]any, k string) []map[string]any {
	var out []map[string]any
	for _, x := range m[k].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

// consumerOf finds the consumer of peer's kind in a stats result.
func consumerOf(t *testing.T, stats map[string]any, peer, kind string) map[string]any {
	t.Helper()
	for _, c := range list(stats, "consumers") {
		if c["peerId"] == peer && c["kind"] == kind {
			return c
		}
	}
	t.Fatalf("no %s consumer of %s in %v", kind, peer, stats["consumers"])
	return nil
}

func transportOf(stats map[string]any, name string) map[string]any {
	for _, tr := range list(stats, "transports") {
		if tr["transport"] == name {
			return tr
		}
	}
	return nil
}

func TestControlE2E(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	alice := start(t, "join", "--server", srv.URL, "--room", "ctl", "--user", "alice", "--width", "320", "--height", "180", "--fps", "15")
	bob := start(t, "join", "--server", srv.URL, "--room", "ctl", "--user", "bob", "--video", "none")
	isAudioFrom := func(peer string) func(map[string]any) bool {
		return func(m map[string]any) bool { return m["peerId"] == peer && m["kind"] == "audio" }
	}
	alice.waitFor("consumer.media", 15*time.Second, isAudioFrom("bob"))
	bob.waitFor("consumer.media", 15*time.Second, isAudioFrom("alice"))
	bob.waitFor("consumer.media", 15*time.Second, func(m map[string]any) bool { return m["peerId"] == "alice" && m["kind"] == "video" })

	// A second join cannot take a live session's name.
	dup := start(t, "join", "--server", srv.URL, "--room", "ctl", "--user", "alice")
	if code := dup.wait(10 * time.Second); code != ExitUsage || len(dup.snapshot()) != 0 || !strings.Contains(dup.stderr.String(), "already in use") {
		t.Errorf("join with a session in use: exit %d, stdout %v, stderr %q", code, types(dup.snapshot()), dup.stderr.String())
	}

	// sessions lists both; a command without --session is ambiguous.
	ss := list(ctlOK(t, "sessions"), "sessions")
	if len(ss) != 2 || ss[0]["name"] != "ctl-alice" || ss[1]["name"] != "ctl-bob" || ss[0]["room"] != "ctl" ||
		ss[0]["user"] != "alice" || num(ss[0], "pid") != float64(alice.cmd.Process.Pid) || ss[0]["status"] != "joined" {
		t.Errorf("sessions: %v", ss)
	}
	if e := ctlFail(t, ExitNoSession, codeAmbiguousSession, "mute", "audio"); len(e["error"].(map[string]any)["sessions"].([]any)) != 2 {
		t.Errorf("ambiguous error does not list the sessions: %v", e)
	}
	ctlFail(t, ExitNoSession, codeNoSession, "stats", "--session", "ctl-carol")

	// Stats reflect real traffic: bytes grow between two samples (RTCP
	// receiver reports go out once a second, so sample until they did).
	s1 := ctlOK(t, "stats", "--session", "ctl-alice")
	grew := func(s2 map[string]any) bool {
		for _, name := range []string{"send", "recv"} {
			a, b := transportOf(s1, name), transportOf(s2, name)
			if a == nil || b == nil || num(b, "bytesSent") <= num(a, "bytesSent") || num(b, "bytesReceived") <= num(a, "bytesReceived") {
				return false
			}
		}
		return true
	}
	s2 := ctlOK(t, "stats", "--session", "ctl-alice")
	for deadline := time.Now().Add(5 * time.Second); !grew(s2) && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		s2 = ctlOK(t, "stats", "--session", "ctl-alice")
	}
	if s1["session"] != "ctl-alice" {
		t.Errorf("stats result session %v", s1["session"])
	}
	for _, name := range []string{"send", "recv"} {
		a, b := transportOf(s1, name), transportOf(s2, name)
		if a == nil || b == nil {
			t.Fatalf("no %s transport in %v", name, s1)
		}
		if b["iceState"] != "connected" || b["dtlsState"] != "connected" || b["localAddress"] == nil || b["remoteAddress"] == nil || b["rttMs"] == nil {
			t.Errorf("%s transport: %v", name, b)
		}
		if num(b, "bytesSent") <= num(a, "bytesSent") || num(b, "bytesReceived") <= num(a, "bytesReceived") {
			t.Errorf("%s transport bytes did not grow: %v → %v", name, a, b)
		}
	}
	for _, p := range list(s2, "producers") {
		l := list(p, "layers")[0]
		for _, k := range []string{"bitrateBps", "packetsSent", "nacks", "plis", "score"} {
			if _, ok := l[k]; !ok {
				t.Errorf("producer %s layer lacks %s: %v", p["kind"], k, l)
			}
		}
		if num(l, "packetsSent") == 0 {
			t.Errorf("producer %s sends nothing: %v", p["kind"], l)
		}
	}
	c1, c2 := consumerOf(t, s1, "bob", "audio"), consumerOf(t, s2, "bob", "audio")
	if num(c2, "bytesReceived") <= num(c1, "bytesReceived") {
		t.Errorf("alice's consumer of bob's audio did not grow: %v → %v", c1, c2)
	}
	for _, k := range []string{"bitrateBps", "packetsLost", "jitterMs", "framesDecoded", "framesPerSecond", "freezeCount", "score"} {
		if _, ok := c2[k]; !ok {
			t.Errorf("consumer lacks %s: %v", k, c2)
		}
	}
	// --watch: several samples from one command; --format table for people.
	_, watched, _ := ctl(t, "stats", "--session", "ctl-bob", "--watch", "300ms", "--count", "2")
	if len(watched) != 2 || num(watched[0], "sample") != 1 || num(watched[1], "sample") != 2 {
		t.Errorf("stats --watch --count 2: %v", watched)
	}
	tbl := exec.Command(binary, "stats", "--session", "ctl-bob", "--format", "table")
	tbl.Env = testEnv(t)
	if out, err := tbl.Output(); err != nil || !strings.Contains(string(out), "CONSUMER") || !strings.Contains(string(out), "alice") {
		t.Errorf("stats --format table: %v\n%s", err, out)
	}

	// Mute alice's audio: bob's consumer pauses and no audio RTP arrives.
	m := ctlOK(t, "mute", "audio", "--session", "ctl-alice")
	if m["muted"] != true || m["changed"] != true || m["kind"] != "audio" || m["session"] != "ctl-alice" {
		t.Errorf("mute: %v", m)
	}
	bob.waitFor("consumer.paused", 5*time.Second, isAudioFrom("alice"))
	alice.waitFor("producer.paused", 5*time.Second, func(m map[string]any) bool { return m["kind"] == "audio" })
	alice.waitFor("control", 5*time.Second, func(m map[string]any) bool { return m["cmd"] == "mute" && m["kind"] == "audio" && m["ok"] == true })
	time.Sleep(200 * time.Millisecond)
	b1 := consumerOf(t, ctlOK(t, "stats", "--session", "ctl-bob"), "alice", "audio")
	a1 := consumerOf(t, ctlOK(t, "stats", "--session", "ctl-alice"), "bob", "audio")
	if b1["producerPaused"] != true {
		t.Errorf("bob's consumer of alice's audio does not report paused: %v", b1)
	}
	// Muting again changes nothing.
	if m := ctlOK(t, "mute", "audio", "--session", "ctl-alice"); m["muted"] != true || m["changed"] != false {
		t.Errorf("second mute: %v", m)
	}
	time.Sleep(1500 * time.Millisecond)
	b2 := consumerOf(t, ctlOK(t, "stats", "--session", "ctl-bob"), "alice", "audio")
	a2 := consumerOf(t, ctlOK(t, "stats", "--session", "ctl-alice"), "bob", "audio")
	if d := num(b2, "packetsReceived") - num(b1, "packetsReceived"); d > 5 {
		t.Errorf("bob received %v audio packets from muted alice in 1.5 s", d)
	}
	// The sessions are independent: bob's audio still reaches alice.
	if d := num(a2, "packetsReceived") - num(a1, "packetsReceived"); d < 30 {
		t.Errorf("muting alice slowed bob's audio: %v packets in 1.5 s", d)
	}
	// Bob publishes no video.
	ctlFail(t, ExitRefused, codeNotPublished, "mute", "video", "--session", "ctl-bob")

	// Unmute: audio flows again.
	if m := ctlOK(t, "unmute", "audio", "--session", "ctl-alice"); m["muted"] != false || m["changed"] != true {
		t.Errorf("unmute: %v", m)
	}
	bob.waitFor("consumer.resumed", 5*time.Second, isAudioFrom("alice"))
	alice.waitFor("producer.resumed", 5*time.Second, func(m map[string]any) bool { return m["kind"] == "audio" })
	b3 := consumerOf(t, ctlOK(t, "stats", "--session", "ctl-bob"), "alice", "audio")
	time.Sleep(time.Second)
	b4 := consumerOf(t, ctlOK(t, "stats", "--session", "ctl-bob"), "alice", "audio")
	if d := num(b4, "packetsReceived") - num(b3, "packetsReceived"); d < 20 || b4["producerPaused"] != false {
		t.Errorf("after unmute bob got %v audio packets in 1 s (paused %v)", d, b4["producerPaused"])
	}

	// Bitrates are measured once a second: by now they are there.
	late := ctlOK(t, "stats", "--session", "ctl-alice")
	for _, p := range list(late, "producers") {
		if l := list(p, "layers")[0]; num(l, "bitrateBps") == 0 {
			t.Errorf("producer %s: no bitrate: %v", p["kind"], l)
		}
	}
	if c := consumerOf(t, late, "bob", "audio"); num(c, "bitrateBps") == 0 {
		t.Errorf("consumer of bob's audio: no bitrate: %v", c)
	}

	// leave: alice exits 0 after her final event; bob sees her go.
	if l := ctlOK(t, "leave", "--session", "ctl-alice"); l["left"] != true {
		t.Errorf("leave: %v", l)
	}
	if code := alice.wait(5 * time.Second); code != 0 {
		t.Fatalf("alice exited %d after leave\nstderr:\n%s", code, alice.stderr.String())
	}
	alice.checkStream("ctl-alice", 0)
	last := alice.find("left", nil)
	if len(last) != 1 || last[0]["reason"] != "requested" || last[0]["trigger"] != "leave" {
		t.Errorf("alice's left event: %v", last)
	}
	if len(alice.find("control", func(m map[string]any) bool { return m["cmd"] == "leave" })) != 1 {
		t.Error("alice emitted no control event for leave")
	}
	bob.waitFor("participant.left", 5*time.Second, func(m map[string]any) bool { return m["id"] == "alice" })
	if _, err := os.Stat(filepath.Join(testRuntimeDir(t), "ctl-alice.sock")); !os.IsNotExist(err) {
		t.Errorf("alice's socket outlived her: %v", err)
	}
	ctlFail(t, ExitNoSession, codeNoSession, "mute", "audio", "--session", "ctl-alice")

	// One session left: --session may be omitted.
	if s := ctlOK(t, "stats"); s["session"] != "ctl-bob" {
		t.Errorf("stats without --session went to %v", s["session"])
	}
	// A killed join leaves a stale socket: it is detected and cleaned.
	_ = bob.cmd.Process.Signal(syscall.SIGKILL)
	bob.wait(5 * time.Second)
	if _, err := os.Stat(filepath.Join(testRuntimeDir(t), "ctl-bob.sock")); err != nil {
		t.Fatalf("expected a stale socket after SIGKILL: %v", err)
	}
	if ss := list(ctlOK(t, "sessions"), "sessions"); len(ss) != 0 {
		t.Errorf("sessions lists dead ones: %v", ss)
	}
	if _, err := os.Stat(filepath.Join(testRuntimeDir(t), "ctl-bob.sock")); !os.IsNotExist(err) {
		t.Errorf("stale socket not cleaned: %v", err)
	}
	ctlFail(t, ExitNoSession, codeNoSession, "leave")
}

// TestJoinExpectations turns calls into checks: an expectation nobody can
// meet fails with exit 7 naming what is missing; met ones pass.
func TestJoinExpectations(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	// Room "novideo": bob publishes audio only.
	bob := start(t, "join", "--server", srv.URL, "--room", "novideo", "--user", "bob", "--video", "none")
	// Room "av": carol publishes audio and video.
	carol := start(t, "join", "--server", srv.URL, "--room", "av", "--user", "carol", "--width", "320", "--height", "180", "--fps", "15")
	bob.waitFor("producer.created", 10*time.Second, nil)
	carol.waitFor("producer.created", 10*time.Second, func(m map[string]any) bool { return m["kind"] == "video" })
	join := func(t *testing.T, room, user string, args ...string) *proc {
		return start(t, append([]string{"join", "--server", srv.URL, "--room", room, "--user", user, "--video", "none", "--audio", "none"}, args...)...)
	}

	t.Run("unmet", func(t *testing.T) {
		t.Parallel()
		p := join(t, "novideo", "check", "--expect-video", "--expect-audio", "--expect-within", "4s")
		if code := p.wait(20 * time.Second); code != ExitExpectation {
			t.Fatalf("exit %d, want %d\nstderr:\n%s", code, ExitExpectation, p.stderr.String())
		}
		p.checkStream("novideo-check", ExitExpectation)
		failed := p.find("expect.failed", nil)
		if len(failed) != 1 {
			t.Fatalf("want one expect.failed: %v", types(p.snapshot()))
		}
		var missing []string
		for _, m := range failed[0]["missing"].([]any) {
			missing = append(missing, m.(string))
		}
		if !slices.Contains(missing, "video from bob") || num(failed[0], "withinMs") != 4000 {
			t.Errorf("expect.failed %v does not name the missing video", failed[0])
		}
		if len(p.find("expect.passed", nil)) != 0 {
			t.Error("expect.passed in a failed check")
		}
		if l := p.find("left", nil); len(l) != 1 || l[0]["trigger"] != "expect.failed" {
			t.Errorf("left: %v", l)
		}
	})
	t.Run("participants met, exit on pass", func(t *testing.T) {
		t.Parallel()
		p := join(t, "av", "count", "--expect-participants", "1", "--expect-within", "10s", "--exit-on-pass")
		if code := p.wait(20 * time.Second); code != 0 {
			t.Fatalf("exit %d\nstderr:\n%s", code, p.stderr.String())
		}
		p.checkStream("av-count", 0)
		passed := p.find("expect.passed", nil)
		if len(passed) != 1 || num(passed[0], "elapsedMs") <= 0 || len(list(passed[0], "participants")) == 0 {
			t.Fatalf("expect.passed: %v (events %v)", passed, types(p.snapshot()))
		}
		if l := p.find("left", nil); len(l) != 1 || l[0]["trigger"] != "expect.passed" {
			t.Errorf("left: %v", l)
		}
	})
	t.Run("participants met, keeps running", func(t *testing.T) {
		t.Parallel()
		p := join(t, "av", "keep", "--expect-participants", "1", "--duration", "3s")
		if code := p.wait(20 * time.Second); code != 0 {
			t.Fatalf("exit %d\nstderr:\n%s", code, p.stderr.String())
		}
		if len(p.find("expect.passed", nil)) != 1 {
			t.Errorf("no expect.passed: %v", types(p.snapshot()))
		}
		if l := p.find("left", nil); len(l) != 1 || l[0]["trigger"] != "duration" {
			t.Errorf("did not keep running after passing: %v", l)
		}
	})
	t.Run("media met", func(t *testing.T) {
		t.Parallel()
		p := join(t, "av", "media", "--expect-video", "--expect-audio", "--expect-within", "10s", "--exit-on-pass")
		code := p.wait(25 * time.Second)
		if code != 0 {
			t.Fatalf("exit %d, expect.failed %v\nstderr:\n%s", code, p.find("expect.failed", nil), p.stderr.String())
		}
		passed := p.find("expect.passed", nil)
		if len(passed) != 1 || list(passed[0], "participants")[0]["id"] != "carol" {
			t.Errorf("expect.passed: %v", passed)
		}
	})
}

// TestControlLeaveWhileJoining: leave during a join that hangs (the server
// never answers) ends the join with exit 0.
func TestControlLeaveWhileJoining(t *testing.T) {
	url := sdktest.NewFakeServer(t, func(c *sdktest.FakeConn) {
		for {
			if _, ok := c.ReadRequest(); !ok {
				return
			}
		}
	})
	p := start(t, "join", "--server", url, "--room", "hang", "--user", "u")
	p.waitFor("connection.status", 10*time.Second, func(m map[string]any) bool { return m["status"] == "connected" })
	if s := list(ctlOK(t, "sessions"), "sessions"); len(s) != 1 || s[0]["status"] != "connected" {
		t.Errorf("sessions while joining: %v", s)
	}
	if l := ctlOK(t, "leave"); l["left"] != true || l["session"] != "hang-u" {
		t.Errorf("leave: %v", l)
	}
	if code := p.wait(5 * time.Second); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, p.stderr.String())
	}
	p.checkStream("hang-u", 0)
	if l := p.find("left", nil); len(l) != 1 || l[0]["reason"] != "requested" || l[0]["trigger"] != "leave" {
		t.Errorf("left: %v", l)
	}
}
