package capture

import (
	"os"
	"fmt"
	"image"
	"time"

	"github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/codec/vpx"
	"github.com/pion/mediadevices/pkg/frame"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
)

// vpxDeadlineRealtime is libvpx's VPX_DL_REALTIME (1 µs): with a deadline
// shorter than the frame duration libvpx encodes in its realtime mode.
//
// mediadevices v0.9.4 exposes no cpu-used (speed) control, so libvpx runs
// with its default cpu-used 0. In realtime mode VP8 then picks its internal
// speed by itself, aiming to keep the encode time of a frame within the frame
// interval (vp8_auto_select_speed); the deadline is the only speed knob
// available.
const vpxDeadlineRealtime = time.Microsecond

// Rate control. mediadevices v0.9.4's vpx wrapper declares a millisecond
// timebase to libvpx but passes timestamps and durations in microseconds
// (the duration being the wall-clock gap since its previous encode call).
// libvpx thus sees frames a thousand times too long, and its frame-rate
// estimate, from which VP8's rate control derives each frame's bit budget,
// is garbage: mostly replaced by a 30 fps fallback, but under timing jitter
// its running average drifts into plausible values and single frames get
// budgets of seconds of bitrate. Measured: bursts of 30 KB P-frames and
// 1.5-2.5x the target over 3 s at 640x360@30, 500 kbps.
//
// So libvpx's own rate control is bypassed: the quantizer is pinned
// (min = max) and moved one step per frame by mediadevices' QPController
// (DynamicQPControl, dead band 15 %, range 20-63) to hold the bitrate
// measured over a sliding window, which spans a key-frame interval so that
// periodic key frames do not make it oscillate.
const (
	vpxInitialQ   = 40
	minRateWindow = 2 * time.Second
	maxRateWindow = 5 * time.Second
)

// vp8Encoder encodes with libvpx through mediadevices' vpx package.
type vp8Encoder struct {
	rc     codec.ReadCloser
	kf     codec.KeyFrameController
	qp     codec.QPController
	rate   *codec.BitrateTracker
	target int          // bits per second
	cur    *image.YCbCr // the frame being encoded, handed to rc's reader
}

var _ videoEncoder = (*vp8Encoder)(nil)

func newVP8Encoder(cfg videoEncoderConfig) (*vp8Encoder, error) {
	params, err := vpx.NewVP8Params()
	if err != nil {
		return nil, fmt.Errorf("capture: vp8 params: %w", err)
	}
	params.BitRate = cfg.bitrate
	params.KeyFrameInterval = cfg.keyFrameEvery
	params.Deadline = vpxDeadlineRealtime
	params.RateControlEndUsage = vpx.RateControlCBR
	params.RateControlMinQuantizer = vpxInitialQ // pinned, see Rate control
	params.RateControlMaxQuantizer = vpxInitialQ
	params.LagInFrames = 0
	if expCBR {
		params.BitRate = cfg.bitrate * 30 / cfg.fps
		params.RateControlUndershootPercent = 100
		params.RateControlOvershootPercent = 15
		params.RateControlMinQuantizer = 2
		params.RateControlMaxQuantizer = 56
	}
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
	kf, ok1 := rc.Controller().(codec.KeyFrameController)
	qp, ok2 := rc.Controller().(codec.QPController)
	if !ok1 || !ok2 {
		_ = rc.Close()
		return nil, fmt.Errorf("capture: vp8 encoder lacks key-frame or QP control")
	}
	window := time.Duration(cfg.keyFrameEvery) * time.Second / time.Duration(cfg.fps)
	e.rc, e.kf, e.qp = rc, kf, qp
	e.rate = codec.NewBitrateTracker(min(max(window, minRateWindow), maxRateWindow))
	e.target = cfg.bitrate
	return e, nil
}

func (e *vp8Encoder) encode(img *image.YCbCr, keyFrame bool) ([]byte, error) {
	if keyFrame {
		if err := e.kf.ForceKeyFrame(); err != nil {
			return nil, err
		}
	}
	e.cur = img
	b, release, err := e.rc.Read()
	e.cur = nil
	if err != nil {
		return nil, err
	}
	release()
	if expCBR {
		return b, nil
	}
	e.rate.AddFrame(len(b), time.Now())
	if err := e.qp.DynamicQPControl(int(e.rate.GetBitrate()), e.target); err != nil {
		return nil, err
	}
	return b, nil
}

// isKeyFrame reads the VP8 frame tag: bit 0 of the first byte is 0 on key
// frames (RFC 6386, section 9.1).
func (e *vp8Encoder) isKeyFrame(frame []byte) bool { return isVP8KeyFrame(frame) }

func isVP8KeyFrame(frame []byte) bool { return len(frame) > 0 && frame[0]&1 == 0 }

func (e *vp8Encoder) close() error { return e.rc.Close() }

var expCBR = os.Getenv("CBR") != ""
