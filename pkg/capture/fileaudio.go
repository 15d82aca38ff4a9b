package capture

import (
	"cmp"
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/callctl/callctl/pkg/sdk"
)

var _ sdk.MediaSource = (*FileAudioSource)(nil)

// opusSampleClock counts 48 kHz samples: the replay schedules each Opus
// packet at its sample position.
var opusSampleClock = clock{rate: opusSampleRate}

// maxAudioLag is how late the replay may fall behind its schedule before
// it skips ahead (sending the late packets in a burst up to then).
const maxAudioLag = 100 * time.Millisecond

// FileAudioSource replays an Ogg Opus file in real time, looping, into one
// webrtc.TrackLocalStaticSample. Packets keep their own durations (2.5 to
// 120 ms, from their TOC bytes); the RTP timestamps follow the wall clock
// across loops and pauses. The file is loaded once per process and shared
// (see loadClip).
type FileAudioSource struct {
	opts  AudioFileOptions
	codec webrtc.RTPCodecCapability
	clip  *clip
	track *webrtc.TrackLocalStaticSample
	out   trackWriter
	stats layerCounters
	binds atomic.Uint32 // see newSampleTrack
	run   runner

	paused atomic.Bool
}

// NewFileAudio creates a replaying Opus source; it loads (or shares) the
// file at once. Call Start to begin sending and Close to stop.
func NewFileAudio(opts AudioFileOptions) (*FileAudioSource, error) {
	opts.TrackID = cmp.Or(opts.TrackID, DefaultAudioTrackID)
	opts.StreamID = cmp.Or(opts.StreamID, DefaultStreamID)
	if opts.Path == "" {
		return nil, fmt.Errorf("%w: no file given", ErrInvalidOptions)
	}
	c, err := loadClip(opts.Path)
	if err != nil {
		return nil, err
	}
	if c.codec != codecOpus {
		return nil, fmt.Errorf("%w: %s is %s video, not Ogg Opus", ErrInvalidMedia, opts.Path, c.codec)
	}
	codec := webrtc.RTPCodecCapability{
		MimeType:    webrtc.MimeTypeOpus,
		ClockRate:   opusSampleRate,
		Channels:    2,
		SDPFmtpLine: "minptime=10;useinbandfec=1",
	}
	s := &FileAudioSource{opts: opts, codec: codec, clip: c}
	track, err := newSampleTrack(codec, opts.TrackID, opts.StreamID, &s.binds)
	if err != nil {
		return nil, fmt.Errorf("capture: audio track: %w", err)
	}
	s.track = track
	s.out = newTrackWriter(track, opusSampleClock, codec.ClockRate, &s.binds, &s.stats)
	return s, nil
}

// Kind returns webrtc.RTPCodecTypeAudio.
func (s *FileAudioSource) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }

// Codec returns audio/opus, 48 kHz, 2 channels, "minptime=10;useinbandfec=1",
// whatever the file's channel count (Opus RTP always says 2).
func (s *FileAudioSource) Codec() webrtc.RTPCodecCapability { return s.codec }

// Tracks returns the source's single *webrtc.TrackLocalStaticSample.
func (s *FileAudioSource) Tracks() []webrtc.TrackLocal { return []webrtc.TrackLocal{s.track} }

// Options returns the options in effect.
func (s *FileAudioSource) Options() AudioFileOptions { return s.opts }

// Start starts the pacing goroutine. It runs until ctx is done or Close.
func (s *FileAudioSource) Start(ctx context.Context) error {
	return s.run.start(ctx, s.play)
}

// RequestKeyFrame does nothing: Opus has no key frames.
func (s *FileAudioSource) RequestKeyFrame(int) {}

// SetPaused stops (true) or resumes (false) the source. While paused
// nothing is written and the file does not advance; the RTP timestamps
// jump over the pause.
func (s *FileAudioSource) SetPaused(paused bool) { s.paused.Store(paused) }

// Stats returns a snapshot of the counters (a single layer). FramesEncoded
// counts the packets taken from the file.
func (s *FileAudioSource) Stats() SourceStats {
	return SourceStats{Layers: []LayerStats{s.stats.snapshot()}}
}

// Close stops the pacing goroutine and waits for it. It is idempotent.
func (s *FileAudioSource) Close() error {
	return s.run.close(func() error { return nil })
}

// play sends the packets, each at its sample position on the wall clock,
// until ctx is done.
func (s *FileAudioSource) play(ctx context.Context) {
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var at int64 // sample position of the next packet
	next := 0    // index of the next packet
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		now := opusSampleClock.slot(time.Since(start))
		for at <= now {
			if lag := opusSampleClock.span(at, now); lag > maxAudioLag {
				// Too far behind (a stall): skip the schedule ahead rather
				// than burst; the file goes on where it was.
				// Whole 20 ms packets, so that the RTP timestamp stays on
				// the 20 ms grid of the packets already sent.
				skip := (now - at) / opusPacketSamples
				s.stats.framesDropped.Add(uint64(skip))
				at += skip * opusPacketSamples
			}
			if s.paused.Load() {
				at += opusPacketSamples // keep time, send nothing
				continue
			}
			p := s.clip.frames[next]
			s.stats.encoded(len(p.data), false)
			s.out.writeTicks(at, at+int64(p.samples), p.data)
			at += int64(p.samples)
			if next++; next == len(s.clip.frames) {
				next = 0
			}
		}
		timer.Reset(time.Until(start.Add(opusSampleClock.at(at))))
	}
}
