package reconnect

import (
	"testing"
	"time"
)

// fakeClock is advanced by the test.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

type step struct {
	op      string // joined, lost, lostFinal, attempting, failed, stop, advance
	advance time.Duration
	want    ActionKind
	state   State
	attempt int
}

func run(t *testing.T, p Policy, rnd float64, steps []step) *Machine {
	t.Helper()
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := New(p, clk.now, func() float64 { return rnd })
	for i, s := range steps {
		var got Action
		switch s.op {
		case "joined":
			m.Joined()
		case "lost":
			got = m.Lost(false)
		case "lostFinal":
			got = m.Lost(true)
		case "attempting":
			m.Attempting()
		case "failed":
			got = m.AttemptFailed()
		case "stop":
			m.Stop()
		case "advance":
			clk.advance(s.advance)
			continue
		}
		if got.Kind != s.want || m.State() != s.state || m.Attempt() != s.attempt {
			t.Fatalf("step %d (%s): action %v state %s attempt %d; want %v %s %d",
				i, s.op, got.Kind, m.State(), m.Attempt(), s.want, s.state, s.attempt)
		}
	}
	return m
}

func TestTransitions(t *testing.T) {
	p := Policy{MaxAttempts: 2, StableAfter: 10 * time.Second}
	cases := map[string][]step{
		"lost before joining is not ours to handle": {
			{op: "lost", want: None, state: Idle},
		},
		"lost, one failure, then rejoined": {
			{op: "joined", state: Joined},
			{op: "lost", want: Wait, state: Waiting, attempt: 1},
			{op: "attempting", state: Attempting, attempt: 1},
			{op: "failed", want: Wait, state: Waiting, attempt: 2},
			{op: "attempting", state: Attempting, attempt: 2},
			{op: "joined", state: Joined, attempt: 2},
		},
		"attempts run out": {
			{op: "joined", state: Joined},
			{op: "lost", want: Wait, state: Waiting, attempt: 1},
			{op: "attempting", state: Attempting, attempt: 1},
			{op: "failed", want: Wait, state: Waiting, attempt: 2},
			{op: "attempting", state: Attempting, attempt: 2},
			{op: "failed", want: End, state: GaveUp, attempt: 2},
		},
		"closed by server is final": {
			{op: "joined", state: Joined},
			{op: "lostFinal", want: End, state: GaveUp},
		},
		"quick drops after rejoining count against the same outage": {
			{op: "joined", state: Joined},
			{op: "lost", want: Wait, state: Waiting, attempt: 1},
			{op: "attempting", state: Attempting, attempt: 1},
			{op: "joined", state: Joined, attempt: 1},
			{op: "advance", advance: time.Second},
			{op: "lost", want: Wait, state: Waiting, attempt: 2},
			{op: "attempting", state: Attempting, attempt: 2},
			{op: "joined", state: Joined, attempt: 2},
			{op: "advance", advance: time.Second},
			{op: "lost", want: End, state: GaveUp, attempt: 2},
		},
		"a stable call starts a new outage": {
			{op: "joined", state: Joined},
			{op: "lost", want: Wait, state: Waiting, attempt: 1},
			{op: "attempting", state: Attempting, attempt: 1},
			{op: "joined", state: Joined, attempt: 1},
			{op: "advance", advance: 10 * time.Second},
			{op: "lost", want: Wait, state: Waiting, attempt: 1},
		},
		"a leave stops everything": {
			{op: "joined", state: Joined},
			{op: "lost", want: Wait, state: Waiting, attempt: 1},
			{op: "stop", state: GaveUp, attempt: 1},
			{op: "attempting", state: GaveUp, attempt: 1},
			{op: "failed", want: None, state: GaveUp, attempt: 1},
		},
	}
	for name, steps := range cases {
		t.Run(name, func(t *testing.T) { run(t, p, 0.5, steps) })
	}
	t.Run("disabled", func(t *testing.T) {
		run(t, Policy{}, 0.5, []step{{op: "joined", state: Joined}, {op: "lost", want: End, state: GaveUp}})
	})
}

func TestBackoffBounds(t *testing.T) {
	p := Policy{MaxAttempts: 10, InitialDelay: 100 * time.Millisecond, MaxDelay: time.Second, Jitter: 0.2}
	for _, rnd := range []float64{0, 0.5, 0.999999} {
		clk := &fakeClock{t: time.Unix(0, 0)}
		m := New(p, clk.now, func() float64 { return rnd })
		m.Joined()
		a := m.Lost(false)
		for n := 1; n <= 10; n++ {
			base := min(p.InitialDelay<<(n-1), p.MaxDelay)
			lo, hi := time.Duration(float64(base)*0.8), time.Duration(float64(base)*1.2)
			if a.Kind != Wait || a.Delay < lo || a.Delay > hi {
				t.Fatalf("rnd %v attempt %d: %v %v, want Wait in [%v, %v]", rnd, n, a.Kind, a.Delay, lo, hi)
			}
			m.Attempting()
			a = m.AttemptFailed()
		}
		if a.Kind != End {
			t.Fatalf("after 10 attempts: %v", a.Kind)
		}
	}
}

func TestServerRotation(t *testing.T) {
	m := New(Policy{MaxAttempts: 5, Servers: 3}, nil, func() float64 { return 0.5 })
	m.Joined()
	m.Lost(false)
	var got []int
	for i := 0; i < 5; i++ {
		got = append(got, m.Server())
		m.Attempting()
		m.AttemptFailed()
	}
	want := []int{0, 1, 2, 0, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("servers %v, want %v", got, want)
		}
	}
}

func TestDowntime(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	m := New(Policy{MaxAttempts: 3}, clk.now, nil)
	m.Joined()
	m.Lost(false)
	clk.advance(1500 * time.Millisecond)
	if d := m.Downtime(); d != 1500*time.Millisecond {
		t.Fatalf("downtime %v", d)
	}
}
