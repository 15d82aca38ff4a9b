package capture

import (
	"math"
	"time"
)

// The tone's timing marker: once a second, at 500 ms past each whole
// second since the source's stamp epoch, a 10 ms Hann-windowed 3 kHz burst
// at -14 dBFS is added to the tone (on or off). It sounds like a faint
// tick. 3 kHz survives Opus at any bandwidth callctl uses (even
// narrowband) and lies far from the default 440 Hz tone, so a receiver
// finds it after decoding with a Goertzel filter over 2 ms blocks: the
// block where the 3 kHz level peaks is the burst's centre, whose capture
// time is known (epoch + k s + 505 ms), which gives the delay. The receiver
// picks k as the latest marker not after its own clock (+100 ms of slack),
// so audio delays between -100 and 900 ms are measured. The delay includes
// the Opus encoder's look-ahead (6.5 ms).
const (
	audioMarkerPeriodMs = 1000
	// audioMarkerPhaseMs keeps markers away from the first milliseconds
	// after the epoch (and from the start of a test's buffer).
	audioMarkerPhaseMs = 500
	audioMarkerFreq    = 3000
	audioMarkerLen     = 480 // samples: 10 ms
	audioMarkerAmp     = 0.2

	markerBlock     = 96 // samples: 2 ms, 6 whole cycles of 3 kHz
	markerThreshold = 0.05
	markerSlackMs   = 100
)

// toneMarker adds the timing marker to the tone. Its clock maps sample
// indexes to ms since the epoch (see stampClock), set at the first fill.
type toneMarker struct {
	clock stampClock
}

// start calibrates the clock at each chunk (its first sample, first).
func (m *toneMarker) start(first int64) {
	m.clock.timeMs(first, toneSampleRate)
}

// sample is the marker's contribution to sample idx (full scale = 1).
func (m *toneMarker) sample(idx int64) float64 {
	const perMs = toneSampleRate / 1000
	period := int64(audioMarkerPeriodMs * perMs)
	pos := (m.clock.offsetMs*perMs + idx - audioMarkerPhaseMs*perMs) % period
	if pos < 0 {
		pos += period
	}
	if pos >= audioMarkerLen {
		return 0
	}
	x := float64(pos)
	hann := 0.5 - 0.5*math.Cos(2*math.Pi*x/audioMarkerLen)
	return audioMarkerAmp * hann * math.Sin(2*math.Pi*audioMarkerFreq*x/toneSampleRate)
}

// markerDetector finds the tone's timing markers in decoded audio and
// measures their delay. Used by one goroutine (the track's).
type markerDetector struct {
	epochMs int64
	block   [markerBlock]float64 // channel 0 of the samples not yet analysed
	n       int                  // samples in block
	blockAt float64              // Unix ms of block[0]
	in      bool                 // inside a burst
	peak    float64
	peakAt  float64 // Unix ms of the peak block's centre
	delays  delayWindow
}

// add analyses a decoded packet (interleaved, channels) received at
// arrival. A packet's sample j counts as captured j/48 ms after the
// packet's first sample, which was sent when it was captured.
func (d *markerDetector) add(arrival time.Time, pcm []int16, channels int) {
	if d.epochMs == 0 || channels < 1 {
		return
	}
	t0 := float64(arrival.UnixMicro()) / 1000
	for j := 0; j*channels < len(pcm); j++ {
		if d.n == 0 {
			d.blockAt = t0 + float64(j)*1000/toneSampleRate
		}
		d.block[d.n] = float64(pcm[j*channels]) / 32768
		d.n++
		if d.n == markerBlock {
			d.n = 0
			d.analyse(arrival)
		}
	}
}

// analyse runs the Goertzel filter over a full block and tracks bursts.
func (d *markerDetector) analyse(arrival time.Time) {
	amp := goertzel(d.block[:], audioMarkerFreq, toneSampleRate)
	centre := d.blockAt + markerBlock*500/toneSampleRate
	switch {
	case amp >= markerThreshold && (!d.in || amp > d.peak):
		d.in, d.peak, d.peakAt = true, amp, centre
	case amp < markerThreshold && d.in:
		d.in = false
		elapsed := int64(math.Round(d.peakAt)) - d.epochMs
		mid := int64(audioMarkerPhaseMs + audioMarkerLen*500/toneSampleRate)
		capture := unwrapStampTime(uint32(mid), audioMarkerPeriodMs, elapsed, markerSlackMs)
		d.delays.add(arrival, float64(elapsed-capture))
	}
}

// goertzel returns the amplitude (full scale = 1) of the freq component
// of block.
func goertzel(block []float64, freq, rate float64) float64 {
	n := float64(len(block))
	w := 2 * math.Pi * freq / rate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range block {
		s1, s2 = x+coeff*s1-s2, s1
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * math.Sqrt(math.Max(0, power)) / n
}
