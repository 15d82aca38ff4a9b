package cmd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/callctl/callctl/pkg/capture"
	"github.com/callctl/callctl/pkg/sdk"
)

// mediaOptions are join's flags for what is sent and how what is received
// is analysed.
type mediaOptions struct {
	video, audio       string
	codec              string
	width, height, fps int
	simulcast          bool
	noSimulcast        bool
	videoLayer         string
	record             string
	noDecode           bool
	adaptive           bool
	continuousTone     bool // --talk other than always: no pauses of its own

	layers *sdk.Layers // parsed --video-layer
}

func (m *mediaOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&m.video, "video", "test", "video source: test (synthetic moving picture), camera[:DEVICE], file:PATH (IVF/Annex-B clip, or a simulcast set: see callctl clips) or none")
	f.StringVar(&m.audio, "audio", "tone", "audio source: tone (synthetic beeps), mic[:DEVICE], file:PATH (Ogg Opus) or none")
	f.StringVar(&m.codec, "codec", "vp8", "video codec: vp8 or h264 (for test and camera; files carry their own)")
	f.IntVar(&m.width, "width", 640, "video width (the top simulcast layer)")
	f.IntVar(&m.height, "height", 360, "video height (the top simulcast layer)")
	f.IntVar(&m.fps, "fps", 30, "video frame rate")
	f.BoolVar(&m.simulcast, "simulcast", true, "send 3 simulcast layers (quarter, half, full resolution); --simulcast=false or --no-simulcast sends one")
	f.BoolVar(&m.noSimulcast, "no-simulcast", false, "send one video layer (same as --simulcast=false)")
	f.StringVar(&m.videoLayer, "video-layer", "", "preferred layer of received video: SPATIAL[:TEMPORAL], e.g. 0 for the lowest resolution")
	f.BoolVar(&m.adaptive, "adaptive-layers", false, "lower a received simulcast video's layer when it loses packets or freezes, raise it after 10 s of calm (ignored with --video-layer)")
	f.StringVar(&m.record, "record", "", "write every received track to a file in this directory (VP8 .ivf, H264 .h264, Opus .ogg)")
	f.BoolVar(&m.noDecode, "no-decode", false, "do not decode received media (no frame or audio-level statistics)")
}

func (m *mediaOptions) validate() error {
	if m.noSimulcast {
		m.simulcast = false
	}
	if kind, _ := splitSource(m.video); kind != "test" && kind != "camera" && kind != "file" && kind != "none" {
		return fmt.Errorf("--video %q: want test, camera[:DEVICE], file:PATH or none", m.video)
	}
	if kind, arg := splitSource(m.video); kind == "file" && arg == "" {
		return errors.New("--video file:PATH needs a path")
	}
	if kind, _ := splitSource(m.audio); kind != "tone" && kind != "mic" && kind != "file" && kind != "none" {
		return fmt.Errorf("--audio %q: want tone, mic[:DEVICE], file:PATH or none", m.audio)
	}
	if kind, arg := splitSource(m.audio); kind == "file" && arg == "" {
		return errors.New("--audio file:PATH needs a path")
	}
	if m.codec = strings.ToLower(m.codec); m.codec != capture.CodecVP8 && m.codec != capture.CodecH264 {
		return fmt.Errorf("--codec %q: want vp8 or h264", m.codec)
	}
	if m.width <= 0 || m.height <= 0 || m.width%2 != 0 || m.height%2 != 0 || m.fps <= 0 || m.fps > 60 {
		return errors.New("--width/--height must be positive even numbers and --fps 1..60")
	}
	if m.videoLayer != "" {
		l, err := parseLayers(m.videoLayer)
		if err != nil {
			return err
		}
		m.layers = &l
	}
	return nil
}

// splitSource splits "kind:arg" (e.g. "file:clips/a.ivf", "camera:video0").
func splitSource(s string) (kind, arg string) {
	kind, arg, _ = strings.Cut(s, ":")
	return kind, arg
}

// parseLayers reads SPATIAL[:TEMPORAL].
func parseLayers(s string) (sdk.Layers, error) {
	sp, tp, hasT := strings.Cut(s, ":")
	l := sdk.Layers{Temporal: -1}
	var err error
	if l.Spatial, err = strconv.Atoi(sp); err != nil || l.Spatial < 0 || l.Spatial > 2 {
		return l, fmt.Errorf("--video-layer %q: want SPATIAL[:TEMPORAL] with SPATIAL 0..2", s)
	}
	if hasT {
		if l.Temporal, err = strconv.Atoi(tp); err != nil || l.Temporal < 0 || l.Temporal > 2 {
			return l, fmt.Errorf("--video-layer %q: TEMPORAL must be 0..2", s)
		}
	}
	return l, nil
}

// sources opens what --audio and --video name. A missing device or an
// unreadable file is a usage error: the flags asked for something this
// machine does not have.
func (m *mediaOptions) sources() (audio, video sdk.MediaSource, err error) {
	audio, err = m.audioSource()
	if err != nil {
		return nil, nil, &usageError{fmt.Errorf("--audio %s: %w", m.audio, err)}
	}
	video, err = m.videoSource()
	if err != nil {
		if audio != nil {
			_ = audio.Close()
		}
		return nil, nil, &usageError{fmt.Errorf("--video %s: %w", m.video, err)}
	}
	return audio, video, nil
}

func (m *mediaOptions) audioSource() (sdk.MediaSource, error) {
	kind, arg := splitSource(m.audio)
	switch kind {
	case "tone":
		return capture.NewToneAudio(capture.AudioOptions{Continuous: m.continuousTone})
	case "mic":
		return capture.NewMicrophoneAudio(capture.MicrophoneOptions{Device: arg})
	case "file":
		return capture.NewFileAudio(capture.AudioFileOptions{Path: arg})
	default:
		return nil, nil
	}
}

// videoOptions is what a live video source (test, camera) produces.
func (m *mediaOptions) videoOptions() capture.VideoOptions {
	layers := 1
	if m.simulcast {
		layers = 3
	}
	return capture.VideoOptions{Width: m.width, Height: m.height, FPS: m.fps, Codec: m.codec, Layers: layers}
}

func (m *mediaOptions) videoSource() (sdk.MediaSource, error) {
	vo := m.videoOptions()
	kind, arg := splitSource(m.video)
	switch kind {
	case "test":
		return capture.NewSyntheticVideo(vo)
	case "camera":
		return capture.NewCameraVideo(capture.CameraOptions{Device: arg, VideoOptions: vo})
	case "file":
		// --codec picks the set in a directory holding both; files
		// named explicitly carry their own codec.
		fo := capture.FileOptions{Path: arg, Codec: m.codec}
		if !m.simulcast {
			fo.Layers = 1
		}
		return capture.NewFileVideo(fo)
	default:
		return nil, nil
	}
}

func (m *mediaOptions) sink() (sdk.ReceiveSink, error) {
	s, err := capture.NewReceiveSink(capture.ReceiveOptions{RecordDir: m.record, NoDecode: m.noDecode})
	if err != nil {
		return nil, &usageError{fmt.Errorf("--record: %w", err)}
	}
	return s, nil
}
