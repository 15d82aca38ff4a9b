package capture

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/pion/mediadevices/pkg/wave"
	"github.com/pion/webrtc/v4"

	"github.com/callctl/callctl/pkg/sdk"
)

var _ sdk.MediaSource = (*AudioSource)(nil)

// opusClock paces 20 ms Opus packets.
var opusClock = clock{rate: 50}

// AudioSource is a synthetic audio source: a cadenced sine tone encoded as
// 20 ms Opus packets in real time and written into one
// webrtc.TrackLocalStaticSample.
type AudioSource struct {
	opts  AudioOptions
	codec webrtc.RTPCodecCapability
	track *webrtc.TrackLocalStaticSample
	tone  *tone
	pcm   *wave.Int16Interleaved // reused 20 ms input chunk
	enc   *opusEncoder
	out   trackWriter
	stats layerCounters
	run   runner

	paused atomic.Bool
}

// NewToneAudio creates a synthetic Opus audio source. Its encoder is
// created at once; call Start to begin producing packets and Close to
// release it.
func NewToneAudio(opts AudioOptions) (*AudioSource, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	codec := webrtc.RTPCodecCapability{
		MimeType:    webrtc.MimeTypeOpus,
		ClockRate:   48000,
		Channels:    2,
		SDPFmtpLine: "minptime=10;useinbandfec=1",
	}
	binds := new(atomic.Uint32)
	track, err := newSampleTrack(codec, opts.TrackID, opts.StreamID, binds)
	if err != nil {
		return nil, fmt.Errorf("capture: audio track: %w", err)
	}
	enc, err := newOpusEncoder(opts.Channels, opts.Bitrate)
	if err != nil {
		return nil, err
	}
	s := &AudioSource{
		opts:  opts,
		codec: codec,
		track: track,
		tone:  newTone(opts.Frequency, opts.LevelDBFS, opts.Channels, opts.ToneOn, opts.ToneOff),
		pcm: wave.NewInt16Interleaved(wave.ChunkInfo{
			Len:          opusPacketSamples,
			Channels:     opts.Channels,
			SamplingRate: toneSampleRate,
		}),
		enc: enc,
	}
	s.out = newTrackWriter(track, opusClock, codec.ClockRate, binds, &s.stats)
	return s, nil
}

// Kind returns webrtc.RTPCodecTypeAudio.
func (s *AudioSource) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }

// Codec returns audio/opus, 48 kHz, 2 channels, "minptime=10;useinbandfec=1".
func (s *AudioSource) Codec() webrtc.RTPCodecCapability { return s.codec }

// Tracks returns the source's single *webrtc.TrackLocalStaticSample.
func (s *AudioSource) Tracks() []webrtc.TrackLocal { return []webrtc.TrackLocal{s.track} }

// Options returns the options in effect, defaults filled in.
func (s *AudioSource) Options() AudioOptions { return s.opts }

// Start starts the pacing goroutine. It runs until ctx is done or Close.
func (s *AudioSource) Start(ctx context.Context) error {
	return s.run.start(ctx, func(ctx context.Context) { pace(ctx, opusClock, s.tick) })
}

// RequestKeyFrame does nothing: Opus has no key frames.
func (s *AudioSource) RequestKeyFrame(int) {}

// SetPaused stops (true) or resumes (false) the source. While paused
// nothing is encoded or written; the RTP timestamps jump over the pause.
func (s *AudioSource) SetPaused(paused bool) { s.paused.Store(paused) }

// Stats returns a snapshot of the counters (a single layer).
func (s *AudioSource) Stats() SourceStats {
	return SourceStats{Layers: []LayerStats{s.stats.snapshot()}}
}

// Close stops the pacing goroutine, waits for it and frees the encoder. It
// is idempotent.
func (s *AudioSource) Close() error {
	return s.run.close(s.enc.close)
}

// tick encodes and writes the packet of slot. It runs on the pacing
// goroutine only.
func (s *AudioSource) tick(slot, missed int64) {
	if s.paused.Load() {
		return
	}
	s.stats.framesDropped.Add(uint64(missed))
	s.tone.fill(s.pcm.Data, slot*opusPacketSamples)
	sendOpus(s.enc, s.pcm, &s.stats, &s.out, slot)
}
