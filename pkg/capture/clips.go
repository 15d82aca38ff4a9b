package capture

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/mediadevices/pkg/wave"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
)

// Defaults applied by WriteClips to zero options.
const (
	DefaultClipName             = "callctl"
	DefaultClipDuration         = 10 * time.Second
	DefaultClipKeyFrameInterval = time.Second
)

// ClipOptions configures WriteClips. Zero fields take defaults.
type ClipOptions struct {
	// Name starts every file name. Default "callctl".
	Name string
	// Duration of the clips. Default 10 s.
	Duration time.Duration
	// Width and Height are the largest layer's size; both even. Default
	// 1280x720.
	Width, Height int
	// Layers is 3 (default: quarter, half and full size, a simulcast set)
	// or 1 (full size only).
	Layers int
	// FPS is the frame rate, 1 to 60. Default 30.
	FPS int
	// KeyFrameInterval is the distance between key frames, which are placed
	// at exactly that interval on every layer (so a replay answers a
	// key-frame request within it). Default 1 s.
	KeyFrameInterval time.Duration
	// Codecs lists the video codecs to write: "vp8" (IVF) and/or "h264"
	// (Annex-B). Default both.
	Codecs []string
	// NoAudio skips the Ogg Opus file.
	NoAudio bool
	// Audio configures the tone, as for NewToneAudio (default a 440 Hz
	// beep, 1 s on, 1 s off, stereo, 32 kbps).
	Audio AudioOptions
}

