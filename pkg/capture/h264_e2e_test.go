package capture

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// Live H264 published through the real server, one layer and a simulcast
// of three: the subscriber's sink decodes it (openh264 encodes and decodes
// in this one process) at the resolution of the layer it receives.
func TestH264PublishAndConsume(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	t.Run("1 layer", func(t *testing.T) {
		joinPublisher(t, srv.URL, "h264-1", "pub", VideoOptions{Codec: "h264", Width: 640, Height: 360, FPS: 15})
		sink, err := NewReceiveSink(ReceiveOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sub := joinSubscriber(t, srv.URL, "h264-1", sink, nil)
		v := waitStats(t, sub, "video", 10*time.Second, func(cs sdk.ConsumerStats) bool { return cs.FramesDecoded >= 15 })
		if !strings.EqualFold(v.Codec, "video/H264") || v.Width != 640 || v.Height != 360 || v.DecodeErrors != 0 {
			t.Errorf("video: codec %q, %+v", v.Codec, v.ReceiveStats)
		}
		if errs := sink.Errors(); len(errs) != 0 {
			t.Errorf("sink errors: %v", errs)
		}
	})
	t.Run("3 layers", func(t *testing.T) {
		joinPublisher(t, srv.URL, "h264-3", "pub", VideoOptions{Codec: "h264", Width: 640, Height: 360, FPS: 15, Layers: 3})
		sink, err := NewReceiveSink(ReceiveOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sub := joinSubscriber(t, srv.URL, "h264-3", sink, &sdk.Layers{Spatial: 2, Temporal: -1})
		for layer, want := range [][2]int{{640, 360}, {160, 90}} {
			if layer == 1 {
				if err := sub.SetVideoLayers(context.Background(), sdk.Layers{Spatial: 0, Temporal: -1}); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			v := waitStats(t, sub, "video", 15*time.Second, func(cs sdk.ConsumerStats) bool {
				return cs.Width == want[0] && cs.Height == want[1] && cs.FramesDecoded > 0
			})
			t.Logf("decoding %dx%d after %v; codec %s, %d frames, %d decode errors", v.Width, v.Height,
				time.Since(start).Round(time.Millisecond), v.Codec, v.FramesDecoded, v.DecodeErrors)
			if !strings.EqualFold(v.Codec, "video/H264") {
				t.Errorf("codec %q", v.Codec)
			}
		}
	})
}
