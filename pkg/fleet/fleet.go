package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
)

// ErrNoParticipant is returned for a participant id the fleet does not
// have.
var ErrNoParticipant = errors.New("fleet: no such participant")

// Fleet runs many participants in one process: one sdk.Client each,
// joined at a paced rate, sharing the media sources.
//
//	f, _ := fleet.New(opts)
//	f.Start(ctx)        // joins in the background
//	<-f.Done()          // or: f.Leave(ctx) on a signal
//	f.Wait()            // every goroutine has ended, sources released
type Fleet struct {
	opts    Options
	parts   []*participant
	byID    map[string]*participant
	started time.Time

	cancelJoins context.CancelFunc
	launched    chan struct{} // closed when the launch loop has returned
	done        chan struct{} // closed when every participant has ended
	startOnce   sync.Once
	leaveOnce   sync.Once
	wg          sync.WaitGroup // the launch loop, participants, expectation watcher
	stopWatch   chan struct{}  // closed by Leave: the expectation watcher returns
	releaseOnce sync.Once

	expect *expectState // nil without Options.Expect
}

// New validates opts and plans the fleet; nothing connects before Start.
func New(opts Options) (*Fleet, error) {
	opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	members, err := Plan(opts.Plan)
	if err != nil {
		return nil, err
	}
	f := &Fleet{
		opts: opts, byID: make(map[string]*participant, len(members)),
		launched: make(chan struct{}), done: make(chan struct{}), stopWatch: make(chan struct{}),
		cancelJoins: func() {},
	}
	for _, m := range members {
		p := newParticipant(f, m)
		f.parts = append(f.parts, p)
		f.byID[m.ID] = p
	}
	if opts.Expect != nil {
		f.expect = newExpectState(*opts.Expect, f.parts)
	}
	return f, nil
}

// Members lists the planned participants.
func (f *Fleet) Members() []Member {
	out := make([]Member, len(f.parts))
	for i, p := range f.parts {
		out[i] = p.Member
	}
	return out
}

// Start launches the participants, paced by Options.JoinRate, in the
// background. It returns at once; Start again does nothing.
func (f *Fleet) Start(ctx context.Context) {
	f.startOnce.Do(func() {
		f.started = f.opts.Clock.Now()
		joinCtx, cancel := context.WithCancel(ctx)
		f.cancelJoins = cancel
		f.wg.Add(1)
		go f.launch(joinCtx)
		if f.expect != nil {
			f.wg.Add(1)
			go f.watchExpectations(ctx)
		}
	})
}

// launch starts every participant at the paced rate, then waits for them
// and closes done.
func (f *Fleet) launch(ctx context.Context) {
	defer f.wg.Done()
	var running sync.WaitGroup
	pacer := NewPacer(f.opts.JoinRate, f.opts.Clock)
	for _, p := range f.parts {
		if err := pacer.Wait(ctx); err != nil {
			p.setState(StateLeft) // never started
			close(p.done)
			continue
		}
		running.Add(1)
		go func() {
			defer running.Done()
			p.run(ctx)
		}()
	}
	close(f.launched)
	running.Wait()
	close(f.done)
}

// Done is closed when every participant has ended: all left or failed
// (after Leave, or because the calls ended by themselves).
func (f *Fleet) Done() <-chan struct{} { return f.done }

// Started is when Start was called.
func (f *Fleet) Started() time.Time { return f.started }

// Leave makes every participant leave gracefully (joins still pending
// are not started, joins in progress are cancelled) and waits until all
// have ended or ctx is done.
func (f *Fleet) Leave(ctx context.Context) error {
	f.leaveOnce.Do(func() {
		f.cancelJoins()
		close(f.stopWatch)
		// Everyone's final statistics are taken before anyone leaves: a
		// subscriber's last sample then still holds the publishers that
		// are about to go.
		f.eachInCall(ctx, f.parts, (*participant).finalStats)
		for _, p := range f.parts {
			p.requestLeave()
		}
	})
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait waits until every goroutine of the fleet has ended (after Done and
// Leave) and releases the shared sources. Call it once, last.
func (f *Fleet) Wait() error {
	f.wg.Wait()
	var errs []error
	f.releaseOnce.Do(func() {
		for _, s := range []*SharedSource{f.opts.Audio, f.opts.Video} {
			if s != nil {
				errs = append(errs, s.Release())
			}
		}
	})
	return errors.Join(errs...)
}

// LeaveParticipant makes one participant leave gracefully and waits until
// it has (or ctx is done). The others stay in their calls.
func (f *Fleet) LeaveParticipant(ctx context.Context, id string) error {
	p := f.byID[id]
	if p == nil {
		return fmt.Errorf("%w: %q", ErrNoParticipant, id)
	}
	p.requestLeave()
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Participants describes every participant, in plan order.
func (f *Fleet) Participants() []Info {
	out := make([]Info, len(f.parts))
	for i, p := range f.parts {
		out[i] = p.info()
	}
	return out
}

// Participant describes one participant.
func (f *Fleet) Participant(id string) (Info, error) {
	p := f.byID[id]
	if p == nil {
		return Info{}, fmt.Errorf("%w: %q", ErrNoParticipant, id)
	}
	return p.info(), nil
}

// Client returns a participant's SDK client (nil before its join
// started), for what the fleet does not wrap.
func (f *Fleet) Client(id string) (*sdk.Client, error) {
	p := f.byID[id]
	if p == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoParticipant, id)
	}
	return p.getClient(), nil
}

func (f *Fleet) emit(ev Event) { f.opts.OnEvent(ev) }

// newClient builds a participant's client: publishers get handles of the
// shared sources and consume nothing; subscribers consume what
// Options.Subscribe selects, into their own sink.
func (f *Fleet) newClient(m Member) (*sdk.Client, error) {
	o := f.opts
	cfg := sdk.Config{
		ServerURL: o.ServerURL, Origin: o.Origin, TLS: o.TLS, ICE: o.ICE, Reconnect: o.Reconnect,
		RequestTimeout: o.RequestTimeout, Logger: o.Logger.With("participant", m.ID),
	}
	if o.NewNet != nil {
		cfg.ICE.Net = o.NewNet(m)
	}
	var handles []sdk.MediaSource
	closeHandles := func() {
		for _, h := range handles {
			_ = h.Close()
		}
	}
	switch m.Role {
	case Publisher:
		cfg.Consume = sdk.ConsumeOptions{None: true}
		for _, s := range []struct {
			shared *SharedSource
			dst    *sdk.MediaSource
		}{{o.Audio, &cfg.Audio}, {o.Video, &cfg.Video}} {
			if s.shared == nil {
				continue
			}
			h, err := s.shared.Handle()
			if err != nil {
				closeHandles()
				return nil, err
			}
			handles = append(handles, h)
			*s.dst = h
		}
		if err := f.applyTalk(m, &cfg); err != nil {
			closeHandles()
			return nil, err
		}
	case Subscriber:
		cfg.Consume = o.Subscribe
		if o.NewSink != nil {
			sink, err := o.NewSink(m)
			if err != nil {
				return nil, err
			}
			cfg.Sink = sink
		}
	}
	c, err := sdk.NewClient(cfg)
	if err != nil {
		closeHandles()
		return nil, err
	}
	return c, nil
}
