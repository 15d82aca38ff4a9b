package cmd

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// fleetLine is one line of a fleet's stdout, with its participant.
type fleetLine struct {
	Participant string          `json:"participant"`
	Type        string          `json:"type"`
	Data        json.RawMessage `json:"data"`
}

// fleetEvents returns the events of type typ of participant ("" for
// fleet-wide ones), decoded.
func fleetEvents(p *proc, participant, typ string) []map[string]any {
	p.mu.Lock()
	raw := append([][]byte(nil), p.raw...)
	p.mu.Unlock()
	var out []map[string]any
	for _, r := range raw {
		var l fleetLine
		if json.Unmarshal(r, &l) != nil || l.Type != typ || l.Participant != participant {
			continue
		}
		var m map[string]any
		_ = json.Unmarshal(l.Data, &m)
		out = append(out, m)
	}
	return out
}

// waitFleet polls until cond holds or d passes.
func waitFleet(t *testing.T, p *proc, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		select {
		case <-p.exited:
			t.Fatalf("%s: the fleet exited %d\nstderr:\n%s", what, p.code, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s\nstderr:\n%s", what, d, p.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fleetClips writes a 320x180 VP8 simulcast set and its Opus tone.
func fleetClips(t *testing.T) (video, audio string) {
	t.Helper()
	dir := t.TempDir()
	code, _, stderr := ctl(t, "clips", "--out", dir, "--duration", "2s", "--width", "320", "--height", "180", "--fps", "15", "--codec", "vp8")
	if code != 0 {
		t.Fatalf("clips: exit %d: %s", code, stderr)
	}
	return "file:" + dir, "file:" + filepath.Join(dir, "callctl.ogg")
}

// consumerFrom finds the consumer of kind from peer in a stats sample.
func consumerFrom(stats map[string]any, peer, kind string) map[string]any {
	cs, _ := stats["consumers"].([]any)
	for _, c := range cs {
		m := c.(map[string]any)
		if m["peerId"] == peer && m["kind"] == kind {
			return m
		}
	}
	return nil
}

// procUsage reads a process's CPU time (user + system) and resident set.
func procUsage(t *testing.T, pid int) (cpu time.Duration, rssKiB int) {
	t.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) start at ") ".
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			rssKiB, _ = strconv.Atoi(strings.Fields(l)[1])
		}
	}
	return time.Duration(utime+stime) * time.Second / 100, rssKiB // USER_HZ is 100 on Linux
}

