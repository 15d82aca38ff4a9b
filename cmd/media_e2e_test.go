package cmd

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// decodedVideoFrom returns the highest framesDecoded seen in proc's stats
// for video from peer, and the last resolution.
func decodedVideoFrom(p *proc, peer string) (frames float64, w, h float64, codec string) {
	for _, s := range p.find("stats", nil) {
		cs, _ := s["consumers"].([]any)
		for _, c := range cs {
			m := c.(map[string]any)
			if m["peerId"] != peer || m["kind"] != "video" {
				continue
			}
			if f := m["framesDecoded"].(float64); f >= frames {
				frames, codec = f, m["codec"].(string)
				w, _ = m["frameWidth"].(float64)
				h, _ = m["frameHeight"].(float64)
			}
		}
	}
	return frames, w, h, codec
}

// H264 publish and consume between two callctl participants: each
// decodes the other's H264 video.
func TestJoinH264(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	args := func(user string) []string {
		return []string{"join", "--server", srv.URL, "--room", "h264", "--user", user, "--codec", "h264",
			"--width", "320", "--height", "180", "--fps", "15", "--no-simulcast", "--duration", "5s", "--stats-interval", "1s"}
	}
	a := start(t, args("alice")...)
	a.waitFor("producer.created", 10*time.Second, func(m map[string]any) bool { return m["codec"] == "video/H264" })
	b := start(t, args("bob")...)
	for _, p := range []*proc{a, b} {
		if code := p.wait(20 * time.Second); code != ExitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, p.stderr.String())
		}
	}
	for _, c := range []struct {
		p    *proc
		peer string
	}{{a, "bob"}, {b, "alice"}} {
		frames, w, h, codec := decodedVideoFrom(c.p, c.peer)
		if codec != "video/H264" || frames < 20 || w != 320 || h != 180 {
			t.Errorf("video from %s: codec %s, %v frames decoded at %vx%v", c.peer, codec, frames, w, h)
		}
	}
}

// callctl clips writes a clip set; a bot replays it (3-layer VP8 simulcast
// and Opus) and another participant decodes it.
func TestJoinReplaysClips(t *testing.T) {
	dir := t.TempDir()
	code, res, stderr := ctl(t, "clips", "--out", dir, "--duration", "2s", "--width", "640", "--height", "360", "--codec", "vp8")
	if code != 0 || len(res) != 1 || len(res[0]["files"].([]any)) != 4 {
		t.Fatalf("clips: exit %d %v %s", code, res, stderr)
	}
	for _, f := range []string{"callctl-90p.ivf", "callctl-180p.ivf", "callctl-360p.ivf", "callctl.ogg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("clip %s: %v", f, err)
		}
	}
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	bot := start(t, "join", "--server", srv.URL, "--room", "clips", "--user", "bot",
		"--video", "file:"+dir, "--audio", "file:"+filepath.Join(dir, "callctl.ogg"), "--duration", "6s")
	bot.waitFor("producer.created", 10*time.Second, func(m map[string]any) bool { return m["kind"] == "video" && m["encodings"] == float64(3) })
	watcher := start(t, "join", "--server", srv.URL, "--room", "clips", "--user", "watcher", "--video", "none", "--audio", "none",
		"--duration", "3s", "--stats-interval", "1s")
	if code := watcher.wait(20 * time.Second); code != ExitOK {
		t.Fatalf("watcher exit %d; stderr:\n%s", code, watcher.stderr.String())
	}
	frames, w, _, _ := decodedVideoFrom(watcher, "bot")
	if frames < 30 || w < 160 {
		t.Errorf("replayed video: %v frames decoded, width %v", frames, w)
	}
	ok := false
	for _, s := range watcher.find("stats", nil) {
		for _, c := range s["consumers"].([]any) {
			m := c.(map[string]any)
			if m["kind"] == "audio" && m["samplesDecoded"] != nil && m["samplesDecoded"].(float64) > 48000 {
				ok = true
			}
		}
	}
	if !ok {
		t.Error("replayed Opus was not decoded")
	}
}

func TestDevicesCommand(t *testing.T) {
	code, res, stderr := ctl(t, "devices")
	if code != 0 || len(res) != 1 || res[0]["ok"] != true {
		t.Fatalf("devices: exit %d %v %s", code, res, stderr)
	}
	if _, err := os.Stat("/dev/video0"); err != nil {
		// This machine has no camera: join --video camera is a usage error.
		p := start(t, "join", "--server", "ws://127.0.0.1:1", "--room", "r", "--user", "u", "--video", "camera")
		if code := p.wait(10 * time.Second); code != ExitUsage || len(p.snapshot()) != 0 {
			t.Errorf("--video camera without a camera: exit %d", code)
		}
	}
}
