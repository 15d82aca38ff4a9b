package fleet

import (
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
)

func TestTalkForNumbersPublishersPerRoom(t *testing.T) {
	f, err := New(Options{
		ServerURL: "ws://127.0.0.1:1",
		Plan:      PlanOptions{Rooms: 2, Publishers: 5, Subscribers: 1, IndexOffset: 10},
		Talk:      sdk.Talk{Mode: sdk.TalkTurns, Turn: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Publishers 10, 12, 14 share room 0; 11 and 13 room 1.
	want := map[string][2]int{
		"bot-p10": {0, 3}, "bot-p12": {1, 3}, "bot-p14": {2, 3},
		"bot-p11": {0, 2}, "bot-p13": {1, 2},
	}
	for _, m := range f.Members() {
		if m.Role != Publisher {
			continue
		}
		tk := f.talkFor(m)
		if w := want[m.ID]; tk.Index != w[0] || tk.Count != w[1] || tk.Seed != m.ID || tk.Turn != time.Second {
			t.Errorf("%s (%s): turn %d of %d, seed %q; want %d of %d", m.ID, m.Room, tk.Index, tk.Count, tk.Seed, w[0], w[1])
		}
		if err := tk.Validate(); err != nil {
			t.Errorf("%s: %v", m.ID, err)
		}
	}
}

func TestFleetRejectsBadTalk(t *testing.T) {
	_, err := New(Options{
		ServerURL: "ws://127.0.0.1:1", Plan: PlanOptions{Rooms: 1, Publishers: 1},
		Talk: sdk.Talk{Mode: "sing"},
	})
	if err == nil {
		t.Fatal("a fleet with talk mode \"sing\" was accepted")
	}
}
