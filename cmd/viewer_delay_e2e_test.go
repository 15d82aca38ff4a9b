package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// TestViewerDelay: the viewer page reads the stamps of a callctl
// `--video test` stream (simulcast) in headless Chromium and shows its
// delay; on loopback it must be plausible (0 < d < 1000 ms). With
// CALLCTL_UPDATE_DOCS=1 it saves docs/viewer-delay.png.
func TestViewerDelay(t *testing.T) {
	chromiumPath(t) // skip early without a browser
	if sdktest.RerunInLoopbackNetns(t, requireBrowserEnv) {
		return
	}
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	httpURL := "http" + strings.TrimPrefix(srv.URL, "ws")
	checkViewerServed(t, httpURL)

	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	const room = "viewer-delay"
	bot := start(t, "join", "--server", srv.URL, "--room", room, "--user", "bot1", "--video", "test",
		"--width", "640", "--height", "360", "--fps", "15", "--simulcast", "--stats-interval", "1s")
	bot.waitFor("producer.created", 10*time.Second, func(m map[string]any) bool { return m["kind"] == "video" })

	b := startChromium(t, ctx)
	defer func() {
		if t.Failed() {
			t.Logf("browser console:\n  %s", strings.Join(b.consoleLines(), "\n  "))
			t.Logf("bot stderr:\n%s", bot.stderr.String())
		}
	}()
	page := b.open(t, "page", fmt.Sprintf("%s/?roomId=%s&peerId=watcher&displayName=Watcher", httpURL, room))

	var last delaySnapshot
	pollUntil(t, ctx, "the page to read 10 stamps of bot1's video", func() (bool, string) {
		s, err := chromedp.Run(page.ctx, chromedp.Evaluate[delaySnapshot](
			`(window.viewer ? window.viewer.snapshot().consumers : []).find((c) => c.peerId === 'bot1' && c.kind === 'video') || {}`))
		if err != nil {
			return false, err.Error()
		}
		last = s
		return s.StampsRead >= 10 && s.DelayMs != nil, fmt.Sprintf("%+v", s)
	})
	d := *last.DelayMs
	t.Logf("viewer: bot1's video %dx%d, delay %.0f ms (%d stamps read, %d frames without one)", last.Width, last.Height, d, last.StampsRead, last.StampMisses)
	if d <= 0 || d >= 1000 {
		t.Errorf("delay %.1f ms read by the page, want 0 < d < 1000 on loopback", d)
	}
	meta, err := chromedp.Run(page.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('.media .meta')].map((m) => m.textContent).join(' | ')`))
	if err != nil || !strings.Contains(meta, "delay ") {
		t.Errorf("tile meta %q (%v), want it to show the delay", meta, err)
	}

	if os.Getenv("CALLCTL_UPDATE_DOCS") == "1" {
		if _, err := chromedp.Run(page.ctx, chromedp.EmulateViewport(720, 480)); err != nil {
			t.Fatal(err)
		}
		// The next stamp read refreshes the label at the new size.
		pollUntil(t, ctx, "the tile to show the delay", func() (bool, string) {
			m, err := chromedp.Run(page.ctx, chromedp.Evaluate[string](`(document.querySelector('.media .meta') || {}).textContent || ''`))
			return err == nil && strings.Contains(m, "delay "), m
		})
		png, err := chromedp.Run(page.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		path := filepath.Join("..", "docs", "viewer-delay.png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s (%d bytes)", path, len(png))
	}
}

// delaySnapshot is the part of a snapshot() consumer the delay test reads.
type delaySnapshot struct {
	Width       int      `json:"width"`
	Height      int      `json:"height"`
	DelayMs     *float64 `json:"delayMs"`
	StampsRead  int      `json:"stampsRead"`
	StampMisses int      `json:"stampMisses"`
}
