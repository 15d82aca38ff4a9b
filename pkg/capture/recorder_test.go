package capture

import (
	"sync"
	"time"

	"github.com/pion/webrtc/v4/pkg/media"
)

// recorder is a sampleWriter that keeps what the source writes.
type recorder struct {
	mu      sync.Mutex
	samples []recordedSample
}

type recordedSample struct {
	at   time.Time
	data []byte
	dur  time.Duration
}

func (r *recorder) WriteSample(s media.Sample) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, recordedSample{at: time.Now(), data: s.Data, dur: s.Duration})
	return nil
}

// frames returns the non-empty samples written so far.
func (r *recorder) frames() []recordedSample {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recordedSample
	for _, s := range r.samples {
		if len(s.data) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// recordVideo replaces the tracks of s by recorders, one per layer.
func recordVideo(s *VideoSource) []*recorder {
	recs := make([]*recorder, len(s.layers))
	for i, l := range s.layers {
		recs[i] = &recorder{}
		l.out.w = recs[i]
	}
	return recs
}

func recordAudio(s *AudioSource) *recorder {
	rec := &recorder{}
	s.out.w = rec
	return rec
}

// rtpTicks replays pion's conversion of sample durations into RTP ticks
// (floating point, fraction carried) and returns each sample's starting
// tick, relative to the first sample.
func rtpTicks(samples []recordedSample, clockRate float64) []int64 {
	out := make([]int64, len(samples))
	var pos int64
	carry := 0.0
	for i, s := range samples {
		out[i] = pos
		total := s.dur.Seconds()*clockRate + carry
		n := uint32(total)
		carry = total - float64(n)
		pos += int64(n)
	}
	return out
}

// all returns every sample written so far, gaps included.
func (r *recorder) all() []recordedSample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recordedSample(nil), r.samples...)
}
