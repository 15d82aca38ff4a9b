package fleet

import (
	"context"
	"time"
)

// Clock is the time source of a Pacer (and of a Fleet's deadlines);
// tests inject a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Pacer spaces events at a fixed rate: the first passes at once, the
// k-th no earlier than k intervals after the first. A caller that falls
// behind is not compensated with a burst: the next slot is one interval
// after the later of the previous slot and now.
type Pacer struct {
	clock    Clock
	interval time.Duration
	next     time.Time
}

// NewPacer paces at perSecond events per second; perSecond ≤ 0 does not
// pace. A nil clock is the wall clock.
func NewPacer(perSecond float64, clock Clock) *Pacer {
	if clock == nil {
		clock = realClock{}
	}
	p := &Pacer{clock: clock}
	if perSecond > 0 {
		p.interval = time.Duration(float64(time.Second) / perSecond)
	}
	return p
}

// Wait returns when the next slot has come, or ctx's error. It is not
// safe for concurrent use.
func (p *Pacer) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := p.clock.Now()
	if p.interval <= 0 {
		return nil
	}
	if p.next.IsZero() || p.next.Before(now) {
		p.next = now
	}
	if d := p.next.Sub(now); d > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.clock.After(d):
		}
	}
	p.next = p.next.Add(p.interval)
	return nil
}
