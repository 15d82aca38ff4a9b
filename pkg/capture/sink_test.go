package capture

import (
	"sync/atomic"
	"testing"

	"github.com/pion/webrtc/v4"
)

// A late pacer skips slots; the RTP timestamps must still advance by whole
// frame durations through pion's float conversion. Before the writer
// counted ticks itself, 15 fps steps alternated 5999/6001 and a ten-frame
// gap at 30 fps came out as 30001. Deterministic: slots are given, not timed.
func TestTrackWriterWholeFrameSteps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		codec     webrtc.RTPCodecCapability
		fps       int64
		preBind   int // samples written before the track is bound
		frameTick uint32
	}{
		{"vp8 30fps", videoCodec(CodecVP8), 30, 0, 3000},
		{"vp8 15fps", videoCodec(CodecVP8), 15, 0, 6000},
		{"vp8 30fps bound late", videoCodec(CodecVP8), 30, 7, 3000},
		{"h264 25fps", videoCodec(CodecH264), 25, 3, 3600},
		{"opus 50/s", webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, 50, 0, 960},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stats layerCounters
			binds := new(atomic.Uint32)
			track, err := newSampleTrack(tc.codec, "t", "s", binds)
			if err != nil {
				t.Fatal(err)
			}
			w := newTrackWriter(track, clock{rate: tc.fps}, tc.codec.ClockRate, binds, &stats)
			frame := []byte{0, 0, 0, 1, 0x41, 1, 2, 3} // an Annex-B NAL unit, opaque to VP8 and Opus
			slot := int64(0)
			for range tc.preBind {
				w.write(slot, frame)
				slot += 3
			}
			f := bind(t, track, 96)
			// Slots as a late pacer produces them: runs, single skips, long stalls.
			var slots []int64
			for i := range 2000 {
				slot += 1 + int64(i%7/6) + 10*int64(i%97/96) + 200*int64(i%501/500)
				slots = append(slots, slot)
			}
			for _, s := range slots {
				w.write(s, frame)
			}
			pkts := f.snapshot()
			if len(pkts) != len(slots) {
				t.Fatalf("%d packets for %d frames", len(pkts), len(slots))
			}
			for i := 1; i < len(pkts); i++ {
				step := pkts[i].Timestamp - pkts[i-1].Timestamp
				if want := uint32(slots[i]-slots[i-1]) * tc.frameTick; step != want {
					t.Fatalf("packet %d: timestamp step %d, want %d (%d slots)", i, step, want, slots[i]-slots[i-1])
				}
			}
		})
	}
}
