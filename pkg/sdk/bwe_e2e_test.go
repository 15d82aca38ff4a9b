package sdk_test

import (
	"context"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/capture"
	"github.com/callctl/callctl/pkg/netem"
	"github.com/callctl/callctl/pkg/sdk"
)

// uplinkLimit is Alice's send rate limit in the adaptation test: above
// her two lower layers and audio (about 30 + 150 + 32 kbit/s nominal),
// below her three layers (+ 500 kbit/s nominal for 640x360; the
// synthetic picture needs about 45 + 100 + 250 kbit/s).
const uplinkLimit = 300_000

// TestSendAdaptationFollowsUplink: a rate limit on Alice's uplink makes
// her stop her top simulcast layer, and lifting it brings the layer
// back; Bob, receiving her, sees the resolution follow.
func TestSendAdaptationFollowsUplink(t *testing.T) {
	ctx, n, srv := faultTest(t, "waits for the bandwidth estimate to fall and recover (long test)", 150*time.Second)
	alice := newFaultPeer(t, srv.URL, "alice", peerOptions{
		net: n, adaptation: true, video: capture.VideoOptions{Width: 640, Height: 360, FPS: 15, Layers: 3},
	})
	bob := newFaultPeer(t, srv.URL, "bob", peerOptions{})
	alice.join(t, ctx, "adapt")
	bob.join(t, ctx, "adapt")
	defer func() {
		if t.Failed() {
			logSendRates(t, ctx, alice)
			logServerStats(t, ctx, alice)
		}
	}()
	bob.waitVideoSize(t, ctx, "alice", frameWidth, func(w int) bool { return w == 640 }, "640 wide", 20*time.Second)
	time.Sleep(2 * time.Second) // let the per-second bitrate meters settle
	logSendRates(t, ctx, alice)
	if n := count(alice.r.snapshot(), func(sdk.ProducerAdapted) bool { return true }); n != 0 {
		t.Fatalf("%d adaptations on an unimpaired link", n)
	}

	limit := netem.Spec{Send: netem.Impairment{Rate: uplinkLimit}}
	n.Set(limit)
	limited := time.Now()
	mark := len(alice.r.snapshot())
	down := alice.waitAdapted(t, mark, 30*time.Second, func(e sdk.ProducerAdapted) bool {
		return e.Reason == sdk.AdaptCongestion && e.MaxSpatialLayer < 2
	})
	t.Logf("limit %s: top layer stopped after %s: %+v", limit, time.Since(limited).Round(time.Millisecond), down)
	if len(down.BitratesBps) != 3 || down.BitratesBps[2] != 0 || down.BitratesBps[down.MaxSpatialLayer] <= 0 {
		t.Errorf("encoder bitrates after the drop: %v, want the stopped layers at 0 and the top one sent > 0", down.BitratesBps)
	}
	alice.waitLayerIdle(t, 2, 20*time.Second)
	bob.waitVideoSize(t, ctx, "alice", frameWidth, func(w int) bool { return w > 0 && w < 640 }, "below 640 wide", 15*time.Second)
	t.Logf("bob receives alice below 640 wide %s after the limit", time.Since(limited).Round(time.Millisecond))
	logSendRates(t, ctx, alice)
	logServerStats(t, ctx, alice)

	n.Set(netem.Spec{})
	lifted := time.Now()
	mark = len(alice.r.snapshot())
	up := alice.waitAdapted(t, mark, 90*time.Second, func(e sdk.ProducerAdapted) bool {
		return e.Reason == sdk.AdaptRecovered && e.MaxSpatialLayer == 2
	})
	t.Logf("limit lifted: top layer back after %s: %+v", time.Since(lifted).Round(time.Millisecond), up)
	// The publisher sends its top layer again and the server receives it.
	// (When a subscriber gets it back is the server's downlink estimate,
	// not ours: 12 to 42 s here.)
	alice.waitTopLayerSent(t, ctx, 15*time.Second)
	t.Logf("the server receives alice's top layer again %s after the lift", time.Since(lifted).Round(time.Millisecond))
	logServerStats(t, ctx, alice)
	t.Logf("netem: %+v", n.Stats())
}

