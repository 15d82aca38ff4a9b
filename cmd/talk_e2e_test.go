package cmd

import (
	"fmt"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// Three `callctl join --talk turns` processes take turns and a fourth
// follows the active speaker: its active_speaker events (schema-checked
// like every line) name each talker, and its final stats count the
// changes. Timing is measured by the SDK and fleet e2e tests; here the
// tone keeps its 1 s beeps, so a turn's speech starts with its first beep.
func TestJoinTalkTurns(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	listener := start(t, "join", "--server", srv.URL, "--room", "talk", "--user", "listener",
		"--video", "none", "--audio", "none", "--consume", "audio", "--duration", "16s")
	listener.waitFor("joined", 10*time.Second, nil)
	for k := range 3 {
		start(t, "join", "--server", srv.URL, "--room", "talk", "--user", fmt.Sprintf("talker%d", k),
			"--video", "none", "--consume", "none", "--duration", "20s",
			"--talk", "turns", "--talk-turn", "2s", "--talk-index", fmt.Sprint(k), "--talk-count", "3")
	}
	if code := listener.wait(30 * time.Second); code != 0 {
		t.Fatalf("listener exited %d\nstderr:\n%s", code, listener.stderr.String())
	}
	listener.checkStream("talk-listener", 0)
	changes := listener.find("active_speaker", func(m map[string]any) bool { return m["changed"] == true })
	named := map[any]bool{}
	for _, m := range changes {
		named[m["peerId"]] = true
	}
	for k := range 3 {
		if !named[fmt.Sprintf("talker%d", k)] {
			t.Errorf("talker%d never became the active speaker; changes: %v", k, changes)
		}
	}
	final := listener.find("stats", nil)
	if len(final) == 0 {
		t.Fatal("no final stats")
	}
	n, _ := final[len(final)-1]["activeSpeakerChanges"].(float64)
	t.Logf("%d active_speaker changes, final stats count %v", len(changes), n)
	// About 6 turns passed while all three talked: at least 3 changes.
	if int(n) < 3 || int(n) != len(changes)-1 {
		t.Errorf("final stats count %v changes, the events %d (the first naming is not a change)", n, len(changes))
	}
}
