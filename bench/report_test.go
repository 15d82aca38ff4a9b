package bench

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sizes) != 2 || c.Sizes[0] != 10 || c.Sizes[1] != 50 || c.Repeats != 3 || c.Window != 10*time.Second || !c.Scenarios["chromium"] {
		t.Errorf("defaults: %+v", c)
	}
	c, err = loadConfig(env(map[string]string{"BENCH_SIZES": "50, 10,10", "BENCH_REPEATS": "1", "BENCH_WINDOW": "4s", "BENCH_SCENARIOS": "sub,ramp"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sizes) != 2 || c.Sizes[0] != 10 || c.Repeats != 1 || c.Window != 4*time.Second || c.Scenarios["chromium"] || !c.Scenarios["sub"] {
		t.Errorf("overrides: %+v", c)
	}
	for k, v := range map[string]string{
		"BENCH_SIZES": "10,x", "BENCH_RAMP": "-3", "BENCH_REPEATS": "0", "BENCH_WINDOW": "100ms",
		"BENCH_WARMUP": "soon", "BENCH_JOIN_RATE": "0", "BENCH_SCENARIOS": "replay,bogus", "BENCH_PROFILE_SIZE": "two", "BENCH_AT_MAX": "yes",
	} {
		if _, err := loadConfig(env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%q: error %v, want one naming the variable", k, v, err)
		}
	}
}

func TestMedianRun(t *testing.T) {
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
	if got := median([]float64{3, 1, 2, 10}); got != 2.5 {
		t.Errorf("median = %v, want 2.5", got)
	}
	runs := []runResult{
		{Participants: 10, Cores: 0.3, CoresPerParticipant: 0.03, MinFPS: 30},
		{Participants: 10, Err: "boom"},
		{Participants: 10, Cores: 0.1, CoresPerParticipant: 0.01, MinFPS: 29},
		{Participants: 10, Cores: 0.2, CoresPerParticipant: 0.02, MinFPS: 10},
	}
	m := medianRun(runs)
	if !m.ok() || m.Cores != 0.2 || m.CoresPerParticipant != 0.02 || m.MinFPS != 29 {
		t.Errorf("median run %+v", m)
	}
	if m := medianRun(runs[1:2]); m.ok() || m.Err != "boom" {
		t.Errorf("all failed: %+v", m)
	}
	if ratio(1, 0) != 0 || ratio(math.NaN(), 1) != 0 || ratio(3, 2) != 1.5 {
		t.Error("ratio")
	}
}

func TestMarkdownTargets(t *testing.T) {
	yes, no := true, false
	rep := &report{
		Mode: "test", Config: config{Sizes: []int{50}, Repeats: 3, Window: time.Second},
		ChromiumPeer: &sizeResult{Size: 1, Runs: []runResult{{Cores: 0.7}}, Median: runResult{Participants: 1, Cores: 0.7, CoresPerParticipant: 0.7, RSSMiBPerPart: 1200}},
		ChromiumSub:  &sizeResult{Size: 1, Median: runResult{Participants: 1, Cores: 0.5, CoresPerParticipant: 0.5, RSSMiBPerPart: 1000}},
		Scenarios: []scenarioResult{
			{ID: "replay", Title: "Replay", Role: "publisher", Sizes: []sizeResult{
				{Size: 50, Runs: []runResult{{}}, Median: runResult{Participants: 50, CoresPerParticipant: 0.005, RSSMiBPerPart: 3, MinFPS: 30}, Sustained: &yes},
				{Size: 100, Runs: []runResult{{}}, Median: runResult{Participants: 100, CoresPerParticipant: 0.02, RSSMiBPerPart: 3, MinFPS: 20, MedianFPS: 20, SlowVideos: 3}, Sustained: &no},
			}},
			{ID: "sub", Title: "Subs", Role: "subscriber", Sizes: []sizeResult{
				{Size: 50, Runs: []runResult{{Err: "x"}}, Median: runResult{Err: "timed out"}},
			}},
		},
		Sustain: &sustainResult{MaxSize: 50, ServerCores: 0.9, Tried: []int{50, 100}},
	}
	addRatios(rep)
	if x := rep.Scenarios[0].Sizes[0].XCPU; math.Abs(x-140) > 1e-9 {
		t.Errorf("XCPU = %v, want 140", x)
	}
	md := rep.markdown()
	for _, want := range []string{
		"## How measured", "| 50 | 1/1 | 0.0050 |", "140× / 400×", "20.0 (median 20.0; 3 under 95 %)",
		"failed: timed out", "**Largest sustained: 50 publishers**", "| yes |", "| **no** |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestDelaySection(t *testing.T) {
	p := &proc{}
	p.add([]byte(`{"type":"stats","data":{"consumers":[{"kind":"audio","audioDelayMs":12.5,"avOffsetMs":-3},` +
		`{"kind":"video","delayMs":{"median":15.4,"p95":33.2,"max":41.3,"samples":120},"framesDecoded":300,"framesLost":2,"frameHeight":360}]}}`))
	v, a := lastConsumer(p, "video"), lastConsumer(p, "audio")
	if num(v["framesLost"]) != 2 || num(a["audioDelayMs"]) != 12.5 || lastConsumer(p, "data") != nil {
		t.Fatalf("lastConsumer: video %v, audio %v", v, a)
	}
	rep := &report{Delay: []delayRun{
		{VideoMedianMs: 15.4, VideoP95Ms: 33.2, VideoMaxMs: 41.3, AudioDelayMs: 12.5, FramesDecoded: 300, FramesLost: 2, Height: 360},
		{Impair: "recv.delay=100ms", Err: "no delay measured"},
	}}
	var b strings.Builder
	rep.delaySection(func(format string, args ...any) { fmt.Fprintf(&b, format, args...) })
	for _, want := range []string{"| clean loopback | 15.4 / 33.2 / 41.3 | 12.5 |", "| `--impair recv.delay=100ms` | failed: no delay measured"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("delay section lacks %q:\n%s", want, b.String())
		}
	}
}
