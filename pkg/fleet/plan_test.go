package fleet

import (
	"testing"
)

func TestPlanIDsAndRooms(t *testing.T) {
	ms, err := Plan(PlanOptions{Rooms: 2, Publishers: 3, Subscribers: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []Member{
		{0, Publisher, "bot-p0", "fleet-0"}, {1, Publisher, "bot-p1", "fleet-1"}, {2, Publisher, "bot-p2", "fleet-0"},
		{0, Subscriber, "bot-s0", "fleet-0"}, {1, Subscriber, "bot-s1", "fleet-1"},
	}
	if len(ms) != len(want) {
		t.Fatalf("got %v", ms)
	}
	for i := range want {
		if ms[i] != want[i] {
			t.Errorf("member %d: %+v, want %+v", i, ms[i], want[i])
		}
	}
}

// Two shards with disjoint offsets (each process runs 10 publishers and
// 5 subscribers) plan ids that never clash, each in the room a single
// process running all of them would give it.
func TestPlanShardsDoNotClash(t *testing.T) {
	whole, err := Plan(PlanOptions{Prefix: "lt", RoomPrefix: "r", Rooms: 3, Publishers: 20, Subscribers: 20})
	if err != nil {
		t.Fatal(err)
	}
	roomOf := map[string]string{}
	for _, m := range whole {
		roomOf[m.ID] = m.Room
	}
	seen := map[string]bool{}
	for _, off := range []int{0, 10} {
		ms, err := Plan(PlanOptions{Prefix: "lt", RoomPrefix: "r", Rooms: 3, Publishers: 10, Subscribers: 5, IndexOffset: off})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if seen[m.ID] {
				t.Errorf("%s planned twice", m.ID)
			}
			seen[m.ID] = true
			if roomOf[m.ID] != m.Room {
				t.Errorf("%s: room %s in its shard, %s in the whole fleet", m.ID, m.Room, roomOf[m.ID])
			}
		}
	}
	if len(seen) != 30 || !seen["lt-p19"] || !seen["lt-s14"] || seen["lt-s5"] {
		t.Errorf("shards planned %d ids: %v", len(seen), seen)
	}
}

func TestPlanRejectsBadOptions(t *testing.T) {
	for _, o := range []PlanOptions{
		{Rooms: 0, Publishers: 1},
		{Rooms: 1},
		{Rooms: 1, Publishers: -1, Subscribers: 2},
		{Rooms: 1, Publishers: 1, IndexOffset: -1},
		{Rooms: 1, Publishers: MaxParticipants + 1},
	} {
		if _, err := Plan(o); err == nil {
			t.Errorf("Plan(%+v) accepted", o)
		}
	}
}
