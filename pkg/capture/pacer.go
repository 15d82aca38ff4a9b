package capture

import (
	"context"
	"sync"
	"time"
)

// clock divides time into rate slots per second. Slot n starts exactly
// n/rate seconds after the origin (computed in integer nanoseconds), so
// neither the pacing nor the RTP timestamps accumulate rounding errors.
type clock struct{ rate int64 }

// at returns the start of slot n.
func (c clock) at(n int64) time.Duration {
	return time.Duration(n * int64(time.Second) / c.rate)
}

// slot returns the slot that d falls into.
func (c clock) slot(d time.Duration) int64 { return int64(d) * c.rate / int64(time.Second) }

// span returns the duration from the start of slot from to that of slot to.
func (c clock) span(from, to int64) time.Duration { return c.at(to) - c.at(from) }

// tickFunc handles one due slot of a pacing loop. missed is the number of
// slots skipped since the previous call because the loop fell behind.
type tickFunc func(slot, missed int64)

// pace calls tick once per slot of c until ctx is done. Each wait is aimed
// at the next slot boundary on the wall clock, so the loop never drifts; when
// it falls behind, the late slots are skipped (reported through missed)
// instead of being produced in a burst.
func pace(ctx context.Context, c clock, tick tickFunc) {
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	last := int64(-1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if slot := c.slot(time.Since(start)); slot > last {
			tick(slot, slot-last-1)
			last = slot
		}
		timer.Reset(time.Until(start.Add(c.at(last + 1))))
	}
}

// runner is the start/close life cycle shared by the sources: a set of
// goroutines started at most once, stopped and awaited by close.
type runner struct {
	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// start runs each loop in its own goroutine, with a context cancelled when
// ctx is done or on close.
func (r *runner) start(ctx context.Context, loops ...func(context.Context)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return ErrClosed
	case r.started:
		return ErrAlreadyStarted
	}
	r.started = true
	ctx, r.cancel = context.WithCancel(ctx)
	for _, loop := range loops {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			loop(ctx)
		}()
	}
	return nil
}

// close stops the goroutines, waits for them, then calls release once.
// Concurrent and repeated calls all wait and return release's result.
func (r *runner) close(release func() error) error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		cancel := r.cancel
		r.mu.Unlock()
		if cancel != nil {
			cancel()
		}
		r.wg.Wait()
		r.closeErr = release()
	})
	return r.closeErr
}
