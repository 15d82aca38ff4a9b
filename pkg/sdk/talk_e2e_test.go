package sdk_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/capture"
	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// Talking turns: three publishers take 2 s turns and a receive-only
// participant follows the server's active speaker. JS dialect: the
// reference server's AudioLevelObserver (800 ms interval, loudest
// producer); TS dialect: its ActiveSpeakerObserver (dominant speaker).
func TestTalkTurnsActiveSpeaker(t *testing.T) {
	for _, dialect := range []string{"js", "ts"} {
		t.Run(dialect, func(t *testing.T) { testTalkTurns(t, dialect) })
	}
}

const (
	talkTurn  = 2 * time.Second
	talkSlots = 6 // turns measured
	// turnLagBound bounds how late after its turn's start a change may
	// come. The AudioLevelObserver averages levels over 800 ms intervals
	// not aligned with the turns: a boundary in the second half of an
	// interval is reported at the end of the next one, up to 1.2 s later.
	turnLagBound = 1600 * time.Millisecond
)

func testTalkTurns(t *testing.T, dialect string) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{Dialect: dialect})
	leakCheck(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const room = "talk"

	listener, err := sdk.NewClient(sdk.Config{ServerURL: srv.URL, ICE: sdk.LoopbackICE(), Consume: sdk.ConsumeOptions{Kinds: []string{"audio"}}})
	if err != nil {
		t.Fatal(err)
	}
	var speakers sdktest.SpeakerLog
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		for ev := range listener.Events() {
			speakers.Observe(ev)
		}
	}()
	if err := listener.JoinCall(ctx, room, "listener", "listener"); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = listener.LeaveCall(context.Background())
		<-pumped
	}()

	peers := make([]string, 3)
	for k := range peers {
		peers[k] = fmt.Sprintf("talker%d", k)
		c := newTalker(t, srv.URL, sdk.Talk{Mode: sdk.TalkTurns, Turn: talkTurn, Index: k, Count: len(peers)})
		if err := c.JoinCall(ctx, room, peers[k], peers[k]); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.LeaveCall(context.Background()) }()
	}

	// Measure from the first slot that starts once someone is named.
	sdktest.WaitUntil(t, 15*time.Second, "a first active speaker", func() bool {
		for _, s := range speakers.Samples() {
			if s.PeerID != "" {
				return true
			}
		}
		return false
	})
	first := sdk.SlotOf(time.Now(), talkTurn) + 1
	from := sdk.SlotStart(first, talkTurn)
	// Until talkSlots changes came, or a little after talkSlots turns:
	// then the report tells what went wrong.
	deadline := from.Add(talkSlots*talkTurn + 2*time.Second)
	for time.Now().Before(deadline) {
		if len(sdktest.AnalyzeTurns(speakers.Samples(), peers, talkTurn, from, time.Now()).Changes) >= talkSlots {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	rep := sdktest.AnalyzeTurns(speakers.Samples(), peers, talkTurn, from, time.Now())
	t.Logf("%s dialect, %v turns: %s", dialect, talkTurn, rep)
	if len(rep.Changes) < talkSlots {
		t.Logf("events: %s", sdktest.SpeakerTimeline(speakers.Samples(), from))
	}
	checkTurnReport(t, rep, peers)

	st, err := listener.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.ActiveSpeakerChanges < len(rep.Changes)-1 {
		t.Errorf("stats count %d active speaker changes, the events show %d", st.ActiveSpeakerChanges, len(rep.Changes))
	}
	sdktest.CheckAudioFrom(t, st, peers)
}

// checkTurnReport asserts what a turns measurement must show: a change at
// (nearly) every turn, each to the peer whose turn it is, soon after the
// turn started, and every peer named.
func checkTurnReport(t *testing.T, rep sdktest.TurnReport, peers []string) {
	t.Helper()
	t.Logf("%d of %d changes within 1 s of their turn's start", rep.Within(time.Second), len(rep.Changes))
	for _, p := range rep.Problems(peers, turnLagBound) {
		t.Error(p)
	}
}

// newTalker is a publisher of a continuous tone (its turns are its only
// pauses) that talks by talk.
func newTalker(t *testing.T, url string, talk sdk.Talk) *sdk.Client {
	t.Helper()
	tone, err := capture.NewToneAudio(capture.AudioOptions{Continuous: true})
	if err != nil {
		t.Fatal(err)
	}
	audio, err := sdk.WithTalk(tone, talk)
	if err != nil {
		t.Fatal(err)
	}
	c, err := sdk.NewClient(sdk.Config{ServerURL: url, Audio: audio, ICE: sdk.LoopbackICE(), Consume: sdk.ConsumeOptions{None: true}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
