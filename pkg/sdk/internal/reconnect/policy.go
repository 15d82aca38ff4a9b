// Package reconnect decides when a lost call rejoins: a pure state machine
// over injected time and randomness, so every transition is table-tested.
// The engine reports what happened (joined, lost, attempt failed) and does
// what the machine answers (wait, attempt on a server, give up).
package reconnect

import (
	"math/rand/v2"
	"time"
)

// Policy is the configuration.
type Policy struct {
	// MaxAttempts is how many rejoin attempts one outage gets; 0 disables
	// reconnection.
	MaxAttempts int
	// InitialDelay (default 500 ms) doubles per attempt up to MaxDelay
	// (default 5 s), with ±Jitter (default 0.2) of randomness so that many
	// bots do not reconnect in lockstep.
	InitialDelay, MaxDelay time.Duration
	Jitter                 float64
	// StableAfter is how long a rejoined call must hold before a new loss
	// counts as a new outage (default 10 s). A server that drops every
	// participant right after joining thus runs the attempts out instead of
	// being retried for ever.
	StableAfter time.Duration
	// Servers is the number of signaling servers to cycle through
	// (default 1): attempt n uses server (n-1) mod Servers.
	Servers int
}

func (p Policy) withDefaults() Policy {
	if p.InitialDelay <= 0 {
		p.InitialDelay = 500 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 5 * time.Second
	}
	if p.Jitter <= 0 {
		p.Jitter = 0.2
	}
	if p.StableAfter <= 0 {
		p.StableAfter = 10 * time.Second
	}
	if p.Servers <= 0 {
		p.Servers = 1
	}
	return p
}

// State is where the call is.
type State int

// States.
const (
	Idle       State = iota // never joined
	Joined                  // in the call
	Waiting                 // lost, waiting for the next attempt
	Attempting              // an attempt is under way
	GaveUp                  // final: the call ends
)

func (s State) String() string {
	return [...]string{"idle", "joined", "waiting", "attempting", "gave-up"}[s]
}

// Action is what the engine must do next.
type Action struct {
	// Kind is Wait (then call Attempt after Delay), End (give up: the call
	// ends with its error), or None.
	Kind  ActionKind
	Delay time.Duration
}

// ActionKind names an action.
type ActionKind int

// Actions.
const (
	None ActionKind = iota
	Wait
	End
)

// Machine is one call's reconnect state. Not safe for concurrent use (the
// engine calls it from its serial queue).
type Machine struct {
	p        Policy
	now      func() time.Time
	rand     func() float64 // in [0, 1)
	state    State
	attempt  int       // attempts in the current outage
	lostAt   time.Time // start of the current outage
	joinedAt time.Time // last successful (re)join
}

// New returns a machine. now and random default to the real clock and
// math/rand/v2.
func New(p Policy, now func() time.Time, random func() float64) *Machine {
	if now == nil {
		now = time.Now
	}
	if random == nil {
		random = rand.Float64
	}
	return &Machine{p: p.withDefaults(), now: now, rand: random}
}

// State is the current state.
func (m *Machine) State() State { return m.state }

// Attempt is the number of the current or last attempt of this outage.
func (m *Machine) Attempt() int { return m.attempt }

// Server is the index of the server the current attempt uses.
func (m *Machine) Server() int {
	if m.attempt == 0 {
		return 0
	}
	return (m.attempt - 1) % m.p.Servers
}

// Downtime is how long the current (or last) outage has lasted.
func (m *Machine) Downtime() time.Duration { return m.now().Sub(m.lostAt) }

// Joined records a successful join or rejoin.
func (m *Machine) Joined() {
	m.state, m.joinedAt = Joined, m.now()
}

// Lost records that the joined call lost signaling or media. final means
// the server ended the session on purpose (no reconnect).
func (m *Machine) Lost(final bool) Action {
	if m.state != Joined {
		return Action{}
	}
	if final || m.p.MaxAttempts <= 0 {
		m.state = GaveUp
		return Action{Kind: End}
	}
	// A loss soon after a rejoin continues the same outage.
	if m.attempt == 0 || m.now().Sub(m.joinedAt) >= m.p.StableAfter {
		m.attempt, m.lostAt = 0, m.now()
	}
	return m.next()
}

// Attempting records that the engine started the attempt it waited for.
func (m *Machine) Attempting() {
	if m.state == Waiting {
		m.state = Attempting
	}
}

// AttemptFailed records a failed attempt and says what to do next.
func (m *Machine) AttemptFailed() Action {
	if m.state != Attempting {
		return Action{}
	}
	return m.next()
}

// Stop records a requested leave: nothing more is attempted.
func (m *Machine) Stop() { m.state = GaveUp }

func (m *Machine) next() Action {
	if m.attempt >= m.p.MaxAttempts {
		m.state = GaveUp
		return Action{Kind: End}
	}
	m.attempt++
	m.state = Waiting
	return Action{Kind: Wait, Delay: m.delay(m.attempt)}
}

// delay is min(MaxDelay, InitialDelay·2^(n-1)) ± Jitter.
func (m *Machine) delay(n int) time.Duration {
	d := m.p.InitialDelay
	for i := 1; i < n && d < m.p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, m.p.MaxDelay)
	j := (m.rand()*2 - 1) * m.p.Jitter
	return d + time.Duration(j*float64(d))
}
