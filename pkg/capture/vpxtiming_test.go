package capture

import (
	"testing"
	"time"
)

// TestSafeGap checks that every gap safeGap allows keeps VP8's frame-rate
// estimate on its reset path with 1/this below 0.1 fps (see vpxTiming), and
// that it never shortens a gap nor waits longer than needed to get past the
// unsafe band.
func TestSafeGap(t *testing.T) {
	if got := safeGap(0, 2*time.Millisecond); got != vpxMinThis {
		t.Errorf("first frame after 2 ms: %v, want %v", got, vpxMinThis)
	}
	for prev := 5 * time.Millisecond; prev <= 300*time.Millisecond; prev += 250 * time.Microsecond {
		for g := time.Duration(0); g <= 2*prev; g += 100 * time.Microsecond {
			s := safeGap(prev, g)
			if s < g {
				t.Fatalf("prev %v g %v: shortened to %v", prev, g, s)
			}
			if d := s - g; d > max(prev*6/10, vpxMinThis/2)+3*vpxTimingMargin {
				t.Fatalf("prev %v g %v: waits %v", prev, g, d)
			}
			// libvpx works in integer units; the reset test is |20 (s-prev)| >= prev.
			diff := s - prev
			if diff < 0 {
				diff = -diff
			}
			if 20*diff < prev+20*vpxTimingMargin/2 {
				t.Fatalf("prev %v g %v -> %v: averaging path", prev, g, s)
			}
			if this := 2*s - prev; this > 0 && this < vpxMinThis {
				t.Fatalf("prev %v g %v -> %v: this = %v", prev, g, s, this)
			}
		}
	}
}

// TestSafeGapSteadyRate simulates encode calls at 15, 30 and 60 fps: every
// call must be safe and the added delay small.
func TestSafeGapSteadyRate(t *testing.T) {
	for _, fps := range []int{15, 30, 60} {
		interval := time.Second / time.Duration(fps)
		var last, prev, worst time.Duration
		for k := 1; k <= 1000; k++ {
			due := time.Duration(k) * interval
			at := last + safeGap(prev, due-last)
			if k > 1 && at-due > worst {
				worst = at - due
			}
			prev, last = at-last, at
		}
		if worst > interval/10+vpxTimingMargin {
			t.Errorf("%d fps: a call waited %v", fps, worst)
		}
		t.Logf("%d fps: longest wait %v", fps, worst)
	}
}
