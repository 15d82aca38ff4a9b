package capture

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// joinPublisher joins a participant that publishes a tone and a picture.
func joinPublisher(t *testing.T, url, room, user string, vo VideoOptions) *sdk.Client {
	t.Helper()
	audio, err := NewToneAudio(AudioOptions{Continuous: true})
	if err != nil {
		t.Fatal(err)
	}
	video, err := NewSyntheticVideo(vo)
	if err != nil {
		t.Fatal(err)
	}
	return joinWith(t, url, room, user, audio, video, nil)
}

// joinSubscriber joins a receive-only participant with a sink.
func joinSubscriber(t *testing.T, url, room string, sink sdk.ReceiveSink, layers *sdk.Layers) *sdk.Client {
	t.Helper()
	return joinConfig(t, sdk.Config{ServerURL: url, Sink: sink, VideoLayers: layers}, room, "sub")
}

// waitStats polls the subscriber's stats until pred holds for the
// consumer of kind.
func waitStats(t *testing.T, c *sdk.Client, kind string, d time.Duration, pred func(sdk.ConsumerStats) bool) sdk.ConsumerStats {
	t.Helper()
	var last sdk.ConsumerStats
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		s, err := c.Stats(context.Background())
		if err == nil {
			for _, cs := range s.Consumers {
				if cs.Kind == kind {
					last = cs
					if pred(cs) {
						return cs
					}
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s consumer never satisfied the condition; last stats %+v", kind, last)
	return last
}

func TestReceiveSinkDecodesAndRecords(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	dir := t.TempDir()
	joinPublisher(t, srv.URL, "rx", "pub", VideoOptions{Width: 320, Height: 180, FPS: 15})
	sink, err := NewReceiveSink(ReceiveOptions{RecordDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	sub := joinSubscriber(t, srv.URL, "rx", sink, nil)

	v := waitStats(t, sub, "video", 10*time.Second, func(cs sdk.ConsumerStats) bool { return cs.FramesDecoded >= 30 })
	if v.Width != 320 || v.Height != 180 || v.KeyFrames == 0 || v.DecodeErrors != 0 {
		t.Errorf("video: %+v", v.ReceiveStats)
	}
	if v.FPS < 10 || v.FPS > 20 {
		t.Errorf("video fps %.1f, want about 15", v.FPS)
	}
	a := waitStats(t, sub, "audio", 5*time.Second, func(cs sdk.ConsumerStats) bool { return cs.SamplesDecoded > 48000 })
	// A -12 dBFS peak sine is about -15 dBFS RMS.
	if a.AudioLevel < -25 || a.AudioLevel > -10 {
		t.Errorf("audio level %.1f dBFS, want about -15", a.AudioLevel)
	}
	if errs := sink.Errors(); len(errs) != 0 {
		t.Errorf("sink errors: %v", errs)
	}
	if err := sub.LeaveCall(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The recordings are files standard readers accept.
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var ivf, ogg string
	for _, f := range files {
		switch {
		case strings.HasSuffix(f, ".ivf"):
			ivf = f
		case strings.HasSuffix(f, ".ogg"):
			ogg = f
		}
	}
	if ivf == "" || ogg == "" {
		t.Fatalf("recordings: %v", files)
	}
	fh, err := os.Open(ivf)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, hdr, err := ivfreader.NewWith(fh)
	if err != nil {
		t.Fatal(err)
	}
	// Decode every recorded frame with libvpx.
	dec, err := newVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.close()
	frames, pictures := 0, 0
	for {
		frame, _, err := r.ParseNextFrame()
		if err != nil {
			break
		}
		frames++
		if w, h, err := dec.decode(frame); err != nil {
			t.Fatalf("recorded frame %d does not decode: %v", frames, err)
		} else if w == 320 && h == 180 {
			pictures++
		}
	}
	if hdr.FourCC != "VP80" || frames < 20 || pictures != frames {
		t.Errorf("ivf: fourcc %q, %d frames, %d decoded to 320x180", hdr.FourCC, frames, pictures)
	}
	oh, err := os.Open(ogg)
	if err != nil {
		t.Fatal(err)
	}
	defer oh.Close()
	or, oggHdr, err := oggreader.NewWith(oh)
	if err != nil {
		t.Fatal(err)
	}
	odec, err := newOpusDecoder(2)
	if err != nil {
		t.Fatal(err)
	}
	defer odec.close()
	pages, samples := 0, 0
	for {
		page, _, err := or.ParseNextPage()
		if err != nil {
			break
		}
		if strings.HasPrefix(string(page), "OpusTags") {
			continue
		}
		pages++
		pcm, err := odec.decode(page)
		if err != nil {
			t.Fatalf("recorded Opus page %d does not decode: %v", pages, err)
		}
		samples += len(pcm)
	}
	if oggHdr.SampleRate != 48000 || pages < 20 || samples < pages*960 {
		t.Errorf("ogg: rate %d, %d pages, %d samples", oggHdr.SampleRate, pages, samples)
	}
}
