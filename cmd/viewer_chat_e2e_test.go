package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// TestViewerChat opens the viewer page twice in headless Chromium, in one
// room of the reference server, and has the two tabs chat over mediasoup
// DataChannels both ways: one tab publishes camera and microphone (chat
// shares the send transport with media), the other is receive-only (its
// send transport carries only the chat DataProducer). Lines go through
// window.viewer.sendChat() and through the page's own input and Send
// button; the test asserts on the text that arrived in the other tab's
// window.viewer.snapshot().chat.messages, in order, with the sender's id
// and display name. When a tab leaves, the other's DataConsumer closes.
// Both wire dialects; loopback only, like TestViewerPage.
//
// CALLCTL_VIEWER_CHAT_SCREENSHOT=file.png saves a screenshot of the
// publishing tab with the chat (JS dialect).
func TestViewerChat(t *testing.T) {
	chromiumPath(t) // skip early without a browser
	if sdktest.RerunInLoopbackNetns(t, requireBrowserEnv) {
		return
	}
	for _, dialect := range []string{"js", "ts"} {
		t.Run(dialect, func(t *testing.T) { testViewerChat(t, dialect) })
	}
}

func testViewerChat(t *testing.T, dialect string) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{Dialect: dialect})
	httpURL := "http" + strings.TrimPrefix(srv.URL, "ws")
	checkViewerServed(t, httpURL)

	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	b := startChromium(t, ctx)
	defer func() {
		if t.Failed() {
			t.Logf("browser console:\n  %s", strings.Join(b.consoleLines(), "\n  "))
			t.Logf("server stderr:\n%s", srv.Stderr())
		}
	}()
	room := "chat-" + dialect
	pageURL := func(peerID, name, extra string) string {
		return fmt.Sprintf("%s/?roomId=%s&peerId=%s&displayName=%s%s", httpURL, room, peerID, url.QueryEscape(name), extra)
	}
	alice := b.open(t, "alice", pageURL("alice", "Alice", "&publish=1&camera=320x180"))
	bob := b.open(t, "bob", pageURL("bob", "Bob (receive-only)", ""))

	// Each tab's chat DataProducer is open and it has an open DataConsumer
	// of the other's: a line sent now is not lost on the way.
	for _, p := range []*tab{alice, bob} {
		p.waitChat(t, ctx, "chat ready, with the other tab's DataConsumer open", func(s *chatSnapshot) bool {
			return s.Ready && s.Consumers == 1
		})
	}

	// alice -> bob, through the test hook; several lines keep their order.
	aliceLines := []string{"hello from Alice (" + dialect + ")", "grüße ✓ — ünïcode", "third line"}
	for _, line := range aliceLines {
		alice.sendChat(t, line)
	}
	bob.waitChatLines(t, ctx, "alice", "Alice", aliceLines)

	// bob -> alice, typed into the page's chat box and sent with its button.
	bobLine := "hi Alice, Bob here (" + dialect + ")"
	if err := chromedp.Do(bob.ctx,
		chromedp.SendKeys(chromedp.ID("chat-input"), bobLine),
		chromedp.Click(chromedp.ID("chat-send")),
	); err != nil {
		t.Fatalf("bob: type and send: %v", err)
	}
	alice.waitChatLines(t, ctx, "bob", "Bob (receive-only)", []string{bobLine})
	bobSnap := bob.waitChat(t, ctx, "its one line counted as sent", func(s *chatSnapshot) bool { return s.Sent == 1 })
	if left, err := chromedp.Run(bob.ctx, chromedp.Value(chromedp.ID("chat-input"))); err != nil || left != "" {
		t.Errorf("bob's chat input after Send: %q (%v), want it empty", left, err)
	}
	if n := len(bobSnap.Messages); n != len(aliceLines) {
		t.Errorf("bob has %d received lines, want %d (own lines are not received): %+v", n, len(aliceLines), bobSnap.Messages)
	}

	// Bad input is refused with a clear error, and nothing is sent.
	for expr, want := range map[string]string{
		`window.viewer.sendChat('   ')`: "empty",
		`window.viewer.sendChat(42)`:    "must be a string",
	} {
		_, err := chromedp.Run(alice.ctx, chromedp.Evaluate[chromedp.Void](expr, chromedp.EvalAwaitPromise))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one about %q", expr, err, want)
		}
	}
	if s := alice.chat(t); s.Sent != len(aliceLines) {
		t.Errorf("alice sent %d lines, want %d", s.Sent, len(aliceLines))
	}

	if path := os.Getenv("CALLCTL_VIEWER_CHAT_SCREENSHOT"); path != "" && dialect == "js" {
		alice.screenshot(t, ctx, path)
	}

	chatWithCallctl(t, ctx, srv.URL, room, alice)

	// bob leaves: alice's DataConsumer of his chat closes (dataConsumerClosed).
	if _, err := chromedp.Run(bob.ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("bob: leave: %v", err)
	}
	alice.waitChat(t, ctx, "bob's DataConsumer closed", func(s *chatSnapshot) bool { return s.Ready && s.Consumers == 0 })
}

