// Package queue is a serialized task queue: tasks run one at a time, in the
// order they were added, on a single goroutine owned by the queue.
//
// Adding never blocks (the backlog is unbounded), so producers such as a
// signaling read loop or a pion callback can enqueue without waiting for a
// task in flight.
package queue

import (
	"context"
	"errors"
	"sync"
)

// ErrClosed is returned for tasks added after Close.
var ErrClosed = errors.New("queue closed")

// Task is a unit of work. ctx is cancelled when the queue closes.
type Task func(ctx context.Context)

// Queue runs tasks serially.
type Queue struct {
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex // guards the following
	tasks  []Task
	wake   chan struct{}
	closed bool
}

// New starts a queue.
func New() *Queue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{ctx: ctx, cancel: cancel, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	go q.run()
	return q
}

// Add appends a task. It returns ErrClosed after Close.
func (q *Queue) Add(t Task) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	q.tasks = append(q.tasks, t)
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

// Run adds a task and waits until it has run or ctx ends. It must not be
// called from a task (that would wait for itself).
func (q *Queue) Run(ctx context.Context, t func(ctx context.Context) error) error {
	res := make(chan error, 1)
	if err := q.Add(func(qctx context.Context) {
		// The task sees the caller's cancellation as well as the queue's.
		tctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(qctx, cancel)
		defer stop()
		res <- t(tctx)
	}); err != nil {
		return err
	}
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-q.done:
		select {
		case err := <-res:
			return err
		default:
			return ErrClosed
		}
	}
}

// Close stops accepting tasks, cancels the context of the running task,
// drops the backlog and waits for the queue goroutine to return.
func (q *Queue) Close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		q.tasks = nil
		q.cancel()
		close(q.wake)
	}
	q.mu.Unlock()
	<-q.done
}

// Drain stops accepting tasks, runs everything already queued, then
// returns once the queue goroutine has ended.
func (q *Queue) Drain() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.wake)
	}
	q.mu.Unlock()
	<-q.done
	q.cancel()
}

func (q *Queue) run() {
	defer close(q.done)
	for {
		q.mu.Lock()
		if len(q.tasks) == 0 {
			closed := q.closed
			q.mu.Unlock()
			if closed {
				return
			}
			if _, ok := <-q.wake; !ok {
				// Closed: loop once more to run what Drain left queued.
				q.mu.Lock()
				if len(q.tasks) == 0 {
					q.mu.Unlock()
					return
				}
				q.mu.Unlock()
			}
			continue
		}
		t := q.tasks[0]
		q.tasks[0] = nil
		q.tasks = q.tasks[1:]
		q.mu.Unlock()
		t(q.ctx)
	}
}
