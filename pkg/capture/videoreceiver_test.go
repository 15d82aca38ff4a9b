package capture

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/callctl/callctl/pkg/sdk"
)

type decodedFrame struct {
	index int
	key   bool
}

// The receive path after a media cut: packets come back, the missing ones
// are given up within the bounded wait, a key frame is requested at once,
// nothing is decoded until that key frame, decoding resumes on it, and
// the stall is counted as a freeze. Runs on a fake clock.
func TestVideoRecoveryAfterCut(t *testing.T) {
	for _, tc := range []struct {
		mime, codec string
		payloader   rtp.Payloader
	}{
		{"video/VP8", CodecVP8, &codecs.VP8Payloader{EnablePictureID: true}},
		{"video/H264", CodecH264, &codecs.H264Payloader{}},
	} {
		t.Run(tc.codec, func(t *testing.T) { testRecoveryAfterCut(t, tc.mime, tc.codec, tc.payloader) })
	}
}

const (
	cutFirstFrame = 30 // the cut starts inside this frame (its 2nd packet)
	cutFrames     = 30 // 1 s of frames lost
	streamFrames  = 100
	frameGap      = time.Second / 30
)

func testRecoveryAfterCut(t *testing.T, mime, codec string, payloader rtp.Payloader) {
	enc, err := newVideoEncoder(codec, videoEncoderConfig{width: 320, height: 180, fps: 30, bitrate: 600_000, keyFrameEvery: 100000})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.close()
	sink, err := NewReceiveSink(ReceiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1000, 0)
	now := start
	sink.now = func() time.Time { return now }
	var requests []int // frame index at each key-frame request
	frameIndex := 0
	tr := sink.OpenTrack(sdk.TrackInfo{ConsumerID: "c", Kind: "video", MimeType: mime, ClockRate: 90000,
		RequestKeyFrame: func() { requests = append(requests, frameIndex) }})
	defer tr.Close()
	v := tr.(*videoReceiver)
	var decoded []decodedFrame
	realDecode := v.decode
	v.decode = func(b []byte) (decodedPicture, error) {
		decoded = append(decoded, decodedFrame{frameIndex, v.keyOf(b)})
		return realDecode(b)
	}

	pic, img := newPicture(320, 180, 30), newFrame(320, 180)
	var seq uint16 = 65000 // wraps during the test
	answered, keyAt := 0, -1
	multiPacket := false
	for frameIndex = 0; frameIndex < streamFrames; frameIndex++ {
		now = start.Add(time.Duration(frameIndex) * frameGap)
		pic.render(img, int64(frameIndex))
		askKey := len(requests) > answered // the sender answers a request with the next frame
		answered = len(requests)
		data, err := enc.encode(img, askKey)
		if err != nil || len(data) == 0 {
			t.Fatalf("frame %d: %v", frameIndex, err)
		}
		if askKey && frameIndex > cutFirstFrame && keyAt < 0 {
			keyAt = frameIndex
		}
		payloads := payloader.Payload(300, data) // small MTU: frames span packets
		multiPacket = multiPacket || len(payloads) > 2
		for j, pl := range payloads {
			p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq,
				Timestamp: uint32(frameIndex) * 3000, Marker: j == len(payloads)-1, SSRC: 1}, Payload: pl}
			seq++
			cut := frameIndex == cutFirstFrame && j > 0 || frameIndex > cutFirstFrame && frameIndex < cutFirstFrame+cutFrames
			if !cut {
				tr.WriteRTP(p)
			}
		}
	}
	if !multiPacket {
		t.Fatal("frames fit one packet: the test would not cover reassembly")
	}
	back := cutFirstFrame + cutFrames // first frame whose packets arrive again
	// 1. A key-frame request soon after the packets return: within the
	//    bounded wait (150 ms = 5 frames at 30 fps) plus a frame.
	var after []int
	for _, r := range requests {
		if r >= back {
			after = append(after, r)
		}
	}
	if len(after) == 0 || after[0] > back+6 {
		t.Fatalf("key-frame requests at frames %v; want one by frame %d", requests, back+6)
	}
	// Rate limit: at most one per 300 ms (9 frames) while unsynced.
	for i := 1; i < len(after); i++ {
		if after[i]-after[i-1] < 9 {
			t.Errorf("key-frame requests at frames %v: more than one per 300 ms", after)
		}
	}
	// 2. Nothing decoded between the cut and the key frame that answered.
	if keyAt < 0 {
		t.Fatal("no key frame was sent after the cut")
	}
	firstAfter := -1
	for _, d := range decoded {
		if d.index >= cutFirstFrame && firstAfter < 0 {
			firstAfter = d.index
			if !d.key || d.index != keyAt {
				t.Errorf("first frame decoded after the cut: %d (key %v); want the key frame %d", d.index, d.key, keyAt)
			}
		}
	}
	// 3. Decoding resumed on the key frame: every later frame decoded once.
	st := tr.Stats()
	if want := streamFrames - keyAt; len(decoded)-cutFirstFrame != want {
		t.Errorf("%d frames decoded after the cut, want %d (frames %d..%d)", len(decoded)-cutFirstFrame, want, keyAt, streamFrames-1)
	}
	if st.DecodeErrors != 0 {
		t.Errorf("%d decode errors", st.DecodeErrors)
	}
	// 4. The stall is one freeze lasting from the last frame before the
	//    cut to the key frame.
	wantFreeze := time.Duration(keyAt-(cutFirstFrame-1)) * frameGap
	if st.Freezes != 1 || time.Duration(st.FreezeMillis)*time.Millisecond < wantFreeze-time.Millisecond {
		t.Errorf("freezes %d, %d ms; want 1, %v", st.Freezes, st.FreezeMillis, wantFreeze)
	}
	t.Logf("%s: cut frames %d..%d, key frame requested at %v, decoded again from frame %d; freeze %d ms",
		codec, cutFirstFrame, back-1, after, keyAt, st.FreezeMillis)
}
