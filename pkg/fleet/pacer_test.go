package fleet

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeClock advances only when a waiter is released by advance.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	waiting chan struct{} // signalled when After is called
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1000, 0), waiting: make(chan struct{}, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	c.waiting <- struct{}{}
	return ch
}

// advance moves time forward by d and fires the timers due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

func TestPacerSpacesEvents(t *testing.T) {
	clk := newFakeClock()
	p := NewPacer(4, clk) // every 250 ms
	ctx := context.Background()
	start := clk.Now()
	var at []time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 5 {
			if err := p.Wait(ctx); err != nil {
				t.Error(err)
				return
			}
			at = append(at, clk.Now().Sub(start))
		}
	}()
	for range 4 { // the first passes at once, each later one waits
		<-clk.waiting
		clk.advance(250 * time.Millisecond)
	}
	<-done
	for i, d := range at {
		if want := time.Duration(i) * 250 * time.Millisecond; d != want {
			t.Errorf("event %d at %v, want %v", i, d, want)
		}
	}
}

// A caller that falls behind gets its next slot at once, and no burst
// after it.
func TestPacerNoBurstAfterStall(t *testing.T) {
	clk := newFakeClock()
	p := NewPacer(10, clk)
	ctx := context.Background()
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Second) // a long stall
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-clk.waiting:
		t.Fatal("the slot after a stall waited")
	default:
	}
	done := make(chan error, 1)
	go func() { done <- p.Wait(ctx) }()
	<-clk.waiting // the third waits a full interval
	select {
	case <-done:
		t.Fatal("burst after a stall")
	default:
	}
	clk.advance(100 * time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestPacerCancelAndUnpaced(t *testing.T) {
	clk := newFakeClock()
	ctx, cancel := context.WithCancel(context.Background())
	p := NewPacer(1, clk)
	_ = p.Wait(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Wait(ctx) }()
	<-clk.waiting
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("cancelled wait: %v", err)
	}
	u := NewPacer(0, clk)
	for range 100 {
		if err := u.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(clk.waiting) != 0 {
		t.Error("an unpaced pacer waited")
	}
}
