//go:build unix

package capture

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/callctl/callctl/pkg/sdk"
)

// discardBinding binds a track like a PeerConnection would, so that pion
// packetises every sample, and drops the packets.
type discardBinding struct{ codec webrtc.RTPCodecParameters }

func (d *discardBinding) CodecParameters() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{d.codec}
}
func (d *discardBinding) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter { return nil }
func (d *discardBinding) SSRC() webrtc.SSRC                                      { return 1 }
func (d *discardBinding) SSRCRetransmission() webrtc.SSRC                        { return 0 }
func (d *discardBinding) SSRCForwardErrorCorrection() webrtc.SSRC                { return 0 }
func (d *discardBinding) WriteStream() webrtc.TrackLocalWriter                   { return d }
func (d *discardBinding) ID() string                                             { return "discard" }
func (d *discardBinding) RTCPReader() interceptor.RTCPReader                     { return nil }
func (d *discardBinding) WriteRTP(_ *rtp.Header, p []byte) (int, error)          { return len(p), nil }
func (d *discardBinding) Write(b []byte) (int, error)                            { return len(b), nil }

// bindDiscard binds every track of src to a discardBinding.
func bindDiscard(tb testing.TB, src sdk.MediaSource) {
	for _, tr := range src.Tracks() {
		d := &discardBinding{codec: webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: src.Codec()}}
		if _, err := tr.Bind(d); err != nil {
			tb.Fatal(err)
		}
	}
}

// statSource is a video source with per-layer counters.
type statSource interface {
	sdk.MediaSource
	Stats() SourceStats
}

// cpuRun is what one measured run of a source cost.
type cpuRun struct {
	cpu, wall time.Duration
	frames    int // frame periods of media produced (top layer)
	bytes     uint64
	dropped   uint64
}

func (r cpuRun) cores() float64 { return r.cpu.Seconds() / r.wall.Seconds() }

// measureCPU runs src in real time (bound to discarding bindings) until its
// top layer has produced frames frame periods, and measures the process's
// CPU time (getrusage, user + system) meanwhile.
func measureCPU(b *testing.B, src statSource, frames int) cpuRun {
	bindDiscard(b, src)
	top := len(src.Tracks()) - 1
	runtime.GC()
	cpu0, wall0 := cpuTime(b), time.Now()
	if err := src.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	for {
		st := src.Stats().Layers[top]
		if st.FramesEncoded+st.FramesDropped >= uint64(frames) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := src.Close(); err != nil {
		b.Fatal(err)
	}
	r := cpuRun{cpu: cpuTime(b) - cpu0, wall: time.Since(wall0), frames: frames}
	st := src.Stats()
	r.bytes = st.Total().Bytes
	r.dropped = st.Layers[top].FramesDropped
	return r
}

// BenchmarkSourceCPU measures the process CPU that one video source costs
// per second of media, live encoding against pre-encoded replay: 720p@30,
// VP8 and H264, one layer and a three-layer simulcast (180p, 360p, 720p),
// and the replay of the same three layers from files (written first by
// WriteClips, not measured). Every source runs in real time, as in
// production, writing into tracks bound to a binding that discards the
// packets, so pion's packetisation is included (SRTP, interceptors and the
// network, the SDK's share and the same for every case, are not). One op is
// one frame period (1/30 s) of media; run it with -benchtime=90x (3 s per
// case).
//
// Metrics: cores is CPU time over wall time (the share of a core one such
// source keeps busy), x-vs-replay its ratio to the three-layer VP8 replay
// measured in the same run, ns/frame the CPU time per frame period, kbps
// the output bitrate of all layers, dropped the frame periods the top layer
// missed.
func BenchmarkSourceCPU(b *testing.B) {
	dir := b.TempDir()
	if _, err := WriteClips(dir, ClipOptions{Duration: 4 * time.Second, NoAudio: true}); err != nil {
		b.Fatal(err)
	}
	var replay float64 // cores of the VP8 replay baseline
	cases := []struct {
		name string
		src  func() (statSource, error)
	}{
		{"replay/vp8-3layer", func() (statSource, error) { return NewFileVideo(FileOptions{Path: dir}) }},
		{"replay/h264-3layer", func() (statSource, error) { return NewFileVideo(FileOptions{Path: dir, Codec: CodecH264}) }},
		{"live/vp8-720p-1layer", func() (statSource, error) { return NewSyntheticVideo(VideoOptions{}) }},
		{"live/vp8-720p-3layer", func() (statSource, error) { return NewSyntheticVideo(VideoOptions{Layers: 3}) }},
		{"live/h264-720p-1layer", func() (statSource, error) { return NewSyntheticVideo(VideoOptions{Codec: CodecH264}) }},
		{"live/h264-720p-3layer", func() (statSource, error) {
			return NewSyntheticVideo(VideoOptions{Codec: CodecH264, Layers: 3})
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			if replay == 0 && tc.name != cases[0].name {
				// The baseline was filtered out: measure it quietly.
				src, err := cases[0].src()
				if err != nil {
					b.Fatal(err)
				}
				replay = measureCPU(b, src, 90).cores()
			}
			src, err := tc.src()
			if err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			b.ResetTimer()
			r := measureCPU(b, src, b.N)
			b.StopTimer()
			if tc.name == cases[0].name {
				replay = r.cores()
			}
			perFrame := float64(r.cpu.Nanoseconds()) / float64(b.N)
			b.ReportMetric(perFrame, "ns/op")
			b.ReportMetric(perFrame, "ns/frame")
			b.ReportMetric(r.cores(), "cores")
			b.ReportMetric(r.cores()/replay, "x-vs-replay")
			b.ReportMetric(float64(r.bytes*8)/1000/r.wall.Seconds(), "kbps")
			b.ReportMetric(float64(r.dropped), "dropped")
		})
	}
}
