package netem

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// offer feeds n packets of size bytes, one every gap, and returns the
// verdicts.
func offer(l *link, n, size int, gap time.Duration) []verdict {
	out := make([]verdict, n)
	for i := range out {
		out[i] = l.admit(t0.Add(time.Duration(i)*gap), size)
	}
	return out
}

func TestLossRatio(t *testing.T) {
	const n = 200_000
	for _, c := range []struct {
		name  string
		imp   Impairment
		burst float64 // expected mean run of losses
	}{
		{"independent", Impairment{Loss: 5}, 1 / 0.95},
		{"burst", Impairment{Loss: 5, Burst: 4}, 4},
		{"heavy", Impairment{Loss: 30}, 1 / 0.7},
	} {
		t.Run(c.name, func(t *testing.T) {
			vs := offer(newLink(c.imp, 42), n, 1000, time.Millisecond)
			lost, runs := 0, 0
			for i, v := range vs {
				if v.drop == dropLoss {
					lost++
					if i == 0 || vs[i-1].drop != dropLoss {
						runs++
					}
				}
			}
			ratio := float64(lost) / n
			if want := c.imp.Loss / 100; math.Abs(ratio-want) > 0.1*want {
				t.Errorf("loss ratio %.4f, want %.4f ±10%%", ratio, want)
			}
			if mean := float64(lost) / float64(runs); math.Abs(mean-c.burst) > 0.1*c.burst {
				t.Errorf("mean loss burst %.2f packets, want %.2f ±10%%", mean, c.burst)
			}
		})
	}
}

func TestLossIsSeeded(t *testing.T) {
	a := offer(newLink(Impairment{Loss: 10, Jitter: time.Millisecond, Delay: time.Millisecond}, 7), 1000, 100, time.Millisecond)
	b := offer(newLink(Impairment{Loss: 10, Jitter: time.Millisecond, Delay: time.Millisecond}, 7), 1000, 100, time.Millisecond)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("packet %d: %+v vs %+v with the same seed", i, a[i], b[i])
		}
	}
}

func TestDelayKeepsOrder(t *testing.T) {
	imp := Impairment{Delay: 100 * time.Millisecond, Jitter: 40 * time.Millisecond}
	vs := offer(newLink(imp, 3), 5000, 500, time.Millisecond)
	var last time.Time
	for i, v := range vs {
		sent := t0.Add(time.Duration(i) * time.Millisecond)
		d := v.at.Sub(sent)
		if d < 60*time.Millisecond || d > 140*time.Millisecond+40*time.Millisecond {
			t.Fatalf("packet %d delayed %s, want 100ms ± 40ms (+ ordering)", i, d)
		}
		if v.at.Before(last) {
			t.Fatalf("packet %d delivered at %s, before packet %d at %s", i, v.at, i-1, last)
		}
		last = v.at
	}
}

func TestReorder(t *testing.T) {
	imp := Impairment{Delay: 50 * time.Millisecond, Reorder: 10}
	vs := offer(newLink(imp, 5), 10_000, 500, time.Millisecond)
	overtakes := 0
	for i := 1; i < len(vs); i++ {
		if vs[i].at.Before(vs[i-1].at) {
			overtakes++
		}
	}
	if ratio := float64(overtakes) / float64(len(vs)); ratio < 0.08 || ratio > 0.12 {
		t.Errorf("%.3f of packets overtook the one before, want about 0.10", ratio)
	}
}

func TestRateLimitThroughput(t *testing.T) {
	const rate = 500_000 // bit/s
	// Offer twice the rate (1000-byte packets every 8 ms = 1 Mbit/s) for 20 s.
	l := newLink(Impairment{Rate: rate, Queue: 100 * time.Millisecond}, 1)
	vs := offer(l, 2500, 1000, 8*time.Millisecond)
	end := t0.Add(20 * time.Second)
	var bytes int
	var maxWait time.Duration
	drops := 0
	for i, v := range vs {
		if v.drop == dropQueue {
			drops++
			continue
		}
		if !v.at.After(end) {
			bytes += 1000
		}
		maxWait = max(maxWait, v.at.Sub(t0.Add(time.Duration(i)*8*time.Millisecond)))
	}
	got := float64(bytes*8) / 20
	if math.Abs(got-rate) > 0.03*rate {
		t.Errorf("throughput %.0f bit/s, want %d ±3%%", got, rate)
	}
	if maxWait > 110*time.Millisecond {
		t.Errorf("a packet waited %s in a queue bounded to 100ms", maxWait)
	}
	if drops < 1000 {
		t.Errorf("%d tail drops, want about half of 2500 packets", drops)
	}
}

func TestRateLimitUnderLoadPassesUntouched(t *testing.T) {
	// 400 kbit/s offered into a 1 Mbit/s link: nothing waits or drops.
	vs := offer(newLink(Impairment{Rate: 1_000_000}, 1), 1000, 1000, 20*time.Millisecond)
	for i, v := range vs {
		sent := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		if v.drop != pass || v.at.Sub(sent) > 8*time.Millisecond+time.Microsecond {
			t.Fatalf("packet %d: %+v (sent %s), want through within one packet time", i, v, sent)
		}
	}
}

func TestCutAndSet(t *testing.T) {
	l := newLink(Impairment{}, 1)
	l.setCut(true)
	if v := l.admit(t0, 100); v.drop != dropCut {
		t.Fatalf("cut link passed a packet: %+v", v)
	}
	l.setCut(false)
	if v := l.admit(t0, 100); v.drop != pass || !v.at.Equal(t0) {
		t.Fatalf("restored link: %+v", v)
	}
	l.set(Impairment{Delay: time.Second})
	if v := l.admit(t0.Add(time.Second), 100); !v.at.Equal(t0.Add(2 * time.Second)) {
		t.Fatalf("after Set(delay=1s): %+v", v)
	}
}
