package capture

import (
	"cmp"
	"context"
	"fmt"
	"sync/atomic"

	"github.com/pion/webrtc/v4"

	"github.com/callctl/callctl/pkg/sdk"
)

var (
	_ sdk.MediaSource   = (*FileVideoSource)(nil)
	_ sdk.LayeredSource = (*FileVideoSource)(nil)
)

// FileVideoSource replays pre-encoded video (VP8 IVF or H264 Annex-B
// files) in real time, one file per layer, without encoding anything: the
// cheap way to run many publishers in one process.
//
// Each layer loops over its file; the RTP timestamps follow the wall clock
// across loops and pauses, as for the live sources. A key-frame request
// makes the layer jump ahead to the next key frame of its file (index built
// at load), so it is answered within one GOP of the file; the content then
// skips, which does not matter for test clips. Files are loaded into
// memory once per process and shared between sources (see loadClip).
//
// One pacing goroutine writes every layer's frames: replay costs little
// more than the packetisation.
type FileVideoSource struct {
	opts   FileOptions
	codec  webrtc.RTPCodecCapability
	clock  clock
	layers []*fileLayer
	run    runner

	paused    atomic.Bool
	wasPaused bool // owned by the pacing goroutine
}

// fileLayer is one encoding of a FileVideoSource.
type fileLayer struct {
	clip  *clip
	info  sdk.LayerInfo
	track *webrtc.TrackLocalStaticSample
	out   trackWriter
	stats layerCounters

	keyFrameRequested atomic.Bool
	next              int // index of the next frame to send; pacing goroutine only
}

// NewFileVideo creates a replaying video source; it loads (or shares) the
// files at once. Call Start to begin sending and Close to stop.
func NewFileVideo(opts FileOptions) (*FileVideoSource, error) {
	files, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	clips := make([]*clip, len(files))
	for i, f := range files {
		if clips[i], err = loadClip(f); err != nil {
			return nil, err
		}
	}
	codec := clips[0].codec
	fps := opts.FPS
	if fps == 0 {
		fps = cmp.Or(clips[len(clips)-1].fps, DefaultFileFPS)
	}
	for i, c := range clips {
		switch {
		case c.codec == codecOpus:
			return nil, fmt.Errorf("%w: %s is audio", ErrInvalidMedia, files[i])
		case c.codec != codec:
			return nil, fmt.Errorf("%w: %s is %s, %s is %s", ErrInvalidMedia, files[0], codec, files[i], c.codec)
		case i > 0 && c.width*c.height <= clips[i-1].width*clips[i-1].height:
			return nil, fmt.Errorf("%w: layer %s (%dx%d) is not larger than %s (%dx%d)", ErrInvalidOptions,
				files[i], c.width, c.height, files[i-1], clips[i-1].width, clips[i-1].height)
		}
	}
	opts.Codec = codec
	opts.FPS = fps
	s := &FileVideoSource{
		opts:  opts,
		codec: videoCodec(codec),
		clock: clock{rate: int64(fps)},
	}
	for i, c := range clips {
		var trackOpts []func(*webrtc.TrackLocalStaticRTP)
		if len(clips) > 1 {
			trackOpts = append(trackOpts, webrtc.WithRTPStreamID(simulcastRIDs[i]))
		}
		binds := new(atomic.Uint32)
		track, err := newSampleTrack(s.codec, opts.TrackID, opts.StreamID, binds, trackOpts...)
		if err != nil {
			return nil, fmt.Errorf("capture: video track: %w", err)
		}
		l := &fileLayer{
			clip:  c,
			info:  sdk.LayerInfo{Width: c.width, Height: c.height, MaxBitrate: c.bitrate(fps)},
			track: track,
		}
		l.out = newTrackWriter(track, s.clock, s.codec.ClockRate, binds, &l.stats)
		s.layers = append(s.layers, l)
	}
	return s, nil
}

// Kind returns webrtc.RTPCodecTypeVideo.
func (s *FileVideoSource) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeVideo }

// Codec returns video/VP8 or video/H264 (as the files are) at 90 kHz.
func (s *FileVideoSource) Codec() webrtc.RTPCodecCapability { return s.codec }

// Tracks returns one *webrtc.TrackLocalStaticSample per layer, low to high.
// Simulcast tracks share ID and StreamID and carry RIDs "r0", "r1", "r2".
func (s *FileVideoSource) Tracks() []webrtc.TrackLocal {
	tracks := make([]webrtc.TrackLocal, len(s.layers))
	for i, l := range s.layers {
		tracks[i] = l.track
	}
	return tracks
}

// Layers describes the encodings, low to high: each file's picture size
// and average bitrate.
func (s *FileVideoSource) Layers() []sdk.LayerInfo {
	infos := make([]sdk.LayerInfo, len(s.layers))
	for i, l := range s.layers {
		infos[i] = l.info
	}
	return infos
}

// Options returns the options in effect: Codec and FPS as played.
func (s *FileVideoSource) Options() FileOptions { return s.opts }

// Files returns the played files, one per layer, low to high.
func (s *FileVideoSource) Files() []string {
	files := make([]string, len(s.layers))
	for i, l := range s.layers {
		files[i] = l.clip.path
	}
	return files
}

// Start starts the pacing goroutine. It runs until ctx is done or Close.
func (s *FileVideoSource) Start(ctx context.Context) error {
	return s.run.start(ctx, func(ctx context.Context) { pace(ctx, s.clock, s.tick) })
}

// RequestKeyFrame makes layer jump to the next key frame of its file for
// its next frame. It never blocks; requests for a layer that does not
// exist are ignored.
func (s *FileVideoSource) RequestKeyFrame(layer int) {
	if layer >= 0 && layer < len(s.layers) {
		s.layers[layer].keyFrameRequested.Store(true)
	}
}

// SetPaused stops (true) or resumes (false) the source. While paused
// nothing is written and the files do not advance; the first frame after a
// pause is a key frame on every layer, and the RTP timestamps jump over the
// pause.
func (s *FileVideoSource) SetPaused(paused bool) { s.paused.Store(paused) }

// Stats returns a snapshot of the per-layer counters, low to high.
// FramesEncoded counts the frames taken from the files.
func (s *FileVideoSource) Stats() SourceStats {
	st := SourceStats{Layers: make([]LayerStats, len(s.layers))}
	for i, l := range s.layers {
		st.Layers[i] = l.stats.snapshot()
	}
	return st
}

// Close stops the pacing goroutine and waits for it. It is idempotent.
func (s *FileVideoSource) Close() error {
	return s.run.close(func() error { return nil })
}

// tick writes every layer's next frame at slot. It runs on the pacing
// goroutine.
func (s *FileVideoSource) tick(slot, missed int64) {
	if s.paused.Load() {
		s.wasPaused = true
		return
	}
	restart := s.wasPaused
	s.wasPaused = false
	for _, l := range s.layers {
		// Frames cannot be skipped without breaking the decoding: a late
		// tick sends the next frame, and the content runs late.
		l.stats.framesDropped.Add(uint64(missed))
		if l.keyFrameRequested.Swap(false) || restart {
			l.next = l.clip.nextKey(l.next)
		}
		f := l.clip.frames[l.next]
		l.stats.encoded(len(f.data), f.key)
		l.out.write(slot, f.data)
		if l.next++; l.next == len(l.clip.frames) {
			l.next = l.clip.keys[0]
		}
	}
}
