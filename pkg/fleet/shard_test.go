package fleet

import (
	"strings"
	"testing"
)

// The shards' slices are disjoint, contiguous, cover every index, and
// differ in size by at most one.
func TestShardSliceCovers(t *testing.T) {
	for total := range 12 {
		for k := 1; k <= 5; k++ {
			next, lo, hi := 0, total, 0
			for i := range k {
				start, n := ShardSlice(total, i, k)
				if start != next || n < 0 {
					t.Fatalf("total %d, shard %d/%d: [%d,+%d), want start %d", total, i, k, start, n, next)
				}
				next += n
				lo, hi = min(lo, n), max(hi, n)
			}
			if next != total || hi-lo > 1 {
				t.Errorf("total %d over %d: covers %d, sizes %d…%d", total, k, next, lo, hi)
			}
		}
	}
}

// Three shards of 6 publishers and 3 subscribers in 2 rooms plan exactly
// the participants (ids and rooms) of the unsharded fleet, each once.
func TestPlanShardsPartitionTheFleet(t *testing.T) {
	whole, err := Plan(PlanOptions{Rooms: 2, Publishers: 6, Subscribers: 3, IndexOffset: 4})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Member{}
	for _, m := range whole {
		want[m.ID] = m
	}
	got := map[string]Member{}
	for i := range 3 {
		ms, err := Plan(PlanOptions{Rooms: 2, Publishers: 6, Subscribers: 3, IndexOffset: 4, ShardIndex: i, ShardCount: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 3 || ms[0].ID != "bot-p"+string(rune('4'+2*i)) {
			t.Errorf("shard %d: %v", i, ms)
		}
		for _, m := range ms {
			if _, dup := got[m.ID]; dup {
				t.Errorf("shard %d: %s planned twice", i, m.ID)
			}
			got[m.ID] = m
		}
	}
	if len(got) != len(want) {
		t.Fatalf("shards plan %d participants, the fleet %d", len(got), len(want))
	}
	for id, m := range want {
		if got[id] != m {
			t.Errorf("%s: shard planned %+v, fleet %+v", id, got[id], m)
		}
	}
}

func TestPlanBadShards(t *testing.T) {
	for _, tc := range []struct {
		o    PlanOptions
		want string
	}{
		{PlanOptions{Rooms: 1, Publishers: 3, ShardIndex: 3, ShardCount: 3}, "shard index 3"},
		{PlanOptions{Rooms: 1, Publishers: 3, ShardIndex: -1, ShardCount: 3}, "shard index -1"},
		{PlanOptions{Rooms: 1, Publishers: 3, ShardIndex: 1}, "needs a shard count"},
		{PlanOptions{Rooms: 1, Publishers: 3, ShardCount: -2}, "must not be negative"},
		{PlanOptions{Rooms: 1, Publishers: 1, Subscribers: 1, ShardIndex: 0, ShardCount: 3}, "shard 0 of 3 has no participants"},
		{PlanOptions{Rooms: 1, Publishers: 3 * (MaxParticipants + 1), ShardIndex: 1, ShardCount: 3}, "at most"},
	} {
		if _, err := Plan(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
	// The per-process bound applies to the shard, not to the whole fleet.
	if _, err := Plan(PlanOptions{Rooms: 1, Publishers: 3 * MaxParticipants, ShardIndex: 2, ShardCount: 3}); err != nil {
		t.Errorf("a full shard of a large fleet: %v", err)
	}
}
