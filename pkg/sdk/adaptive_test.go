package sdk

import (
	"testing"
	"time"
)

func TestLayerAdapterPolicy(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	a := newLayerAdapter(2)
	type step struct {
		at         float64
		lost, recv int64
		freezes    uint64
		want       int
		wantReason string
	}
	steps := []step{
		{at: 0, recv: 0, want: 2},                                 // first sample only primes
		{at: 1, recv: 100, want: 2},                               // calm
		{at: 2, lost: 10, recv: 190, want: 1, wantReason: "loss"}, // 10 lost of 100: >5 %
		{at: 3, lost: 30, recv: 270, want: 1},                     // within the settle time: ignored
		{at: 5.5, lost: 30, recv: 400, freezes: 1, want: 0, wantReason: "freeze"},
		{at: 6, lost: 30, recv: 450, freezes: 2, want: 0},     // the switch's own freeze: ignored
		{at: 9, lost: 30, recv: 700, freezes: 3, want: 0},     // at the bottom already; calm restarts
		{at: 18.9, lost: 30, recv: 1300, freezes: 3, want: 0}, // calm for 9.9 s: not yet
		{at: 19.1, lost: 30, recv: 1350, freezes: 3, want: 1, wantReason: "stable"},
		{at: 20, lost: 31, recv: 1700, freezes: 3, want: 1}, // 1 lost of 350: fine, but not 10 s calm
		{at: 29.5, lost: 31, recv: 2300, freezes: 3, want: 2, wantReason: "stable"},
		{at: 40, lost: 31, recv: 3500, freezes: 3, want: 2}, // at the top: stays
	}
	for _, s := range steps {
		layer, reason, changed := a.observe(at(s.at), s.lost, s.recv, s.freezes)
		if layer != s.want || reason != s.wantReason || changed != (s.wantReason != "") {
			t.Fatalf("t=%.1fs: got layer %d %q changed=%v, want %d %q", s.at, layer, reason, changed, s.want, s.wantReason)
		}
	}
}

func TestSpatialLayers(t *testing.T) {
	for mode, want := range map[string]int{"": 1, "L1T3": 1, "L3T3": 3, "S3T3_KEY": 3, "L2T1": 2, "bogus": 1} {
		if got := spatialLayers(mode); got != want {
			t.Errorf("%q: %d, want %d", mode, got, want)
		}
	}
}
