package capture

import (
	"context"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// A 720p simulcast publisher and a subscriber that asks for spatial layer
// 0, 1 and 2 in turn: the decoded resolution follows, and the server sees
// three streams with bitrate.
func TestSimulcastLayerSwitching(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	pub := joinPublisher(t, srv.URL, "sim", "pub", VideoOptions{Width: 1280, Height: 720, FPS: 15, Layers: 3})
	sink, err := NewReceiveSink(ReceiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sub := joinSubscriber(t, srv.URL, "sim", sink, &sdk.Layers{Spatial: 0, Temporal: -1})

	ctx := context.Background()
	for layer, want := range [][2]int{{320, 180}, {640, 360}, {1280, 720}} {
		if err := sub.SetVideoLayers(ctx, sdk.Layers{Spatial: layer, Temporal: -1}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		cs := waitStats(t, sub, "video", 15*time.Second, func(cs sdk.ConsumerStats) bool {
			return cs.Width == want[0] && cs.Height == want[1]
		})
		t.Logf("layer %d: decoded %dx%d after %v (server forwards spatial layer %v)", layer, cs.Width, cs.Height,
			time.Since(start).Round(time.Millisecond), deref(cs.SpatialLayer))
	}

	streams, err := pub.ServerProducerStats(ctx, "video")
	if err != nil {
		t.Fatal(err)
	}
	if len(streams) != 3 {
		t.Fatalf("server sees %d video streams, want 3: %+v", len(streams), streams)
	}
	for _, s := range streams {
		if s.Bitrate <= 0 || s.PacketCount == 0 {
			t.Errorf("stream %d has no traffic: %+v", s.SSRC, s)
		}
	}
	st, err := pub.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range st.Producers {
		if p.Kind == "video" && len(p.Layers) != 3 {
			t.Errorf("local producer stats: %d layers", len(p.Layers))
		}
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}
