package capture

import (
	"math"
	"testing"

	"github.com/pion/mediadevices/pkg/wave"
)

func TestPCMLevel(t *testing.T) {
	sine := func(peakDBFS float64) []int16 {
		out := make([]int16, opusPacketSamples)
		a := math.Pow(10, peakDBFS/20) * math.MaxInt16
		for i := range out {
			out[i] = int16(a * math.Sin(2*math.Pi*440*float64(i)/toneSampleRate))
		}
		return out
	}
	square := make([]int16, opusPacketSamples)
	for i := range square {
		square[i] = math.MaxInt16
		if i%2 == 1 {
			square[i] = -math.MaxInt16
		}
	}
	for _, tc := range []struct {
		name    string
		samples []int16
		want    uint8
	}{
		{"empty", nil, 127},
		{"digital silence", make([]int16, opusPacketSamples), 127},
		{"below one LSB", append(make([]int16, opusPacketSamples-1), 1), 127},
		{"full-scale square: 0 dBov", square, 0},
		{"full-scale sine: 3 dBov", sine(0), 3},
		{"the default tone (-12 dBFS peak)", sine(-12), 15},
		{"a quiet tone (-60 dBFS peak)", sine(-60), 63},
	} {
		if got := pcmLevel(tc.samples); got != tc.want {
			t.Errorf("%s: level %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestLevelMeterBeforeAndAfter(t *testing.T) {
	var m levelMeter
	if got := m.level(); got != silenceLevel {
		t.Fatalf("before any frame: %d, want silence", got)
	}
	pcm := wave.NewInt16Interleaved(wave.ChunkInfo{Len: opusPacketSamples, Channels: 2, SamplingRate: toneSampleRate})
	newTone(440, -12, 2, 0, 0).fill(pcm.Data, 0)
	m.measure(pcm)
	if got := m.level(); got != 15 {
		t.Fatalf("after a -12 dBFS tone frame: %d, want 15", got)
	}
}
