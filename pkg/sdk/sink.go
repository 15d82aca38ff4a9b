package sdk

import "github.com/pion/rtp"

// ReceiveSink analyses (or records) what consumers receive. The SDK stays
// free of decoders: pkg/capture provides a sink that depacketizes and
// decodes VP8/H264 and Opus; embedders may bring their own.
type ReceiveSink interface {
	// OpenTrack is called once per consumer, before its first packet. It
	// returns nil to ignore the track.
	OpenTrack(info TrackInfo) TrackReceiver
}

// TrackInfo describes a received track.
type TrackInfo struct {
	ConsumerID string
	ProducerID string
	PeerID     string
	Kind       string // "audio" or "video"
	MimeType   string // e.g. "video/VP8"
	ClockRate  uint32
	Channels   uint16
	// RequestKeyFrame asks the server for a key frame on this consumer
	// (e.g. after a decoder lost sync). It does not block.
	RequestKeyFrame func()
	// ReportError surfaces a failure of the receiver (for example a
	// recording that cannot be written) as a non-fatal error event. It
	// does not block. Errors returned by Close are reported the same way.
	ReportError func(err error)
}

// TrackReceiver consumes one track's RTP. WriteRTP is called from a
// single goroutine per track, in arrival order; Stats from any goroutine.
type TrackReceiver interface {
	WriteRTP(pkt *rtp.Packet)
	Stats() ReceiveStats
	// Close is called once when the consumer or the call ends.
	Close() error
}

// ReceiveStats is what a TrackReceiver learned from the media.
type ReceiveStats struct {
	FramesDecoded uint64  `json:"framesDecoded"`
	KeyFrames     uint64  `json:"keyFramesDecoded"`
	Width         int     `json:"frameWidth,omitempty"`
	Height        int     `json:"frameHeight,omitempty"`
	FPS           float64 `json:"framesPerSecond"`
	Freezes       uint64  `json:"freezeCount"`
	FreezeMillis  int64   `json:"totalFreezesMs"`
	DecodeErrors  uint64  `json:"decodeErrors"`
	// AudioLevel is the RMS level of decoded audio over the last second,
	// in dBFS (-127 for silence).
	AudioLevel     float64 `json:"audioLevelDbfs,omitempty"`
	SamplesDecoded uint64  `json:"samplesDecoded,omitempty"`
}
