package sdk

import (
	"errors"
	"testing"
	"time"
)

func TestTalkValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		talk Talk
		ok   bool
	}{
		{"zero is always", Talk{}, true},
		{"always", Talk{Mode: TalkAlways}, true},
		{"turns", Talk{Mode: TalkTurns, Index: 2, Count: 3}, true},
		{"turns without count", Talk{Mode: TalkTurns}, false},
		{"turns index past count", Talk{Mode: TalkTurns, Index: 3, Count: 3}, false},
		{"turns negative index", Talk{Mode: TalkTurns, Index: -1, Count: 3}, false},
		{"turns too short", Talk{Mode: TalkTurns, Count: 1, Turn: time.Millisecond}, false},
		{"conversation", Talk{Mode: TalkConversation, Seed: "a"}, true},
		{"conversation negative pause", Talk{Mode: TalkConversation, MeanPause: -time.Second}, false},
		{"unknown mode", Talk{Mode: "shout"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.talk.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidTalk) {
				t.Fatalf("error %v is not ErrInvalidTalk", err)
			}
			if _, serr := tc.talk.Schedule(); (serr == nil) != tc.ok {
				t.Fatalf("Schedule() error = %v, want ok=%v", serr, tc.ok)
			}
		})
	}
}

func TestTurnSlots(t *testing.T) {
	turn := 2 * time.Second
	at := func(ms int64) time.Time { return time.UnixMilli(ms) }
	for _, tc := range []struct {
		ms        int64
		slot      int64
		turnOf3   int
		slotStart int64 // ms
	}{
		{0, 0, 0, 0},
		{1999, 0, 0, 0},
		{2000, 1, 1, 2000},
		{5999, 2, 2, 4000},
		{6000, 3, 0, 6000},
		{-1, -1, 2, -2000}, // before 1970: floored, and the turn stays in [0, n)
	} {
		s := SlotOf(at(tc.ms), turn)
		if s != tc.slot {
			t.Errorf("SlotOf(%d ms) = %d, want %d", tc.ms, s, tc.slot)
		}
		if got := SlotStart(s, turn).UnixMilli(); got != tc.slotStart {
			t.Errorf("SlotStart(%d) = %d ms, want %d", s, got, tc.slotStart)
		}
		if got := TurnOf(at(tc.ms), turn, 3); got != tc.turnOf3 {
			t.Errorf("TurnOf(%d ms) = %d, want %d", tc.ms, got, tc.turnOf3)
		}
	}
}

func TestTurnsScheduleOneTalkerAtATime(t *testing.T) {
	const n = 3
	var talking [n]func(time.Time) bool
	for k := range n {
		f, err := Talk{Mode: TalkTurns, Turn: 2 * time.Second, Index: k, Count: n}.Schedule()
		if err != nil {
			t.Fatal(err)
		}
		talking[k] = f
	}
	base := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for ms := int64(0); ms < 12000; ms += 250 {
		now := base.Add(time.Duration(ms) * time.Millisecond)
		want := int((base.UnixMilli()+ms)/2000) % n // slots count from 1970
		for k := range n {
			if got := talking[k](now); got != (k == want) {
				t.Fatalf("at +%d ms publisher %d talking = %v, want turn of %d", ms, k, got, want)
			}
		}
	}
}

func TestAlwaysHasNoSchedule(t *testing.T) {
	f, err := Talk{}.Schedule()
	if err != nil || f != nil {
		t.Fatalf("Schedule() = %v, %v; want nil, nil (always talking)", f != nil, err)
	}
}

// conversationStats samples a schedule every 20 ms for d from start and
// returns the talking fraction and the mean lengths of the whole spurts
// and pauses seen.
func conversationStats(f func(time.Time) bool, start time.Time, d time.Duration) (frac float64, spurt, pause time.Duration) {
	const step = 20 * time.Millisecond
	var on, total int
	var runSum, runCount [2]int // [0] pauses, [1] spurts
	prev, run, first := f(start), 0, true
	for at := time.Duration(0); at < d; at += step {
		cur := f(start.Add(at))
		total++
		if cur {
			on++
		}
		if cur != prev {
			if !first { // the first run started before the sampling
				i := 0
				if prev {
					i = 1
				}
				runSum[i] += run
				runCount[i]++
			}
			prev, run, first = cur, 0, false
		}
		run++
	}
	mean := func(i int) time.Duration { return time.Duration(runSum[i]) * step / time.Duration(max(runCount[i], 1)) }
	return float64(on) / float64(total), mean(1), mean(0)
}

func TestConversationModel(t *testing.T) {
	mk := func(seed string) func(time.Time) bool {
		f, err := Talk{Mode: TalkConversation, Seed: seed}.Schedule()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	a, a2, b := mk("bot-p0"), mk("bot-p0"), mk("bot-p1")
	same, differ := true, false
	for at := time.Duration(0); at < 10*time.Minute; at += 100 * time.Millisecond {
		now := start.Add(at)
		same = same && a(now) == a2(now)
		differ = differ || a(now) != b(now)
	}
	if !same {
		t.Fatal("one seed gave two schedules: not repeatable across processes")
	}
	if !differ {
		t.Fatal("two participants got the same schedule")
	}
	// Asked out of order (another window first), the answers stay the same.
	late := start.Add(7 * time.Minute)
	want := a2(start.Add(90 * time.Second))
	_ = a(late)
	if a(start.Add(90*time.Second)) != want {
		t.Fatal("answer depends on the order of the questions")
	}
	// Over two hours the model's means show: talking a third of the time
	// (1.5 s / (1.5 s + 3 s)), spurts about 1.5 s, pauses about 3 s. The
	// window cut shortens the periods a little.
	frac, spurt, pause := conversationStats(mk("stats"), start, 2*time.Hour)
	t.Logf("talking %.3f of the time, mean spurt %v, mean pause %v", frac, spurt, pause)
	if frac < 0.28 || frac > 0.39 {
		t.Errorf("talking fraction %.3f, want about 1/3", frac)
	}
	if spurt < 1200*time.Millisecond || spurt > 1800*time.Millisecond {
		t.Errorf("mean spurt %v, want about 1.5 s", spurt)
	}
	if pause < 2500*time.Millisecond || pause > 3500*time.Millisecond {
		t.Errorf("mean pause %v, want about 3 s", pause)
	}
}

func TestSpeakerChanges(t *testing.T) {
	var s speakerChanges
	for i, tc := range []struct {
		peer    string
		changed bool
		changes int
	}{
		{"", false, 0},  // silence before anyone
		{"a", true, 0},  // the first speaker: from nobody, not counted
		{"a", false, 0}, // repeated every interval
		{"", false, 0},  // a pause
		{"a", false, 0}, // the same speaker again
		{"b", true, 1},
		{"c", true, 2},
		{"b", true, 3},
	} {
		if got := s.observe(tc.peer); got != tc.changed || s.changes != tc.changes {
			t.Fatalf("step %d (%q): changed %v, changes %d; want %v, %d", i, tc.peer, got, s.changes, tc.changed, tc.changes)
		}
	}
}
