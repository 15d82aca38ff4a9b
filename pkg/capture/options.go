package capture

import (
	"fmt"
	"strings"
	"time"
)

// Codec names accepted in VideoOptions.Codec.
const (
	CodecVP8  = "vp8"
	CodecH264 = "h264"
)

// Defaults applied by NewSyntheticVideo and NewToneAudio to zero options.
const (
	DefaultWidth            = 1280
	DefaultHeight           = 720
	DefaultFPS              = 30
	DefaultVideoBitrate     = 1_000_000 // single-layer video, bits per second
	DefaultKeyFrameInterval = 2 * time.Second
	DefaultVideoTrackID     = "video"
	DefaultAudioTrackID     = "audio"
	DefaultStreamID         = "callctl"

	DefaultAudioChannels   = 2
	DefaultAudioBitrate    = 32_000
	DefaultToneFrequency   = 440.0
	DefaultToneLevelDBFS   = -12.0
	DefaultToneOnDuration  = time.Second
	DefaultToneOffDuration = time.Second
)

// h264MaxMacroblocks is the frame size limit of H.264 level 5.2, the
// highest openh264 encodes.
const h264MaxMacroblocks = 36864

// simulcastRIDs are the RIDs of the three simulcast tracks, low to high.
var simulcastRIDs = [...]string{"r0", "r1", "r2"}

// VideoOptions configures NewSyntheticVideo. Zero fields take defaults.
type VideoOptions struct {
	// Width and Height are the full (top layer) resolution; both even.
	// Default 1280x720.
	Width, Height int
	// FPS is the frame rate of every layer, 1 to 60. Default 30.
	FPS int
	// Codec is the video codec: "vp8" (the default, libvpx) or "h264"
	// (openh264, constrained baseline).
	Codec string
	// Layers is 1 (default, no simulcast) or 3: simulcast of quarter, half
	// and full resolution, each from the same generated frames with its own
	// encoder.
	Layers int
	// Bitrates are the target bitrates in bits per second, one per layer,
	// low to high. Default for one layer 1 Mbps; for three layers chosen by
	// each layer's pixel count: 150k, 500k and 1500k for 320x180, 640x360
	// and 1280x720, interpolated linearly in between (and extrapolated, at
	// least 30k) for other sizes.
	Bitrates []int
	// KeyFrameInterval is the maximum time between key frames. Default 2 s.
	KeyFrameInterval time.Duration
	// TrackID and StreamID name the track(s). Default "video" and "callctl".
	TrackID, StreamID string
}

// withDefaults validates o and fills in its zero fields.
func (o VideoOptions) withDefaults() (VideoOptions, error) {
	if o.Width == 0 && o.Height == 0 {
		o.Width, o.Height = DefaultWidth, DefaultHeight
	}
	if o.FPS == 0 {
		o.FPS = DefaultFPS
	}
	if o.Codec == "" {
		o.Codec = CodecVP8
	}
	o.Codec = strings.ToLower(o.Codec)
	if o.Layers == 0 {
		o.Layers = 1
	}
	if o.KeyFrameInterval == 0 {
		o.KeyFrameInterval = DefaultKeyFrameInterval
	}
	if o.TrackID == "" {
		o.TrackID = DefaultVideoTrackID
	}
	if o.StreamID == "" {
		o.StreamID = DefaultStreamID
	}

	switch {
	case o.Codec != CodecVP8 && o.Codec != CodecH264:
		return o, fmt.Errorf("%w %q (want %q or %q)", ErrUnsupportedCodec, o.Codec, CodecVP8, CodecH264)
	case o.Width <= 0 || o.Height <= 0 || o.Width%2 != 0 || o.Height%2 != 0:
		return o, fmt.Errorf("%w: size %dx%d: width and height must be positive and even", ErrInvalidOptions, o.Width, o.Height)
	case o.Codec == CodecVP8 && (o.Width > 16383 || o.Height > 16383):
		return o, fmt.Errorf("%w: size %dx%d exceeds VP8's 16383x16383", ErrInvalidOptions, o.Width, o.Height)
	case o.Codec == CodecH264 && (o.Width > 4096 || o.Height > 4096 || (o.Width+15)/16*((o.Height+15)/16) > h264MaxMacroblocks):
		return o, fmt.Errorf("%w: size %dx%d exceeds H.264 level 5.2 (at most 4096 wide or high, %d macroblocks)",
			ErrInvalidOptions, o.Width, o.Height, h264MaxMacroblocks)
	case o.FPS < 1 || o.FPS > 60:
		return o, fmt.Errorf("%w: fps %d not in 1..60", ErrInvalidOptions, o.FPS)
	case o.Layers != 1 && o.Layers != 3:
		return o, fmt.Errorf("%w: %d layers (want 1 or 3)", ErrInvalidOptions, o.Layers)
	case o.KeyFrameInterval < 0:
		return o, fmt.Errorf("%w: negative key frame interval", ErrInvalidOptions)
	case o.Bitrates != nil && len(o.Bitrates) != o.Layers:
		return o, fmt.Errorf("%w: %d bitrates for %d layers", ErrInvalidOptions, len(o.Bitrates), o.Layers)
	}
	for _, b := range o.Bitrates {
		if b < 1000 {
			return o, fmt.Errorf("%w: bitrate %d below 1 kbps", ErrInvalidOptions, b)
		}
	}
	return o, nil
}

