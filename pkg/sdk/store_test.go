package sdk

import (
	"testing"
	"time"
)

func TestStoreSubscriptionsEndWithTheCall(t *testing.T) {
	s := newStore()
	ch, _ := s.Subscribe()
	s.update(func(st *CallState) { st.Status = StatusJoined })
	s.update(func(st *CallState) { st.Status = StatusClosed })
	s.closeSubscribers()
	var last CallState
	n := 0
	for st := range ch { // must end
		last = st
		n++
	}
	if last.Status != StatusClosed || n == 0 {
		t.Fatalf("last state %q after %d states, want closed", last.Status, n)
	}
	late, cancel := s.Subscribe()
	defer cancel()
	select {
	case st, ok := <-late:
		if !ok || st.Status != StatusClosed {
			t.Fatalf("late subscriber got %v %v, want the final state", st.Status, ok)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("late subscriber got nothing")
	}
	if _, ok := <-late; ok {
		t.Fatal("late subscription is not closed")
	}
}

func TestStoreCancelClosesOnce(t *testing.T) {
	s := newStore()
	ch, cancel := s.Subscribe()
	cancel()
	cancel()
	<-ch // the initial snapshot
	if _, ok := <-ch; ok {
		t.Fatal("cancelled subscription still open")
	}
	s.closeSubscribers() // no double close
}
