package capture

import "github.com/callctl/callctl/pkg/sdk"

var (
	_ sdk.StampedSource = (*VideoSource)(nil)
	_ sdk.StampedSource = (*AudioSource)(nil)
)

// StampInfo returns the epoch (Unix ms) of the capture times stamped into
// the test picture, and 0 for a camera. The period is the stamp's own
// modulus (StampTimeModulus), announced as 0.
func (s *VideoSource) StampInfo() (epochMs, periodMs int64) {
	if p, ok := s.input.(*picture); ok {
		return p.stamp.epochMs(), 0
	}
	return 0, 0
}

// StampInfo returns the epoch (Unix ms) the tone's timing markers count
// from: one every audioMarkerPeriod, see toneMarker.
func (s *AudioSource) StampInfo() (epochMs, periodMs int64) {
	return s.tone.marker.clock.epochMs(), 0
}
