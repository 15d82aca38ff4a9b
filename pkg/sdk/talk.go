package sdk

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	msc "github.com/callctl/callctl/pkg/mediasoupclient"
)

// Talking patterns: when a publisher speaks. While it does not, its audio
// packets carry an idle microphone's level (-100 dBov, see
// mediasoupclient.IdleLevel: below the observers' thresholds, yet not
// digital silence, which mediasoup's ActiveSpeakerObserver cannot tell
// from a noise floor) and an Opus silence frame instead of what the
// source encoded, so the server's audio level and active speaker
// observers see it fall silent and switch to whoever speaks. The
// schedules are pure functions of the wall clock (and a seed), so
// separate processes and machines agree on whose turn it is as far as
// their clocks agree.

// Talk modes.
const (
	TalkAlways       = "always"       // always talking (the source's own level)
	TalkTurns        = "turns"        // round-robin slots of Talk.Turn
	TalkConversation = "conversation" // random talk spurts and pauses
)

// Defaults of Talk's zero fields.
const (
	DefaultTalkTurn  = 3 * time.Second
	DefaultTalkSpurt = 1500 * time.Millisecond // mean talk spurt (ITU-T P.59's order)
	DefaultTalkPause = 3 * time.Second         // mean pause
	// conversationWindow is the span of one independently seeded stretch
	// of the conversation model: any time is placed by replaying at most
	// one window's spurts.
	conversationWindow = time.Minute
)

// Talk describes when a publisher talks. The zero value is TalkAlways.
type Talk struct {
	// Mode is TalkAlways (""), TalkTurns or TalkConversation.
	Mode string
	// Turn is the slot length of TalkTurns (default DefaultTalkTurn).
	// Slots are counted from the Unix epoch: slot s belongs to the
	// publisher with Index == s mod Count.
	Turn time.Duration
	// Index and Count place the publisher among the room's Count
	// publishers (0 ≤ Index < Count) for TalkTurns.
	Index, Count int
	// Seed makes a TalkConversation schedule repeatable (use the
	// participant id: each participant gets its own schedule).
	Seed string
	// MeanSpurt and MeanPause are the means of TalkConversation's
	// exponentially distributed talk spurts and pauses (defaults
	// DefaultTalkSpurt, DefaultTalkPause).
	MeanSpurt, MeanPause time.Duration
}

// ErrInvalidTalk is returned for a Talk that cannot be scheduled.
var ErrInvalidTalk = errors.New("sdk: invalid talk pattern")

func (t Talk) withDefaults() Talk {
	t.Mode = cmp.Or(t.Mode, TalkAlways)
	t.Turn = cmp.Or(t.Turn, DefaultTalkTurn)
	t.MeanSpurt = cmp.Or(t.MeanSpurt, DefaultTalkSpurt)
	t.MeanPause = cmp.Or(t.MeanPause, DefaultTalkPause)
	return t
}

// Validate reports what is wrong with t, if anything.
func (t Talk) Validate() error {
	t = t.withDefaults()
	switch t.Mode {
	case TalkAlways:
		return nil
	case TalkTurns:
		if t.Turn < 20*time.Millisecond {
			return fmt.Errorf("%w: turn %v shorter than one 20 ms packet", ErrInvalidTalk, t.Turn)
		}
		if t.Count < 1 || t.Index < 0 || t.Index >= t.Count {
			return fmt.Errorf("%w: turn index %d of %d publishers", ErrInvalidTalk, t.Index, t.Count)
		}
		return nil
	case TalkConversation:
		if t.MeanSpurt < 0 || t.MeanPause < 0 {
			return fmt.Errorf("%w: negative spurt or pause", ErrInvalidTalk)
		}
		return nil
	}
	return fmt.Errorf("%w: mode %q (want %s, %s or %s)", ErrInvalidTalk, t.Mode, TalkAlways, TalkTurns, TalkConversation)
}

// Schedule returns whether the publisher talks at a given time (nil for
// TalkAlways). It is safe for concurrent use.
func (t Talk) Schedule() (func(time.Time) bool, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	t = t.withDefaults()
	switch t.Mode {
	case TalkTurns:
		return func(now time.Time) bool { return TurnOf(now, t.Turn, t.Count) == t.Index }, nil
	case TalkConversation:
		c := &conversation{seed: seedOf(t.Seed), spurt: t.MeanSpurt, pause: t.MeanPause}
		return c.talking, nil
	}
	return nil, nil
}

