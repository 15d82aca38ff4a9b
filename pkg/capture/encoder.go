package capture

import (
	"image"

	"github.com/pion/webrtc/v4"
)

// videoEncoder turns raw I420 frames into a codec's elementary stream, one
// encoded frame per call. It is driven by a single goroutine.
type videoEncoder interface {
	// encode encodes img; with keyFrame set the result is a key frame. An
	// empty result means the encoder dropped the frame.
	encode(img *image.YCbCr, keyFrame bool) ([]byte, error)
	// setBitrate changes the target bitrate (bits per second) from the
	// next frame on; called on the encoding goroutine.
	setBitrate(bps int) error
	// isKeyFrame reports whether an encoded frame is a key frame.
	isKeyFrame(frame []byte) bool
	close() error
}

// videoEncoderConfig configures one video encoder (one simulcast layer).
type videoEncoderConfig struct {
	width, height int
	fps           int
	bitrate       int // bits per second
	keyFrameEvery int // maximum key-frame distance, in frames
}

// newVideoEncoder creates an encoder for codec (CodecVP8 or CodecH264).
func newVideoEncoder(codec string, cfg videoEncoderConfig) (videoEncoder, error) {
	if codec == CodecH264 {
		return newH264Encoder(cfg)
	}
	return newVP8Encoder(cfg)
}

// videoCodec is the RTP codec a video encoder of codec emits.
func videoCodec(codec string) webrtc.RTPCodecCapability {
	if codec == CodecH264 {
		return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264FmtpLine}
	}
	return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
}
