package fleet

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
)

// Verdicts of an expectation.
const (
	VerdictPending = "pending"
	VerdictPassed  = "passed"
	VerdictFailed  = "failed"
)

// ExpectSummary is the aggregate expectation check: the data of a
// fleet.expect event and part of fleet.stats.
type ExpectSummary struct {
	Verdict string `json:"verdict"` // pending, passed or failed
	// Subscribers is how many are checked; Required of them must pass.
	Subscribers     int     `json:"subscribers"`
	Required        int     `json:"required"`
	RequiredPercent float64 `json:"requiredPercent"`
	WithinMillis    int64   `json:"withinMs"`
	// Met and Failed count the subscribers decided so far.
	Met    int `json:"met"`
	Failed int `json:"failed"`
	// ElapsedMillis is the time since the fleet started, at the verdict.
	ElapsedMillis int64 `json:"elapsedMs,omitempty"`
}

// ParticipantPassed is the data of a subscriber's expect.passed event
// (the shape join's expect.passed has).
type ParticipantPassed struct {
	ElapsedMillis int64             `json:"elapsedMs"`
	Participants  []sdk.Participant `json:"participants"`
}

// ParticipantFailed is the data of a subscriber's expect.failed event.
type ParticipantFailed struct {
	ElapsedMillis int64             `json:"elapsedMs"`
	WithinMillis  int64             `json:"withinMs"`
	Missing       []string          `json:"missing"`
	Participants  []sdk.Participant `json:"participants"`
}

// expectState is the fleet's expectation check.
type expectState struct {
	e        Expectations
	subs     []*participant
	required int
	verdict  chan ExpectSummary // receives the aggregate verdict, once

	mu      sync.Mutex
	decided string // aggregate verdict, "" while pending
	at      int64  // elapsed ms at the verdict
}

func newExpectState(e Expectations, parts []*participant) *expectState {
	s := &expectState{e: e, verdict: make(chan ExpectSummary, 1)}
	for _, p := range parts {
		if p.Role == Subscriber {
			s.subs = append(s.subs, p)
		}
	}
	s.required = requiredCount(e.SubscribersDecodingPercent, len(s.subs))
	return s
}

// requiredCount is how many of n must pass for pct percent (rounded up).
func requiredCount(pct float64, n int) int {
	// The epsilon keeps 95% of 20 at 19 despite floating point.
	return int(math.Ceil(pct*float64(n)/100 - 1e-9))
}

func (s *expectState) summary() ExpectSummary {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := ExpectSummary{
		Verdict: VerdictPending, Subscribers: len(s.subs), Required: s.required,
		RequiredPercent: s.e.SubscribersDecodingPercent, WithinMillis: s.e.Within.Milliseconds(), ElapsedMillis: s.at,
	}
	if s.decided != "" {
		sum.Verdict = s.decided
	}
	for _, p := range s.subs {
		switch p.info().Expect {
		case VerdictPassed:
			sum.Met++
		case VerdictFailed:
			sum.Failed++
		}
	}
	return sum
}

// Verdict receives the aggregate expectation verdict once it is decided
// (nil without Options.Expect).
func (f *Fleet) Verdict() <-chan ExpectSummary {
	if f.expect == nil {
		return nil
	}
	return f.expect.verdict
}

// watchExpectations checks the subscribers every second until the
// aggregate verdict is decided or the fleet leaves.
func (f *Fleet) watchExpectations(ctx context.Context) {
	defer f.wg.Done()
	for !f.checkExpectations(ctx) {
		select {
		case <-ctx.Done():
			return
		case <-f.stopWatch:
			return
		case <-f.opts.Clock.After(time.Second):
		}
	}
}

// checkExpectations samples the undecided subscribers, decides those
// that pass or are past their deadline, and then the aggregate. It
// reports whether the aggregate is decided.
func (f *Fleet) checkExpectations(ctx context.Context) bool {
	s := f.expect
	var open []*participant
	for _, p := range s.subs {
		if p.info().Expect == "" {
			open = append(open, p)
		}
	}
	f.sampleParticipants(ctx, open)
	now := f.opts.Clock.Now()
	for _, p := range open {
		f.checkSubscriber(p, now)
	}
	sum := s.summary()
	verdict := aggregateVerdict(sum)
	if verdict == VerdictPending {
		return false
	}
	s.mu.Lock()
	s.decided, s.at = verdict, now.Sub(f.started).Milliseconds()
	s.mu.Unlock()
	sum.Verdict, sum.ElapsedMillis = verdict, now.Sub(f.started).Milliseconds()
	f.emit(Event{Type: "fleet.expect", Data: sum})
	s.verdict <- sum
	return true
}

