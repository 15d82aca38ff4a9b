package capture

import (
	"math"
	"slices"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
)

const (
	// delayWindowAge and delayWindowMax bound the delay samples a receiver
	// keeps: the last few seconds (a stats interval or so), at most 512.
	delayWindowAge = 5 * time.Second
	delayWindowMax = 512
	// videoStampSlackMs is how far a video capture time may seem to lie in
	// the receiver's future (clocks of two machines) and still count.
	videoStampSlackMs = 1000
	// cadenceSteps is how many recent frame-number steps set the cadence.
	cadenceSteps = 15
	// pauseGap is the gap between decoded frames that counts as a pause
	// (a muted sender), as in frameMeter: no loss is counted across it.
	pauseGap = 5 * time.Second
)

// delayWindow keeps recent delay samples for median, p95 and max.
type delayWindow struct {
	at []time.Time
	ms []float64
}

func (w *delayWindow) add(now time.Time, ms float64) {
	if len(w.ms) == delayWindowMax {
		w.at, w.ms = w.at[1:], w.ms[1:]
	}
	w.at = append(w.at, now)
	w.ms = append(w.ms, ms)
	w.trim(now)
}

func (w *delayWindow) trim(now time.Time) {
	i := 0
	for i < len(w.at) && now.Sub(w.at[i]) > delayWindowAge {
		i++
	}
	// append reallocates from the live part only, so the backing arrays
	// stay within twice delayWindowMax.
	w.at, w.ms = w.at[i:], w.ms[i:]
}

// summary returns the window's statistics, nil when it is empty.
func (w *delayWindow) summary(now time.Time) *sdk.DelayStats {
	w.trim(now)
	if len(w.ms) == 0 {
		return nil
	}
	s := slices.Sorted(slices.Values(w.ms))
	rank := func(p float64) float64 { // nearest rank
		return s[max(0, int(math.Ceil(p*float64(len(s))))-1)]
	}
	return &sdk.DelayStats{Median: round1(rank(0.5)), P95: round1(rank(0.95)), Max: round1(s[len(s)-1]), Samples: len(s)}
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// frameTracker counts lost and duplicated frames from the stamps' frame
// numbers. A stream need not carry every source frame: a simulcast layer
// or temporal layer at a reduced rate carries every 2nd or 4th, so the
// expected step is the stream's cadence, the median of the recent steps
// between consecutive frames; a step of n cadences means n-1 lost frames.
// After a switch to a slower layer the median follows within
// cadenceSteps/2 frames; until then its steps may count as loss.
type frameTracker struct {
	have   bool
	last   uint16
	lastAt time.Time
	steps  [cadenceSteps]int
	nsteps int // steps recorded, the ring's fill
	next   int // ring position of the next step

	lost, duplicated uint64
}

func (t *frameTracker) frame(now time.Time, n uint16) {
	if !t.have || now.Sub(t.lastAt) >= pauseGap {
		t.have, t.last, t.lastAt = true, n, now
		return
	}
	step := int(int16(n - t.last))
	switch {
	case step == 0 || (step < 0 && step > -64):
		t.duplicated++ // the same or an older picture again
		return
	case step < 0: // far back: the source restarted
		t.last, t.lastAt = n, now
		return
	}
	// The first step sets the cadence: nothing to compare it with yet.
	if c := t.cadence(); t.nsteps > 0 && step > c {
		t.lost += uint64((step+c/2)/c - 1)
	}
	t.steps[t.next] = step
	t.next = (t.next + 1) % cadenceSteps
	t.nsteps = min(t.nsteps+1, cadenceSteps)
	t.last, t.lastAt = n, now
}

// cadence is the median recent step, 1 before any.
func (t *frameTracker) cadence() int {
	if t.nsteps == 0 {
		return 1
	}
	var buf [cadenceSteps]int
	s := buf[:t.nsteps]
	copy(s, t.steps[:t.nsteps])
	slices.Sort(s)
	return max(1, s[len(s)/2])
}
