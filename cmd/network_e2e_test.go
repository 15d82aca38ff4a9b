package cmd

import (
	"fmt"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// A fleet whose participants may only relay through a TURN server (the
// credential from the environment, not argv), with impaired publishers:
// the subscriber decodes every publisher, its transports' local
// candidates are relay addresses of the TURN server, and the server
// carried the media.
func TestFleetRelayOnlyImpaired(t *testing.T) {
	video, audio := fleetClips(t)
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	ts := sdktest.StartTURN(t)
	t.Setenv(EnvPrefix+"ICE_CREDENTIAL", sdktest.TURNPassword) // start passes the environment on
	f := start(t, "fleet", "--server", srv.URL, "--publishers", "2", "--subscribers", "1", "--video", video, "--audio", audio,
		"--decode", "--join-rate", "0", "--session", "fturn", "--stats-interval", "0",
		"--ice-server", ts.URL("udp"), "--ice-username", sdktest.TURNUser, "--ice-relay-only",
		"--impair-publishers", "delay=30ms,jitter=5ms,loss=1%",
		"--expect-subscribers-decoding", "100", "--expect-within", "45s", "--exit-on-pass")
	if code := f.wait(90 * time.Second); code != ExitOK {
		t.Fatalf("fleet exit %d\nstderr:\n%s", code, f.stderr.String())
	}
	f.checkStream("fturn", ExitOK)
	if v := fleetEvents(f, "", "fleet.expect"); len(v) != 1 || v[0]["verdict"] != "passed" {
		t.Fatalf("fleet.expect %v", v)
	}
	final := fleetEvents(f, "bot-s0", "stats")
	if len(final) == 0 {
		t.Fatal("no stats of bot-s0")
	}
	st := final[len(final)-1]
	for p := range 2 {
		pub := fmt.Sprintf("bot-p%d", p)
		if v := consumerFrom(st, pub, "video"); v == nil || v["framesDecoded"].(float64) < 1 {
			t.Errorf("bot-s0 decoded no video of %s: %v", pub, v)
		}
	}
	trs, _ := st["transports"].([]any)
	if len(trs) == 0 {
		t.Fatalf("bot-s0 stats without transports: %v", st)
	}
	for _, tr := range trs {
		m := tr.(map[string]any)
		if addr, _ := m["localAddress"].(string); !ts.Relayed(addr) {
			t.Errorf("bot-s0 %v transport: local candidate %q is not a relay of the TURN server (%v)", m["transport"], addr, ts.Relays())
		}
	}
	// More than the TURN allocations and ICE checks alone (a few kB): the
	// fleet leaves as soon as the check passes, a few seconds of media.
	if b := ts.Bytes("udp"); b < 30_000 {
		t.Errorf("the TURN server exchanged only %d bytes with its clients", b)
	}
	t.Logf("TURN over UDP carried %d bytes for 2 impaired publishers and 1 subscriber", ts.Bytes("udp"))
}

// callctl join --impair reaches the media path: with 100 ms of delay each
// way on its sockets, the ICE round-trip time of its transport to a server
// on loopback is at least the 200 ms added (a bound, not a timing), while
// the call works.
func TestJoinImpairDelaysMediaPath(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	alice := start(t, "join", "--server", srv.URL, "--room", "impair", "--user", "alice", "--width", "320", "--height", "180", "--fps", "15",
		"--impair", "delay=100ms", "--stats-interval", "500ms")
	var rtt float64
	alice.waitFor("stats", 30*time.Second, func(m map[string]any) bool {
		trs, _ := m["transports"].([]any)
		for _, tr := range trs {
			tm := tr.(map[string]any)
			if tm["transport"] == "send" && tm["state"] == "connected" {
				rtt, _ = tm["rttMs"].(float64)
				return rtt > 0
			}
		}
		return false
	})
	if rtt < 190 {
		t.Errorf("send transport RTT %.1f ms with 100 ms of delay each way, want at least 200 ms", rtt)
	}
	t.Logf("send transport RTT with --impair delay=100ms: %.1f ms", rtt)
	if res := ctlOK(t, "leave", "--session", "impair-alice"); res["left"] != true {
		t.Errorf("leave: %v", res)
	}
	if code := alice.wait(30 * time.Second); code != ExitOK {
		t.Fatalf("join exit %d\nstderr:\n%s", code, alice.stderr.String())
	}
	alice.checkStream("impair-alice", ExitOK)
}
