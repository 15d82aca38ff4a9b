package capture

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync/atomic"

	"github.com/pion/webrtc/v4"

	"github.com/callctl/callctl/pkg/sdk"
)

var (
	_ sdk.MediaSource   = (*VideoSource)(nil)
	_ sdk.LayeredSource = (*VideoSource)(nil)
)

// VideoSource is a live video source: it renders the test picture (or takes
// the latest camera picture) in real time, encodes it into one or three
// (simulcast) layers with VP8 or H264 and writes the frames into a
// webrtc.TrackLocalStaticSample per layer.
//
// One pacing goroutine renders each frame once at full size and scales it
// down for the lower layers; every layer has its own encoding goroutine, fed
// through a queue of one frame besides the one being encoded, which absorbs
// encode-time jitter. A layer whose queue is full when a frame is due skips
// that frame (counted in FramesDropped), so a slow top layer never holds
// back the lower ones.
type VideoSource struct {
	opts   VideoOptions
	codec  webrtc.RTPCodecCapability
	clock  clock
	input  videoInput
	layers []*videoLayer // low to high
	run    runner

	paused atomic.Bool

	// Owned by the pacing goroutine.
	frames    []*image.YCbCr // per layer: the frame being prepared
	spare     []*image.YCbCr // per layer: a free buffer taken for the hand-off, or nil
	wasPaused bool
}

// layerQueue is the number of frame buffers per layer: one being encoded and
// one waiting.
const layerQueue = 2

// videoLayer is one encoding of a VideoSource.
type videoLayer struct {
	info  sdk.LayerInfo
	track *webrtc.TrackLocalStaticSample
	codec string
	cfg   videoEncoderConfig
	enc   videoEncoder
	out   trackWriter
	stats layerCounters

	keyFrameRequested atomic.Bool
	paused            *atomic.Bool // the source's
	// stopped: send adaptation took the layer off (SetLayerActive); its
	// frames are neither queued nor encoded.
	stopped atomic.Bool
	// bitrate: a new target bitrate for the encoder, 0 when none is
	// pending; applied on the encoding goroutine.
	bitrate atomic.Int64
	// renew: the layer resumes after a stop, with a new encoder. The old
	// one's rate control would take the whole pause as the next frame's
	// duration (libvpx budgets bitrate × duration) and send a huge key
	// frame into a link that was just congested.
	renew atomic.Bool

	// Hand-off between the pacing goroutine and the layer's encoding
	// goroutine: the pacer takes a buffer from free, swaps it for the frame
	// it prepared and queues that frame on jobs; the encoder returns each
	// buffer to free once encoded. A buffer belongs to whoever took it.
	free chan *image.YCbCr
	jobs chan videoJob
}

// videoJob is a frame queued for a layer's encoder.
type videoJob struct {
	slot  int64
	frame *image.YCbCr
}

// NewSyntheticVideo creates a synthetic video source. Its encoders are
// created at once; call Start to begin producing frames and Close to release
// them.
func NewSyntheticVideo(opts VideoOptions) (*VideoSource, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return newVideoSource(opts, newPicture(opts.Width, opts.Height, opts.FPS))
}

// newVideoSource creates a source encoding the pictures of input; opts has
// its defaults filled in.
func newVideoSource(opts VideoOptions, input videoInput) (*VideoSource, error) {
	sizes, err := opts.layerSizes()
	if err != nil {
		return nil, err
	}
	s := &VideoSource{
		opts:  opts,
		codec: videoCodec(opts.Codec),
		clock: clock{rate: int64(opts.FPS)},
		input: input,
		spare: make([]*image.YCbCr, len(sizes)),
	}
	keyFrameEvery := max(1, int(opts.KeyFrameInterval.Seconds()*float64(opts.FPS)+0.5))
	for i, size := range sizes {
		l, err := s.newLayer(i, size[0], size[1], keyFrameEvery)
		if err != nil {
			_ = s.closeEncoders()
			return nil, err
		}
		s.layers = append(s.layers, l)
		s.frames = append(s.frames, newFrame(size[0], size[1]))
	}
	return s, nil
}

