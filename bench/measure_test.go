//go:build linux

package bench

import (
	"testing"
	"time"
)

func statsEvent(at time.Time, frames map[string]float64) event {
	var cs []any
	for peer, n := range frames {
		cs = append(cs, map[string]any{"peerId": peer, "kind": "video", "framesDecoded": n},
			map[string]any{"peerId": peer, "kind": "audio", "framesDecoded": 0.0})
	}
	return event{Type: "stats", At: at.Add(300 * time.Millisecond), // read late
		Data: map[string]any{"time": at.Format(time.RFC3339Nano), "consumers": cs}}
}

func TestVideoFPS(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	stats := []event{
		statsEvent(t0.Add(-time.Second), map[string]float64{"bench-p0": 0, "bench-p1": 0}),
		statsEvent(t0, map[string]float64{"bench-p0": 100, "bench-p1": 100, "monitor": 5}),
		statsEvent(t0.Add(2*time.Second), map[string]float64{"bench-p0": 160, "bench-p1": 150, "monitor": 500}),
		statsEvent(t0.Add(5*time.Second), map[string]float64{"bench-p0": 999, "bench-p1": 999}),
	}
	// Window [t0, t0+3s]: the events taken at t0 and t0+2s (read 300 ms late).
	got := videoFPS(stats, "bench-p", 2, t0, t0.Add(3*time.Second))
	if got != (fpsStats{Min: 25, Median: 27.5, Below: 1, Counted: 2}) {
		t.Errorf("videoFPS = %+v, want min 25 (bench-p1: 50 frames in 2 s), median 27.5, 1 below, 2 counted", got)
	}
	if got := videoFPS(stats, "bench-p", 3, t0, t0.Add(3*time.Second)); got.Min != 0 || got.Below != 2 || got.Counted != 2 {
		t.Errorf("videoFPS with a publisher missing = %+v, want min 0, 2 below", got)
	}
	if got := videoFPS(stats[:1], "bench-p", 2, t0, t0.Add(3*time.Second)); got.Min != 0 || got.Below != 2 {
		t.Errorf("videoFPS without events in the window = %+v", got)
	}
}

func TestSumKey(t *testing.T) {
	v := map[string]any{"consumers": []any{
		map[string]any{"bytesReceived": 10.0, "kind": "video"},
		map[string]any{"bytesReceived": 5.0, "nested": map[string]any{"bytesReceived": 1.0}},
	}, "bytesReceived": "not a number"}
	if got := sumKey(v, "bytesReceived"); got != 16 {
		t.Errorf("sumKey = %v, want 16", got)
	}
}

func TestSumBytesReceived(t *testing.T) {
	join := &proc{events: []event{
		{Type: "stats", Data: map[string]any{"consumers": []any{map[string]any{"bytesReceived": 1.0}}}},
		{Type: "stats", Data: map[string]any{"consumers": []any{map[string]any{"bytesReceived": 10.0}, map[string]any{"bytesReceived": 5.0}}}},
	}}
	fleet := &proc{events: []event{{Type: "fleet.stats", Data: map[string]any{
		"sent":     map[string]any{"video": map[string]any{"bytes": 1000.0}},
		"received": map[string]any{"video": map[string]any{"bytes": 100.0}, "audio": map[string]any{"bytes": 7.0}},
	}}}}
	if got := sumBytesReceived([]*proc{join, fleet}); got != 122 {
		t.Errorf("sumBytesReceived = %v, want 122 (the last join stats and the fleet's received bytes)", got)
	}
}
