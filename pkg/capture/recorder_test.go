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
