package fleet

import "github.com/callctl/callctl/pkg/sdk"

// Snapshot is one participant as an exporter sees it: its Info and its
// latest statistics sample.
type Snapshot struct {
	Info Info
	// Stats is the latest sample (nil before the first). It is shared:
	// read it, never modify it.
	Stats *sdk.CallStats
}

// Snapshots describes every participant, in plan order, with its latest
// statistics sample, without asking anyone for new ones.
func (f *Fleet) Snapshots() []Snapshot {
	out := make([]Snapshot, len(f.parts))
	for i, p := range f.parts {
		out[i] = Snapshot{Info: p.info(), Stats: p.latestStats()}
	}
	return out
}

// Shard is the fleet's shard, nil when it is not sharded.
func (f *Fleet) Shard() *Shard { return f.opts.Plan.shard() }