// aggregateVerdict decides once enough subscribers passed, or too many
// failed for the rest to make up.
func aggregateVerdict(s ExpectSummary) string {
	switch {
	case s.Met >= s.Required:
		return VerdictPassed
	case s.Failed > s.Subscribers-s.Required:
		return VerdictFailed
	}
	return VerdictPending
}

// checkSubscriber decides one subscriber at now: passed when it decodes
// video from every publisher of its room, failed once its deadline (its
// join start plus Within) has passed.
func (f *Fleet) checkSubscriber(p *participant, now time.Time) {
	p.mu.Lock()
	start, st, state, client := p.joinStart, p.stats, p.state, p.client
	p.mu.Unlock()
	if start.IsZero() {
		return // not launched yet: its clock has not started
	}
	expected := f.expectedPublishers(p, st)
	var missing []string
	if !state.inCall() || st == nil {
		missing = []string{"in the call (" + string(state) + ")"}
	} else {
		missing = missingVideo(*st, expected)
	}
	elapsed := now.Sub(start)
	switch {
	case len(missing) == 0:
		p.setExpect(VerdictPassed)
		f.emit(Event{Participant: p.ID, Type: "expect.passed", Data: ParticipantPassed{
			ElapsedMillis: elapsed.Milliseconds(), Participants: describePeers(client, expected),
		}})
	case elapsed >= f.expect.e.Within:
		p.setExpect(VerdictFailed)
		f.emit(Event{Participant: p.ID, Type: "expect.failed", Data: ParticipantFailed{
			ElapsedMillis: elapsed.Milliseconds(), WithinMillis: f.expect.e.Within.Milliseconds(),
			Missing: missing, Participants: describePeers(client, expected),
		}})
	}
}

func (p *participant) setExpect(v string) {
	p.mu.Lock()
	p.expect = v
	p.mu.Unlock()
}

// expectedPublishers are the publishers a subscriber must decode: this
// fleet's publishers of its room that have not left or failed (one still
// joining is waited for), and every peer (of another process, say) it
// consumes video from.
func (f *Fleet) expectedPublishers(sub *participant, st *sdk.CallStats) []string {
	var peers []string
	if f.opts.Video != nil {
		for _, p := range f.parts {
			if p.Role == Publisher && p.Room == sub.Room && p.getState() != StateLeft && p.getState() != StateFailed {
				peers = append(peers, p.ID)
			}
		}
	}
	if st != nil {
		for _, c := range st.Consumers {
			if c.Kind == "video" && !slices.Contains(peers, c.PeerID) {
				peers = append(peers, c.PeerID)
			}
		}
	}
	slices.Sort(peers)
	return peers
}

// missingVideo lists, for people, what of the expected peers' video a
// sample shows no decoded frame of. No expected peer at all is missing
// too: there is nothing to decode.
func missingVideo(st sdk.CallStats, expected []string) []string {
	if len(expected) == 0 {
		return []string{"a publisher to decode"}
	}
	var missing []string
	for _, peer := range expected {
		if !slices.ContainsFunc(st.Consumers, func(c sdk.ConsumerStats) bool {
			return c.PeerID == peer && c.Kind == "video" && !c.ProducerPaused && c.FramesDecoded > 0
		}) {
			missing = append(missing, "video from "+peer)
		}
	}
	return missing
}

// describePeers names peers as the client's call state knows them.
func describePeers(c *sdk.Client, ids []string) []sdk.Participant {
	known := map[string]sdk.Participant{}
	if c != nil {
		known = c.State().Snapshot().Participants
	}
	out := make([]sdk.Participant, 0, len(ids))
	for _, id := range ids {
		p, ok := known[id]
		if !ok {
			p = sdk.Participant{ID: id, DisplayName: id}
		}
		if p.ID == "" {
			p.ID = id
		}
		out = append(out, p)
	}
	return out
}
