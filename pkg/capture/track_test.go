package capture

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// fakeBinding stands in for a PeerConnection: it binds a track and records
// the RTP packets written to it.
type fakeBinding struct {
	codec webrtc.RTPCodecParameters

	mu      sync.Mutex
	packets []rtp.Packet
}

func (f *fakeBinding) CodecParameters() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{f.codec}
}
func (f *fakeBinding) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter { return nil }
func (f *fakeBinding) SSRC() webrtc.SSRC                                      { return 1234 }
func (f *fakeBinding) SSRCRetransmission() webrtc.SSRC                        { return 0 }
func (f *fakeBinding) SSRCForwardErrorCorrection() webrtc.SSRC                { return 0 }
func (f *fakeBinding) WriteStream() webrtc.TrackLocalWriter                   { return f }
func (f *fakeBinding) ID() string                                             { return "fake" }
func (f *fakeBinding) RTCPReader() interceptor.RTCPReader                     { return nil }

func (f *fakeBinding) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.packets = append(f.packets, rtp.Packet{Header: h.Clone(), Payload: append([]byte(nil), payload...)})
	return len(payload), nil
}

func (f *fakeBinding) Write(b []byte) (int, error) { return len(b), nil }

func (f *fakeBinding) snapshot() []rtp.Packet {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]rtp.Packet(nil), f.packets...)
}

func bind(t *testing.T, tr webrtc.TrackLocal, pt webrtc.PayloadType) *fakeBinding {
	t.Helper()
	f := &fakeBinding{codec: webrtc.RTPCodecParameters{PayloadType: pt}}
	f.codec.RTPCodecCapability = tr.(*webrtc.TrackLocalStaticSample).Codec()
	if _, err := tr.Bind(f); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestVideoTrackRTP runs the production path: encoded frames go through
// pion's TrackLocalStaticSample, whose VP8 payloader must set PictureID.
func TestVideoTrackRTP(t *testing.T) {
	t.Parallel()
	s := mustVideo(t, VideoOptions{Width: 320, Height: 180, FPS: 30})
	f := bind(t, s.Tracks()[0], 96)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "10 frames", func() bool { return s.Stats().Total().SamplesWritten >= 10 })
	s.SetPaused(true)
	time.Sleep(150 * time.Millisecond)
	s.SetPaused(false)
	waitFor(t, 5*time.Second, "15 frames", func() bool { return s.Stats().Total().SamplesWritten >= 15 })
	s.Close()

	var prev *rtp.Packet
	var prevPicID uint16
	frames := 0
	for i, p := range f.snapshot() {
		var vp8 codecs.VP8Packet
		if _, err := vp8.Unmarshal(p.Payload); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if vp8.X != 1 || vp8.I != 1 {
			t.Fatalf("packet %d: no PictureID (X=%d I=%d)", i, vp8.X, vp8.I)
		}
		if p.PayloadType != 96 || p.SSRC != 1234 {
			t.Fatalf("packet %d: pt %d ssrc %d", i, p.PayloadType, p.SSRC)
		}
		newFrame := prev == nil || p.Timestamp != prev.Timestamp
		if newFrame != (vp8.S == 1 && vp8.PID == 0) {
			t.Fatalf("packet %d: frame start mismatch", i)
		}
		if newFrame {
			if prev == nil {
				if !isVP8KeyFrame(vp8.Payload) {
					t.Fatal("first frame is not a key frame")
				}
			} else {
				if !prev.Marker {
					t.Fatalf("packet %d: previous frame not marked", i)
				}
				if vp8.PictureID != prevPicID+1 {
					t.Fatalf("packet %d: PictureID %d after %d", i, vp8.PictureID, prevPicID)
				}
				// Whole frame intervals, several if the pacer ran late.
				if d := p.Timestamp - prev.Timestamp; d == 0 || d%3000 != 0 {
					t.Fatalf("packet %d: timestamp step %d, not a multiple of 3000", i, d)
				}
			}
			prevPicID = vp8.PictureID
			frames++
		}
		prev = &p
	}
	if frames < 15 {
		t.Fatalf("%d frames in RTP", frames)
	}
}

func TestAudioTrackRTP(t *testing.T) {
	t.Parallel()
	s, err := NewToneAudio(AudioOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := bind(t, s.Tracks()[0], 111)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "10 packets", func() bool { return len(f.snapshot()) >= 10 })
	s.Close()
	pkts := f.snapshot()
	for i := 1; i < len(pkts); i++ {
		if d := pkts[i].Timestamp - pkts[i-1].Timestamp; d%960 != 0 || d == 0 {
			t.Fatalf("timestamp step %d", d)
		}
		if pkts[i].SequenceNumber != pkts[i-1].SequenceNumber+1 {
			t.Fatalf("sequence %d after %d", pkts[i].SequenceNumber, pkts[i-1].SequenceNumber)
		}
	}
}
