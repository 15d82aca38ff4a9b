package fleet

import (
	"context"
	"fmt"
	"sync"

	"github.com/callctl/callctl/pkg/sdk"
)

// Sample asks every participant in a call for its statistics (a few at a
// time, each bounded by statsTimeout), keeps them as the participants'
// latest, and returns the aggregate.
func (f *Fleet) Sample(ctx context.Context) Stats {
	f.sampleParticipants(ctx, f.parts)
	return f.Aggregate()
}

// Aggregate sums the participants' latest samples without asking anyone.
func (f *Fleet) Aggregate() Stats {
	samples := make([]sample, len(f.parts))
	for i, p := range f.parts {
		samples[i] = sample{info: p.info(), stats: p.latestStats()}
	}
	s := aggregate(f.opts.Clock.Now(), samples)
	s.Shard = f.opts.Plan.shard()
	if f.expect != nil {
		sum := f.expect.summary()
		s.Expect = &sum
	}
	return s
}

// sampleParticipants refreshes the latest statistics of those of parts
// that are in a call.
func (f *Fleet) sampleParticipants(ctx context.Context, parts []*participant) {
	f.eachInCall(ctx, parts, func(p *participant, ctx context.Context) {
		sctx, cancel := context.WithTimeout(ctx, statsTimeout)
		defer cancel()
		if st, err := p.getClient().Stats(sctx); err == nil {
			p.setStats(st)
		}
	})
}

// eachInCall runs do for those of parts that are in a call,
// statsParallelism at a time, and waits for them.
func (f *Fleet) eachInCall(ctx context.Context, parts []*participant, do func(p *participant, ctx context.Context)) {
	sem := make(chan struct{}, statsParallelism)
	var wg sync.WaitGroup
	for _, p := range parts {
		if p.getClient() == nil || !p.getState().inCall() {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			do(p, ctx)
		}()
	}
	wg.Wait()
}

// ParticipantStats samples one participant's statistics.
func (f *Fleet) ParticipantStats(ctx context.Context, id string) (sdk.CallStats, error) {
	p := f.byID[id]
	if p == nil {
		return sdk.CallStats{}, fmt.Errorf("%w: %q", ErrNoParticipant, id)
	}
	c := p.getClient()
	if c == nil {
		return sdk.CallStats{}, sdk.ErrNotJoined
	}
	st, err := c.Stats(ctx)
	if err == nil {
		p.setStats(st)
	}
	return st, err
}
