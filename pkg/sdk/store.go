package sdk

import (
	"maps"
	"sync"
)

// CallState is a snapshot of a call: the Go counterpart of an observable
// store. Snapshots are values; changing one changes nothing else.
type CallState struct {
	Status       ConnectionStatus
	Room         string
	PeerID       string
	Dialect      string
	Server       string                   // the signaling server in use
	Participants map[string]Participant   // by peer id
	Producers    map[string]ProducerState // by producer id
	Consumers    map[string]ConsumerState // by consumer id
}

// ProducerState is one local producer.
type ProducerState struct {
	ID        string
	Kind      string
	Codec     string
	Encodings int
	Paused    bool
}

// ConsumerState is one remote stream we receive.
type ConsumerState struct {
	ID             string
	ProducerID     string
	PeerID         string
	Kind           string
	Codec          string
	Type           string
	Paused         bool // paused locally
	ProducerPaused bool // paused by its producer
}

func (s CallState) clone() CallState {
	s.Participants = maps.Clone(s.Participants)
	s.Producers = maps.Clone(s.Producers)
	s.Consumers = maps.Clone(s.Consumers)
	return s
}

// Store holds the current CallState and notifies subscribers of changes.
// Only the client's task queue writes to it; anyone may read.
type Store struct {
	mu    sync.Mutex // guards the following
	state CallState
	subs  map[int]chan CallState
	next  int
	ended bool // the call ended: subscriptions are closed
}

func newStore() *Store {
	return &Store{
		state: CallState{
			Status:       StatusIdle,
			Participants: map[string]Participant{},
			Producers:    map[string]ProducerState{},
			Consumers:    map[string]ConsumerState{},
		},
		subs: map[int]chan CallState{},
	}
}

// Snapshot returns a copy of the current state.
func (s *Store) Snapshot() CallState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.clone()
}

// Subscribe returns a channel that receives the latest state after every
// change (a slow reader skips intermediate states, never the latest), and
// a cancel function that closes it. The channel is also closed when the
// call ends (after its final state), so a range over it ends.
func (s *Store) Subscribe() (<-chan CallState, func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.next
	s.next++
	ch := make(chan CallState, 1)
	ch <- s.state.clone()
	if s.ended {
		close(ch)
		return ch, func() {}
	}
	s.subs[id] = ch
	return ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if c, ok := s.subs[id]; ok {
			delete(s.subs, id)
			close(c)
		}
	}
}

// update applies f to the state and publishes the result.
func (s *Store) update(f func(*CallState)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.state)
	for _, ch := range s.subs {
		select {
		case <-ch: // drop the superseded snapshot
		default:
		}
		ch <- s.state.clone()
	}
}

// closeSubscribers ends every subscription, present and future.
func (s *Store) closeSubscribers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	for id, ch := range s.subs {
		delete(s.subs, id)
		close(ch)
	}
}