// WriteClips renders the synthetic picture and tone, encodes them with this
// package's own encoders and writes a license-clean clip set into dir
// (created if needed), for NewFileVideo and NewFileAudio:
//
//	NAME-<height>p.ivf   VP8, one file per layer (e.g. 180p, 360p, 720p)
//	NAME-<height>p.h264  H264 Annex-B, constrained baseline, same layers
//	NAME.ogg             Opus, 20 ms packets, one per page
//
// The layers of a codec are encoded from the same rendered frames, so they
// are time-aligned, with the simulcast ladder's bitrates (150k, 500k, 1500k
// for 180p, 360p, 720p). It returns the paths written. Encoding runs faster
// than real time (VP8 needs about 11 ms of wall time per frame).
//
// Frame n of every layer carries the Stamp {n, n/fps in ms}: time since
// the clip's start. The tone carries its timing marker at 500 ms past each
// second of the clip.
func WriteClips(dir string, opts ClipOptions) ([]string, error) {
	opts.Name = cmp.Or(opts.Name, DefaultClipName)
	opts.Duration = cmp.Or(opts.Duration, DefaultClipDuration)
	opts.KeyFrameInterval = cmp.Or(opts.KeyFrameInterval, DefaultClipKeyFrameInterval)
	opts.Layers = cmp.Or(opts.Layers, 3)
	if len(opts.Codecs) == 0 {
		opts.Codecs = []string{CodecVP8, CodecH264}
	}
	if opts.Duration < 0 || opts.KeyFrameInterval < 0 {
		return nil, fmt.Errorf("%w: negative clip duration or key-frame interval", ErrInvalidOptions)
	}
	if strings.ContainsAny(opts.Name, `/\`) {
		return nil, fmt.Errorf("%w: clip name %q contains a path separator", ErrInvalidOptions, opts.Name)
	}
	var layers []clipLayer
	var sizes [][2]int
	var vo VideoOptions
	for _, codec := range opts.Codecs {
		var err error
		vo, err = VideoOptions{Width: opts.Width, Height: opts.Height, FPS: opts.FPS, Layers: opts.Layers, Codec: codec}.withDefaults()
		if err != nil {
			return nil, err
		}
		if sizes, err = vo.layerSizes(); err != nil {
			return nil, err
		}
		ext := clipExtensions[vo.Codec][0]
		for i, size := range sizes {
			path := filepath.Join(dir, fmt.Sprintf("%s-%dp%s", opts.Name, size[1], ext))
			if slices.ContainsFunc(layers, func(l clipLayer) bool { return l.path == path }) {
				return nil, fmt.Errorf("%w: codec %q listed twice", ErrInvalidOptions, codec)
			}
			layers = append(layers, clipLayer{codec: vo.Codec, path: path, size: i, width: size[0], height: size[1]})
		}
	}
	var audio AudioOptions
	if !opts.NoAudio {
		var err error
		if audio, err = opts.Audio.withDefaults(); err != nil {
			return nil, err
		}
	}
	frames := int(opts.Duration * time.Duration(vo.FPS) / time.Second)
	if frames < 1 || opts.Duration < 20*time.Millisecond {
		return nil, fmt.Errorf("%w: clip duration %v is shorter than a frame", ErrInvalidOptions, opts.Duration)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	keyEvery := max(1, int(opts.KeyFrameInterval.Seconds()*float64(vo.FPS)+0.5))
	var written []string
	if len(layers) > 0 {
		if err := encodeClipLayers(layers, sizes, vo.FPS, frames, keyEvery); err != nil {
			return nil, err
		}
		for _, l := range layers {
			written = append(written, l.path)
		}
	}
	if !opts.NoAudio {
		path := filepath.Join(dir, opts.Name+".ogg")
		if err := writeToneClip(path, audio, opts.Duration); err != nil {
			return nil, err
		}
		written = append(written, path)
	}
	return written, nil
}

// clipLayer is one video file WriteClips encodes.
type clipLayer struct {
	codec         string
	path          string
	size          int // index into the layer sizes
	width, height int

	enc    videoEncoder
	in     chan *clipFrameSet
	frames [][]byte
	pts    []int64
	err    error
}

// clipFrameSet is one rendered frame at every layer size, shared read-only
// by the encoders and recycled once all of them are done with it.
type clipFrameSet struct {
	n       int64
	sizes   []*image.YCbCr
	pending sync.WaitGroup
}

// encodeClipLayers renders frames once per frame number, scales them to
// every size and feeds them to all encoders in parallel, then writes each
// layer's file.
func encodeClipLayers(layers []clipLayer, sizes [][2]int, fps, frames, keyEvery int) error {
	defer func() {
		for i := range layers {
			if layers[i].enc != nil {
				_ = layers[i].enc.close()
			}
		}
	}()
	for i := range layers {
		l := &layers[i]
		var err error
		l.enc, err = newVideoEncoder(l.codec, videoEncoderConfig{
			width:         l.width,
			height:        l.height,
			fps:           fps,
			bitrate:       ladderBitrate(l.width, l.height),
			keyFrameEvery: keyEvery,
		})
		if err != nil {
			return err
		}
		l.in = make(chan *clipFrameSet, 1)
	}

	var wg sync.WaitGroup
	for i := range layers {
		wg.Go(func() {
			l := &layers[i]
			for set := range l.in {
				if l.err == nil {
					data, err := l.enc.encode(set.sizes[l.size], set.n%int64(keyEvery) == 0)
					switch {
					case err != nil:
						l.err = fmt.Errorf("capture: encode %s: %w", l.path, err)
					case len(data) > 0:
						l.frames = append(l.frames, data)
						l.pts = append(l.pts, set.n)
					}
				}
				set.pending.Done()
			}
		})
	}

	// Three frame sets in flight keep every encoder busy.
	top := sizes[len(sizes)-1]
	pic := newPicture(top[0], top[1], fps)
	// A clip's stamps count from its own start: frame n carries frame
	// number n and time n/fps. A replayer announces its replay start as the
	// stamp epoch and the clip's duration as the period (see docs/events.md).
	pic.stamp.epoch = time.Time{}
	free := make(chan *clipFrameSet, 3)
	for range cap(free) {
		set := &clipFrameSet{}
		for _, s := range sizes {
			set.sizes = append(set.sizes, newFrame(s[0], s[1]))
		}
		free <- set
	}
	for n := range int64(frames) {
		set := <-free
		set.pending.Wait()
		set.n = n
		pic.render(set.sizes[len(sizes)-1], n)
		for i := len(sizes) - 2; i >= 0; i-- {
			downscale(set.sizes[i], set.sizes[i+1])
		}
		set.pending.Add(len(layers))
		for i := range layers {
			layers[i].in <- set
		}
		free <- set
	}
	for i := range layers {
		close(layers[i].in)
	}
	wg.Wait()

	var errs []error
	for _, l := range layers {
		if l.err == nil {
			l.err = l.write(fps)
		}
		errs = append(errs, l.err)
	}
	return errors.Join(errs...)
}

// write writes the encoded layer to its file.
func (l *clipLayer) write(fps int) error {
	if len(l.frames) == 0 || !l.enc.isKeyFrame(l.frames[0]) {
		return fmt.Errorf("capture: encode %s: no key frame first", l.path)
	}
	f, err := os.Create(l.path)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	w := bufio.NewWriter(f)
	if l.codec == CodecVP8 {
		err = writeIVF(w, l.width, l.height, fps, l.frames, l.pts)
	} else {
		for _, au := range l.frames {
			if _, err = w.Write(au); err != nil {
				break
			}
		}
	}
	err = errors.Join(err, w.Flush(), f.Close())
	if err != nil {
		return fmt.Errorf("capture: write %s: %w", l.path, err)
	}
	return nil
}

// writeToneClip encodes d of the tone as 20 ms Opus packets into an Ogg
// file, one packet per page.
func writeToneClip(path string, opts AudioOptions, d time.Duration) error {
	enc, err := newOpusEncoder(opts.Channels, opts.Bitrate)
	if err != nil {
		return err
	}
	defer enc.close()
	w, err := oggwriter.New(path, opusSampleRate, uint16(opts.Channels))
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	t := newTone(opts.Frequency, opts.LevelDBFS, opts.Channels, opts.ToneOn, opts.ToneOff)
	t.marker.clock.epoch = time.Time{} // markers at 500 ms past each second of the clip
	pcm := wave.NewInt16Interleaved(wave.ChunkInfo{Len: opusPacketSamples, Channels: opts.Channels, SamplingRate: toneSampleRate})
	packets := int64(d / (20 * time.Millisecond))
	for n := range packets {
		t.fill(pcm.Data, n*opusPacketSamples)
		var data []byte
		if data, err = enc.encode(pcm); err != nil {
			break
		}
		if err = w.WriteRTP(&rtp.Packet{Header: rtp.Header{Timestamp: uint32(n * opusPacketSamples)}, Payload: data}); err != nil {
			break
		}
	}
	if err = errors.Join(err, w.Close()); err != nil {
		return fmt.Errorf("capture: write %s: %w", path, err)
	}
	return nil
}
