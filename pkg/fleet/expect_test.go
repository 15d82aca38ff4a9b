package fleet

import (
	"testing"

	"github.com/callctl/callctl/pkg/sdk"
)

func TestRequiredCount(t *testing.T) {
	for _, c := range []struct {
		pct  float64
		n    int
		want int
	}{{95, 20, 19}, {95, 5, 5}, {100, 5, 5}, {50, 5, 3}, {1, 100, 1}, {80, 5, 4}, {33.3, 3, 1}} {
		if got := requiredCount(c.pct, c.n); got != c.want {
			t.Errorf("%v%% of %d: %d, want %d", c.pct, c.n, got, c.want)
		}
	}
}

func TestAggregateVerdict(t *testing.T) {
	for _, c := range []struct {
		s    ExpectSummary
		want string
	}{
		{ExpectSummary{Subscribers: 20, Required: 19, Met: 19}, VerdictPassed},
		{ExpectSummary{Subscribers: 20, Required: 19, Met: 18, Failed: 1}, VerdictPending}, // one may still pass
		{ExpectSummary{Subscribers: 20, Required: 19, Met: 18, Failed: 2}, VerdictFailed},
		{ExpectSummary{Subscribers: 5, Required: 5, Met: 0}, VerdictPending},
	} {
		if got := aggregateVerdict(c.s); got != c.want {
			t.Errorf("%+v: %s, want %s", c.s, got, c.want)
		}
	}
}

func TestMissingVideo(t *testing.T) {
	st := sdk.CallStats{Consumers: []sdk.ConsumerStats{
		{PeerID: "p0", Kind: "video", ReceiveStats: sdk.ReceiveStats{FramesDecoded: 10}},
		{PeerID: "p1", Kind: "video", ProducerPaused: true, ReceiveStats: sdk.ReceiveStats{FramesDecoded: 10}},
		{PeerID: "p2", Kind: "audio", ReceiveStats: sdk.ReceiveStats{SamplesDecoded: 10}},
		{PeerID: "p3", Kind: "video"},
	}}
	got := missingVideo(st, []string{"p0", "p1", "p2", "p3", "p4"})
	want := []string{"video from p1", "video from p2", "video from p3", "video from p4"}
	if len(got) != len(want) {
		t.Fatalf("missing %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("missing %v, want %v", got, want)
		}
	}
	if m := missingVideo(st, []string{"p0"}); len(m) != 0 {
		t.Errorf("p0 decodes: %v", m)
	}
	if m := missingVideo(st, nil); len(m) != 1 {
		t.Errorf("nothing to decode passes: %v", m)
	}
}

// A subscriber waits for its room's publishers that are still joining,
// not for those of another room or those that failed, and for remote
// peers it consumes.
func TestExpectedPublishers(t *testing.T) {
	f, err := New(Options{ServerURL: "ws://127.0.0.1:1", Plan: PlanOptions{Rooms: 2, Publishers: 4, Subscribers: 1}, Video: NewSharedSource(newCountingSource(t))})
	if err != nil {
		t.Fatal(err)
	}
	f.byID["bot-p0"].setState(StateJoining)
	f.byID["bot-p2"].setState(StateFailed)
	st := &sdk.CallStats{Consumers: []sdk.ConsumerStats{{PeerID: "remote-p9", Kind: "video"}, {PeerID: "remote-p8", Kind: "audio"}}}
	got := f.expectedPublishers(f.byID["bot-s0"], st)
	if len(got) != 2 || got[0] != "bot-p0" || got[1] != "remote-p9" {
		t.Errorf("expected publishers %v, want [bot-p0 remote-p9]", got)
	}
}
