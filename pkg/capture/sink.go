package capture

import "github.com/pion/webrtc/v4/pkg/media"

// sampleWriter receives encoded samples. In production it is the
// *webrtc.TrackLocalStaticSample the source hands out; tests substitute a
// recorder.
type sampleWriter interface {
	WriteSample(media.Sample) error
}

// trackWriter writes one encoding's samples, keeping the track's RTP
// timestamp on the pacing clock: every sample lasts its slot, and a gap
// (paused or dropped slots) is bridged with an empty sample, for which pion's
// packetizer only advances the timestamp and sends nothing.
type trackWriter struct {
	w     sampleWriter
	clock clock
	next  int64 // slot the RTP timestamp has reached; -1 before the first sample
	stats *layerCounters
}

func newTrackWriter(w sampleWriter, c clock, stats *layerCounters) trackWriter {
	return trackWriter{w: w, clock: c, next: -1, stats: stats}
}

// write sends the encoded frame of slot. Slots must increase.
func (t *trackWriter) write(slot int64, data []byte) {
	if t.next >= 0 && slot > t.next {
		gap := media.Sample{Duration: t.clock.span(t.next, slot)}
		if err := t.w.WriteSample(gap); err != nil {
			t.stats.writeErrors.Add(1)
		}
	}
	t.next = slot + 1
	if err := t.w.WriteSample(media.Sample{Data: data, Duration: t.clock.span(slot, slot+1)}); err != nil {
		// pion reports per-binding failures but still sends to the others.
		t.stats.writeErrors.Add(1)
	}
	t.stats.samplesWritten.Add(1)
}
