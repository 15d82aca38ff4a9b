package cmd

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// TestJoinDataChannels: two callctl sessions with --data exchange chat
// messages both ways through mediasoup (callctl send → data.message on
// the other's stdout); one of them consumes no media at all. A session
// joined without --data refuses send with no_data_channel.
func TestJoinDataChannels(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	base := []string{"join", "--server", srv.URL, "--room", "chat", "--video", "none", "--audio", "none"}
	alice := start(t, append(base, "--user", "alice", "--data")...)
	bob := start(t, append(base, "--user", "bob", "--data", "--consume", "none")...)
	carol := start(t, append(base, "--user", "carol")...)
	for _, p := range []*proc{alice, bob, carol} {
		p.waitFor("joined", 15*time.Second, nil)
	}
	for from, to := range map[string]*proc{"alice": bob, "bob": alice} {
		text := "hi from " + from + " — ✓"
		received := func() bool {
			return len(to.find("data.message", func(m map[string]any) bool {
				return m["peerId"] == from && m["label"] == "chat" && m["text"] == text && num(m, "size") == float64(len(text))
			})) > 0
		}
		// The server forwards a message once the receiver's SCTP association
		// is up, which the sender cannot see: send until one arrives.
		deadline := time.Now().Add(20 * time.Second)
		for !received() {
			if time.Now().After(deadline) {
				t.Fatalf("%s's message never reached the other session; its events: %v", from, types(to.snapshot()))
			}
			res := ctlOK(t, append([]string{"send", "--session", "chat-" + from}, strings.Fields(text)...)...)
			if res["label"] != "chat" || num(res, "bytes") != float64(len(text)) {
				t.Fatalf("send result %v", res)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	if n := len(carol.find("data.message", nil)); n != 0 {
		t.Errorf("carol joined without --data but printed %d data.message events", n)
	}
	ctlFail(t, ExitRefused, codeNoDataChannel, "send", "hello", "--session", "chat-carol")
	if c := bob.find("consumer.created", nil); len(c) != 0 {
		t.Errorf("bob joined with --consume none but consumed %v", c)
	}
	for _, p := range []*proc{alice, bob, carol} {
		_ = p.cmd.Process.Signal(syscall.SIGINT)
	}
	for name, p := range map[string]*proc{"chat-alice": alice, "chat-bob": bob, "chat-carol": carol} {
		if code := p.wait(15 * time.Second); code != 0 {
			t.Errorf("%s exit %d\nstderr:\n%s", name, code, p.stderr.String())
		}
		p.checkStream(name, 0)
	}
}
