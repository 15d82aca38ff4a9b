package capture

import (
	"math"
	"sync/atomic"

	"github.com/pion/mediadevices/pkg/wave"
)

// silenceLevel is RFC 6464's lowest level: -127 dBov.
const silenceLevel = 127

// levelMeter holds the RFC 6464 level of the last frame an Opus encoder
// encoded. The source writes that frame's packet right after encoding,
// on the same goroutine, so the audio level writer (mediasoupclient's
// Voice.Level) reads the level of the very packet it stamps.
type levelMeter struct{ v atomic.Uint32 } // level+1; 0: nothing measured yet

func (m *levelMeter) measure(pcm *wave.Int16Interleaved) { m.v.Store(uint32(pcmLevel(pcm.Data)) + 1) }

// level is the last frame's level in -dBov (silence before the first).
func (m *levelMeter) level() uint8 {
	v := m.v.Load()
	if v == 0 {
		return silenceLevel
	}
	return uint8(v - 1)
}

// pcmLevel is the RMS level of 16-bit samples in -dBov, 0 (full scale) to
// 127 (digital silence), as RFC 6464 wants it: 0 dBov is the RMS of a
// full-scale square wave, so a full-scale sine is 3 dBov.
func pcmLevel(samples []int16) uint8 {
	if len(samples) == 0 {
		return silenceLevel
	}
	var sum float64
	for _, s := range samples {
		sum += float64(s) * float64(s)
	}
	rms := math.Sqrt(sum / float64(len(samples)))
	if rms < 1 { // below one LSB: nothing audible
		return silenceLevel
	}
	dbov := 20 * math.Log10(rms/math.MaxInt16)
	return uint8(min(max(math.Round(-dbov), 0), silenceLevel))
}

// AudioLevel is the RFC 6464 level (-dBov) of the last 20 ms frame
// encoded: sdk.WithTalk stamps it on the frame's packet.
func (s *AudioSource) AudioLevel() uint8 { return s.enc.level.level() }

// AudioLevel is the RFC 6464 level (-dBov) of the last 20 ms frame
// encoded: sdk.WithTalk stamps it on the frame's packet.
func (s *MicrophoneSource) AudioLevel() uint8 { return s.enc.level.level() }
