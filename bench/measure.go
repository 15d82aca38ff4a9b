//go:build linux

package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// nominalFPS is the frame rate of the clip set and of the live test
// picture (callctl's defaults).
const nominalFPS = 30

// measurement is a pair of samples around the window.
type measurement struct {
	t0, t1       time.Time
	tree0, tree1 treeSample
	srv0, srv1   treeSample
	mach0, mach1 machineCPU
}

// measure waits out the warm-up, then samples the trees under pids, the
// reference server and the machine at both ends of the window; at, when
// not nil, is called right after each end's samples (end: the second).
func (h *harness) measure(ctx context.Context, pids []int, at func(end bool)) (measurement, error) {
	var m measurement
	if err := sleepCtx(ctx, h.cfg.Warmup); err != nil {
		return m, err
	}
	m.t0, m.mach0 = time.Now(), sampleMachine()
	m.tree0, m.srv0 = sampleTrees(pids...), sampleTrees(h.serverPID)
	if at != nil {
		at(false)
	}
	// The window is the measured interval itself, not a wait for
	// something to happen.
	if err := sleepCtx(ctx, h.cfg.Window); err != nil {
		return m, err
	}
	m.t1, m.mach1 = time.Now(), sampleMachine()
	m.tree1, m.srv1 = sampleTrees(pids...), sampleTrees(h.serverPID)
	if at != nil {
		at(true)
	}
	if m.tree1.Procs < m.tree0.Procs {
		return m, fmt.Errorf("%d of the measured processes exited during the window", m.tree0.Procs-m.tree1.Procs)
	}
	return m, nil
}

// result turns the samples into per-participant figures.
func (m measurement) result(participants, streams int) runResult {
	wall := m.t1.Sub(m.t0)
	cores := (m.tree1.CPU - m.tree0.CPU).Seconds() / wall.Seconds()
	r := runResult{
		Participants: participants, Streams: streams, Procs: m.tree1.Procs,
		WindowSeconds: wall.Seconds(),
		Cores:         cores,
		RSSMiB:        kibToMiB(m.tree1.RSSKiB),
		PSSMiB:        kibToMiB(m.tree1.PSSKiB),
		HWMMiB:        kibToMiB(m.tree1.HWMKiB),
		ServerCores:   (m.srv1.CPU - m.srv0.CPU).Seconds() / wall.Seconds(),
		ServerRSSMiB:  kibToMiB(m.srv1.RSSKiB),
		MachineBusy:   busyCores(m.mach0, m.mach1, wall),
	}
	r.CoresPerParticipant = cores / float64(participants)
	r.CoresPerStream = r.CoresPerParticipant / float64(streams)
	r.RSSMiBPerPart = r.RSSMiB / float64(participants)
	r.PSSMiBPerPart = r.PSSMiB / float64(participants)
	return r
}

func kibToMiB(k int64) float64 { return float64(k) / 1024 }

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// peersWithMedia counts the distinct peers (ids starting with prefix) a
// join process received a first packet of kind from.
func peersWithMedia(p *proc, prefix, kind string) int {
	seen := map[string]bool{}
	for _, e := range p.find("consumer.media") {
		if id, _ := e.Data["peerId"].(string); e.Data["kind"] == kind && strings.HasPrefix(id, prefix) {
			seen[id] = true
		}
	}
	return len(seen)
}

// consumerFrames maps peer id to framesDecoded of its video consumer in
// one stats event.
func consumerFrames(e event, prefix string) map[string]float64 {
	out := map[string]float64{}
	cs, _ := e.Data["consumers"].([]any)
	for _, c := range cs {
		m, _ := c.(map[string]any)
		id, _ := m["peerId"].(string)
		if m["kind"] != "video" || !strings.HasPrefix(id, prefix) {
			continue
		}
		n, _ := m["framesDecoded"].(float64)
		out[id] += n
	}
	return out
}

// fpsStats are the decoding frame rates of the publishers' videos at
// the monitor over the window.
type fpsStats struct {
	Min, Median float64
	Below       int // publishers under sustainedRatio of the nominal rate
	Counted     int // publishers seen at both ends of the window
}

// videoFPS computes the frame rate of each of the want peers with prefix
// over [t0, t1] from a decoding join's stats events; a peer missing at
// either end counts as 0 fps.
func videoFPS(stats []event, prefix string, want int, t0, t1 time.Time) fpsStats {
	var e0, e1 *event
	for i := range stats {
		if e0 == nil && !stats[i].At.Before(t0) {
			e0 = &stats[i]
		}
		if !stats[i].At.After(t1) {
			e1 = &stats[i]
		}
	}
	out := fpsStats{Below: want}
	if e0 == nil || e1 == nil {
		return out
	}
	secs := statsTime(*e1).Sub(statsTime(*e0)).Seconds()
	if secs <= 0 {
		return out
	}
	f0, f1 := consumerFrames(*e0, prefix), consumerFrames(*e1, prefix)
	var rates []float64
	for id, n := range f1 {
		if n0, ok := f0[id]; ok {
			rates = append(rates, (n-n0)/secs)
		}
	}
	out.Counted = len(rates)
	for len(rates) < want {
		rates = append(rates, 0)
	}
	out.Below = 0
	for _, r := range rates {
		if r < sustainedRatio*nominalFPS {
			out.Below++
		}
	}
	out.Median = median(rates)
	out.Min = slices.Min(rates)
	return out
}

// sumBytesReceived sums what the subscribers of each process received,
// from its last stats (join) or fleet.stats (fleet) event.
func sumBytesReceived(procs []*proc) float64 {
	var total float64
	for _, p := range procs {
		var last *event
		for _, e := range p.find("") {
			if e.Type == "stats" || e.Type == "fleet.stats" {
				e := e
				last = &e
			}
		}
		switch {
		case last == nil:
		case last.Type == "fleet.stats": // {"received": {"video": {"bytes": …}, …}}
			total += sumKey(last.Data["received"], "bytes")
		default: // a join's stats: consumers[].bytesReceived
			total += sumKey(last.Data, "bytesReceived")
		}
	}
	return total
}

// sumKey adds up every number stored under key anywhere in v.
func sumKey(v any, key string) float64 {
	var total float64
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if n, ok := x.(float64); ok && k == key {
				total += n
			} else {
				total += sumKey(x, key)
			}
		}
	case []any:
		for _, x := range v {
			total += sumKey(x, key)
		}
	}
	return total
}

// statsTime is when a stats event was taken (its data's "time"), or when
// the harness read it: a busy machine can delay the reading.
func statsTime(e event) time.Time {
	if s, ok := e.Data["time"].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t
		}
	}
	return e.At
}
