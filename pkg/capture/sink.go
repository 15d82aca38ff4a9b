package capture

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

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
//
// pion turns a sample's Duration into RTP ticks in floating point, carrying
// the fraction to the next sample. A slot is rarely a whole number of
// nanoseconds (1/30 s is 3000 ticks but 33333333.3 ns), so exact spans left
// that carried fraction hovering just below 1 and a step, most visibly a
// gap, came out one tick too long or short (30001 for ten 30 fps frames).
// The writer therefore counts ticks itself, in integers, and mirrors pion's
// carried fraction, choosing each Duration so that the total lands half a
// tick past the wanted whole tick: far from any rounding edge.
type trackWriter struct {
	w         sampleWriter
	clock     clock
	clockRate int64 // RTP ticks per second
	next      int64 // slot the RTP timestamp has reached; -1 before the first sample
	stats     *layerCounters

	carry float64        // mirror of pion's carried fraction
	binds *atomic.Uint32 // bumped when pion creates the packetizer (carry 0); may be nil
	seen  uint32
}

func newTrackWriter(w sampleWriter, c clock, clockRate uint32, binds *atomic.Uint32, stats *layerCounters) trackWriter {
	return trackWriter{w: w, clock: c, clockRate: int64(clockRate), next: -1, binds: binds, stats: stats}
}

// ticks returns the RTP tick at which slot starts.
func (t *trackWriter) ticks(slot int64) int64 { return slot * t.clockRate / t.clock.rate }

// duration returns the Duration that makes pion advance the RTP timestamp
// by exactly n ticks, and updates the mirrored carry.
func (t *trackWriter) duration(n int64) time.Duration {
	if t.binds != nil {
		if b := t.binds.Load(); b != t.seen {
			t.seen, t.carry = b, 0 // a fresh packetizer carries nothing
		}
	}
	target := float64(n) + 0.5 - t.carry
	d := time.Duration(target*float64(time.Second)/float64(t.clockRate) + 0.5)
	// The same arithmetic as pion's TrackLocalStaticSample.WriteSample.
	total := d.Seconds()*float64(t.clockRate) + t.carry
	t.carry = total - float64(uint32(total))
	return d
}

// writeTicks sends data lasting slots [from, to), bridging any gap since
// the previous sample. Slots must not go back.
func (t *trackWriter) writeTicks(from, to int64, data []byte) {
	if t.next >= 0 && from > t.next {
		gap := media.Sample{Duration: t.duration(t.ticks(from) - t.ticks(t.next))}
		if err := t.w.WriteSample(gap); err != nil {
			t.stats.writeErrors.Add(1)
		}
	}
	t.next = to
	if err := t.w.WriteSample(media.Sample{Data: data, Duration: t.duration(t.ticks(to) - t.ticks(from))}); err != nil {
		// pion reports per-binding failures but still sends to the others.
		t.stats.writeErrors.Add(1)
	}
	t.stats.samplesWritten.Add(1)
}

// write sends the encoded frame of slot. Slots must increase.
func (t *trackWriter) write(slot int64, data []byte) { t.writeTicks(slot, slot+1, data) }

// newSampleTrack creates a pion sample track whose packetizer creation is
// counted in binds, so that its trackWriter knows when pion's carried
// fraction starts from zero. The payloaders are pion's defaults.
func newSampleTrack(codec webrtc.RTPCodecCapability, id, streamID string, binds *atomic.Uint32,
	opts ...func(*webrtc.TrackLocalStaticRTP),
) (*webrtc.TrackLocalStaticSample, error) {
	opts = append(opts, webrtc.WithPayloader(func(c webrtc.RTPCodecCapability) (rtp.Payloader, error) {
		binds.Add(1)
		switch strings.ToLower(c.MimeType) {
		case strings.ToLower(webrtc.MimeTypeH264):
			return &codecs.H264Payloader{}, nil
		case strings.ToLower(webrtc.MimeTypeOpus):
			return &codecs.OpusPayloader{}, nil
		case strings.ToLower(webrtc.MimeTypeVP8):
			return &codecs.VP8Payloader{EnablePictureID: true}, nil
		}
		return nil, fmt.Errorf("capture: no payloader for %s", c.MimeType)
	}))
	return webrtc.NewTrackLocalStaticSample(codec, id, streamID, opts...)
}
