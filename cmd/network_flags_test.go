package cmd

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/callctl/callctl/pkg/fleet"
	"github.com/callctl/callctl/pkg/netem"
)

var joinBase = []string{"join", "--server", "ws://127.0.0.1:4443", "--room", "r", "--user", "u"}

// --impair, --ice-server, the TURN credentials and --ice-relay-only reach
// the SDK configuration of a join.
func TestJoinNetworkFlagWiring(t *testing.T) {
	t.Setenv(EnvPrefix+"ICE_CREDENTIAL", "s3cret")
	code, rec, stderr := runRecorded(t, append(joinBase,
		"--impair", "send.rate=600kbit,delay=20ms", "--ice-server", "stun:127.0.0.1:3478",
		"--ice-server", "turn:127.0.0.1:3478?transport=tcp", "--ice-username", "bot", "--ice-relay-only")...)
	if code != ExitOK || rec.calls != 1 {
		t.Fatalf("exit %d, %d runs; stderr %q", code, rec.calls, stderr)
	}
	cfg := rec.join.clientConfig(nil, nil, nil, nil, nil)
	n, ok := cfg.ICE.Net.(*netem.Net)
	if !ok {
		t.Fatalf("ICE.Net is %T, want *netem.Net", cfg.ICE.Net)
	}
	want := netem.Spec{
		Send: netem.Impairment{Rate: 600_000, Delay: 20 * time.Millisecond},
		Recv: netem.Impairment{Delay: 20 * time.Millisecond},
	}
	if n.Spec() != want {
		t.Errorf("impairment %s, want %s", n.Spec(), want)
	}
	wantServers := []webrtc.ICEServer{
		{URLs: []string{"stun:127.0.0.1:3478"}},
		{URLs: []string{"turn:127.0.0.1:3478?transport=tcp"}, Username: "bot", Credential: "s3cret"},
	}
	if !equalServers(cfg.ICE.Servers, wantServers) {
		t.Errorf("servers %+v, want %+v", cfg.ICE.Servers, wantServers)
	}
	if !cfg.ICE.RelayOnly || !cfg.ICE.IncludeLoopback {
		t.Errorf("ICE %+v: want relay-only, loopback kept", cfg.ICE)
	}
}

func TestJoinNetworkDefaults(t *testing.T) {
	code, rec, stderr := runRecorded(t, joinBase...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cfg := rec.join.clientConfig(nil, nil, nil, nil, nil)
	if cfg.ICE.Net != nil || cfg.ICE.Servers != nil || cfg.ICE.RelayOnly {
		t.Errorf("ICE %+v: want no impairment, servers or relay policy by default", cfg.ICE)
	}
	// "none" impairs nothing and costs nothing.
	if _, rec, _ = runRecorded(t, append(joinBase, "--impair", "none")...); rec.join.clientConfig(nil, nil, nil, nil, nil).ICE.Net != nil {
		t.Error("--impair none: an impaired network")
	}
}

// Bad network flags are usage errors (exit 2) that name the problem.
func TestNetworkBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--impair", "bad=1"}, `unknown key "bad"`},
		{[]string{"--impair", "loss"}, "want key=value"},
		{[]string{"--impair", "loss=150%"}, "percentage"},
		{[]string{"--impair", "rate=5kbps"}, "ambiguous unit"},
		{[]string{"--impair", "up.delay=1s"}, "not send or recv"},
		{[]string{"--ice-server", "ftp://x"}, `scheme "ftp"`},
		{[]string{"--ice-server", "turn://127.0.0.1:3478"}, `without "//"`},
		{[]string{"--ice-server", "turn:u:p@127.0.0.1:3478"}, "--ice-username"},
		{[]string{"--ice-server", "stun:127.0.0.1:x"}, "port"},
		{[]string{"--ice-server", "stun:127.0.0.1:99999"}, "port 99999"},
		{[]string{"--ice-server", "stun::3478"}, "host"},
		{[]string{"--ice-server", "stun:127.0.0.1?transport=tcp"}, "no ?query"},
		{[]string{"--ice-server", "turn:127.0.0.1?transport=sctp", "--ice-username", "u", "--ice-credential", "p"}, "?transport=udp"},
		{[]string{"--ice-server", "turn:127.0.0.1"}, "--ice-username and --ice-credential"},
		{[]string{"--ice-server", "turn:127.0.0.1", "--ice-username", "u"}, "CALLCTL_ICE_CREDENTIAL"},
		{[]string{"--ice-relay-only"}, "needs a turn:"},
		{[]string{"--ice-relay-only", "--ice-server", "stun:127.0.0.1"}, "needs a turn:"},
	} {
		code, rec, stderr := runRecorded(t, append(joinBase, tc.args...)...)
		if code != ExitUsage || rec.calls != 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %d runs, stderr %q (want exit %d and %q)", tc.args, code, rec.calls, stderr, ExitUsage, tc.want)
		}
	}
	for _, args := range [][]string{{"--impair-publishers", "x=1"}, {"--impair-subscribers", "delay=-1s"}, {"--ice-server", "ftp://x"}} {
		code, o, stderr := runFleetRecorded(t, append([]string{"--server", "ws://127.0.0.1:1", "--publishers", "1"}, args...)...)
		if code != ExitUsage || o != nil || !strings.Contains(stderr, "--i") {
			t.Errorf("fleet %v: exit %d, ran %v, stderr %q", args, code, o != nil, stderr)
		}
	}
}