// TurnOf is the index of the publisher whose turn it is at now, among
// count taking turns of length turn from the Unix epoch.
func TurnOf(now time.Time, turn time.Duration, count int) int {
	n := int64(count)
	return int((SlotOf(now, turn)%n + n) % n) // in [0, count) before 1970 too
}

// SlotOf is the number of the turn slot holding now; it starts at
// SlotStart(slot, turn).
func SlotOf(now time.Time, turn time.Duration) int64 {
	ns := now.UnixNano()
	s := ns / int64(turn)
	if ns < 0 && ns%int64(turn) != 0 {
		s-- // floor, for times before 1970
	}
	return s
}

// SlotStart is when slot begins.
func SlotStart(slot int64, turn time.Duration) time.Time {
	return time.Unix(0, slot*int64(turn))
}

func seedOf(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// conversation is the on/off talk-spurt model: exponential spurts and
// pauses, replayed per wall-clock window of conversationWindow from a
// generator seeded by (seed, window), so the answer for any time is the
// same in every process. The last window's switch times are cached.
type conversation struct {
	seed         uint64
	spurt, pause time.Duration

	mu       sync.Mutex
	window   int64
	startsOn bool
	switches []time.Duration // offsets in the window where talking flips
	valid    bool
}

func (c *conversation) talking(now time.Time) bool {
	w := SlotOf(now, conversationWindow)
	off := now.Sub(SlotStart(w, conversationWindow))
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || c.window != w {
		c.window, c.valid = w, true
		c.startsOn, c.switches = conversationWindowPlan(c.seed, w, c.spurt, c.pause)
	}
	on := c.startsOn
	for _, s := range c.switches {
		if off < s {
			break
		}
		on = !on
	}
	return on
}

// conversationWindowPlan draws one window: whether it starts talking
// (with the stationary probability spurt/(spurt+pause)) and the offsets
// at which talking flips.
func conversationWindowPlan(seed uint64, window int64, spurt, pause time.Duration) (bool, []time.Duration) {
	rng := rand.New(rand.NewPCG(seed, uint64(window)))
	total := float64(spurt + pause)
	if total == 0 {
		return true, nil
	}
	on := rng.Float64() < float64(spurt)/total
	startsOn := on
	var switches []time.Duration
	// The first period is drawn whole: a memoryless distribution's
	// remainder has the same law.
	for at := time.Duration(0); ; {
		mean := pause
		if on {
			mean = spurt
		}
		at += time.Duration(math.Round(rng.ExpFloat64() * float64(mean)))
		if at >= conversationWindow {
			return startsOn, switches
		}
		switches = append(switches, at)
		on = !on
	}
}

// AudioLeveler is implemented by audio sources that know the level of
// the frame they last encoded (pkg/capture's tone and microphone), in
// RFC 6464 -dBov (0 loudest, 127 silence).
type AudioLeveler interface {
	AudioLevel() uint8
}

// WithTalk returns src talking by t: its audio packets carry the RFC
// 6464 audio level (the source's own, when it is an AudioLeveler, else
// a constant speech level) and, outside t's talking times, silence.
// Video sources are returned as they are. The wrapper's tracks are its
// own, so wrapping one shared source for each publisher gives each its
// own pattern.
func WithTalk(src MediaSource, t Talk) (MediaSource, error) {
	talking, err := t.Schedule()
	if err != nil {
		return nil, err
	}
	if src == nil || src.Kind() != webrtc.RTPCodecTypeAudio {
		return src, nil
	}
	v := msc.Voice{Talking: talking}
	if l, ok := src.(AudioLeveler); ok {
		v.Level = l.AudioLevel
	}
	in := src.Tracks()
	tracks := make([]webrtc.TrackLocal, len(in))
	for i, tr := range in {
		tracks[i] = msc.WithVoice(tr, v)
	}
	return &talkingSource{MediaSource: src, tracks: tracks}, nil
}

type talkingSource struct {
	MediaSource
	tracks []webrtc.TrackLocal
}

// Tracks returns the same wrapped tracks every time (a reconnect
// produces them again).
func (s *talkingSource) Tracks() []webrtc.TrackLocal { return s.tracks }

// StampInfo passes the wrapped source's stamps on (its timing markers
// survive the talk pattern), so receivers still measure audio delay.
func (s *talkingSource) StampInfo() (epochMs, periodMs int64) {
	return StampInfoOf(s.MediaSource)
}