func (s *VideoSource) newLayer(i, width, height, keyFrameEvery int) (*videoLayer, error) {
	bitrate := DefaultVideoBitrate
	switch {
	case s.opts.Bitrates != nil:
		bitrate = s.opts.Bitrates[i]
	case s.opts.Layers > 1:
		bitrate = ladderBitrate(width, height)
	}
	var trackOpts []func(*webrtc.TrackLocalStaticRTP)
	if s.opts.Layers > 1 {
		trackOpts = append(trackOpts, webrtc.WithRTPStreamID(simulcastRIDs[i]))
	}
	binds := new(atomic.Uint32)
	track, err := newSampleTrack(s.codec, s.opts.TrackID, s.opts.StreamID, binds, trackOpts...)
	if err != nil {
		return nil, fmt.Errorf("capture: video track: %w", err)
	}
	cfg := videoEncoderConfig{
		width:         width,
		height:        height,
		fps:           s.opts.FPS,
		bitrate:       bitrate,
		keyFrameEvery: keyFrameEvery,
	}
	enc, err := newVideoEncoder(s.opts.Codec, cfg)
	if err != nil {
		return nil, err
	}
	l := &videoLayer{
		info:   sdk.LayerInfo{Width: width, Height: height, MaxBitrate: bitrate},
		track:  track,
		codec:  s.opts.Codec,
		cfg:    cfg,
		enc:    enc,
		paused: &s.paused,
		free:   make(chan *image.YCbCr, layerQueue),
		jobs:   make(chan videoJob, layerQueue),
	}
	for range layerQueue {
		l.free <- newFrame(width, height)
	}
	l.out = newTrackWriter(track, s.clock, s.codec.ClockRate, binds, &l.stats)
	return l, nil
}

// Kind returns webrtc.RTPCodecTypeVideo.
func (s *VideoSource) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeVideo }

// Codec returns video/VP8 or video/H264 (constrained baseline,
// packetization-mode 1) at 90 kHz.
func (s *VideoSource) Codec() webrtc.RTPCodecCapability { return s.codec }

// Tracks returns one *webrtc.TrackLocalStaticSample per layer, low to high.
// Simulcast tracks share ID and StreamID and carry RIDs "r0", "r1", "r2".
func (s *VideoSource) Tracks() []webrtc.TrackLocal {
	tracks := make([]webrtc.TrackLocal, len(s.layers))
	for i, l := range s.layers {
		tracks[i] = l.track
	}
	return tracks
}

// Layers describes the encodings, low to high.
func (s *VideoSource) Layers() []sdk.LayerInfo {
	infos := make([]sdk.LayerInfo, len(s.layers))
	for i, l := range s.layers {
		infos[i] = l.info
	}
	return infos
}

// Options returns the options in effect, defaults filled in.
func (s *VideoSource) Options() VideoOptions { return s.opts }

// Start starts the pacing and encoding goroutines. They run until ctx is
// done or Close.
func (s *VideoSource) Start(ctx context.Context) error {
	loops := []func(context.Context){func(ctx context.Context) { pace(ctx, s.clock, s.tick) }}
	if in, ok := s.input.(runningInput); ok {
		loops = append(loops, in.run)
	}
	for _, l := range s.layers {
		loops = append(loops, l.encodeLoop)
	}
	return s.run.start(ctx, loops...)
}

// RequestKeyFrame makes the next frame of layer a key frame. It never
// blocks; requests for a layer that does not exist are ignored.
func (s *VideoSource) RequestKeyFrame(layer int) {
	if layer >= 0 && layer < len(s.layers) {
		s.layers[layer].keyFrameRequested.Store(true)
	}
}

// renewEncoder replaces the layer's encoder by a new one with the same
// settings; on failure the old one stays.
func (l *videoLayer) renewEncoder() {
	enc, err := newVideoEncoder(l.codec, l.cfg)
	if err != nil {
		l.stats.encodeErrors.Add(1)
		return
	}
	_ = l.enc.close()
	l.enc = enc
}

// SetLayerActive stops (false) or resumes (true) encoding one layer, for
// send-side adaptation: a stopped layer costs neither encoding nor
// sending. A resumed layer starts with a key frame. Requests for a layer
// that does not exist are ignored.
func (s *VideoSource) SetLayerActive(layer int, active bool) {
	if layer < 0 || layer >= len(s.layers) {
		return
	}
	l := s.layers[layer]
	if active && l.stopped.Load() {
		l.renew.Store(true) // a new encoder starts with a key frame
	}
	l.stopped.Store(!active)
}

