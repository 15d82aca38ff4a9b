package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// requireBrowserEnv, when set to 1, turns a missing Chromium into a test
// failure instead of a skip.
const requireBrowserEnv = "CALLCTL_REQUIRE_BROWSER"

// TestViewerPage opens the reference server's viewer page
// (scripts/mediasoup-server/viewer) in headless Chromium next to a callctl
// bot and checks media both ways: the page decodes the bot's video, and the
// bot receives the page's camera and microphone (Chromium's fake devices).
// A second, receive-only page then shows the first page's simulcast video
// with its layers; "Stop publishing" closes the page's producers, and the
// bot's tile goes when it leaves. Both wire dialects of the server are
// covered. Every ICE pair must be 127.0.0.1 <-> 127.0.0.1, so where the
// machine has other interfaces the test runs itself again in a network
// namespace with only lo (server, bot and browser all inside).
//
// CALLCTL_VIEWER_SCREENSHOT=file.png saves a screenshot of that second page.
func TestViewerPage(t *testing.T) {
	chromiumPath(t) // skip early without a browser
	// Chromium pairs every local address with the server's 127.0.0.1
	// candidate; in a namespace with only lo, 127.0.0.1 is all it has.
	if sdktest.RerunInLoopbackNetns(t, requireBrowserEnv) {
		return
	}
	for _, dialect := range []string{"js", "ts"} {
		t.Run(dialect, func(t *testing.T) { testViewerPage(t, dialect) })
	}
}