// 20 publishers replaying clips and 5 decoding subscribers in 2 rooms:
// every subscriber decodes every publisher of its room, as the
// participants' final statistics show.
func TestFleet20Publishers5Subscribers(t *testing.T) {
	video, audio := fleetClips(t)
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	f := start(t, "fleet", "--server", srv.URL, "--rooms", "2", "--publishers", "20", "--subscribers", "5",
		"--video", video, "--audio", audio, "--decode", "--join-rate", "25", "--stats-interval", "2s",
		"--expect-subscribers-decoding", "100", "--expect-within", "60s", "--session", "f20")
	waitFleet(t, f, 90*time.Second, "fleet.expect", func() bool { return len(fleetEvents(f, "", "fleet.expect")) > 0 })
	if v := fleetEvents(f, "", "fleet.expect")[0]; v["verdict"] != "passed" || v["met"] != float64(5) {
		for s := range 5 {
			for _, e := range fleetEvents(f, fmt.Sprintf("bot-s%d", s), "expect.failed") {
				t.Logf("bot-s%d: missing %v", s, e["missing"])
			}
		}
		t.Fatalf("verdict %v", v)
	}
	// What 25 participants cost, measured over 10 s of steady state.
	cpu0, _ := procUsage(t, f.cmd.Process.Pid)
	t0 := time.Now()
	<-time.After(10 * time.Second) // a measurement window, not a synchronisation
	cpu1, rss := procUsage(t, f.cmd.Process.Pid)
	t.Logf("fleet of 20+5: %.2f cores (process CPU time / wall time), RSS %d MiB", (cpu1-cpu0).Seconds()/time.Since(t0).Seconds(), rss/1024)

	res := ctlOK(t, "leave", "--session", "f20")
	if res["left"] != true {
		t.Errorf("leave: %v", res)
	}
	if code := f.wait(30 * time.Second); code != ExitOK {
		t.Fatalf("fleet exit %d\nstderr:\n%s", code, f.stderr.String())
	}
	f.checkStream("f20", ExitOK)
	// Every pair decodes: a key frame and what follows, of any layer (the
	// server's bandwidth estimation may pick a lower one), and media kept
	// arriving. Frame counts are only logged: on a loaded machine one
	// unrecovered packet stalls the receive sink's frame assembly for up to
	// 512 packets (about 25 s of a 180p stream).
	var frames []int
	for s := range 5 {
		sub := fmt.Sprintf("bot-s%d", s)
		final := fleetEvents(f, sub, "stats")
		if len(final) != 1 {
			t.Fatalf("%s: %d final stats events", sub, len(final))
		}
		for p := s % 2; p < 20; p += 2 { // the publishers of its room
			pub := fmt.Sprintf("bot-p%d", p)
			v, a := consumerFrom(final[0], pub, "video"), consumerFrom(final[0], pub, "audio")
			if v == nil || v["framesDecoded"].(float64) < 1 || v["keyFramesDecoded"].(float64) < 1 || v["frameWidth"].(float64) < 80 ||
				v["packetsReceived"].(float64) < 50 {
				t.Errorf("%s decoded too little video of %s: %v", sub, pub, v)
				continue
			}
			frames = append(frames, int(v["framesDecoded"].(float64)))
			if a == nil || a["packetsReceived"].(float64) < 50 {
				t.Errorf("%s received too little audio of %s: %v", sub, pub, a)
			}
		}
		if n := len(final[0]["consumers"].([]any)); n != 20 {
			t.Errorf("%s has %d consumers, want 10 publishers × 2 kinds (none of the other room)", sub, n)
		}
	}
	slices.Sort(frames)
	if len(frames) == 50 {
		t.Logf("frames decoded per (subscriber, publisher) pair: min %d, median %d, max %d", frames[0], frames[25], frames[49])
	}
	sts := fleetEvents(f, "", "fleet.stats")
	t.Logf("final fleet.stats: sent %v, received %v, joinMs %v", sts[len(sts)-1]["sent"], sts[len(sts)-1]["received"], sts[len(sts)-1]["joinMs"])
	left := f.find("left", nil)
	fl := left[len(left)-1]["fleet"].(map[string]any)
	if fl["planned"] != float64(25) || fl["everJoined"] != float64(25) || fl["met"] != float64(5) || fl["failed"] != float64(0) {
		t.Errorf("final result %v", fl)
	}
	rooms := false
	for _, st := range fleetEvents(f, "", "fleet.stats") {
		rs, _ := st["rooms"].([]any)
		if len(rs) == 2 && rs[0].(map[string]any)["publishers"] == float64(10) && rs[1].(map[string]any)["subscribers"] == float64(2) {
			rooms = true
		}
	}
	if !rooms {
		t.Error("no fleet.stats shows 10 publishers per room and 3+2 subscribers")
	}
}