// layerSizes returns the resolution of each layer, low to high: the full
// size, then each lower layer half of the one above (rounded down to even).
func (o VideoOptions) layerSizes() ([][2]int, error) {
	sizes := make([][2]int, o.Layers)
	w, h := o.Width, o.Height
	for i := o.Layers - 1; i >= 0; i-- {
		if w < 16 || h < 16 {
			return nil, fmt.Errorf("%w: size %dx%d too small for %d layers", ErrInvalidOptions, o.Width, o.Height, o.Layers)
		}
		sizes[i] = [2]int{w, h}
		w, h = evenFloor(w/2), evenFloor(h/2)
	}
	return sizes, nil
}

// ladderBitrate is the default bitrate of a simulcast layer of w x h pixels:
// piecewise linear in the pixel count through the 180p/360p/720p rungs.
func ladderBitrate(w, h int) int {
	type rung struct{ pixels, bitrate float64 }
	rungs := [...]rung{{320 * 180, 150_000}, {640 * 360, 500_000}, {1280 * 720, 1_500_000}}
	px := float64(w * h)
	lo, hi := rungs[0], rungs[1]
	if px > rungs[1].pixels {
		lo, hi = rungs[1], rungs[2]
	}
	b := lo.bitrate + (px-lo.pixels)*(hi.bitrate-lo.bitrate)/(hi.pixels-lo.pixels)
	return max(30_000, int(b))
}

// AudioOptions configures NewToneAudio. Zero fields take defaults.
type AudioOptions struct {
	// Channels is the number of channels encoded, 1 or 2 (default 2). The
	// RTP codec is opus/48000/2 either way, as Opus requires.
	Channels int
	// Bitrate is the Opus target bitrate in bits per second. Default 32 kbps.
	Bitrate int
	// Frequency of the tone in Hz. Default 440.
	Frequency float64
	// LevelDBFS is the tone's peak level, below 0 dBFS. Default (0) -12.
	LevelDBFS float64
	// ToneOn and ToneOff set the beep cadence. Default 1 s on, 1 s off.
	ToneOn, ToneOff time.Duration
	// Continuous plays the tone without pauses (ToneOn/ToneOff unused).
	Continuous bool
	// TrackID and StreamID name the track. Default "audio" and "callctl".
	TrackID, StreamID string
}

func (o AudioOptions) withDefaults() (AudioOptions, error) {
	if o.Channels == 0 {
		o.Channels = DefaultAudioChannels
	}
	if o.Bitrate == 0 {
		o.Bitrate = DefaultAudioBitrate
	}
	if o.Frequency == 0 {
		o.Frequency = DefaultToneFrequency
	}
	if o.LevelDBFS == 0 {
		o.LevelDBFS = DefaultToneLevelDBFS
	}
	if o.ToneOn == 0 {
		o.ToneOn = DefaultToneOnDuration
	}
	if o.ToneOff == 0 {
		o.ToneOff = DefaultToneOffDuration
	}
	if o.Continuous {
		o.ToneOff = 0
	}
	if o.TrackID == "" {
		o.TrackID = DefaultAudioTrackID
	}
	if o.StreamID == "" {
		o.StreamID = DefaultStreamID
	}
	switch {
	case o.Channels != 1 && o.Channels != 2:
		return o, fmt.Errorf("%w: %d audio channels (want 1 or 2)", ErrInvalidOptions, o.Channels)
	case o.Bitrate < 6000 || o.Bitrate > 510_000:
		return o, fmt.Errorf("%w: opus bitrate %d not in 6000..510000", ErrInvalidOptions, o.Bitrate)
	case o.Frequency < 0 || o.Frequency >= toneSampleRate/2:
		return o, fmt.Errorf("%w: tone frequency %g Hz", ErrInvalidOptions, o.Frequency)
	case o.LevelDBFS > 0:
		return o, fmt.Errorf("%w: tone level %g dBFS above full scale", ErrInvalidOptions, o.LevelDBFS)
	case o.ToneOn < 0 || o.ToneOff < 0:
		return o, fmt.Errorf("%w: negative tone cadence", ErrInvalidOptions)
	}
	return o, nil
}