// chatWithCallctl adds a callctl session with --data to the room and
// checks chat both ways between it and the page: callctl send shows up in
// the page's chat, and the page's line shows up as a data.message event
// on callctl's stdout.
func chatWithCallctl(t *testing.T, ctx context.Context, serverURL, room string, page *tab) {
	t.Helper()
	bot := start(t, "join", "--server", serverURL, "--room", room, "--user", "gobot", "--name", "Go bot",
		"--data", "--video", "none", "--audio", "none")
	bot.waitFor("joined", 15*time.Second, nil)
	page.waitChat(t, ctx, "the callctl session's chat consumed", func(s *chatSnapshot) bool { return s.Consumers == 2 })
	ctlOK(t, "send", "--session", room+"-gobot", "hello page, from callctl")
	page.waitChatLines(t, ctx, "gobot", "Go bot", []string{"hello page, from callctl"})

	line := "hello callctl, from the page ✓"
	got := func() bool {
		return len(bot.find("data.message", func(m map[string]any) bool {
			return m["peerId"] == "alice" && m["label"] == "chat" && m["text"] == line
		})) > 0
	}
	// callctl's receiving SCTP association may still be coming up: resend
	// until a line arrives.
	deadline := time.Now().Add(20 * time.Second)
	for !got() {
		if time.Now().After(deadline) {
			t.Fatalf("the page's line never reached callctl; its events: %v", types(bot.snapshot()))
		}
		page.sendChat(t, line)
		time.Sleep(300 * time.Millisecond)
	}
	_ = bot.cmd.Process.Signal(syscall.SIGINT)
	if code := bot.wait(15 * time.Second); code != 0 {
		t.Errorf("callctl exit %d\nstderr:\n%s", code, bot.stderr.String())
	}
	bot.checkStream(room+"-gobot", 0)
}

// chatSnapshot is window.viewer.snapshot().chat (viewer/chat.js).
type chatSnapshot struct {
	Ready     bool          `json:"ready"`
	Error     string        `json:"error"`
	Sent      int           `json:"sent"`
	Consumers int           `json:"consumers"` // open DataConsumers
	Messages  []chatMessage `json:"messages"`  // received lines
}

type chatMessage struct {
	PeerID      string  `json:"peerId"`
	DisplayName string  `json:"displayName"`
	Label       string  `json:"label"`
	Text        string  `json:"text"`
	At          float64 `json:"at"`
}

// chatState is what the test reads from a page: its error (if any) and chat.
type chatState struct {
	Error  string        `json:"error"`
	Joined bool          `json:"joined"`
	Chat   *chatSnapshot `json:"chat"`
}

const chatStateJS = `(() => {
	if (!window.viewer) return null;
	const s = window.viewer.snapshot();
	return { error: s.error, joined: s.joined, chat: s.chat };
})()`

func (p *tab) chatState() (*chatState, error) {
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[*chatState](chatStateJS))
	if err == nil && (s == nil || s.Chat == nil) {
		err = fmt.Errorf("no window.viewer.snapshot().chat")
	}
	return s, err
}

func (p *tab) chat(t *testing.T) *chatSnapshot {
	t.Helper()
	s, err := p.chatState()
	if err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	return s.Chat
}

// waitChat polls the page's chat state until ok holds; a page or chat
// error fails at once.
func (p *tab) waitChat(t *testing.T, ctx context.Context, what string, ok func(*chatSnapshot) bool) *chatSnapshot {
	t.Helper()
	var chat *chatSnapshot
	pollUntil(t, ctx, p.name+": "+what, func() (bool, string) {
		s, err := p.chatState()
		if err != nil {
			return false, err.Error()
		}
		if s.Error != "" || s.Chat.Error != "" {
			t.Fatalf("%s: page error %q, chat error %q", p.name, s.Error, s.Chat.Error)
		}
		chat = s.Chat
		j, _ := json.Marshal(s)
		return s.Joined && ok(s.Chat), string(j)
	})
	return chat
}

// waitChatLines waits until the page has received exactly lines from
// peerID, in that order, shown under displayName.
func (p *tab) waitChatLines(t *testing.T, ctx context.Context, peerID, displayName string, lines []string) {
	t.Helper()
	s := p.waitChat(t, ctx, fmt.Sprintf("%d chat lines from %s", len(lines), peerID), func(s *chatSnapshot) bool {
		n := 0
		for _, m := range s.Messages {
			if m.PeerID == peerID {
				n++
			}
		}
		return n >= len(lines)
	})
	var got []string
	for _, m := range s.Messages {
		if m.PeerID != peerID {
			continue
		}
		got = append(got, m.Text)
		if m.DisplayName != displayName || m.Label != "chat" || m.At <= 0 {
			t.Errorf("%s: line %q from %s shown as %q, label %q, at %v; want %q, \"chat\", a time",
				p.name, m.Text, peerID, m.DisplayName, m.Label, m.At, displayName)
		}
	}
	if strings.Join(got, "\n") != strings.Join(lines, "\n") {
		t.Errorf("%s: received from %s %q, want %q", p.name, peerID, got, lines)
	}
}

func (p *tab) sendChat(t *testing.T, text string) {
	t.Helper()
	js := fmt.Sprintf("window.viewer.sendChat(%s)", mustJSON(t, text))
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[chromedp.Void](js, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("%s: sendChat(%q): %v", p.name, text, err)
	}
}

// screenshot saves the page once its own video shows, so the picture has
// a tile next to the chat.
func (p *tab) screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.EmulateViewport(1200, 460)); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, ctx, p.name+": own video playing", func() (bool, string) {
		w, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](`(document.querySelector('.tile.me video') || {}).videoWidth || 0`))
		return err == nil && w > 0, fmt.Sprint(w, err)
	})
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(j)
}
