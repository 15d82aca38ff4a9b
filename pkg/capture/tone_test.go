package capture

import (
	"math"
	"testing"
	"time"
)

func TestToneLevelAndCadence(t *testing.T) {
	tn := newTone(440, -12, 2, 100*time.Millisecond, 100*time.Millisecond)
	buf := make([]int16, 2*toneSampleRate/5) // 200 ms: 100 on, 100 off
	tn.fill(buf, 0)
	peak := func(b []int16) int {
		m := 0
		for _, v := range b {
			m = max(m, int(math.Abs(float64(v))))
		}
		return m
	}
	half := len(buf) / 2
	want := int(math.Pow(10, -12.0/20) * math.MaxInt16) // -12 dBFS ~ 8230
	if got := peak(buf[:half]); got < want*95/100 || got > want {
		t.Errorf("peak while on = %d, want about %d", got, want)
	}
	if got := peak(buf[half:]); got != 0 {
		t.Errorf("peak while off = %d, want 0", got)
	}
	for i := 0; i < len(buf); i += 2 {
		if buf[i] != buf[i+1] {
			t.Fatalf("channels differ at frame %d", i/2)
		}
	}
}

func TestToneIsContinuousAcrossChunks(t *testing.T) {
	tn := newTone(440, -6, 1, time.Second, 0)
	whole := make([]int16, 2*opusPacketSamples)
	tn.fill(whole, 7*opusPacketSamples)
	parts := make([]int16, 2*opusPacketSamples)
	tn.fill(parts[:opusPacketSamples], 7*opusPacketSamples)
	tn.fill(parts[opusPacketSamples:], 8*opusPacketSamples)
	for i := range whole {
		if whole[i] != parts[i] {
			t.Fatalf("sample %d: %d in one chunk, %d in two", i, whole[i], parts[i])
		}
	}
}