// A fleet gives every participant its own impaired link, per role.
func TestFleetNetworkFlags(t *testing.T) {
	code, o, stderr := runFleetRecorded(t, "--server", "ws://127.0.0.1:4443", "--publishers", "2", "--subscribers", "1",
		"--impair", "loss=1%", "--impair-publishers", "send.rate=300kbit", "--ice-server", "turn:127.0.0.1:3478",
		"--ice-username", "u", "--ice-credential", "p", "--ice-relay-only")
	if code != ExitOK || o == nil {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ice := o.conn.iceConfig()
	if !ice.RelayOnly || len(ice.Servers) != 1 || ice.Servers[0].Username != "u" {
		t.Errorf("fleet ICE %+v", ice)
	}
	ms, err := fleet.Plan(o.planOptions())
	if err != nil {
		t.Fatal(err)
	}
	nets := map[string]*netem.Net{}
	for _, m := range ms {
		n, ok := o.conn.network.fleetNet(m).(*netem.Net)
		if !ok {
			t.Fatalf("%s: no impaired network", m.ID)
		}
		nets[m.ID] = n
	}
	if nets["bot-p0"] == nets["bot-p1"] {
		t.Error("two publishers share one link")
	}
	if s := nets["bot-p1"].Spec(); s != (netem.Spec{Send: netem.Impairment{Rate: 300_000}}) {
		t.Errorf("publisher impairment %s", s)
	}
	if s := nets["bot-s0"].Spec(); s.Send.Loss != 1 || s.Recv.Loss != 1 || s.Send.Rate != 0 {
		t.Errorf("subscriber impairment %s", s)
	}
	// Without impairment no participant gets a network of its own.
	_, o, _ = runFleetRecorded(t, "--server", "ws://127.0.0.1:4443", "--publishers", "1")
	if n := o.conn.network.fleetNet(fleet.Member{ID: "bot-p0", Role: fleet.Publisher}); n != nil {
		t.Errorf("unimpaired fleet: network %T", n)
	}
}

func TestImpairHelpTopic(t *testing.T) {
	var out, errOut bytes.Buffer
	code := runWith(context.Background(), []string{"help", "impair"}, IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, defaultRunners())
	if code != ExitOK || !strings.Contains(out.String(), "send.KEY") || !strings.Contains(out.String(), "rate=500kbit") {
		t.Errorf("exit %d, help %q, stderr %q", code, out.String(), errOut.String())
	}
}

func equalServers(a, b []webrtc.ICEServer) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i].URLs, " ") != strings.Join(b[i].URLs, " ") || a[i].Username != b[i].Username || a[i].Credential != b[i].Credential {
			return false
		}
	}
	return true
}
