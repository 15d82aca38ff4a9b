package sdk

import (
	"testing"
	"time"
)

func TestSendLayersNeeds(t *testing.T) {
	a := newSendLayers([]int{100_000, 200_000, 500_000})
	want := []int{110_000, 330_000, 880_000}
	for i, n := range a.needs {
		if n != want[i] {
			t.Fatalf("needs %v, want %v", a.needs, want)
		}
	}
	if a.cur != 2 {
		t.Fatalf("starts at layer %d, want the top", a.cur)
	}
}

// run feeds budget and calm every 500 ms for d and returns the changes.
func run(a *sendLayers, now *time.Time, d time.Duration, budget int, calm bool) []int {
	var changes []int
	for end := now.Add(d); now.Before(end); *now = now.Add(adaptInterval) {
		if l, ok := a.step(*now, budget, calm); ok {
			changes = append(changes, l)
		}
	}
	return changes
}

func TestSendLayersDropsOnCongestionAndResumesOneByOne(t *testing.T) {
	a := newSendLayers([]int{100_000, 200_000, 500_000})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if c := run(a, &now, 10*time.Second, 2_000_000, true); len(c) != 0 {
		t.Fatalf("changes %v with plenty of room", c)
	}
	// A short congested dip is ignored.
	if c := run(a, &now, adaptDownHold-adaptInterval, 50_000, false); len(c) != 0 {
		t.Fatalf("changes %v within the down hold", c)
	}
	// Congested for longer: straight to what fits (never below layer 0).
	if c := run(a, &now, 2*time.Second, 50_000, false); len(c) != 1 || c[0] != 0 {
		t.Fatalf("changes %v, want [0]", c)
	}
	// Congestion goes on: nothing resumes.
	if c := run(a, &now, 20*time.Second, 200_000, false); len(c) != 0 {
		t.Fatalf("changes %v while congested", c)
	}
	// Calm: one layer per up hold, although the estimate lags.
	if c := run(a, &now, adaptUpHold+adaptInterval, 150_000, true); len(c) != 1 || c[0] != 1 {
		t.Fatalf("changes %v after one up hold, want [1]", c)
	}
	// An estimate that lags, on a calm link, stops nothing; but nothing
	// more resumes until it covers what is sent.
	if c := run(a, &now, 20*time.Second, 150_000, true); len(c) != 0 {
		t.Fatalf("changes %v with a lagging estimate on a calm link", c)
	}
	if c := run(a, &now, adaptUpHold+adaptInterval, 400_000, true); len(c) != 1 || c[0] != 2 {
		t.Fatalf("changes %v once the estimate caught up, want [2]", c)
	}
}

func TestSendLayersBacksOffFailedRaises(t *testing.T) {
	a := newSendLayers([]int{100_000, 200_000, 500_000})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	run(a, &now, 3*time.Second, 400_000, false) // drop to layer 1
	if a.cur != 1 {
		t.Fatalf("layer %d, want 1", a.cur)
	}
	// Calm: the top layer resumes (the probe), congests, stops again:
	// the next probe waits twice as long.
	run(a, &now, adaptUpHold+adaptInterval, 400_000, true)
	if a.cur != 2 {
		t.Fatalf("layer %d after a calm up hold, want 2", a.cur)
	}
	run(a, &now, 3*time.Second, 400_000, false)
	if a.cur != 1 || a.upHold != 2*adaptUpHold {
		t.Fatalf("layer %d, up hold %s after a failed raise; want 1 and %s", a.cur, a.upHold, 2*adaptUpHold)
	}
	if c := run(a, &now, adaptUpHold+adaptInterval, 400_000, true); len(c) != 0 {
		t.Fatalf("raised %v before the doubled hold", c)
	}
	if c := run(a, &now, adaptUpHold, 400_000, true); len(c) != 1 || c[0] != 2 {
		t.Fatalf("changes %v after the doubled hold, want [2]", c)
	}
	// Failed again, but then the estimate shows room: no backoff.
	run(a, &now, 3*time.Second, 400_000, false)
	if a.cur != 1 || a.upHold != 4*adaptUpHold {
		t.Fatalf("layer %d, up hold %s; want 1 and %s", a.cur, a.upHold, 4*adaptUpHold)
	}
	if c := run(a, &now, adaptUpHold+adaptInterval, 1_100_000, true); len(c) != 1 || c[0] != 2 {
		t.Fatalf("changes %v with room in the estimate, want [2] after the base hold", c)
	}
	// Holding well: the backoff is forgiven.
	run(a, &now, 2*adaptFailedRaise+time.Second, 1_100_000, true)
	if a.upHold != adaptUpHold {
		t.Fatalf("up hold %s after a long good run, want %s", a.upHold, adaptUpHold)
	}
}

func TestSendLayersLearnMeasuredRates(t *testing.T) {
	a := newSendLayers([]int{100_000, 200_000, 500_000})
	for range 30 {
		a.measured(2, 250_000)
	}
	if got := a.needs[2]; got < 600_000 || got > 610_000 {
		t.Fatalf("need of the top layer %d after measuring 250k, want about (100k+200k+250k)·1.1", got)
	}
	a.cur = 1
	a.measured(2, 1) // a stopped layer keeps its rate
	if a.rates[2] < 249_000 {
		t.Fatalf("a stopped layer's rate changed to %.0f", a.rates[2])
	}
}

func TestAdaptBitrates(t *testing.T) {
	nominal := []int{150_000, 500_000, 1_200_000}
	for _, tc := range []struct {
		name   string
		top    int
		budget int
		want   []int
	}{
		{"everything fits", 2, 3_000_000, []int{150_000, 500_000, 1_200_000}},
		{"top layer squeezed", 2, int(1_500_000 * adaptOverhead), []int{150_000, 500_000, 850_000}},
		{"squeezed no lower than half", 2, 700_000, []int{150_000, 500_000, 600_000}},
		{"top stopped, middle fits", 1, 1_000_000, []int{150_000, 500_000, 0}},
		{"only the lowest, squeezed", 0, int(100_000 * adaptOverhead), []int{100_000, 0, 0}},
		{"only the lowest, floor", 0, 10_000, []int{75_000, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := adaptBitrates(nominal, tc.top, tc.budget)
			for i := range got {
				// integer rounding of the overhead division
				if d := got[i] - tc.want[i]; d < -2 || d > 2 {
					t.Fatalf("adaptBitrates(%v, %d, %d) = %v, want %v", nominal, tc.top, tc.budget, got, tc.want)
				}
			}
		})
	}
}
