package capture

import (
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// freezingSink decodes like the real sink but reports one more freeze
// every second for video, as a decoder starved of CPU would.
type freezingSink struct {
	*ReceiveSink
	start time.Time
}

type freezingTrack struct {
	sdk.TrackReceiver
	start time.Time
}

func (s freezingSink) OpenTrack(info sdk.TrackInfo) sdk.TrackReceiver {
	tr := s.ReceiveSink.OpenTrack(info)
	if info.Kind != "video" {
		return tr
	}
	return freezingTrack{TrackReceiver: tr, start: s.start}
}

func (f freezingTrack) Stats() sdk.ReceiveStats {
	st := f.TrackReceiver.Stats()
	st.Freezes += uint64(time.Since(f.start) / time.Second)
	return st
}

// With AdaptiveLayers, a subscriber whose decoder keeps freezing steps
// its preferred layer down, and mediasoup forwards the lower layers: the
// decoded resolution drops from 1280x720.
func TestAdaptiveLayersStepDownOnFreezes(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	joinPublisher(t, srv.URL, "adapt", "pub", VideoOptions{Width: 1280, Height: 720, FPS: 15, Layers: 3})
	real, err := NewReceiveSink(ReceiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sink := freezingSink{ReceiveSink: real, start: time.Now()}
	sub := joinConfig(t, sdk.Config{ServerURL: srv.URL, Sink: sink, AdaptiveLayers: true}, "adapt", "sub")
	cs := waitStats(t, sub, "video", 20*time.Second, func(cs sdk.ConsumerStats) bool {
		return cs.SpatialLayer != nil && *cs.SpatialLayer == 0 && cs.Width == 320
	})
	t.Logf("after %v: the server forwards spatial layer %d, decoded %dx%d", time.Since(sink.start).Round(time.Second), *cs.SpatialLayer, cs.Width, cs.Height)
}
