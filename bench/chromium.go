//go:build linux

package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/chromedp/chromedp"

	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// chromiumPath finds Chromium: $CALLCTL_CHROMIUM, /usr/bin/chromium or
// chromium on PATH.
func chromiumPath() (string, error) {
	for _, p := range []string{os.Getenv("CALLCTL_CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", errors.New("no Chromium (install it: bash scripts/mediasoup-server/viewer/install-chromium.sh)")
}

// browser is a headless Chromium with one tab.
type browser struct {
	ctx     context.Context
	cancel  func()
	profile string
	pid     int
}

// startBrowser launches headless Chromium with the flags of the viewer
// e2e test (cmd/viewer_e2e_test.go): fake camera and microphone (the
// page publishes Chromium's synthetic camera picture), no GPU, loopback
// ICE candidates, none of its own background traffic. The tab starts on
// about:blank; its process tree is the baseline's measured tree.
func startBrowser(ctx context.Context, exe string) (*browser, error) {
	profile, err := os.MkdirTemp("", "callctl-bench-chromium")
	if err != nil {
		return nil, err
	}
	opts := sdktest.ChromiumOptions(exe, profile)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	b := &browser{ctx: bctx, profile: profile, cancel: func() {
		cancelBrowser() // closes the browser and waits for it
		cancelAlloc()
		_ = os.RemoveAll(profile)
	}}
	if _, err := chromedp.Run(bctx, chromedp.Navigate("about:blank")); err != nil {
		b.cancel()
		return nil, fmt.Errorf("start %s: %w", exe, err)
	}
	c := chromedp.FromContext(bctx)
	if c.Browser == nil || c.Browser.Process() == nil {
		b.cancel()
		return nil, errors.New("chromedp did not start a browser process")
	}
	b.pid = c.Browser.Process().Pid
	return b, nil
}

func (b *browser) close() { b.cancel() }

// navigate loads url in the tab (returns once the load event fired).
func (b *browser) navigate(url string) error {
	_, err := chromedp.Run(b.ctx, chromedp.Navigate(url))
	return err
}

// pageSnapshot is the part of window.viewer.snapshot() (viewer/viewer.js)
// the harness reads.
type pageSnapshot struct {
	Handler   string            `json:"handler"`
	Joined    bool              `json:"joined"`
	Error     string            `json:"error"`
	Producers map[string]string `json:"producers"`
	Consumers []struct {
		PeerID        string `json:"peerId"`
		Kind          string `json:"kind"`
		Playing       bool   `json:"playing"`
		FramesDecoded int    `json:"framesDecoded"`
		Width         int    `json:"width"`
		Height        int    `json:"height"`
	} `json:"consumers"`
}

func (b *browser) snapshot() (*pageSnapshot, error) {
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[*pageSnapshot](`window.viewer ? window.viewer.snapshot() : null`))
	if err == nil && s == nil {
		err = errors.New("no window.viewer yet")
	}
	if err == nil && s.Error != "" {
		err = fmt.Errorf("page error: %s", s.Error)
	}
	return s, err
}

// videoFrom returns the decoded frame count and size of peer's video in
// the page (-1 without such a consumer) and whether its audio plays.
func (s *pageSnapshot) videoFrom(peer string) (frames, width, height int, audio bool) {
	frames = -1
	for _, c := range s.Consumers {
		if c.PeerID != peer {
			continue
		}
		if c.Kind == "video" {
			frames, width, height = c.FramesDecoded, c.Width, c.Height
		} else if c.Kind == "audio" {
			audio = c.Playing
		}
	}
	return frames, width, height, audio
}
