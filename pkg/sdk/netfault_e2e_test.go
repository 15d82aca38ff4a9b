package sdk_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/callctl/callctl/pkg/capture"
	"github.com/callctl/callctl/pkg/netem"
	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// Network faults on the media path: Alice's ICE sockets go through a
// netem.Net, her signaling does not. What is measured is decoded video
// (the receive sink's FramesDecoded), on both sides.

// faultPeer is a participant publishing a 320x180 VP8 picture at 15 fps
// and a tone, decoding what it receives.
type faultPeer struct {
	name  string
	c     *sdk.Client
	r     *recorder
	video *capture.VideoSource
}

type peerOptions struct {
	net        *netem.Net
	video      capture.VideoOptions
	adaptation bool
	relay      *webrtc.ICEServer // media only through this TURN server
}

func newFaultPeer(t *testing.T, url, name string, o peerOptions) *faultPeer {
	t.Helper()
	audio, err := capture.NewToneAudio(capture.AudioOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o.video.Width == 0 {
		o.video = capture.VideoOptions{Width: 320, Height: 180, FPS: 15}
	}
	video, err := capture.NewSyntheticVideo(o.video)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := capture.NewReceiveSink(capture.ReceiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ice := sdk.LoopbackICE()
	if o.net != nil {
		ice.Net = o.net
	}
	if o.relay != nil {
		ice.Servers, ice.RelayOnly = []webrtc.ICEServer{*o.relay}, true
	}
	c, err := sdk.NewClient(sdk.Config{
		ServerURL: url, Audio: audio, Video: video, Sink: sink, ICE: ice,
		Reconnect:      sdk.ReconnectConfig{MaxAttempts: 5, InitialDelay: 200 * time.Millisecond},
		SendAdaptation: o.adaptation,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &faultPeer{name: name, c: c, r: record(c), video: video}
}

func (p *faultPeer) join(t *testing.T, ctx context.Context, room string) {
	t.Helper()
	if err := p.c.JoinCall(ctx, room, p.name, p.name); err != nil {
		t.Fatalf("%s join: %v", p.name, err)
	}
	t.Cleanup(func() {
		lctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.c.LeaveCall(lctx)
		<-p.r.done
	})
}

// frames returns the decoded video frames of every current consumer of
// from's video, by consumer id (a rejoin creates new consumers).
func (p *faultPeer) frames(ctx context.Context, from string) map[string]uint64 {
	return p.videoCounter(ctx, from, func(c sdk.ConsumerStats) uint64 { return c.FramesDecoded })
}

// packets is frames for the RTP packets received.
func (p *faultPeer) packets(ctx context.Context, from string) map[string]uint64 {
	return p.videoCounter(ctx, from, func(c sdk.ConsumerStats) uint64 { return c.PacketsReceived })
}

func (p *faultPeer) videoCounter(ctx context.Context, from string, f func(sdk.ConsumerStats) uint64) map[string]uint64 {
	out := map[string]uint64{}
	st, err := p.c.Stats(ctx)
	if err != nil {
		return out
	}
	for _, c := range st.Consumers {
		if c.PeerID == from && c.Kind == "video" {
			out[c.ConsumerID] = f(c)
		}
	}
	return out
}

// decodedSince reports whether any consumer decoded a frame since before.
func decodedSince(now, before map[string]uint64) bool {
	for id, n := range now {
		if n > before[id] {
			return true
		}
	}
	return false
}

// waitFlowing waits until p has decoded at least n frames of from's video.
func (p *faultPeer) waitFlowing(t *testing.T, ctx context.Context, from string, n uint64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, f := range p.frames(ctx, from) {
			if f >= n {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s decoded fewer than %d frames of %s; events: %s", p.name, n, from, describe(p.r.snapshot()))
}

// faultTest sets up what the network-fault tests share: the -short skip
// (when skipShort is not empty: why the test is long), a goroutine-leak
// check, a deadline, an unimpaired netem.Net that the test impairs, and
// the reference server.
func faultTest(t *testing.T, skipShort string, timeout time.Duration) (context.Context, *netem.Net, *sdktest.Server) {
	t.Helper()
	if skipShort != "" && testing.Short() {
		t.Skip(skipShort)
	}
	leakCheck(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	n, err := netem.New(netem.Spec{}, netem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	t.Logf("mediasoup %s", srv.MediasoupVersion)
	return ctx, n, srv
}

// setupCut starts Alice (through n) and Bob (plain) on srv, both
// decoding each other's video.
func setupCut(t *testing.T, ctx context.Context, n *netem.Net, srv *sdktest.Server) (alice, bob *faultPeer) {
	t.Helper()
	alice = newFaultPeer(t, srv.URL, "alice", peerOptions{net: n})
	bob = newFaultPeer(t, srv.URL, "bob", peerOptions{})
	alice.join(t, ctx, "cut")
	bob.join(t, ctx, "cut")
	alice.waitFlowing(t, ctx, "bob", 15)
	bob.waitFlowing(t, ctx, "alice", 15)
	return alice, bob
}

// cut unplugs Alice's media path for d and checks that it really stopped
// her video reaching Bob.
func cut(t *testing.T, ctx context.Context, n *netem.Net, bob *faultPeer, d time.Duration) {
	t.Helper()
	n.Cut(true)
	start := time.Now()
	// Frames already in flight drain: wait until Bob's count stands still.
	during := bob.frames(ctx, "alice")
	for deadline := start.Add(d / 2); time.Now().Before(deadline); {
		time.Sleep(300 * time.Millisecond)
		now := bob.frames(ctx, "alice")
		if !decodedSince(now, during) {
			break
		}
		during = now
	}
	time.Sleep(d - time.Since(start)) // the rest of the fault itself, not a synchronisation
	if decodedSince(bob.frames(ctx, "alice"), during) {
		t.Fatal("Bob kept decoding Alice's video through the cut")
	}
}

// measureRecovery restores the link and returns how long each side took
// to decode new video.
func measureRecovery(t *testing.T, ctx context.Context, n *netem.Net, alice, bob *faultPeer, limit time.Duration) (aliceGot, bobGot time.Duration) {
	t.Helper()
	type result struct {
		who string
		d   time.Duration
	}
	n.Cut(false)
	start := time.Now()
	done := make(chan result, 2)
	for _, w := range []struct{ p, from *faultPeer }{{alice, bob}, {bob, alice}} {
		go func() {
			frames, pkts := w.p.frames(ctx, w.from.name), w.p.packets(ctx, w.from.name)
			var firstPacket time.Duration
			for time.Since(start) < limit {
				if firstPacket == 0 && decodedSince(w.p.packets(ctx, w.from.name), pkts) {
					firstPacket = time.Since(start)
				}
				if decodedSince(w.p.frames(ctx, w.from.name), frames) {
					d := time.Since(start)
					t.Logf("%s: first video packet of %s %s after the restore, first decoded frame %s", w.p.name, w.from.name, firstPacket, d)
					done <- result{w.p.name, d}
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			done <- result{w.p.name, -1}
		}()
	}
	for range 2 {
		r := <-done
		if r.d < 0 {
			t.Errorf("%s decoded no video within %s of the restore", r.who, limit)
		}
		if r.who == "alice" {
			aliceGot = r.d
		} else {
			bobGot = r.d
		}
	}
	return aliceGot, bobGot
}

func TestNetCutShortRecovers(t *testing.T) {
	ctx, n, srv := faultTest(t, "", 60*time.Second)
	alice, bob := setupCut(t, ctx, n, srv)

	cut(t, ctx, n, bob, 3*time.Second)
	a, b := measureRecovery(t, ctx, n, alice, bob, 10*time.Second)
	// The target is 1 s; the bound is generous so that a loaded
	// machine does not make this a timing flake.
	t.Logf("3 s cut: first decoded frame after the restore: alice (receiving bob) %s, bob (receiving alice) %s", a, b)
	t.Logf("netem: %+v", n.Stats())
	if a > time.Second || b > time.Second {
		t.Logf("slower than the 1 s target")
	}
}

func TestNetCutLongRecovers(t *testing.T) {
	const cutFor = 40 * time.Second
	ctx, n, srv := faultTest(t, "a 40 s media cut (long test)", 110*time.Second)
	alice, bob := setupCut(t, ctx, n, srv)
	mark := len(alice.r.snapshot())

	cut(t, ctx, n, bob, cutFor)
	a, b := measureRecovery(t, ctx, n, alice, bob, 15*time.Second)
	t.Logf("%s cut: first decoded frame after the restore: alice %s, bob %s", cutFor, a, b)

	// How Alice came back, and the downtime she reported.
	var report []string
	var downtimes []time.Duration
	for _, e := range alice.r.snapshot()[mark:] {
		switch x := e.(type) {
		case sdk.TransportRecovered:
			downtimes = append(downtimes, time.Duration(x.DowntimeMillis)*time.Millisecond)
			report = append(report, fmt.Sprintf("%s %+v", x.Type(), x))
		case sdk.Reconnected:
			downtimes = append(downtimes, time.Duration(x.DowntimeMillis)*time.Millisecond)
			report = append(report, fmt.Sprintf("%s %+v", x.Type(), x))
		case sdk.TransportStateChanged, sdk.ErrorEvent, sdk.ConnectionStatusChanged:
			report = append(report, fmt.Sprintf("%s %+v", e.Type(), x))
		}
	}
	t.Logf("alice's events after the cut:\n%s", joinLines(report))
	if len(downtimes) == 0 {
		t.Fatal("alice reported neither transport.recovered nor reconnected")
	}
	for _, d := range downtimes {
		if d < cutFor-2*time.Second || d > cutFor+8*time.Second {
			t.Errorf("reported downtime %s, want about the %s cut", d, cutFor)
		}
	}
}

func joinLines(lines []string) string {
	out := ""
	for _, l := range lines {
		out += "  " + l + "\n"
	}
	return out
}
