package capture

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// opusPacketDuration parses an Opus packet's TOC byte (RFC 6716, section
// 3.1) and returns its duration and whether it is coded as stereo.
func opusTOC(packet []byte) (d time.Duration, stereo bool, ok bool) {
	if len(packet) == 0 {
		return 0, false, false
	}
	toc := packet[0]
	config := toc >> 3
	var frame time.Duration
	switch {
	case config < 12: // SILK
		frame = [...]time.Duration{10, 20, 40, 60}[config%4] * time.Millisecond
	case config < 16: // hybrid
		frame = [...]time.Duration{10, 20}[config%2] * time.Millisecond
	default: // CELT
		frame = [...]time.Duration{2500, 5000, 10000, 20000}[config%4] * time.Microsecond
	}
	frames := 1
	switch toc & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(packet) < 2 {
			return 0, false, false
		}
		frames = int(packet[1] & 0x3f)
	}
	return time.Duration(frames) * frame, toc&4 != 0, true
}

func TestAudioOptions(t *testing.T) {
	for _, opts := range []AudioOptions{{Channels: 3}, {Bitrate: 1000}, {LevelDBFS: 3}, {Frequency: 30000}} {
		if s, err := NewToneAudio(opts); !errors.Is(err, ErrInvalidOptions) {
			if s != nil {
				s.Close()
			}
			t.Errorf("%+v: err = %v", opts, err)
		}
	}
}

func TestAudioCodecAndTrack(t *testing.T) {
	s, err := NewToneAudio(AudioOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}
	if c := s.Codec(); c.MimeType != want.MimeType || c.ClockRate != want.ClockRate || c.Channels != want.Channels || c.SDPFmtpLine != want.SDPFmtpLine {
		t.Errorf("Codec() = %+v", c)
	}
	tr := s.Tracks()
	if len(tr) != 1 || tr[0].Kind() != webrtc.RTPCodecTypeAudio || tr[0].ID() != "audio" || tr[0].StreamID() != "callctl" {
		t.Errorf("Tracks() = %v", tr)
	}
}

// TestAudioPackets checks properties that hold however late the pacer
// runs: every packet is a 20 ms Opus packet starting on the 20 ms RTP grid,
// every due slot is either encoded or counted as dropped, and nothing is
// written once the pause has taken effect.
func TestAudioPackets(t *testing.T) {
	t.Parallel()
	for _, channels := range []int{2, 1} {
		s, err := NewToneAudio(AudioOptions{Channels: channels, ToneOn: 300 * time.Millisecond, ToneOff: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		rec := recordAudio(s)
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, "50 packets", func() bool { return len(rec.frames()) >= 50 })
		s.SetPaused(true)
		n := len(rec.frames())
		// An observation window, not a synchronisation: at most the tick
		// running when SetPaused returned may still write.
		time.Sleep(200 * time.Millisecond)
		if got := len(rec.frames()); got > n+1 {
			t.Errorf("%d packets written while paused", got-n)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		checkAudioPackets(t, s, rec, channels)
	}
}

func checkAudioPackets(t *testing.T, s *AudioSource, rec *recorder, channels int) {
	t.Helper()
	samples := rec.all()
	ticks := rtpTicks(samples, 48000)
	frames := 0
	for i, f := range samples {
		if len(f.data) == 0 {
			continue // a gap: dropped slots
		}
		frames++
		d, stereo, ok := opusTOC(f.data)
		if !ok || d != 20*time.Millisecond {
			t.Fatalf("bad packet: toc %#x duration %v", f.data[0], d)
		}
		if stereo != (channels == 2) {
			t.Fatalf("%d channels but stereo flag %v", channels, stereo)
		}
		if ticks[i]%opusPacketSamples != 0 {
			t.Fatalf("packet %d starts at RTP tick %d, off the 960-tick grid", frames, ticks[i])
		}
		if i+1 < len(samples) && ticks[i+1]-ticks[i] != opusPacketSamples {
			t.Fatalf("packet %d lasts %d ticks, want 960", frames, ticks[i+1]-ticks[i])
		}
	}
	st := s.Stats().Total()
	if st.FramesEncoded != uint64(frames) || st.SamplesWritten != uint64(frames) || st.KeyFrames != 0 || st.EncodeErrors != 0 {
		t.Errorf("stats %+v for %d packets", st, frames)
	}
	// Every slot up to the last packet was encoded or dropped (late pacer).
	if due := uint64(s.out.next); st.FramesEncoded+st.FramesDropped != due {
		t.Errorf("%d encoded + %d dropped, but %d slots were due", st.FramesEncoded, st.FramesDropped, due)
	}
	t.Logf("%d channels: %d packets, %d bytes (%.1f kbps), stats %+v", channels, frames, st.Bytes,
		float64(st.Bytes*8)/1000/(float64(frames)*0.02), st)
}
