package mediasoupclient

import (
	"bytes"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// fakeWriter records what a voiceWriter passes on.
type fakeWriter struct {
	headers  []rtp.Header
	payloads [][]byte
}

func (f *fakeWriter) WriteRTP(h *rtp.Header, p []byte) (int, error) {
	f.headers = append(f.headers, h.Clone())
	f.payloads = append(f.payloads, append([]byte(nil), p...))
	return h.MarshalSize() + len(p), nil
}

func (f *fakeWriter) Write(b []byte) (int, error) { return len(b), nil }

func TestVoiceWriterStamps(t *testing.T) {
	opusPayload := []byte{0x78, 1, 2, 3, 4}
	level := uint8(17)
	talking := true
	for _, tc := range []struct {
		name        string
		id          uint8
		opus        bool
		level       func() uint8
		talking     bool
		wantLevel   int // -1: no extension
		wantVoice   bool
		wantSilence bool
	}{
		{"the source's level", 4, true, func() uint8 { return level }, true, 17, true, false},
		{"no level: constant speech", 4, true, nil, true, int(DefaultVoiceLevel), true, false},
		{"not talking: idle level, silence", 4, true, func() uint8 { return level }, false, int(IdleLevel), false, true},
		{"not talking, not opus: level only", 4, false, nil, false, int(IdleLevel), false, false},
		{"silent frame while talking: idle", 4, true, func() uint8 { return 127 }, true, int(IdleLevel), false, false},
		{"quiet frame above idle", 4, true, func() uint8 { return 99 }, true, 99, true, false},
		{"level out of range", 4, true, func() uint8 { return 200 }, true, int(IdleLevel), false, false},
		{"not negotiated: untouched", 0, true, nil, false, -1, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fw := &fakeWriter{}
			talking = tc.talking
			w := &voiceWriter{w: fw, id: tc.id, opus: tc.opus, voice: Voice{
				Level: tc.level, Talking: func(time.Time) bool { return talking }, Now: time.Now,
			}}
			// The header as pion's static track hands it to every
			// binding: an extension with spare capacity it shares.
			in := rtp.Header{Version: 2, SSRC: 9, SequenceNumber: 5}
			if err := in.SetExtension(1, []byte{0xaa}); err != nil {
				t.Fatal(err)
			}
			in.Extensions = append(make([]rtp.Extension, 0, 8), in.Extensions...)
			if _, err := w.WriteRTP(&in, opusPayload); err != nil {
				t.Fatal(err)
			}
			if len(in.Extensions) != 1 {
				t.Fatalf("the caller's header was changed: %+v", in.Extensions)
			}
			h, p := fw.headers[0], fw.payloads[0]
			if h.SequenceNumber != 5 || !bytes.Equal(h.GetExtension(1), []byte{0xaa}) {
				t.Fatalf("header not carried over: %+v", h)
			}
			raw := h.GetExtension(4)
			if tc.wantLevel < 0 {
				if raw != nil || !bytes.Equal(p, opusPayload) {
					t.Fatalf("stamped without a negotiated id: ext %x payload %x", raw, p)
				}
				return
			}
			var ext rtp.AudioLevelExtension
			if err := ext.Unmarshal(raw); err != nil {
				t.Fatalf("audio level extension %x: %v", raw, err)
			}
			if int(ext.Level) != tc.wantLevel || ext.Voice != tc.wantVoice {
				t.Fatalf("level %d voice %v, want %d %v", ext.Level, ext.Voice, tc.wantLevel, tc.wantVoice)
			}
			wantPayload := opusPayload
			if tc.wantSilence {
				wantPayload = opusSilence
			}
			if !bytes.Equal(p, wantPayload) {
				t.Fatalf("payload %x, want %x", p, wantPayload)
			}
		})
	}
}

func TestWithDefaultVoiceWrapsAudioOnce(t *testing.T) {
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "a", "s")
	if err != nil {
		t.Fatal(err)
	}
	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "v", "s")
	if err != nil {
		t.Fatal(err)
	}
	if got := withDefaultVoice(video); got != webrtc.TrackLocal(video) {
		t.Fatal("a video track was wrapped")
	}
	wrapped := withDefaultVoice(audio)
	if _, ok := wrapped.(*voiceTrack); !ok {
		t.Fatalf("audio track not wrapped: %T", wrapped)
	}
	if withDefaultVoice(wrapped) != wrapped {
		t.Fatal("a WithVoice track was wrapped again")
	}
	if wrapped.ID() != "a" || wrapped.StreamID() != "s" || wrapped.Kind() != webrtc.RTPCodecTypeAudio {
		t.Fatal("the wrapper hides the track's identity")
	}
}