// Control of one participant: stats, mute and leave act on it alone; the
// others stay in the call and keep sending.
func TestFleetControlOneParticipant(t *testing.T) {
	video, audio := fleetClips(t)
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	f := start(t, "fleet", "--server", srv.URL, "--publishers", "3", "--subscribers", "1", "--video", video, "--audio", audio,
		"--decode", "--join-rate", "0", "--session", "fc")
	waitFleet(t, f, 30*time.Second, "video from 3 publishers", func() bool {
		n := 0
		for _, m := range fleetEvents(f, "bot-s0", "consumer.media") {
			if m["kind"] == "video" {
				n++
			}
		}
		return n == 3
	})
	ctlFail(t, ExitNoSession, codeNoParticipant, "stats", "--session", "fc", "--participant", "bot-p9")
	whole := ctlOK(t, "stats", "--session", "fc")
	if p := whole["fleet"].(map[string]any)["participants"].(map[string]any); p["joined"] != float64(4) {
		t.Errorf("fleet stats: %v", p)
	}
	if n := len(whole["participants"].([]any)); n != 4 {
		t.Errorf("fleet stats list %d participants", n)
	}

	m := ctlOK(t, "mute", "video", "--session", "fc", "--participant", "bot-p0")
	if m["muted"] != true || m["changed"] != true || m["participants"] != nil {
		t.Errorf("mute one: %v", m)
	}
	waitFleet(t, f, 10*time.Second, "bot-s0 sees bot-p0's video paused", func() bool {
		for _, e := range fleetEvents(f, "bot-s0", "consumer.paused") {
			if e["peerId"] == "bot-p0" && e["kind"] == "video" {
				return true
			}
		}
		return false
	})
	all := ctlOK(t, "mute", "audio", "--session", "fc")
	if ps := all["participants"].([]any); len(ps) != 3 || all["muted"] != true {
		t.Errorf("mute the fleet's audio: %v", all)
	}

	if l := ctlOK(t, "leave", "--session", "fc", "--participant", "bot-p1"); l["left"] != true {
		t.Errorf("leave one: %v", l)
	}
	waitFleet(t, f, 10*time.Second, "bot-s0 sees bot-p1 leave", func() bool {
		for _, e := range fleetEvents(f, "bot-s0", "participant.left") {
			if e["id"] == "bot-p1" {
				return true
			}
		}
		return false
	})
	packets := func() float64 {
		st := ctlOK(t, "stats", "--session", "fc", "--participant", "bot-s0")
		if c := consumerFrom(st, "bot-p2", "video"); c != nil {
			return c["packetsReceived"].(float64)
		}
		return 0
	}
	before := packets()
	waitFleet(t, f, 10*time.Second, "bot-p2's video still arrives", func() bool { return packets() > before+30 })
	st := ctlOK(t, "stats", "--session", "fc")["fleet"].(map[string]any)["participants"].(map[string]any)
	if st["joined"] != float64(3) || st["left"] != float64(1) {
		t.Errorf("after one leave: %v", st)
	}

	// --participant is refused for a join session, which would ignore it.
	j := start(t, "join", "--server", srv.URL, "--room", "other", "--user", "solo", "--video", "none", "--audio", "none")
	j.waitFor("joined", 15*time.Second, nil)
	if code, res, _ := ctl(t, "leave", "--session", "other-solo", "--participant", "x"); code != ExitUsage || len(res) != 0 {
		t.Errorf("leave --participant of a join: exit %d, %v", code, res)
	}
	_ = j.cmd.Process.Signal(syscall.SIGINT)
	if code := j.wait(15 * time.Second); code != ExitOK {
		t.Errorf("the join exited %d", code)
	}

	_ = f.cmd.Process.Signal(syscall.SIGINT)
	if code := f.wait(30 * time.Second); code != ExitOK {
		t.Fatalf("fleet exit %d\nstderr:\n%s", code, f.stderr.String())
	}
	f.checkStream("fc", ExitOK)
	// The signal made every participant leave gracefully, each once.
	for _, id := range []string{"bot-p0", "bot-p1", "bot-p2", "bot-s0"} {
		if l := fleetEvents(f, id, "left"); len(l) != 1 || l[0]["reason"] != "requested" || l[0]["exitCode"] != float64(0) {
			t.Errorf("%s: left events %v", id, l)
		}
	}
	if l := f.find("left", nil); l[len(l)-1]["trigger"] != "signal" {
		t.Errorf("fleet left: %v", l[len(l)-1])
	}
}

