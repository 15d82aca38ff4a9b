package cmd

import (
	"strings"
	"testing"
	"time"
)

// Bad --talk flags are usage errors (exit 2, a message, nothing on
// stdout) found before anything connects.
func TestTalkFlagsUsage(t *testing.T) {
	join := []string{"join", "--server", "ws://127.0.0.1:1", "--room", "r", "--user", "u", "--video", "none", "--audio", "none"}
	fleetArgs := []string{"fleet", "--server", "ws://127.0.0.1:1", "--publishers", "1", "--video", "none"}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{append(join, "--talk", "shout"), "mode"},
		{append(join, "--talk", "turns", "--talk-index", "3", "--talk-count", "3"), "index 3 of 3"},
		{append(join, "--talk", "turns", "--talk-count", "0"), "index 0 of 0"},
		{append(join, "--talk", "turns", "--talk-turn", "1ms"), "shorter"},
		{append(fleetArgs, "--talk", "sing"), "mode"},
		{append(fleetArgs, "--talk", "turns", "--talk-turn", "-1s"), "shorter"},
	} {
		code, _, raw, stderr := runCLI(t, tc.args...)
		if code != ExitUsage || raw != "" || !strings.Contains(stderr, "--talk") || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2, nothing, a --talk message with %q", tc.args[len(tc.args)-4:], code, raw, stderr, tc.msg)
		}
	}
}

func TestTalkOptionsPattern(t *testing.T) {
	o := talkOptions{mode: "turns", turn: 2e9, index: 1, count: 3}
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	tk := o.talk("bot1")
	if tk.Mode != "turns" || tk.Index != 1 || tk.Count != 3 || tk.Seed != "bot1" || tk.Turn.Seconds() != 2 {
		t.Fatalf("talk %+v", tk)
	}
	// A fleet numbers its publishers itself: no count needed.
	f := talkOptions{mode: "turns", turn: 2e9, fleet: true}
	if err := f.validate(); err != nil {
		t.Fatalf("fleet turns: %v", err)
	}
}

func TestTalkFlagWiring(t *testing.T) {
	code, rec, stderr := runRecorded(t, "join", "--server", "ws://127.0.0.1:4443", "--room", "r", "--user", "u",
		"--talk", "turns", "--talk-turn", "3s", "--talk-index", "1", "--talk-count", "2")
	if code != ExitOK || rec.calls != 1 {
		t.Fatalf("exit %d, %d runs; stderr %q", code, rec.calls, stderr)
	}
	tk := rec.join.talk.talk("u")
	if tk.Mode != "turns" || tk.Turn != 3*time.Second || tk.Index != 1 || tk.Count != 2 {
		t.Errorf("talk %+v", tk)
	}
	code, rec, stderr = runRecorded(t, "join", "--server", "ws://127.0.0.1:4443", "--room", "r", "--user", "u")
	if code != ExitOK || rec.join.talk.mode != "always" || rec.join.talk.turn != 3*time.Second {
		t.Errorf("defaults: exit %d, %+v, stderr %q", code, rec.join.talk, stderr)
	}
}
