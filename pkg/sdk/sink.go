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
	// StampEpochMs and StampPeriodMs come from the producer's appData
	// (stampEpochMs, stampPeriodMs): the Unix time in ms that the capture
	// times stamped in the media count from, and the period after which
	// the stamped times repeat (0: the stamp's own modulus). Both are 0
	// when the producer announced no stamps.
	StampEpochMs  int64
	StampPeriodMs int64
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

	// Measured from stamped media (pkg/capture's test picture and tone);
	// absent for media without stamps. See docs/events.md.

	// StampedFrames counts decoded frames whose stamp was read.
	StampedFrames uint64 `json:"stampedFrames,omitempty"`
	// Delay is the video's end-to-end delay, capture to decode, over the
	// last few seconds; nil without a stamp epoch.
	Delay *DelayStats `json:"delayMs,omitempty"`
	// FramesLost counts source frames missing between decoded frames, at
	// the stream's own frame cadence; FramesDuplicated counts frames
	// decoded again (or older than one already shown); FramesFrozen counts
	// the frame slots during which a freeze kept an old picture on screen,
	// plus duplicated frames.
	FramesLost       uint64 `json:"framesLost,omitempty"`
	FramesDuplicated uint64 `json:"framesDuplicated,omitempty"`
	FramesFrozen     uint64 `json:"framesFrozen,omitempty"`
	// AudioDelay is the audio's median end-to-end delay over the last few
	// seconds, in ms, from the tone's timing markers.
	AudioDelay *float64 `json:"audioDelayMs,omitempty"`
	// AVOffset is the same peer's audio delay minus its video delay
	// (medians), in ms, on both of its streams when both are measured:
	// positive when the sound lags the picture.
	AVOffset *float64 `json:"avOffsetMs,omitempty"`
}

// DelayStats summarises delay samples, in ms.
type DelayStats struct {
	Median float64 `json:"median"`
	P95    float64 `json:"p95"`
	Max    float64 `json:"max"`
	// Samples is the number of measurements summarised.
	Samples int `json:"samples"`
}

// StampedSource is implemented by sources whose media carry capture-time
// stamps (pkg/capture's test picture and tone). The SDK puts the result
// into the producer's appData (stampEpochMs, stampPeriodMs), which the
// server forwards to consumers, so receivers can turn stamps into delay.
type StampedSource interface {
	// StampInfo returns the Unix time in ms the stamped capture times
	// count from (0: no stamps) and their period in ms (0: the stamp's
	// own modulus).
	StampInfo() (epochMs, periodMs int64)
}

// StampInfoOf is src's StampInfo, or zeros (no stamps) for a source that
// is not a StampedSource. Wrappers that embed a MediaSource (and so hide
// its optional interfaces) pass stamps on with it.
func StampInfoOf(src MediaSource) (epochMs, periodMs int64) {
	if ss, ok := src.(StampedSource); ok {
		return ss.StampInfo()
	}
	return 0, 0
}