// One participant's media transport fails (its UDP socket is destroyed):
// it rejoins, and meanwhile the others go on.
func TestFleetSurvivesTransportFailure(t *testing.T) {
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("needs ss (iproute2) to destroy a socket")
	}
	video, _ := fleetClips(t)
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	f := start(t, "fleet", "--server", srv.URL, "--publishers", "2", "--subscribers", "1", "--video", video, "--audio", "none",
		"--decode", "--join-rate", "0", "--stats-interval", "1s", "--session", "ft")
	// counter reads one of bot-s0's counters of pub's video.
	counter := func(pub, field string) float64 {
		// Polled from the start: the session may not serve yet.
		code, res, _ := ctl(t, "stats", "--session", "ft", "--participant", "bot-s0")
		if code != 0 || len(res) != 1 {
			return 0
		}
		if c := consumerFrom(res[0], pub, "video"); c != nil {
			return c[field].(float64)
		}
		return 0
	}
	framesOf := func(pub string) float64 { return counter(pub, "framesDecoded") }
	waitFleet(t, f, 30*time.Second, "bot-s0 decodes both", func() bool { return framesOf("bot-p0") > 0 && framesOf("bot-p1") > 0 })
	var local string
	for _, tr := range list(ctlOK(t, "stats", "--session", "ft", "--participant", "bot-p0"), "transports") {
		if tr["transport"] == "send" {
			local, _ = tr["localAddress"].(string)
		}
	}
	port := strings.TrimSuffix(local[strings.LastIndexByte(local, ':')+1:], "/udp")
	if !strings.HasPrefix(local, "127.0.0.1:") || port == "" {
		t.Fatalf("bot-p0's send transport: %q", local)
	}
	if out, err := exec.Command("ss", "-K", "-u", "-a", "sport = :"+port).CombinedOutput(); err != nil {
		t.Skipf("ss -K (needs CONFIG_INET_DIAG_DESTROY and CAP_NET_ADMIN): %v %s", err, out)
	}
	waitFleet(t, f, 20*time.Second, "bot-p0's send transport disconnects", func() bool {
		for _, e := range fleetEvents(f, "bot-p0", "transport.state") {
			if e["transport"] == "send" && (e["state"] == "disconnected" || e["state"] == "failed") {
				return true
			}
		}
		return false
	})
	during := counter("bot-p1", "packetsReceived")
	waitFleet(t, f, 10*time.Second, "bot-p1's video still arrives while bot-p0 is cut off", func() bool {
		return counter("bot-p1", "packetsReceived") > during+30
	})
	// The client restarts ICE while signaling is up (the restart gathers a
	// new socket) and rejoins only if that fails for a minute: either way
	// bot-p0 recovers, and its media flows again.
	recovered := func() (restarted, rejoined bool) {
		return len(fleetEvents(f, "bot-p0", "transport.recovered")) > 0, len(fleetEvents(f, "bot-p0", "reconnected")) == 1
	}
	waitFleet(t, f, 120*time.Second, "bot-p0 recovers", func() bool { a, b := recovered(); return a || b })
	before := counter("bot-p0", "packetsReceived")
	waitFleet(t, f, 20*time.Second, "bot-p0's media flowing again", func() bool { return counter("bot-p0", "packetsReceived") > before+30 })
	_, rejoined := recovered()
	waitFleet(t, f, 10*time.Second, "fleet.stats counts the participants (and a rejoin, if there was one)", func() bool {
		sts := fleetEvents(f, "", "fleet.stats")
		if len(sts) == 0 {
			return false
		}
		p := sts[len(sts)-1]["participants"].(map[string]any)
		want := 0.0
		if rejoined {
			want = 1
		}
		return p["rejoined"] == want && p["joined"] == float64(3) && p["failed"] == float64(0)
	})
	if l := ctlOK(t, "leave", "--session", "ft"); l["left"] != true {
		t.Errorf("leave: %v", l)
	}
	if code := f.wait(30 * time.Second); code != ExitOK {
		t.Fatalf("fleet exit %d\nstderr:\n%s", code, f.stderr.String())
	}
	f.checkStream("ft", ExitOK)
}
