package capture

import (
	"math"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/wave"
)

// TestToneMarkerThroughOpus encodes 5 s of the default tone with its
// markers through Opus, "receives" every packet 40 ms after it was
// captured, and expects the detector to measure 40 ms plus the codec's
// look-ahead, once per second.
func TestToneMarkerThroughOpus(t *testing.T) {
	for _, cont := range []bool{false, true} {
		opts, err := AudioOptions{Continuous: cont}.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		tn := newTone(opts.Frequency, opts.LevelDBFS, opts.Channels, opts.ToneOn, opts.ToneOff)
		epoch := time.UnixMilli(1_700_000_000_000)
		var captured time.Time // packet n is captured 120 ms + n×20 ms after the epoch
		tn.marker.clock = stampClock{epoch: epoch, now: func() time.Time { return captured }}
		enc, err := newOpusEncoder(opts.Channels, opts.Bitrate)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := newOpusDecoder(opts.Channels)
		if err != nil {
			t.Fatal(err)
		}
		det := markerDetector{epochMs: epoch.UnixMilli()}
		pcm := wave.NewInt16Interleaved(wave.ChunkInfo{Len: opusPacketSamples, Channels: opts.Channels, SamplingRate: toneSampleRate})
		const packets = 250 // 5 s
		var last time.Time
		for n := range int64(packets) {
			captured = epoch.Add(120*time.Millisecond + time.Duration(n)*20*time.Millisecond)
			tn.fill(pcm.Data, n*opusPacketSamples)
			data, err := enc.encode(pcm)
			if err != nil {
				t.Fatal(err)
			}
			out, err := dec.decode(data)
			if err != nil {
				t.Fatal(err)
			}
			last = captured.Add(40 * time.Millisecond)
			det.add(last, out, opts.Channels)
		}
		_ = enc.close()
		dec.close()
		s := det.delays.summary(last)
		if s == nil || s.Samples < 4 || s.Samples > 5 {
			t.Fatalf("continuous=%v: %+v, want 4-5 markers in 5 s", cont, s)
		}
		t.Logf("continuous=%v: marker delay %+v", cont, s)
		if math.Abs(s.Median-46.5) > 4 || s.Max-s.Median > 4 {
			t.Errorf("continuous=%v: delay %+v, want about 46.5 ms (40 + Opus look-ahead)", cont, s)
		}
	}
}

func TestToneMarkerIsQuiet(t *testing.T) {
	tn := newTone(440, -12, 1, time.Second, time.Second)
	tn.marker.clock = stampClock{} // no epoch: markers at 500 ms past each second
	buf := make([]int16, toneSampleRate*2)
	tn.fill(buf, 0)
	// The marker is present in the off second (1.5 s) with its amplitude
	// and absent elsewhere in that second.
	peak := func(b []int16) float64 {
		m := 0.0
		for _, v := range b {
			m = max(m, math.Abs(float64(v))/32767)
		}
		return m
	}
	at := func(ms int) []int16 { return buf[ms*48 : ms*48+480] }
	if p := peak(at(1500)); p < audioMarkerAmp*0.9 || p > audioMarkerAmp*1.01 {
		t.Errorf("marker peak %.3f, want %.2f", p, audioMarkerAmp)
	}
	if p := peak(buf[1520*48 : 2000*48]); p != 0 {
		t.Errorf("off phase after the marker peaks at %.3f", p)
	}
}
