//go:build unix

package capture

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// BenchmarkEncodeVP8 measures the CPU cost of a live 720p@30 synthetic
// source (render, scale, encode, packetise to a recorder): one layer against
// a three-layer simulcast. The source runs in real time, as in production,
// because libvpx's rate control and speed selection depend on real frame
// timing; one op is one frame period. ns/frame (also reported as ns/op) is
// the process CPU time per frame, cores the CPU share a source needs, kbps/rN
// each layer's output bitrate over the run (key frames included) and
// dropped the frames skipped on the top layer. Keep it quick with
// -benchtime=90x (3 s per case).
func BenchmarkEncodeVP8(b *testing.B) {
	for _, layers := range []int{1, 3} {
		b.Run(fmt.Sprintf("720p/%dlayer", layers), func(b *testing.B) {
			const fps = 30
			s, err := NewSyntheticVideo(VideoOptions{Width: 1280, Height: 720, FPS: fps, Layers: layers})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			recordVideo(s)
			top := len(s.layers) - 1
			done := func() bool {
				st := s.Stats().Layers[top]
				return st.FramesEncoded+st.FramesDropped >= uint64(b.N)
			}

			b.ResetTimer()
			cpu0, wall0 := cpuTime(b), time.Now()
			if err := s.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			for !done() {
				time.Sleep(5 * time.Millisecond)
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			cpu, wall := cpuTime(b)-cpu0, time.Since(wall0)
			b.StopTimer()

			perFrame := float64(cpu.Nanoseconds()) / float64(b.N)
			b.ReportMetric(perFrame, "ns/op")
			b.ReportMetric(perFrame, "ns/frame")
			b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cores")
			st := s.Stats()
			for i, l := range st.Layers {
				b.ReportMetric(float64(l.Bytes*8)/1000/wall.Seconds(), fmt.Sprintf("kbps/r%d", i))
			}
			b.ReportMetric(float64(st.Layers[top].FramesDropped), "dropped")
		})
	}
}

// cpuTime returns the user and system CPU time used by the process.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
