package fleet

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
)

// State is where a participant is in its life.
type State string

// Participant states.
const (
	StatePending      State = "pending"      // not started yet (join pacing)
	StateJoining      State = "joining"      // JoinCall in progress
	StateJoined       State = "joined"       // in the call
	StateReconnecting State = "reconnecting" // lost, rejoining (sdk.Config.Reconnect)
	StateLeft         State = "left"         // left by request (or never started)
	StateFailed       State = "failed"       // the join failed or the call was lost for good
)

// inCall reports whether a participant in state s is (or is about to be
// again) in its room.
func (s State) inCall() bool { return s == StateJoined || s == StateReconnecting }

// Info describes one participant at one moment.
type Info struct {
	Member
	State State `json:"state"`
	// JoinMillis is how long the (first) join took; 0 until joined.
	JoinMillis int64 `json:"joinMs,omitempty"`
	// Rejoins counts reconnections after a lost call.
	Rejoins int `json:"rejoins"`
	// EventsDropped counts events lost because the output was slower than
	// the participant (see DefaultEventBuffer).
	EventsDropped uint64 `json:"eventsDropped"`
	// Error is why the participant failed.
	Error string `json:"error,omitempty"`
	// Expect is the participant's expectation verdict: "", "passed" or
	// "failed".
	Expect string `json:"expect,omitempty"`
}

// participant is one member of the fleet and its sdk.Client.
type participant struct {
	Member
	f *Fleet

	dropped   atomic.Uint64
	finalOnce atomic.Bool   // the final stats event was emitted
	leave     chan struct{} // closed by requestLeave
	leaveOne  sync.Once
	done      chan struct{} // closed when run has returned

	mu         sync.Mutex // guards the following
	client     *sdk.Client
	state      State
	joinStart  time.Time
	joinMillis int64
	rejoins    int
	err        error
	stats      *sdk.CallStats // the latest sample
	expect     string         // "", "passed", "failed"
}

func newParticipant(f *Fleet, m Member) *participant {
	return &participant{Member: m, f: f, state: StatePending, leave: make(chan struct{}), done: make(chan struct{})}
}

func (p *participant) info() Info {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := Info{Member: p.Member, State: p.state, JoinMillis: p.joinMillis, Rejoins: p.rejoins, EventsDropped: p.dropped.Load(), Expect: p.expect}
	if p.err != nil {
		i.Error = p.err.Error()
	}
	return i
}

func (p *participant) getState() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

func (p *participant) setState(s State) {
	p.mu.Lock()
	p.state = s
	p.mu.Unlock()
}

func (p *participant) getClient() *sdk.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.client
}

// requestLeave asks the participant to leave (or, still pending, never
// to start).
func (p *participant) requestLeave() { p.leaveOne.Do(func() { close(p.leave) }) }

func (p *participant) leaveRequested() bool {
	select {
	case <-p.leave:
		return true
	default:
		return false
	}
}

// run is the participant's life: build its client, join, stay until asked
// to leave or until the call ends, leave. It returns when every goroutine
// of the participant has ended.
func (p *participant) run(joinCtx context.Context) {
	defer close(p.done)
	if p.leaveRequested() {
		p.setState(StateLeft)
		return
	}
	p.mu.Lock()
	p.state, p.joinStart = StateJoining, p.f.opts.Clock.Now()
	p.mu.Unlock()
	client, err := p.f.newClient(p.Member)
	if err != nil {
		p.fail(err)
		p.f.emit(Event{Participant: p.ID, Type: "left", Data: sdk.Left{Reason: "failed", Err: err, Error: err.Error()}})
		return
	}
	p.mu.Lock()
	p.client = client
	p.mu.Unlock()
	pumped := make(chan struct{})
	go p.pump(client.Events(), pumped)
	defer func() { <-pumped }()

	ctx, cancel := context.WithCancel(joinCtx)
	defer cancel()
	go func() { // a leave request cancels a join in progress
		select {
		case <-p.leave:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := client.JoinCall(ctx, p.Room, p.ID, p.ID); err != nil {
		if p.leaveRequested() || errors.Is(err, context.Canceled) {
			p.setState(StateLeft)
		} else {
			p.fail(err)
		}
		return
	}
	select {
	case <-client.Done():
		if err := client.Err(); err != nil {
			p.fail(err)
		} else {
			p.setState(StateLeft)
		}
	case <-p.leave:
		p.leaveCall(client)
	}
}

// finalStats samples the participant's statistics once more and emits
// them (like join's last stats event), once per participant.
func (p *participant) finalStats(ctx context.Context) {
	c := p.getClient()
	if c == nil || !p.finalOnce.CompareAndSwap(false, true) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, statsTimeout)
	defer cancel()
	if st, err := c.Stats(ctx); err == nil {
		p.setStats(st)
		p.f.emit(Event{Participant: p.ID, Type: "stats", Data: st})
	}
}

// leaveCall emits the final statistics (unless the fleet's leave already
// did) and leaves gracefully.
func (p *participant) leaveCall(client *sdk.Client) {
	p.finalStats(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), p.f.opts.LeaveTimeout)
	defer cancel()
	if err := client.LeaveCall(ctx); err != nil {
		p.f.opts.Logger.Warn("graceful leave did not finish", "participant", p.ID, "err", err)
	}
	p.setState(StateLeft)
}

func (p *participant) fail(err error) {
	p.mu.Lock()
	p.state, p.err = StateFailed, err
	p.mu.Unlock()
}

func (p *participant) setStats(st sdk.CallStats) {
	p.mu.Lock()
	p.stats = &st
	p.mu.Unlock()
	if on := p.f.opts.OnStats; on != nil {
		on(p.Member, st)
	}
}

func (p *participant) latestStats() *sdk.CallStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// pump drains the client's events (the SDK buffers them without bound
// while nobody reads, so they are read at once), keeps the participant's
// accounting, and hands them to the output through a queue of
// Options.EventBuffer events; when the output is slower, events are
// dropped and counted instead of piling up. Left is never dropped.
func (p *participant) pump(events <-chan sdk.Event, done chan<- struct{}) {
	defer close(done)
	q := make(chan Event, p.f.opts.EventBuffer)
	written := make(chan struct{})
	go func() {
		defer close(written)
		for ev := range q {
			p.f.emit(ev)
		}
	}()
	var left *sdk.Left
	for ev := range events {
		p.observe(ev)
		if l, ok := ev.(sdk.Left); ok {
			left = &l
			continue
		}
		select {
		case q <- Event{Participant: p.ID, Type: ev.Type(), Data: ev}:
		default:
			p.dropped.Add(1)
		}
	}
	close(q)
	<-written
	if left != nil {
		p.f.emit(Event{Participant: p.ID, Type: "left", Data: *left})
	}
}

// observe keeps the accounting the fleet's statistics are made of.
func (p *participant) observe(ev sdk.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := ev.(type) {
	case sdk.Joined:
		if p.joinMillis == 0 {
			p.joinMillis = max(e.JoinMillis, 1)
		}
		p.state = StateJoined
	case sdk.ConnectionStatusChanged:
		switch e.Status {
		case sdk.StatusReconnecting:
			p.state = StateReconnecting
		case sdk.StatusJoined:
			p.state = StateJoined
		}
	case sdk.Reconnected:
		p.rejoins++
	}
}
