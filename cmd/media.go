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

	layers *sdk.Layers // parsed --video-layer
}

func (m *mediaOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&m.video, "video", "test", "video source: test (synthetic moving picture) or none")
	f.StringVar(&m.audio, "audio", "tone", "audio source: tone (synthetic beeps, Opus) or none")
	f.StringVar(&m.codec, "codec", "vp8", "video codec: vp8")
	f.IntVar(&m.width, "width", 640, "video width (the top simulcast layer)")
	f.IntVar(&m.height, "height", 360, "video height (the top simulcast layer)")
	f.IntVar(&m.fps, "fps", 30, "video frame rate")
	f.BoolVar(&m.simulcast, "simulcast", true, "send 3 simulcast layers (quarter, half, full resolution); --simulcast=false or --no-simulcast sends one")
	f.BoolVar(&m.noSimulcast, "no-simulcast", false, "send one video layer (same as --simulcast=false)")
	f.StringVar(&m.videoLayer, "video-layer", "", "preferred layer of received video: SPATIAL[:TEMPORAL], e.g. 0 for the lowest resolution")
	f.StringVar(&m.record, "record", "", "write every received track to a file in this directory (VP8 .ivf, H264 .h264, Opus .ogg)")
	f.BoolVar(&m.noDecode, "no-decode", false, "do not decode received media (no frame or audio-level statistics)")
}

func (m *mediaOptions) validate() error {
	if m.noSimulcast {
		m.simulcast = false
	}
	if m.video != "test" && m.video != "none" {
		return fmt.Errorf("--video %q: want test or none", m.video)
	}
	if m.audio != "tone" && m.audio != "none" {
		return fmt.Errorf("--audio %q: want tone or none", m.audio)
	}
	if m.codec = strings.ToLower(m.codec); m.codec != capture.CodecVP8 {
		return fmt.Errorf("--codec %q: want vp8", m.codec)
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

func (m *mediaOptions) sources() (audio, video sdk.MediaSource, err error) {
	if m.audio == "tone" {
		a, err := capture.NewToneAudio(capture.AudioOptions{})
		if err != nil {
			return nil, nil, fmt.Errorf("audio source: %w", err)
		}
		audio = a
	}
	if m.video == "test" {
		layers := 1
		if m.simulcast {
			layers = 3
		}
		v, err := capture.NewSyntheticVideo(capture.VideoOptions{
			Width: m.width, Height: m.height, FPS: m.fps, Codec: m.codec, Layers: layers,
		})
		if err != nil {
			if audio != nil {
				_ = audio.Close()
			}
			return nil, nil, &usageError{fmt.Errorf("video source: %w", err)}
		}
		video = v
	}
	return audio, video, nil
}

func (m *mediaOptions) sink() (sdk.ReceiveSink, error) {
	s, err := capture.NewReceiveSink(capture.ReceiveOptions{RecordDir: m.record, NoDecode: m.noDecode})
	if err != nil {
		return nil, &usageError{fmt.Errorf("--record: %w", err)}
	}
	return s, nil
}
