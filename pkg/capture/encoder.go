package capture

import "image"

// videoEncoder turns raw I420 frames into a codec's elementary stream, one
// encoded frame per call. It is driven by a single goroutine.
type videoEncoder interface {
	// encode encodes img; with keyFrame set the result is a key frame. An
	// empty result means the encoder dropped the frame.
	encode(img *image.YCbCr, keyFrame bool) ([]byte, error)
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
