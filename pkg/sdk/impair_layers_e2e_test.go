package sdk_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/capture"
	"github.com/callctl/callctl/pkg/netem"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// TestRateLimitLowersForwardedLayer: Alice publishes three simulcast
// layers (640x360 top) without adapting them herself; a rate limit on her
// uplink below what the three need makes the server forward a lower
// layer to Bob, whose decoded resolution drops; lifting the limit brings
// 640x360 back. The layer choice is the server's alone (no
// SendAdaptation), from the scores of Alice's streams.
func TestRateLimitLowersForwardedLayer(t *testing.T) {
	ctx, n, srv := faultTest(t, "waits for the server's layer choice to fall and recover (long test)", 150*time.Second)
	alice := newFaultPeer(t, srv.URL, "alice", peerOptions{net: n, video: capture.VideoOptions{Width: 640, Height: 360, FPS: 30, Layers: 3}})
	bob := newFaultPeer(t, srv.URL, "bob", peerOptions{})
	alice.join(t, ctx, "impair-layers")
	bob.join(t, ctx, "impair-layers")
	defer func() {
		if t.Failed() {
			logSendRates(t, ctx, alice)
			logServerStats(t, ctx, alice)
		}
	}()
	bob.waitVideoSize(t, ctx, "alice", frameHeight, func(h int) bool { return h == 360 }, "360 high", 20*time.Second)
	limit := impairLimit(t, ctx, alice)
	n.Set(limit)
	limited := time.Now()
	bob.waitVideoSize(t, ctx, "alice", frameHeight, func(h int) bool { return h > 0 && h < 360 }, "below 360 high", 60*time.Second)
	t.Logf("limit %s: bob decodes alice at %s after %s", limit, bob.layerOf(ctx, "alice"), time.Since(limited).Round(time.Millisecond))
	logServerStats(t, ctx, alice)

	n.Set(netem.Spec{})
	lifted := time.Now()
	bob.waitVideoSize(t, ctx, "alice", frameHeight, func(h int) bool { return h == 360 }, "360 high again", 60*time.Second)
	t.Logf("limit lifted: bob decodes alice at %s after %s", bob.layerOf(ctx, "alice"), time.Since(lifted).Round(time.Millisecond))
	t.Logf("netem: %+v", n.Stats())
}

// impairLimit is a send rate below what alice sends with every layer and
// above what she needs without the top one: the lower layers, audio and
// a third of the top layer's steady rate.
func impairLimit(t *testing.T, ctx context.Context, p *faultPeer) netem.Spec {
	t.Helper()
	rates := steadyRates(t, ctx, p)
	var below, top float64
	for i, r := range rates {
		if i == len(rates)-1 {
			top = r.bps
		} else {
			below += r.bps
		}
		t.Logf("alice %s %q: %.0f bit/s", r.kind, r.rid, r.bps)
	}
	limit := int64(below + top/3)
	t.Logf("alice sends %.0f bit/s below the top layer, %.0f in it: limit %d bit/s", below, top, limit)
	return netem.Spec{Send: netem.Impairment{Rate: limit}}
}

// layerRate is one sent stream's rate, averaged over its steady samples.
type layerRate struct {
	kind, rid string
	bps       float64
}

// steadyRates waits until every video layer p sends has a steady rate
// (the sampler's last three one-second rates within 25 % of their mean:
// an encoder ramps up for seconds after its first key frame, longer on a
// busy machine) and returns those rates, audio first (its peak: the
// stamped tone beeps every other second) and the top video layer last.
func steadyRates(t *testing.T, ctx context.Context, p *faultPeer) []layerRate {
	t.Helper()
	history := map[uint32][]float64{}
	var rates []layerRate
	defer func() {
		if t.Failed() {
			t.Logf("one-second rates by ssrc: %v", history)
		}
	}()
	sdktest.WaitUntil(t, 30*time.Second, "steady send rates of every stream", func() bool {
		st, err := p.c.Stats(ctx)
		if err != nil {
			return false
		}
		rates = rates[:0]
		steady := true
		for _, kind := range []string{"audio", "video"} {
			for _, pr := range st.Producers {
				if pr.Kind != kind {
					continue
				}
				for _, l := range pr.Layers {
					h := history[l.SSRC]
					if l.BitrateBps > 0 && (len(h) == 0 || h[len(h)-1] != l.BitrateBps) {
						h = append(h, l.BitrateBps)
						history[l.SSRC] = h
					}
					bps, ok := steadyMean(h)
					if kind == "audio" {
						bps, ok = peak(h)
					}
					steady = steady && ok
					rates = append(rates, layerRate{kind: kind, rid: l.RID, bps: bps})
				}
			}
		}
		return steady && len(rates) > 0
	})
	return rates
}

// peak is the largest of the last four samples, once there are two.
func peak(h []float64) (float64, bool) {
	if len(h) < 2 {
		return 0, false
	}
	return slices.Max(h[max(0, len(h)-4):]), true
}

// steadyMean is the mean of the last three samples, and whether each of
// them is within 25 % of it.
func steadyMean(h []float64) (float64, bool) {
	if len(h) < 3 {
		return 0, false
	}
	last := h[len(h)-3:]
	mean := (last[0] + last[1] + last[2]) / 3
	for _, v := range last {
		if v < 0.75*mean || v > 1.25*mean {
			return mean, false
		}
	}
	return mean, true
}

// layerOf describes what p decodes of from's video and the layer the
// server says it forwards.
func (p *faultPeer) layerOf(ctx context.Context, from string) string {
	st, err := p.c.Stats(ctx)
	if err != nil {
		return err.Error()
	}
	for _, c := range st.Consumers {
		if c.PeerID == from && c.Kind == "video" {
			s := -1
			if c.SpatialLayer != nil {
				s = *c.SpatialLayer
			}
			return fmt.Sprintf("%dx%d (spatial layer %d)", c.Width, c.Height, s)
		}
	}
	return "nothing"
}
