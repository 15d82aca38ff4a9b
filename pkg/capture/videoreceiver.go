package capture

import (
	"fmt"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/callctl/callctl/pkg/sdk"
)

// keyFrameRequestInterval rate-limits key-frame requests: a lossy link
// loses many frames in a row, and one request per loss would flood the
// server (and the sender, which answers each with a large key frame).
const keyFrameRequestInterval = 300 * time.Millisecond

// videoReceiver assembles frames (frameAssembler) and decodes them.
//
// Recovery: when a missing packet is given up, the frames after it refer
// to a picture the decoder never got, so the receiver asks for a key frame
// at once and drops every frame until one arrives; the stall shows in the
// freeze statistics as the gap between the last frame before the loss and
// the key frame. With NoDecode the same rules decide what is counted.
type videoReceiver struct {
	sink    *ReceiveSink
	info    sdk.TrackInfo
	asm     *frameAssembler
	decode  func([]byte) (decodedPicture, error)
	release func()
	keyOf   func([]byte) bool
	rec     trackRecorder

	// Used only by the WriteRTP goroutine.
	lastKeyRequest time.Time
	keyRequests    int  // key frames asked for (tests read it)
	synced         bool // a key frame was decoded since the last loss or error

	mu     sync.Mutex // guards the following
	meter  frameMeter
	stats  sdk.ReceiveStats
	stamps videoStamps
}

func (s *ReceiveSink) newVideoReceiver(info sdk.TrackInfo, mime string, rec trackRecorder) *videoReceiver {
	v := &videoReceiver{sink: s, info: info, rec: rec, stamps: newVideoStamps(info)}
	var dep func() rtp.Depacketizer
	var newDecoder func() (func([]byte) (decodedPicture, error), func(), error)
	if mime == "video/vp8" {
		dep, v.keyOf = func() rtp.Depacketizer { return &codecs.VP8Packet{} }, isVP8KeyFrame
		newDecoder = func() (func([]byte) (decodedPicture, error), func(), error) {
			d, err := newVP8Decoder()
			if err != nil {
				return nil, nil, fmt.Errorf("vp8 decoder: %w", err)
			}
			return d.decodeStamped, d.close, nil
		}
	} else {
		dep, v.keyOf = func() rtp.Depacketizer { return &codecs.H264Packet{} }, isH264KeyFrame
		newDecoder = func() (func([]byte) (decodedPicture, error), func(), error) {
			d, err := newH264Decoder()
			if err != nil {
				return nil, nil, fmt.Errorf("h264 decoder: %w", err)
			}
			return d.decodeStamped, d.close, nil
		}
	}
	if !s.opts.NoDecode {
		var err error
		if v.decode, v.release, err = newDecoder(); err != nil {
			s.fail(err)
		}
	}
	v.asm = newFrameAssembler(dep, v.keyOf, info.ClockRate, func() time.Time { return s.now() })
	if info.StampEpochMs != 0 {
		s.av.register(info.PeerID, nil, v)
	}
	return v
}

func (v *videoReceiver) WriteRTP(p *rtp.Packet) {
	if v.rec != nil {
		v.rec.WriteRTP(p)
	}
	for _, f := range v.asm.push(p) {
		v.frame(f)
	}
}

func (v *videoReceiver) frame(f assembledFrame) {
	now := v.sink.now()
	if f.afterLoss {
		v.synced = false
	}
	key := v.keyOf(f.data)
	if !v.synced && !key {
		v.askKeyFrame(now) // a decoder must (re)start at a key frame
		return
	}
	var pic decodedPicture
	var err error
	switch {
	case v.decode != nil:
		pic, err = v.decode(f.data)
	case key:
		pic.w, pic.h = frameSize(f.data, v.info.MimeType)
	}
	if err != nil {
		v.synced = false
		v.askKeyFrame(now)
		v.mu.Lock()
		v.stats.DecodeErrors++
		v.mu.Unlock()
		return
	}
	if key {
		v.synced = true
	}
	v.count(now, key, pic)
}

func (v *videoReceiver) count(now time.Time, key bool, pic decodedPicture) {
	w, h := pic.w, pic.h
	v.mu.Lock()
	defer v.mu.Unlock()
	if key {
		v.stats.KeyFrames++
	}
	if v.decode != nil && w == 0 {
		return // no picture out of this frame
	}
	if w > 0 {
		v.stats.Width, v.stats.Height = w, h
	}
	v.stats.FramesDecoded++
	v.meter.frame(now)
	if pic.stamped {
		v.stamps.frame(now, pic.stamp)
	}
}

// askKeyFrame requests a key frame, at most once per
// keyFrameRequestInterval.
func (v *videoReceiver) askKeyFrame(now time.Time) {
	if v.info.RequestKeyFrame == nil || now.Sub(v.lastKeyRequest) < keyFrameRequestInterval {
		return
	}
	v.lastKeyRequest = now
	v.keyRequests++
	v.info.RequestKeyFrame()
}

func (v *videoReceiver) Stats() sdk.ReceiveStats {
	v.mu.Lock()
	s := v.stats
	now := v.sink.now()
	s.FPS = v.meter.fps(now)
	s.Freezes, s.FreezeMillis = v.meter.freezes, v.meter.freezeDur.Milliseconds()
	v.stamps.fill(&s, now, v.meter.frozenFrames)
	v.mu.Unlock()
	if s.Delay != nil {
		s.AVOffset = v.sink.avOffset(v.info.PeerID)
	}
	return s
}

func (v *videoReceiver) Close() error {
	v.sink.av.unregister(v.info.PeerID, nil, v)
	if v.release != nil {
		v.release()
	}
	if v.rec != nil {
		return v.rec.Close()
	}
	return nil
}