func testViewerPage(t *testing.T, dialect string) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{Dialect: dialect})
	httpURL := "http" + strings.TrimPrefix(srv.URL, "ws")
	checkViewerServed(t, httpURL)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	const room = "viewer-e2e"
	bot := start(t, "join", "--server", srv.URL, "--room", room, "--user", "bot1",
		"--width", "320", "--height", "180", "--fps", "15", "--stats-interval", "1s")
	bot.waitFor("producer.created", 10*time.Second, func(m map[string]any) bool { return m["kind"] == "video" })

	b := startChromium(t, ctx)
	defer func() {
		if t.Failed() {
			t.Logf("browser console:\n  %s", strings.Join(b.consoleLines(), "\n  "))
			t.Logf("server stderr:\n%s", srv.Stderr())
			t.Logf("bot stderr:\n%s", bot.stderr.String())
		}
	}()
	page := b.open(t, "page", fmt.Sprintf("%s/?roomId=%s&peerId=page&displayName=Headless+Chromium&publish=1&camera=640x360", httpURL, room))

	// (1) The page decodes the bot's video and plays its audio.
	snap := page.waitSnapshot(t, ctx, "more than 10 decoded frames of bot1's 320x180 video, its audio playing, and the page publishing", func(s *viewerSnapshot) bool {
		v, a := s.consumer("bot1", "video"), s.consumer("bot1", "audio")
		return v != nil && v.FramesDecoded > 10 && v.Width == 320 && v.Height == 180 && a != nil && a.Playing &&
			s.Producers["audio"] != "" && s.Producers["video"] != ""
	})
	t.Logf("page: mediasoup-client handler %s, producers %v", snap.Handler, snap.Producers)
	if !strings.HasPrefix(snap.Handler, "Chrome") {
		t.Errorf("mediasoup-client handler %q, want a Chrome handler", snap.Handler)
	}
	if snap.Producers["audio"] == "" || snap.Producers["video"] == "" {
		t.Fatalf("page did not publish audio and video: %v", snap.Producers)
	}

	// (2) The bot receives the page's audio and video.
	for _, kind := range []string{"audio", "video"} {
		bot.waitFor("consumer.created", time.Until(deadline(ctx)), func(m map[string]any) bool {
			return m["peerId"] == "page" && m["kind"] == kind && m["producerId"] == snap.Producers[kind]
		})
	}
	pollUntil(t, ctx, "bot1's stats to show more than 20 packets on both of the page's streams", func() (bool, string) {
		stats := bot.find("stats", nil)
		for _, s := range stats {
			got := map[string]bool{}
			cs, _ := s["consumers"].([]any)
			for _, c := range cs {
				m, _ := c.(map[string]any)
				if n, _ := m["packetsReceived"].(float64); m["peerId"] == "page" && n > 20 {
					got[fmt.Sprint(m["kind"])] = true
				}
			}
			if got["audio"] && got["video"] {
				return true, ""
			}
		}
		if len(stats) == 0 {
			return false, "no stats event yet"
		}
		j, _ := json.Marshal(stats[len(stats)-1]["consumers"])
		return false, string(j)
	})

	// (3) A receive-only page sees the bot and the first page's simulcast
	// video, with the layer the server forwards.
	watcher := b.open(t, "watcher", fmt.Sprintf("%s/?roomId=%s&peerId=watcher&displayName=Watcher", httpURL, room))
	watcher.waitSnapshot(t, ctx, "the page's simulcast video with layers, and bot1's video", func(s *viewerSnapshot) bool {
		p, v := s.consumer("page", "video"), s.consumer("bot1", "video")
		return p != nil && p.Type == "simulcast" && p.SpatialLayer != nil && p.TemporalLayer != nil && p.FramesDecoded > 10 &&
			v != nil && v.FramesDecoded > 10 && len(s.Producers) == 0
	})

	// Loopback only: the browser's selected ICE pairs...
	page.checkLoopbackICE(t, ctx, "send", "recv")
	watcher.checkLoopbackICE(t, ctx, "recv")
	// ... and the bot's.
	stats := bot.find("stats", nil)
	transports, _ := stats[len(stats)-1]["transports"].([]any)
	for _, tr := range transports {
		m, _ := tr.(map[string]any)
		for _, k := range []string{"localAddress", "remoteAddress"} {
			if a, _ := m[k].(string); !strings.HasPrefix(a, "127.0.0.1:") {
				t.Errorf("bot1 %v transport: %s %q, want 127.0.0.1:*", m["transport"], k, a)
			}
		}
	}

	if path := os.Getenv("CALLCTL_VIEWER_SCREENSHOT"); path != "" && dialect == "js" {
		// Two tiles side by side, then let the frame rate and layer labels settle.
		if _, err := chromedp.Run(watcher.ctx, chromedp.EmulateViewport(900, 360)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		png, err := chromedp.Run(watcher.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s (%d bytes)", path, len(png))
	}

	// (4) "Stop publishing" closes the page's producers: the others lose
	// their consumers.
	if _, err := chromedp.Run(page.ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('publish').click()`)); err != nil {
		t.Fatalf("click: %v", err)
	}
	for _, kind := range []string{"audio", "video"} {
		bot.waitFor("consumer.closed", time.Until(deadline(ctx)), func(m map[string]any) bool {
			return m["peerId"] == "page" && m["kind"] == kind
		})
	}
	watcher.waitSnapshot(t, ctx, "no consumers of the page any more", func(s *viewerSnapshot) bool {
		return s.consumer("page", "video") == nil && s.consumer("page", "audio") == nil
	})
	page.waitSnapshot(t, ctx, "no producers", func(s *viewerSnapshot) bool { return len(s.Producers) == 0 })

	// (5) When the bot leaves, its tile goes.
	_ = bot.cmd.Process.Signal(syscall.SIGTERM)
	watcher.waitSnapshot(t, ctx, "bot1 gone", func(s *viewerSnapshot) bool {
		for _, p := range s.Peers {
			if p.ID == "bot1" {
				return false
			}
		}
		return s.consumer("bot1", "video") == nil && s.consumer("bot1", "audio") == nil
	})
}

// ---------------------------------------------------------------------------
// the page as the test sees it

// viewerSnapshot is what window.viewer.snapshot() returns (viewer/viewer.js).
type viewerSnapshot struct {
	PeerID    string            `json:"peerId"`
	Handler   string            `json:"handler"`
	Joined    bool              `json:"joined"`
	Error     string            `json:"error"`
	Producers map[string]string `json:"producers"`
	Peers     []struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	} `json:"peers"`
	Consumers []viewerConsumer `json:"consumers"`
}

type viewerConsumer struct {
	ID            string `json:"id"`
	PeerID        string `json:"peerId"`
	Kind          string `json:"kind"`
	Type          string `json:"type"`
	SpatialLayer  *int   `json:"spatialLayer"`
	TemporalLayer *int   `json:"temporalLayer"`
	TrackState    string `json:"trackState"`
	Playing       bool   `json:"playing"`
	FramesDecoded int    `json:"framesDecoded"`
	Width         int    `json:"width"`
	Height        int    `json:"height"`
}

func (s *viewerSnapshot) consumer(peerID, kind string) *viewerConsumer {
	for i, c := range s.Consumers {
		if c.PeerID == peerID && c.Kind == kind {
			return &s.Consumers[i]
		}
	}
	return nil
}

type icePair struct {
	State string `json:"state"`
	Local struct {
		Address  string `json:"address"`
		Protocol string `json:"protocol"`
	} `json:"local"`
	Remote struct {
		Address  string `json:"address"`
		Protocol string `json:"protocol"`
	} `json:"remote"`
}

// tab is one open viewer page.
type tab struct {
	name string
	ctx  context.Context
}

func (p *tab) snapshot() (*viewerSnapshot, error) {
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[*viewerSnapshot](`window.viewer ? window.viewer.snapshot() : null`))
	if err == nil && s == nil {
		err = fmt.Errorf("no window.viewer")
	}
	return s, err
}

// waitSnapshot polls the page's state until ok holds; a page error fails at once.
func (p *tab) waitSnapshot(t *testing.T, ctx context.Context, what string, ok func(*viewerSnapshot) bool) *viewerSnapshot {
	t.Helper()
	var snap *viewerSnapshot
	pollUntil(t, ctx, p.name+": "+what, func() (bool, string) {
		s, err := p.snapshot()
		if err != nil {
			return false, err.Error()
		}
		if s.Error != "" {
			t.Fatalf("%s: page error: %s", p.name, s.Error)
		}
		snap = s
		j, _ := json.Marshal(s)
		return ok(s), string(j)
	})
	return snap
}

// checkLoopbackICE asserts that the page's transports selected a
// 127.0.0.1 <-> 127.0.0.1 candidate pair.
func (p *tab) checkLoopbackICE(t *testing.T, ctx context.Context, transports ...string) {
	t.Helper()
	var ice map[string]*icePair
	pollUntil(t, ctx, p.name+": selected ICE pairs", func() (bool, string) {
		var err error
		ice, err = chromedp.Run(p.ctx, chromedp.Evaluate[map[string]*icePair](`window.viewer.ice()`, chromedp.EvalAwaitPromise))
		if err != nil {
			return false, err.Error()
		}
		for _, tr := range transports {
			if ice[tr] == nil {
				return false, fmt.Sprintf("%+v", ice)
			}
		}
		return true, ""
	})
	for _, tr := range transports {
		pair := ice[tr]
		t.Logf("%s %s transport: %s %s -> %s (%s)", p.name, tr, pair.Local.Protocol, pair.Local.Address, pair.Remote.Address, pair.State)
		if pair.Local.Address != "127.0.0.1" || pair.Remote.Address != "127.0.0.1" {
			t.Errorf("%s %s transport selected %s <-> %s, want 127.0.0.1 <-> 127.0.0.1",
				p.name, tr, pair.Local.Address, pair.Remote.Address)
		}
	}
}

// ---------------------------------------------------------------------------
// headless Chromium

// chromiumPath finds a Chromium binary: $CALLCTL_CHROMIUM, Debian's
// /usr/bin/chromium, or chromium on PATH. It skips the test without one,
// or fails it when CALLCTL_REQUIRE_BROWSER=1.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CALLCTL_CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	msg := "no Chromium (install it: bash scripts/mediasoup-server/viewer/install-chromium.sh)"
	if os.Getenv(requireBrowserEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

type browser struct {
	ctx     context.Context // the first tab
	mu      sync.Mutex
	console []string
	used    bool
}

// startChromium launches headless Chromium with a fresh profile, fake
// camera and microphone, autoplay allowed, loopback ICE candidates, and
// none of its own background network traffic. It is closed when the test
// ends.
func startChromium(t *testing.T, ctx context.Context) *browser {
	t.Helper()
	profile, err := os.MkdirTemp("", "callctl-chromium")
	if err != nil {
		t.Fatal(err)
	}
	opts := sdktest.ChromiumOptions(chromiumPath(t), profile)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	b := &browser{ctx: bctx}
	t.Cleanup(func() {
		cancelBrowser() // closes the browser and waits for it
		cancelAlloc()
		_ = os.RemoveAll(profile)
	})
	if err := b.listen(bctx, "page"); err != nil {
		t.Fatalf("start %s: %v", chromiumPath(t), err)
	}
	return b
}

// open loads url in a tab: the browser's first tab the first time, a new
// one after that.
func (b *browser) open(t *testing.T, name, url string) *tab {
	t.Helper()
	ctx := b.ctx
	if b.used {
		ctx, _ = chromedp.NewContext(b.ctx) // closed with the browser
		if err := b.listen(ctx, name); err != nil {
			t.Fatalf("new tab: %v", err)
		}
	}
	b.used = true
	if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(1280, 640)); err != nil {
		t.Fatalf("%s: viewport: %v", name, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("%s: open %s: %v", name, url, err)
	}
	return &tab{name: name, ctx: ctx}
}

// listen records the tab's console messages and uncaught exceptions
// (and starts the browser or the tab, if needed).
func (b *browser) listen(ctx context.Context, name string) error {
	return chromedp.Listen(ctx, func(ev any) {
		var s string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range ev.Args {
				if a.Value != nil {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			s = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " "))
		case *runtime.EventExceptionThrown:
			s = "exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				s += " " + ev.ExceptionDetails.Exception.Description
			}
		default:
			return
		}
		b.mu.Lock()
		b.console = append(b.console, name+": "+s)
		b.mu.Unlock()
	})
}

func (b *browser) consoleLines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// ---------------------------------------------------------------------------

// checkViewerServed fails (or, without CALLCTL_REQUIRE_SERVER=1, skips)
// when the server has no built viewer page.
func checkViewerServed(t *testing.T, httpURL string) {
	t.Helper()
	resp, err := http.Get(httpURL + "/")
	if err != nil {
		t.Fatalf("GET %s/: %v", httpURL, err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "viewer.js") {
		msg := fmt.Sprintf("GET %s/: %s %q (run `make server-install` to build the viewer page)", httpURL, resp.Status, body)
		if os.Getenv(sdktest.RequireServerEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// pollUntil calls check every 200 ms until it reports done, or fails the
// test with check's last detail when ctx ends.
func pollUntil(t *testing.T, ctx context.Context, what string, check func() (done bool, detail string)) {
	t.Helper()
	for {
		done, detail := check()
		if done {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s; last: %s", what, detail)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
