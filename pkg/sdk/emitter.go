package sdk

import "sync"

// emitter delivers events in order to one channel without ever blocking
// the producer: a slow reader grows the backlog instead of stalling
// signaling. The channel is closed after the last event (Left).
type emitter struct {
	out  chan Event
	done chan struct{}

	mu      sync.Mutex // guards the following
	backlog []Event
	wake    chan struct{}
	closed  bool
}

// newLazyEmitter returns an emitter whose delivery goroutine starts with
// start (the first Events call). Without a reader, events are dropped at
// close.
func newLazyEmitter() *emitter {
	return &emitter{out: make(chan Event), done: make(chan struct{}), wake: make(chan struct{}, 1)}
}

func (e *emitter) start() { go e.run() }

func (e *emitter) emit(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.backlog = append(e.backlog, ev)
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// close delivers what is queued, then closes the channel. It does not wait
// for the reader.
func (e *emitter) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		e.closed = true
		close(e.wake)
	}
}

func (e *emitter) run() {
	defer close(e.done)
	defer close(e.out)
	for {
		e.mu.Lock()
		if len(e.backlog) == 0 {
			closed := e.closed
			e.mu.Unlock()
			if closed {
				return
			}
			<-e.wake
			continue
		}
		ev := e.backlog[0]
		e.backlog[0] = nil
		e.backlog = e.backlog[1:]
		e.mu.Unlock()
		e.out <- ev
	}
}