// SetLayerBitrate changes one layer's target bitrate (bits per second)
// from its next frame on; 0 or less restores the layer's nominal bitrate
// (Layers). Requests for a layer that does not exist are ignored.
func (s *VideoSource) SetLayerBitrate(layer, bps int) {
	if layer < 0 || layer >= len(s.layers) {
		return
	}
	l := s.layers[layer]
	if bps <= 0 {
		bps = l.info.MaxBitrate
	}
	l.bitrate.Store(int64(bps))
}

// SetPaused stops (true) or resumes (false) the source. While paused
// nothing is rendered, encoded or written (only a frame already being
// encoded is still written); the first frame after a pause is a key frame on
// every layer, and the RTP timestamps jump over the pause.
func (s *VideoSource) SetPaused(paused bool) { s.paused.Store(paused) }

// Stats returns a snapshot of the per-layer counters, low to high.
func (s *VideoSource) Stats() SourceStats {
	st := SourceStats{Layers: make([]LayerStats, len(s.layers))}
	for i, l := range s.layers {
		st.Layers[i] = l.stats.snapshot()
	}
	return st
}

// Close stops the goroutines, waits for them and frees the encoders. It is
// idempotent.
func (s *VideoSource) Close() error {
	return s.run.close(s.closeEncoders)
}

func (s *VideoSource) closeEncoders() error {
	var errs []error
	if in, ok := s.input.(runningInput); ok {
		if err := in.close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, l := range s.layers {
		if err := l.enc.close(); err != nil {
			errs = append(errs, fmt.Errorf("capture: close %dx%d encoder: %w", l.info.Width, l.info.Height, err))
		}
	}
	return errors.Join(errs...)
}

// tick prepares the frame of slot and queues it for every layer that has
// room. It runs on the pacing goroutine.
func (s *VideoSource) tick(slot, missed int64) {
	if s.paused.Load() {
		s.wasPaused = true
		return
	}
	if s.wasPaused {
		// Receivers missed the frames in between: restart every layer.
		s.wasPaused = false
		for _, l := range s.layers {
			l.keyFrameRequested.Store(true)
		}
	}

	wanted := false
	for i, l := range s.layers {
		if l.stopped.Load() {
			continue
		}
		l.stats.framesDropped.Add(uint64(missed))
		select {
		case s.spare[i] = <-l.free:
			wanted = true
		default:
			l.stats.framesDropped.Add(1) // encoder backlogged
		}
	}
	if !wanted {
		return
	}

	// Render once at full size, then scale down layer by layer.
	top := len(s.layers) - 1
	s.input.render(s.frames[top], slot)
	for i := top - 1; i >= 0; i-- {
		downscale(s.frames[i], s.frames[i+1])
	}
	for i, l := range s.layers {
		if s.spare[i] != nil {
			l.jobs <- videoJob{slot: slot, frame: s.frames[i]} // never blocks: one job per buffer
			s.frames[i], s.spare[i] = s.spare[i], nil
		}
	}
}

// encodeLoop encodes and writes the frames queued by tick until ctx is
// done. It runs on the layer's own goroutine.
func (l *videoLayer) encodeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-l.jobs:
			if l.paused.Load() || l.stopped.Load() {
				// Paused or stopped while queued: skip it, and restart the
				// stream with a key frame since receivers miss this one.
				l.keyFrameRequested.Store(true)
			} else {
				l.encode(job)
			}
			l.free <- job.frame
		}
	}
}

func (l *videoLayer) encode(job videoJob) {
	if l.renew.Swap(false) {
		l.renewEncoder()
	}
	if bps := l.bitrate.Swap(0); bps > 0 {
		if err := l.enc.setBitrate(int(bps)); err != nil {
			l.stats.encodeErrors.Add(1)
		}
	}
	keyFrame := l.keyFrameRequested.Swap(false)
	data, err := l.enc.encode(job.frame, keyFrame)
	if err != nil || len(data) == 0 {
		if err != nil {
			l.stats.encodeErrors.Add(1)
		}
		l.stats.framesDropped.Add(1)
		if keyFrame {
			l.keyFrameRequested.Store(true) // retry on the next frame
		}
		return
	}
	l.stats.encoded(len(data), l.enc.isKeyFrame(data))
	l.out.write(job.slot, data)
}
