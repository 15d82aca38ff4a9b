package bench

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// config is the benchmark's size, read from the environment so that
// `make bench BENCH_SIZES=10 BENCH_REPEATS=1` is a quick run.
type config struct {
	Sizes    []int         `json:"sizes"`    // BENCH_SIZES: fleet sizes measured in every scenario
	Ramp     []int         `json:"ramp"`     // BENCH_RAMP: further sizes tried for the largest sustained fleet
	Repeats  int           `json:"repeats"`  // BENCH_REPEATS: runs per size (median reported)
	Window   time.Duration `json:"window"`   // BENCH_WINDOW: measured interval per run
	Warmup   time.Duration `json:"warmup"`   // BENCH_WARMUP: after every participant's media arrived
	JoinRate float64       `json:"joinRate"` // BENCH_JOIN_RATE: joins per second
	// LiveMax (BENCH_LIVE_MAX): largest live-encoding group of join
	// processes (each encodes its own layers); a fleet shares encoders
	// and runs every size.
	LiveMax int `json:"liveMaxJoinProcesses"`
	// AtMax (BENCH_AT_MAX=1) also runs the live and subscriber scenarios
	// at the largest sustained fleet size found by the ramp.
	AtMax bool `json:"atMax"`
	// ProfileSize (BENCH_PROFILE_SIZE): participants run inside the
	// benchmark process for the CPU and heap profiles.
	ProfileSize int             `json:"profileSize"`
	Scenarios   map[string]bool `json:"scenarios"` // BENCH_SCENARIOS: subset of allScenarios
	Out         string          `json:"-"`         // BENCH_OUT: directory for benchmarks.md/.json
}

// allScenarios are the parts of the benchmark BENCH_SCENARIOS selects.
var allScenarios = []string{"replay", "live", "sub", "subdecode", "chromium", "ramp", "profile", "delay"}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{Repeats: 3, Window: 10 * time.Second, Warmup: 3 * time.Second, JoinRate: 10, LiveMax: 10, ProfileSize: 10, Out: "../docs"}
	var err error
	if c.Sizes, err = intList(getenv("BENCH_SIZES"), "10,50"); err != nil {
		return c, fmt.Errorf("BENCH_SIZES: %w", err)
	}
	if c.Ramp, err = intList(getenv("BENCH_RAMP"), "20,30,40,70,100"); err != nil {
		return c, fmt.Errorf("BENCH_RAMP: %w", err)
	}
	ints := []struct {
		env string
		dst *int
	}{{"BENCH_REPEATS", &c.Repeats}, {"BENCH_LIVE_MAX", &c.LiveMax}, {"BENCH_PROFILE_SIZE", &c.ProfileSize}}
	for _, f := range ints {
		if v := getenv(f.env); v != "" {
			if *f.dst, err = strconv.Atoi(v); err != nil || *f.dst < 1 {
				return c, fmt.Errorf("%s=%q: want a positive integer", f.env, v)
			}
		}
	}
	durs := []struct {
		env string
		dst *time.Duration
	}{{"BENCH_WINDOW", &c.Window}, {"BENCH_WARMUP", &c.Warmup}}
	for _, f := range durs {
		if v := getenv(f.env); v != "" {
			if *f.dst, err = time.ParseDuration(v); err != nil || *f.dst < 0 || (f.env == "BENCH_WINDOW" && *f.dst < time.Second) {
				return c, fmt.Errorf("%s=%q: want a duration (window at least 1s)", f.env, v)
			}
		}
	}
	if v := getenv("BENCH_JOIN_RATE"); v != "" {
		if c.JoinRate, err = strconv.ParseFloat(v, 64); err != nil || c.JoinRate <= 0 {
			return c, fmt.Errorf("BENCH_JOIN_RATE=%q: want a positive number", v)
		}
	}
	switch v := getenv("BENCH_AT_MAX"); v {
	case "", "0":
	case "1":
		c.AtMax = true
	default:
		return c, fmt.Errorf("BENCH_AT_MAX=%q: want 0 or 1", v)
	}
	if v := getenv("BENCH_OUT"); v != "" {
		c.Out = v
	}
	c.Scenarios, err = scenarioSet(getenv("BENCH_SCENARIOS"))
	return c, err
}

// intList parses "10,50" (def when s is empty) into sorted unique
// positive integers.
func intList(s, def string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		s = def
	}
	seen := map[int]bool{}
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q: want positive integers separated by commas", s)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out, nil
}

func scenarioSet(s string) (map[string]bool, error) {
	out := map[string]bool{}
	if strings.TrimSpace(s) == "" || s == "all" {
		for _, n := range allScenarios {
			out[n] = true
		}
		return out, nil
	}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		known := false
		for _, n := range allScenarios {
			known = known || n == f
		}
		if !known {
			return nil, fmt.Errorf("BENCH_SCENARIOS: unknown %q (want some of %s)", f, strings.Join(allScenarios, ","))
		}
		out[f] = true
	}
	return out, nil
}
