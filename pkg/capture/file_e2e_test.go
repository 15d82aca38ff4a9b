package capture

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// joinWith joins a participant that publishes the given sources (either
// may be nil) and receives into sink (may be nil).
func joinWith(t *testing.T, url, room, user string, audio, video sdk.MediaSource, sink sdk.ReceiveSink) *sdk.Client {
	t.Helper()
	return joinConfig(t, sdk.Config{ServerURL: url, Audio: audio, Video: video, Sink: sink}, room, user)
}

// joinConfig joins with cfg on loopback (SDK logs on stderr with
// CALLCTL_TEST_DEBUG), drains the events, and leaves at the end of the test.
func joinConfig(t *testing.T, cfg sdk.Config, room, user string) *sdk.Client {
	t.Helper()
	cfg.ICE = sdk.LoopbackICE()
	if os.Getenv("CALLCTL_TEST_DEBUG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c, err := sdk.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range c.Events() {
		}
	}()
	if err := c.JoinCall(context.Background(), room, user, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.LeaveCall(context.Background()) })
	return c
}

// firstFrameSink wraps a ReceiveSink and notes when its first video frame
// decoded.
type firstFrameSink struct {
	sdk.ReceiveSink

	once  sync.Once
	at    time.Time
	ready chan struct{}
}

func newFirstFrameSink(t *testing.T) *firstFrameSink {
	sink, err := NewReceiveSink(ReceiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &firstFrameSink{ReceiveSink: sink, ready: make(chan struct{})}
}

func (s *firstFrameSink) OpenTrack(info sdk.TrackInfo) sdk.TrackReceiver {
	r := s.ReceiveSink.OpenTrack(info)
	if info.Kind != "video" || r == nil {
		return r
	}
	return &firstFrameReceiver{TrackReceiver: r, sink: s}
}

type firstFrameReceiver struct {
	sdk.TrackReceiver
	sink *firstFrameSink
}

func (r *firstFrameReceiver) WriteRTP(p *rtp.Packet) {
	r.TrackReceiver.WriteRTP(p)
	if r.TrackReceiver.Stats().FramesDecoded > 0 {
		r.sink.once.Do(func() {
			r.sink.at = time.Now()
			close(r.sink.ready)
		})
	}
}

// A pre-encoded simulcast source (plus Opus from a file) published through
// the real server: a subscriber joining mid-GOP decodes its first frame
// within a second of its JoinCall returning (the server's key-frame
// request makes the replay jump to the next key frame), then decodes the
// top layer smoothly, and the audio too.
func TestFileSourceReachesSubscriber(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	dir := testClips(t)
	for _, codec := range []string{CodecVP8, CodecH264} {
		t.Run(codec, func(t *testing.T) {
			video, err := NewFileVideo(FileOptions{Path: dir, Codec: codec})
			if err != nil {
				t.Fatal(err)
			}
			audio, err := NewFileAudio(AudioFileOptions{Path: testClip(t, "callctl.ogg")})
			if err != nil {
				t.Fatal(err)
			}
			room := "file-" + codec
			joinWith(t, srv.URL, room, "pub", audio, video, nil)
			published := time.Now()
			// Let the replay run into the middle of a GOP.
			time.Sleep(1500 * time.Millisecond)

			sink := newFirstFrameSink(t)
			sub := joinWith(t, srv.URL, room, "sub", nil, nil, sink)
			joined := time.Now() // JoinCall returned
			select {
			case <-sink.ready:
			case <-time.After(10 * time.Second):
				t.Fatal("no frame decoded in 10 s")
			}
			delay := sink.at.Sub(joined)
			// Key frames beyond one per second of replay are jumps.
			keys := video.Stats().Layers[2].KeyFrames
			t.Logf("first frame decoded %v after JoinCall returned; the top layer sent %d key frames in %v",
				delay.Round(time.Millisecond), keys, time.Since(published).Round(time.Millisecond))
			if delay > time.Second {
				t.Errorf("first decoded frame %v after joining, want within 1 s", delay)
			}

			v := waitStats(t, sub, "video", 10*time.Second, func(cs sdk.ConsumerStats) bool {
				return cs.FramesDecoded >= 30 && cs.Width == 640
			})
			if v.Height != 360 || v.DecodeErrors != 0 {
				t.Errorf("video: %+v", v.ReceiveStats)
			}
			a := waitStats(t, sub, "audio", 5*time.Second, func(cs sdk.ConsumerStats) bool { return cs.SamplesDecoded > 48000 })
			if a.DecodeErrors != 0 {
				t.Errorf("audio: %+v", a.ReceiveStats)
			}
		})
	}
}
