package fleet

import "fmt"

// Shard names one process's part of a fleet split over several processes
// (or pods of a Kubernetes Indexed Job): shard Index of Count.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// ShardSlice is the contiguous range [start, start+n) of a role's total
// indexes that shard i of k takes. The ranges of the k shards are disjoint
// and cover 0…total-1; their sizes differ by at most one.
func ShardSlice(total, i, k int) (start, n int) {
	start = i * total / k
	return start, (i+1)*total/k - start
}

// sharded reports whether the plan is one shard of a larger fleet.
func (o PlanOptions) sharded() bool { return o.ShardCount > 0 }

// local is this process's part of the plan: the first index and the count
// of each role. Without sharding that is every participant, from
// IndexOffset; with it, the shard's slice of each role, from IndexOffset.
func (o PlanOptions) local() (pubStart, pubs, subStart, subs int) {
	if !o.sharded() {
		return o.IndexOffset, o.Publishers, o.IndexOffset, o.Subscribers
	}
	pubStart, pubs = ShardSlice(o.Publishers, o.ShardIndex, o.ShardCount)
	subStart, subs = ShardSlice(o.Subscribers, o.ShardIndex, o.ShardCount)
	return o.IndexOffset + pubStart, pubs, o.IndexOffset + subStart, subs
}

func (o PlanOptions) validateShard() error {
	switch {
	case o.ShardCount < 0:
		return fmt.Errorf("shard count %d must not be negative", o.ShardCount)
	case !o.sharded() && o.ShardIndex != 0:
		return fmt.Errorf("shard index %d needs a shard count", o.ShardIndex)
	case o.sharded() && (o.ShardIndex < 0 || o.ShardIndex >= o.ShardCount):
		return fmt.Errorf("shard index %d: want 0 ≤ index < shard count %d", o.ShardIndex, o.ShardCount)
	}
	if _, pubs, _, subs := o.local(); o.sharded() && pubs+subs == 0 {
		return fmt.Errorf("shard %d of %d has no participants (%d publishers and %d subscribers over %d shards)",
			o.ShardIndex, o.ShardCount, o.Publishers, o.Subscribers, o.ShardCount)
	}
	return nil
}

// shard is the plan's shard, nil when not sharded.
func (o PlanOptions) shard() *Shard {
	if !o.sharded() {
		return nil
	}
	return &Shard{Index: o.ShardIndex, Count: o.ShardCount}
}
