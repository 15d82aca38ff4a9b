package sdktest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
)

// SpeakerLog records the active_speaker events a participant receives,
// with the time each arrived, for the talking-pattern tests.
type SpeakerLog struct {
	mu      sync.Mutex
	samples []SpeakerSample
}

// SpeakerSample is one active_speaker event and when it arrived.
type SpeakerSample struct {
	At     time.Time
	PeerID string // "" on silence
}

// Observe records ev if it is an active_speaker event.
func (l *SpeakerLog) Observe(ev sdk.Event) {
	if a, ok := ev.(sdk.ActiveSpeaker); ok {
		l.mu.Lock()
		l.samples = append(l.samples, SpeakerSample{At: time.Now(), PeerID: a.PeerID})
		l.mu.Unlock()
	}
}

// Samples returns what was recorded so far.
func (l *SpeakerLog) Samples() []SpeakerSample {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.samples)
}

// SpeakerChange is a change of the active speaker: At is when the event
// naming the new speaker arrived, Delay how long after the start of
// that speaker's latest turn slot.
type SpeakerChange struct {
	At     time.Time
	PeerID string
	Delay  time.Duration
}

// TurnReport measures active speaker changes against round-robin turns
// (sdk.TalkTurns): peers[k] talks in the slots ≡ k mod len(peers).
type TurnReport struct {
	// Slots is how many turn slots started in [From, To].
	Slots int
	// Changes are the changes that happened in [From, To].
	Changes []SpeakerChange
	// Unknown lists changes to peers not taking turns.
	Unknown []string
}

// AnalyzeTurns finds the speaker changes in samples (a change names
// another peer than the last one named, silences aside) and measures
// each against its speaker's turn. From should be a slot start.
func AnalyzeTurns(samples []SpeakerSample, peers []string, turn time.Duration, from, to time.Time) TurnReport {
	r := TurnReport{Slots: int(sdk.SlotOf(to, turn) - sdk.SlotOf(from, turn) + 1)}
	last := ""
	n := int64(len(peers))
	for _, s := range samples {
		if s.PeerID == "" || s.PeerID == last {
			continue
		}
		last = s.PeerID
		if s.At.Before(from) || s.At.After(to) {
			continue
		}
		k := int64(slices.Index(peers, s.PeerID))
		if k < 0 {
			r.Unknown = append(r.Unknown, s.PeerID)
			continue
		}
		slot := sdk.SlotOf(s.At, turn)
		slot -= ((slot-k)%n + n) % n // the latest slot of peer k
		r.Changes = append(r.Changes, SpeakerChange{At: s.At, PeerID: s.PeerID, Delay: s.At.Sub(sdk.SlotStart(slot, turn))})
	}
	return r
}

// MaxDelay is the longest delay of a change after its turn started.
func (r TurnReport) MaxDelay() time.Duration {
	var m time.Duration
	for _, c := range r.Changes {
		m = max(m, c.Delay)
	}
	return m
}

// String lists the changes, for t.Log.
func (r TurnReport) String() string {
	s := fmt.Sprintf("%d slots, %d changes, max delay %v:", r.Slots, len(r.Changes), r.MaxDelay())
	for _, c := range r.Changes {
		s += fmt.Sprintf(" %s@+%dms", c.PeerID, c.Delay.Milliseconds())
	}
	return s
}

// Problems lists what the report shows wrong for turns among peers: a
// peer named that takes no turns, fewer changes than slots − 1 (the
// last slot's change may still be on its way), a change later than
// lagBound after its turn started, a peer never named.
func (r TurnReport) Problems(peers []string, lagBound time.Duration) []string {
	var out []string
	if len(r.Unknown) > 0 {
		out = append(out, fmt.Sprintf("active speaker named peers not taking turns: %v", r.Unknown))
	}
	if len(r.Changes) < r.Slots-1 {
		out = append(out, fmt.Sprintf("%d changes over %d turn slots, want at least %d", len(r.Changes), r.Slots, r.Slots-1))
	}
	named := map[string]bool{}
	for _, c := range r.Changes {
		named[c.PeerID] = true
		if c.Delay > lagBound {
			out = append(out, fmt.Sprintf("change to %s came %v after its turn started (bound %v)", c.PeerID, c.Delay, lagBound))
		}
	}
	for _, p := range peers {
		if !named[p] {
			out = append(out, p+" was never the active speaker")
		}
	}
	return out
}

// Within counts the changes that came at most d after their turn started.
func (r TurnReport) Within(d time.Duration) int {
	n := 0
	for _, c := range r.Changes {
		if c.Delay <= d {
			n++
		}
	}
	return n
}

// SpeakerTimeline lists the samples as offsets from from, for t.Log.
func SpeakerTimeline(samples []SpeakerSample, from time.Time) string {
	s := ""
	for _, x := range samples {
		name := x.PeerID
		if name == "" {
			name = "(silence)"
		}
		s += fmt.Sprintf(" %+dms:%s", x.At.Sub(from).Milliseconds(), name)
	}
	return s
}

// CheckAudioFrom fails tb unless st has one audio consumer per peer and
// each one received packets: the audio itself arrived, not only levels.
func CheckAudioFrom(tb testing.TB, st sdk.CallStats, peers []string) {
	tb.Helper()
	audio := 0
	for _, c := range st.Consumers {
		if c.Kind == "audio" {
			audio++
			if c.PacketsReceived == 0 {
				tb.Errorf("no audio packets from %s", c.PeerID)
			}
		}
	}
	if audio != len(peers) {
		tb.Errorf("%d audio consumers, want one per talker (%d)", audio, len(peers))
	}
}
