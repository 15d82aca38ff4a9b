package fleet

import (
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/callctl/callctl/pkg/sdk"
)

// stampedTone is an audio source with stamps and a level, like the tone.
type stampedTone struct{ *countingSource }

func (stampedTone) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }
func (stampedTone) Codec() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
}
func (stampedTone) StampInfo() (int64, int64) { return 1234, 0 }
func (stampedTone) AudioLevel() uint8         { return 30 }

// TestWrappersKeepStamps: every wrapper between the tone and the producer
// (the shared source's handle, the fleet's level adapter, the talk
// pattern) passes the stamp epoch on; without it the producer's appData
// lacks stampEpochMs and no subscriber measures audio delay.
func TestWrappersKeepStamps(t *testing.T) {
	shared := NewSharedSource(stampedTone{newCountingSource(t)})
	h, err := shared.Handle()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	f := &Fleet{opts: Options{Audio: shared}}
	cfg := &sdk.Config{Audio: h}
	if err := f.applyTalk(Member{ID: "bot-p0", Role: Publisher}, cfg); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]sdk.MediaSource{"handle": h, "talking handle": cfg.Audio} {
		ss, ok := src.(sdk.StampedSource)
		if !ok {
			t.Fatalf("%s is not a StampedSource", name)
		}
		if epoch, _ := ss.StampInfo(); epoch != 1234 {
			t.Errorf("%s: stamp epoch %d, want 1234", name, epoch)
		}
	}
}
