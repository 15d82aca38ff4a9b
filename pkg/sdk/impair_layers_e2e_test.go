package sdk_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/capture"
	"github.com/callctl/callctl/pkg/netem"
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
	waitRates(t, ctx, alice)
	logSendRates(t, ctx, alice)

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
// a third of the top layer's measured rate.
func impairLimit(t *testing.T, ctx context.Context, p *faultPeer) netem.Spec {
	t.Helper()
	st, err := p.c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var below, top float64
	for _, pr := range st.Producers {
		for i, l := range pr.Layers {
			if pr.Kind == "video" && i == len(pr.Layers)-1 {
				top = l.BitrateBps
			} else {
				below += l.BitrateBps
			}
		}
	}
	limit := int64(below + top/3)
	t.Logf("alice sends %.0f bit/s below the top layer, %.0f in it: limit %d bit/s", below, top, limit)
	return netem.Spec{Send: netem.Impairment{Rate: limit}}
}

// waitRates waits until every layer of p's video has a measured rate.
func waitRates(t *testing.T, ctx context.Context, p *faultPeer) {
	t.Helper()
	waitUntil(t, 10*time.Second, "send rates of every layer", func() bool {
		st, err := p.c.Stats(ctx)
		if err != nil {
			return false
		}
		for _, pr := range st.Producers {
			for _, l := range pr.Layers {
				if pr.Kind == "video" && l.BitrateBps == 0 {
					return false
				}
			}
		}
		return true
	})
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