// waitLayerIdle checks that the source no longer encodes layer: while
// the lowest layer encodes 30 more frames, layer encodes at most one (a
// frame already queued when it stopped).
func (p *faultPeer) waitLayerIdle(t *testing.T, layer int, d time.Duration) {
	t.Helper()
	before := p.video.Stats().Layers
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		now := p.video.Stats().Layers
		if now[0].FramesEncoded >= before[0].FramesEncoded+30 {
			if n := now[layer].FramesEncoded - before[layer].FramesEncoded; n > 1 {
				t.Errorf("layer %d encoded %d frames while stopped", layer, n)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the lowest layer did not encode 30 frames in %s", d)
}

// waitAdapted waits for a producer.adapted event after the first mark
// events that satisfies pred.
func (p *faultPeer) waitAdapted(t *testing.T, mark int, d time.Duration, pred func(sdk.ProducerAdapted) bool) sdk.ProducerAdapted {
	t.Helper()
	defer func() {
		if t.Failed() {
			for _, e := range p.r.snapshot() {
				if a, ok := e.(sdk.ProducerAdapted); ok {
					t.Logf("%s: %+v", p.name, a)
				}
			}
		}
	}()
	var got sdk.ProducerAdapted
	p.r.waitFor(t, "producer.adapted", d, func(evs []sdk.Event) bool {
		for _, e := range evs[min(mark, len(evs)):] {
			if a, ok := e.(sdk.ProducerAdapted); ok && pred(a) {
				got = a
				return true
			}
		}
		return false
	})
	return got
}

// waitTopLayerSent polls until p's top video layer is sent again and the
// server's producer stats show it arriving with a bitrate.
func (p *faultPeer) waitTopLayerSent(t *testing.T, ctx context.Context, d time.Duration) {
	t.Helper()
	sent := func() uint64 {
		st, err := p.c.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ps := range st.Producers {
			if ps.Kind == "video" && len(ps.Layers) == 3 {
				return ps.Layers[2].PacketsSent
			}
		}
		return 0
	}
	before := sent()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if sent() > before+20 {
			ss, err := p.c.ServerProducerStats(ctx, "video")
			if err == nil && len(ss) == 3 && ss[0].Bitrate > 0 && ss[1].Bitrate > 0 && ss[2].Bitrate > 0 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: top layer not sent and received again within %s", p.name, d)
}

// Sizes of a decoded video, for waitVideoSize.
func frameWidth(c sdk.ConsumerStats) int  { return c.Width }
func frameHeight(c sdk.ConsumerStats) int { return c.Height }

// waitVideoSize polls p's decoded size (size: frameWidth or frameHeight)
// of from's video until ok.
func (p *faultPeer) waitVideoSize(t *testing.T, ctx context.Context, from string, size func(sdk.ConsumerStats) int, ok func(int) bool, what string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	last := -1
	for time.Now().Before(deadline) {
		for _, v := range p.videoCounter(ctx, from, func(c sdk.ConsumerStats) uint64 { return uint64(size(c)) }) {
			if last = int(v); ok(last) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	st, _ := p.c.Stats(ctx)
	t.Fatalf("%s: video of %s not %s within %s (last %d); consumers %+v", p.name, from, what, d, last, st.Consumers)
}

func logSendRates(t *testing.T, ctx context.Context, p *faultPeer) {
	t.Helper()
	st, err := p.c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range st.Producers {
		for _, l := range pr.Layers {
			t.Logf("%s %s layer %q: %.0f bit/s", p.name, pr.Kind, l.RID, l.BitrateBps)
		}
	}
}

func logServerStats(t *testing.T, ctx context.Context, p *faultPeer) {
	t.Helper()
	st, err := p.c.ServerProducerStats(ctx, "video")
	if err != nil {
		t.Logf("server producer stats: %v", err)
		return
	}
	for _, s := range st {
		t.Logf("server: %s video ssrc %d rid %q: %.0f bit/s, score %d", p.name, s.SSRC, s.RID, s.Bitrate, s.Score)
	}
}
