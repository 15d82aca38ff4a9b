package capture

import (
	"fmt"
	"image"
	"time"

	"github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/codec/vpx"
	"github.com/pion/mediadevices/pkg/frame"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
)

// Speed. mediadevices v0.9.4 exposes no cpu-used control, so libvpx runs
// with its default cpu-used 0: in realtime mode VP8 then picks its internal
// speed itself (vp8_auto_select_speed), between 4 and 16, slowing down while
// a frame's encode time stays well under the frame interval it assumes
// (33 ms, see vpxTiming) and speeding up when it exceeds it. The only speed knob
// the wrapper offers is the encode deadline, set to VPX_DL_REALTIME (1 µs)
// for realtime mode (the wrapper's default too; any deadline longer than
// the frame would select the slower "good quality" mode).
const vpxDeadlineRealtime = time.Microsecond

// vpxAssumedFPS is the frame rate VP8's rate control budgets for under
// mediadevices v0.9.4 (see vpxTiming): it allots bitrate/30 bits per frame
// whatever the real rate, so the bitrate handed to libvpx is scaled by
// vpxAssumedFPS/fps to hit the target at any frame rate.
const vpxAssumedFPS = 30

// vp8Encoder encodes with libvpx through mediadevices' vpx package.
type vp8Encoder struct {
	rc     codec.ReadCloser
	kf     codec.KeyFrameController
	br     codec.BitRateController
	fps    int
	cur    *image.YCbCr // the frame being encoded, handed to rc's reader
	timing vpxTiming
}

var _ videoEncoder = (*vp8Encoder)(nil)

func newVP8Encoder(cfg videoEncoderConfig) (*vp8Encoder, error) {
	params, err := vpx.NewVP8Params()
	if err != nil {
		return nil, fmt.Errorf("capture: vp8 params: %w", err)
	}
	params.BitRate = cfg.bitrate * vpxAssumedFPS / cfg.fps
	params.KeyFrameInterval = cfg.keyFrameEvery
	params.Deadline = vpxDeadlineRealtime
	// Real-time CBR in the spirit of libwebrtc's VP8 settings (the wrapper
	// does not expose the rate-control buffer sizes).
	params.RateControlEndUsage = vpx.RateControlCBR
	params.RateControlUndershootPercent = 100
	params.RateControlOvershootPercent = 15
	params.RateControlMinQuantizer = 2
	params.RateControlMaxQuantizer = 56
	params.LagInFrames = 0
	params.ErrorResilient = vpx.ErrorResilientDefault

	e := &vp8Encoder{}
	reader := video.ReaderFunc(func() (image.Image, func(), error) {
		return e.cur, func() {}, nil
	})
	rc, err := params.BuildVideoEncoder(reader, prop.Media{Video: prop.Video{
		Width:       cfg.width,
		Height:      cfg.height,
		FrameRate:   float32(cfg.fps),
		FrameFormat: frame.FormatI420,
	}})
	if err != nil {
		return nil, fmt.Errorf("capture: vp8 encoder %dx%d: %w", cfg.width, cfg.height, err)
	}
	kf, ok := rc.Controller().(codec.KeyFrameController)
	br, ok2 := rc.Controller().(codec.BitRateController)
	if !ok || !ok2 {
		_ = rc.Close()
		return nil, fmt.Errorf("capture: vp8 encoder cannot force key frames or change its bitrate")
	}
	e.rc, e.kf, e.br, e.fps, e.timing = rc, kf, br, cfg.fps, newVPXTiming()
	return e, nil
}

func (e *vp8Encoder) encode(img *image.YCbCr, keyFrame bool) ([]byte, error) {
	if keyFrame {
		if err := e.kf.ForceKeyFrame(); err != nil {
			return nil, err
		}
	}
	if wait := e.timing.wait(time.Now()); wait > 0 {
		time.Sleep(wait)
	}
	e.timing.called(time.Now())
	e.cur = img
	b, release, err := e.rc.Read()
	e.cur = nil
	if err != nil {
		return nil, err
	}
	release()
	return b, nil
}

// setBitrate changes the target bitrate (applied from the next frame),
// scaled like the initial one (vpxAssumedFPS).
func (e *vp8Encoder) setBitrate(bps int) error {
	return e.br.SetBitRate(bps * vpxAssumedFPS / e.fps)
}

// isKeyFrame reads the VP8 frame tag: bit 0 of the first byte is 0 on key
// frames (RFC 6386, section 9.1).
func (e *vp8Encoder) isKeyFrame(frame []byte) bool { return isVP8KeyFrame(frame) }

func isVP8KeyFrame(frame []byte) bool { return len(frame) > 0 && frame[0]&1 == 0 }

func (e *vp8Encoder) close() error { return e.rc.Close() }
