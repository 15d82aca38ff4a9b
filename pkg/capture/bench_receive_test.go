package capture

import (
	"path/filepath"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/callctl/callctl/pkg/sdk"
)

// BenchmarkReceiveSink measures what the receive side costs per video
// frame: depacketizing and decoding a 360p stream, against only
// depacketizing (join --no-decode) in the same run.
func BenchmarkReceiveSink(b *testing.B) {
	dir := testClips(b)
	for _, tc := range []struct {
		name, file, mime string
		payloader        rtp.Payloader
	}{
		{"vp8-360p", "callctl-360p.ivf", "video/VP8", &codecs.VP8Payloader{EnablePictureID: true}},
		{"h264-360p", "callctl-360p.h264", "video/H264", &codecs.H264Payloader{}},
	} {
		clip, err := loadClip(filepath.Join(dir, tc.file))
		if err != nil {
			b.Fatal(err)
		}
		pkts := packetize(clip, tc.payloader)
		var baseline float64
		for _, decode := range []bool{false, true} {
			name := tc.name + "/depacketize"
			if decode {
				name = tc.name + "/decode"
			}
			b.Run(name, func(b *testing.B) {
				sink, err := NewReceiveSink(ReceiveOptions{NoDecode: !decode})
				if err != nil {
					b.Fatal(err)
				}
				tr := sink.OpenTrack(sdk.TrackInfo{ConsumerID: "c", Kind: "video", MimeType: tc.mime, ClockRate: 90000})
				defer tr.Close()
				b.ReportAllocs()
				b.ResetTimer()
				var seq uint16
				var ts uint32
				loop := uint32(len(pkts)) * 3000
				for i := 0; i < b.N; i++ { // one frame per iteration, looping the clip
					for _, p := range pkts[i%len(pkts)] {
						p.SequenceNumber = seq
						p.Timestamp += ts
						seq++
						tr.WriteRTP(&p)
					}
					if i%len(pkts) == len(pkts)-1 {
						ts += loop
					}
				}
				b.StopTimer()
				perFrame := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				b.ReportMetric(perFrame, "ns/frame")
				b.ReportMetric(perFrame*30/1e9, "cores@30fps")
				if !decode {
					baseline = perFrame
				} else if baseline > 0 {
					b.ReportMetric(perFrame/baseline, "x-vs-depacketize")
				}
				if decode && b.N > 10 && tr.Stats().FramesDecoded == 0 {
					b.Fatal("nothing decoded")
				}
			})
		}
	}
}

// packetize turns each frame of a clip into RTP packets (timestamps
// 3000 apart: 30 fps).
func packetize(c *clip, p rtp.Payloader) [][]rtp.Packet {
	out := make([][]rtp.Packet, len(c.frames))
	for i, f := range c.frames {
		payloads := p.Payload(1200, f.data)
		for j, pl := range payloads {
			out[i] = append(out[i], rtp.Packet{
				Header:  rtp.Header{Version: 2, PayloadType: 96, Timestamp: uint32(i) * 3000, Marker: j == len(payloads)-1, SSRC: 1},
				Payload: pl,
			})
		}
	}
	return out
}
