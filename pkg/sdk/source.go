package sdk

import (
	"context"

	"github.com/pion/webrtc/v4"
)

// MediaSource is what the SDK publishes: one audio or video producer.
//
// The SDK never opens devices or encoders itself; pkg/capture provides
// implementations (synthetic, device and pre-encoded sources) and embedders
// may bring their own. A source owns its pacing goroutine(s): it writes
// encoded samples into the tracks it returns from Tracks once Start has been
// called, until Close.
type MediaSource interface {
	// Kind is webrtc.RTPCodecTypeAudio or webrtc.RTPCodecTypeVideo.
	Kind() webrtc.RTPCodecType
	// Codec is the codec the source emits (MimeType, ClockRate, Channels,
	// SDPFmtpLine). The SDK registers exactly this codec for sending.
	Codec() webrtc.RTPCodecCapability
	// Tracks returns one track per encoding, ordered low to high quality
	// (index = spatial layer). A single-element slice means no simulcast.
	// For more than one element every track must share ID and StreamID and
	// carry a distinct non-empty RID (pion's AddEncoding rules).
	Tracks() []webrtc.TrackLocal
	// Start begins writing samples. It returns at once; the source stops when
	// ctx is cancelled or Close is called.
	Start(ctx context.Context) error
	// RequestKeyFrame asks the encoder (or replayer) of one layer for a key
	// frame as soon as possible. It is called on PLI/FIR from the server and
	// must not block.
	RequestKeyFrame(layer int)
	// SetPaused stops (true) or resumes (false) writing samples to every
	// track, without closing anything: while paused no RTP is sent.
	SetPaused(paused bool)
	// Close stops the source and releases its encoders; it waits for the
	// source's goroutines to end. Close is idempotent.
	Close() error
}

// LayerInfo describes one encoding of a video source, used to fill the
// producer's encodings (maxBitrate, scaleResolutionDownBy).
type LayerInfo struct {
	Width, Height int
	MaxBitrate    int // bits per second
}

// LayeredSource is implemented by video sources that can describe their
// encodings. Optional: without it the SDK announces encodings with SSRCs only.
type LayeredSource interface {
	Layers() []LayerInfo
}
