package cmd

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/callctl/callctl/pkg/capture"
)

type devicesResult struct {
	resultHeader
	Devices []capture.DeviceInfo `json:"devices"`
	Warning string               `json:"warning,omitempty"`
}

func newDevicesCmd(io IO) *cobra.Command {
	return &cobra.Command{
		Use:   "devices",
		Short: "List cameras and microphones (for join --video camera:ID / --audio mic:ID)",
		Long: `List the cameras (V4L2) and microphones (PulseAudio, ALSA, JACK) of this
machine as one JSON object. A headless machine has none: use the synthetic
sources (--video test, --audio tone) or pre-encoded files (callctl clips).`,
		Example: `  callctl devices | jq -r '.devices[] | "\(.kind)\t\(.id)\t\(.label)"'`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			list, err := capture.ListDevices()
			res := devicesResult{resultHeader: okHeader("devices", ""), Devices: list}
			if res.Devices == nil {
				res.Devices = []capture.DeviceInfo{}
			}
			if err != nil {
				res.Warning = err.Error() // partial list: one device system failed
			}
			return writeResult(io.Out, res)
		},
	}
}

type clipsResult struct {
	resultHeader
	Dir   string   `json:"dir"`
	Files []string `json:"files"`
}

func newClipsCmd(io IO) *cobra.Command {
	var (
		out                string
		duration           time.Duration
		width, height, fps int
		layers             int
		codecs             []string
		keyInt             time.Duration
	)
	c := &cobra.Command{
		Use:   "clips --out DIR",
		Short: "Write a license-clean set of pre-encoded clips (VP8, H264, Opus) for --video/--audio file:",
		Long: `Render callctl's synthetic picture and tone and encode them with its own
encoders into a clip set: NAME-<height>p.ivf (VP8) and NAME-<height>p.h264
(H264) per simulcast layer, and NAME.ogg (Opus). Replaying pre-encoded
media costs a small fraction of the CPU of live encoding, so it suits many
bots per machine:

  callctl clips --out clips
  callctl join … --video file:clips --audio file:clips/callctl.ogg`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if out == "" {
				return &usageError{fmt.Errorf("--out is required")}
			}
			files, err := capture.WriteClips(out, capture.ClipOptions{
				Duration: duration, Width: width, Height: height, FPS: fps, Layers: layers,
				Codecs: codecs, KeyFrameInterval: keyInt,
			})
			if err != nil {
				return &usageError{err}
			}
			return writeResult(io.Out, clipsResult{resultHeader: okHeader("clips", ""), Dir: out, Files: files})
		},
	}
	f := c.Flags()
	f.StringVar(&out, "out", "", "directory to write the clips to (required)")
	f.DurationVar(&duration, "duration", 10*time.Second, "clip length (the replay loops)")
	f.IntVar(&width, "width", 1280, "top layer width")
	f.IntVar(&height, "height", 720, "top layer height")
	f.IntVar(&fps, "fps", 30, "frame rate")
	f.IntVar(&layers, "layers", 3, "3 (quarter, half, full size) or 1")
	f.StringSliceVar(&codecs, "codec", []string{"vp8", "h264"}, "video codecs to write")
	f.DurationVar(&keyInt, "key-frame-interval", time.Second, "distance between key frames (a replay answers key-frame requests within it)")
	return c
}
