package capture

import (
	"math"
	"time"
)

const (
	toneSampleRate = 48000
	// toneRamp is the fade in/out at the edges of each beep, against clicks.
	toneRamp = 5 * time.Millisecond
)

// tone generates a sine wave switched on and off with a fixed cadence, as
// interleaved 16-bit PCM at 48 kHz. The waveform is a pure function of the
// absolute sample index, so skipped chunks (pauses, late ticks) leave no
// phase glitch in what follows.
type tone struct {
	freq      float64
	amplitude float64 // linear, full scale = 1
	channels  int
	on, off   int64 // cadence in samples; off == 0 means continuous
	ramp      int64
	marker    toneMarker
}

func newTone(freq, levelDBFS float64, channels int, on, off time.Duration) *tone {
	samples := func(d time.Duration) int64 { return int64(d) * toneSampleRate / int64(time.Second) }
	return &tone{
		freq:      freq,
		amplitude: math.Pow(10, levelDBFS/20),
		channels:  channels,
		on:        samples(on),
		off:       samples(off),
		ramp:      samples(toneRamp),
		marker:    toneMarker{clock: stampClock{epoch: time.Now()}},
	}
}

// fill writes len(buf)/channels frames starting at absolute sample index
// first into buf (interleaved).
func (t *tone) fill(buf []int16, first int64) {
	n := int64(len(buf) / t.channels)
	t.marker.start(first)
	for i := range n {
		idx := first + i
		f := t.gain(idx)*math.Sin(2*math.Pi*t.phase(idx)) + t.marker.sample(idx)
		v := int16(max(-1, min(1, f)) * math.MaxInt16)
		for c := range t.channels {
			buf[int(i)*t.channels+c] = v
		}
	}
}

// phase returns the cycle position of sample idx in [0, 1).
func (t *tone) phase(idx int64) float64 {
	_, frac := math.Modf(t.freq * float64(idx%toneSampleRate) / toneSampleRate)
	// idx/toneSampleRate whole seconds add t.freq cycles each.
	_, secs := math.Modf(t.freq * float64(idx/toneSampleRate))
	_, p := math.Modf(frac + secs)
	return p
}

// gain is the envelope at sample idx: amplitude while the tone is on, with
// linear ramps at its edges, and 0 while off.
func (t *tone) gain(idx int64) float64 {
	if t.off == 0 {
		return t.amplitude
	}
	pos := idx % (t.on + t.off)
	if pos >= t.on {
		return 0
	}
	edge := min(pos, t.on-1-pos)
	if edge < t.ramp {
		return t.amplitude * float64(edge) / float64(t.ramp)
	}
	return t.amplitude
}
