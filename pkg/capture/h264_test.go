package capture

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
)

// nalTypes lists the NAL unit types of an access unit.
func nalTypes(au []byte) []byte {
	var types []byte
	for _, n := range splitAnnexB(au) {
		types = append(types, n[0]&0x1f)
	}
	return types
}

// The encoder emits constrained-baseline access units that openh264's
// decoder (the same library) decodes: an IDR with SPS and PPS first, then
// whenever asked and keyFrameEvery frames after the previous one.
func TestH264Encoder(t *testing.T) {
	enc, err := newH264Encoder(videoEncoderConfig{width: 640, height: 360, fps: 30, bitrate: 500_000, keyFrameEvery: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.close()
	dec, err := newH264Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.close()
	pic := newPicture(640, 360, 30)
	img := newFrame(640, 360)
	var keys []int
	for n := range 25 {
		pic.render(img, int64(n))
		au, err := enc.encode(img, n == 5)
		if err != nil || len(au) == 0 {
			t.Fatalf("frame %d: %d bytes, %v", n, len(au), err)
		}
		if enc.isKeyFrame(au) {
			keys = append(keys, n)
			if types := nalTypes(au); !slices.Equal(types, []byte{nalSPS, nalPPS, nalIDR}) {
				t.Errorf("frame %d: NAL types %v, want SPS PPS IDR", n, types)
			}
			sps := splitAnnexB(au)[0]
			if sps[1] != 66 || sps[2]&0x40 == 0 {
				t.Errorf("frame %d: profile %d, constraints %#x: not constrained baseline", n, sps[1], sps[2])
			}
		} else if types := nalTypes(au); !slices.Equal(types, []byte{nalSlice}) {
			t.Errorf("frame %d: NAL types %v, want one slice", n, types)
		}
		if w, h, err := dec.decode(au); err != nil || w != 640 || h != 360 {
			t.Fatalf("frame %d decodes to %dx%d, %v", n, w, h, err)
		}
	}
	// The interval counts from the last key frame, asked for or not.
	if !slices.Equal(keys, []int{0, 5, 15}) {
		t.Errorf("key frames at %v, want 0, 5 (asked) and 15", keys)
	}
}

func TestH264VideoSource(t *testing.T) {
	t.Parallel()
	s := mustVideo(t, VideoOptions{Codec: "h264", Width: 640, Height: 360, FPS: 15, Layers: 3, KeyFrameInterval: time.Hour})
	want := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264FmtpLine}
	if c := s.Codec(); c.MimeType != want.MimeType || c.ClockRate != want.ClockRate || c.SDPFmtpLine != want.SDPFmtpLine {
		t.Errorf("Codec() = %+v", c)
	}
	for i, tr := range s.Tracks() {
		if tr.(*webrtc.TrackLocalStaticSample).Codec().MimeType != webrtc.MimeTypeH264 || tr.RID() != simulcastRIDs[i] {
			t.Errorf("track %d: %+v rid %q", i, tr.(*webrtc.TrackLocalStaticSample).Codec(), tr.RID())
		}
	}
	recs := recordVideo(s)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "5 frames on every layer", func() bool {
		for _, r := range recs {
			if len(r.frames()) < 5 {
				return false
			}
		}
		return true
	})
	for i, r := range recs {
		first := r.frames()[0].data
		w, h := frameSize(first, "video/h264")
		if li := s.Layers()[i]; !isH264KeyFrame(first) || w != li.Width || h != li.Height {
			t.Errorf("layer %d: first frame key %v, %dx%d, want %dx%d", i, isH264KeyFrame(first), w, h, li.Width, li.Height)
		}
	}
	s.RequestKeyFrame(1)
	waitFor(t, 5*time.Second, "a requested key frame", func() bool { return s.Stats().Layers[1].KeyFrames >= 2 })
	if st := s.Stats(); st.Layers[0].KeyFrames != 1 || st.Layers[2].KeyFrames != 1 {
		t.Errorf("key frames on other layers: %d, %d; want 1, 1", st.Layers[0].KeyFrames, st.Layers[2].KeyFrames)
	}
}

// H264 through pion's TrackLocalStaticSample (FU-A/STAP-A packetisation)
// reassembles into access units that decode.
func TestH264TrackRTP(t *testing.T) {
	t.Parallel()
	s := mustVideo(t, VideoOptions{Codec: "h264", Width: 640, Height: 360, FPS: 30})
	f := bind(t, s.Tracks()[0], 102)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "20 frames", func() bool { return s.Stats().Total().SamplesWritten >= 20 })
	s.Close()

	dec, err := newH264Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.close()
	sb := samplebuilder.New(512, &codecs.H264Packet{}, 90000)
	decoded, fragmented := 0, false
	for _, p := range f.snapshot() {
		if len(p.Payload) > 0 && p.Payload[0]&0x1f == 28 {
			fragmented = true // FU-A
		}
		sb.Push(&p)
		for smp := sb.Pop(); smp != nil; smp = sb.Pop() {
			if w, h, err := dec.decode(smp.Data); err != nil || w != 640 || h != 360 {
				t.Fatalf("frame %d decodes to %dx%d, %v", decoded, w, h, err)
			}
			decoded++
		}
	}
	if decoded < 15 || !fragmented {
		t.Errorf("%d frames decoded, FU-A seen %v", decoded, fragmented)
	}
}
