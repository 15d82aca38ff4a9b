package fleet_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/capture"
	"github.com/callctl/callctl/pkg/fleet"
	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// Three publishers of one fleet take 2 s turns with one shared tone
// (encoded once): each publisher's silence is its own, and the
// subscriber of the same process sees the active speaker follow the
// turns.
func TestFleetTalkTurns(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	const turn, slots = 2 * time.Second, 6
	tone, err := capture.NewToneAudio(capture.AudioOptions{Continuous: true})
	if err != nil {
		t.Fatal(err)
	}
	var speakers sdktest.SpeakerLog
	f, err := fleet.New(fleet.Options{
		ServerURL: srv.URL, ICE: sdk.LoopbackICE(), Audio: fleet.NewSharedSource(tone), JoinRate: 20,
		Plan:      fleet.PlanOptions{Rooms: 1, Publishers: 3, Subscribers: 1},
		Subscribe: sdk.ConsumeOptions{Kinds: []string{"audio"}},
		Talk:      sdk.Talk{Mode: sdk.TalkTurns, Turn: turn},
		OnEvent: func(ev fleet.Event) {
			if ev.Participant == "bot-s0" {
				if e, ok := ev.Data.(sdk.Event); ok {
					speakers.Observe(e)
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.Start(context.Background())
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = f.Leave(ctx)
		_ = f.Wait()
	}()

	peers := []string{"bot-p0", "bot-p1", "bot-p2"}
	sdktest.WaitUntil(t, 20*time.Second, "a first active speaker", func() bool {
		for _, s := range speakers.Samples() {
			if s.PeerID != "" {
				return true
			}
		}
		return false
	})
	from := sdk.SlotStart(sdk.SlotOf(time.Now(), turn)+1, turn)
	var rep sdktest.TurnReport
	sdktest.WaitUntil(t, time.Until(from)+slots*turn+5*time.Second, fmt.Sprintf("%d speaker changes", slots), func() bool {
		rep = sdktest.AnalyzeTurns(speakers.Samples(), peers, turn, from, time.Now())
		return len(rep.Changes) >= slots
	})
	rep = sdktest.AnalyzeTurns(speakers.Samples(), peers, turn, from, time.Now())
	t.Logf("fleet, %v turns: %s", turn, rep)
	t.Logf("%d of %d changes within 1 s of their turn's start", rep.Within(time.Second), len(rep.Changes))
	for _, p := range rep.Problems(peers, 1600*time.Millisecond) {
		t.Error(p)
	}
	st, err := f.ParticipantStats(context.Background(), "bot-s0")
	if err != nil {
		t.Fatal(err)
	}
	sdktest.CheckAudioFrom(t, st, peers)
}
