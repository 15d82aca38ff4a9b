package netem

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Impairment is what one direction of the link does to packets. The zero
// value passes everything unchanged.
type Impairment struct {
	// Loss is the share of packets lost at random, in percent (0-100).
	Loss float64
	// Burst is the mean length, in packets, of a run of losses. Up to 1
	// every packet is lost independently; above 1 losses come in bursts
	// (a two-state Gilbert-Elliott model whose bad state loses every
	// packet), keeping the overall ratio at Loss.
	Burst float64
	// Delay is added to every packet; Jitter varies it uniformly by up to
	// ±Jitter (never below zero). Jitter alone does not reorder: a packet
	// never overtakes the one before it.
	Delay, Jitter time.Duration
	// Reorder is the share of packets, in percent, sent without the delay,
	// overtaking those still delayed (as Linux netem's reorder).
	Reorder float64
	// Rate limits the link to this many bits per second (0: unlimited):
	// a token bucket of a few packets, behind a FIFO queue.
	Rate int64
	// Queue bounds that FIFO queue in time: a packet that would wait
	// longer is dropped (tail drop). Default 200 ms worth of Rate.
	Queue time.Duration
}

// Spec is the impairment of both directions, as seen from the local end:
// Send is what leaves (the uplink), Recv what arrives (the downlink).
type Spec struct {
	Send, Recv Impairment
}

// Limits keep a parsed spec sane.
const (
	maxDuration = time.Minute
	maxRate     = 100_000_000_000 // 100 Gbit/s
	maxBurst    = 1_000_000
)

// ParseSpec reads a comma-separated list of key=value settings:
//
//	delay=100ms,jitter=20ms,loss=5%,rate=500kbit
//	send.loss=5%,recv.delay=50ms
//
// Keys: loss (percent, "%" optional), burst (mean loss burst length in
// packets), delay, jitter and queue (Go durations), reorder (percent),
// rate (bits per second: a number with bit, kbit, mbit or gbit; kbit is
// 1000 bit/s). A key without a prefix sets both directions; "send." or
// "recv." sets one. A later setting overrides an earlier one. An empty
// spec or "none" impairs nothing.
func ParseSpec(s string) (Spec, error) {
	var spec Spec
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return spec, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		key, value, ok := strings.Cut(item, "=")
		if !ok {
			return Spec{}, fmt.Errorf("netem: %q: want key=value", item)
		}
		key, value = strings.TrimSpace(strings.ToLower(key)), strings.TrimSpace(value)
		targets := []*Impairment{&spec.Send, &spec.Recv}
		if dir, rest, ok := strings.Cut(key, "."); ok {
			switch dir {
			case "send":
				targets = targets[:1]
			case "recv":
				targets = targets[1:]
			default:
				return Spec{}, fmt.Errorf("netem: %q: direction %q is not send or recv", item, dir)
			}
			key = rest
		}
		for _, t := range targets {
			if err := t.set(key, value); err != nil {
				return Spec{}, fmt.Errorf("netem: %q: %w", item, err)
			}
		}
	}
	return spec, nil
}

// set applies one key=value to i.
func (i *Impairment) set(key, value string) error {
	var err error
	switch key {
	case "loss":
		i.Loss, err = parsePercent(value)
	case "reorder":
		i.Reorder, err = parsePercent(value)
	case "burst":
		i.Burst, err = parseBurst(value)
	case "delay":
		i.Delay, err = parseDuration(value)
	case "jitter":
		i.Jitter, err = parseDuration(value)
	case "queue":
		i.Queue, err = parseDuration(value)
	case "rate":
		i.Rate, err = parseRate(value)
	default:
		return fmt.Errorf("unknown key %q (want loss, burst, delay, jitter, reorder, rate or queue)", key)
	}
	return err
}

func parsePercent(v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 100 {
		return 0, fmt.Errorf("%q is not a percentage from 0 to 100", v)
	}
	return f, nil
}

func parseBurst(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxBurst {
		return 0, fmt.Errorf("%q is not a burst length in packets (0 to %d)", v, maxBurst)
	}
	return f, nil
}

func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > maxDuration {
		return 0, fmt.Errorf("%q is not a duration from 0 to %s (e.g. 50ms)", v, maxDuration)
	}
	return d, nil
}

// rateUnits are the accepted rate suffixes, longest first.
var rateUnits = []struct {
	suffix string
	mult   int64
}{{"gbit", 1_000_000_000}, {"mbit", 1_000_000}, {"kbit", 1000}, {"bit", 1}}

func parseRate(v string) (int64, error) {
	lv := strings.ToLower(v)
	if strings.HasSuffix(lv, "bps") {
		return 0, fmt.Errorf("%q: ambiguous unit (tc reads kbps as kilobytes); write kbit, mbit or bit", v)
	}
	mult := int64(1)
	for _, u := range rateUnits {
		if strings.HasSuffix(lv, u.suffix) {
			lv, mult = strings.TrimSuffix(lv, u.suffix), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(lv, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f*float64(mult) > maxRate {
		return 0, fmt.Errorf("%q is not a rate (e.g. 500kbit, 2mbit; at most 100gbit)", v)
	}
	r := int64(f * float64(mult))
	if f > 0 && r == 0 {
		return 0, fmt.Errorf("%q is below 1 bit/s", v)
	}
	return r, nil
}

// String is the spec in ParseSpec's syntax (keys without a prefix when
// both directions agree); ParseSpec(s.String()) returns s.
func (s Spec) String() string {
	if s.Send == s.Recv {
		if out := s.Send.items(""); out != "" {
			return out
		}
		return "none"
	}
	parts := []string{}
	for _, p := range []string{s.Send.items("send."), s.Recv.items("recv.")} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

// items lists the non-zero settings of i with prefix on each key.
func (i Impairment) items(prefix string) string {
	var out []string
	add := func(key, value string) { out = append(out, prefix+key+"="+value) }
	pct := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) + "%" }
	if i.Loss != 0 {
		add("loss", pct(i.Loss))
	}
	if i.Burst != 0 {
		add("burst", strconv.FormatFloat(i.Burst, 'g', -1, 64))
	}
	if i.Delay != 0 {
		add("delay", i.Delay.String())
	}
	if i.Jitter != 0 {
		add("jitter", i.Jitter.String())
	}
	if i.Reorder != 0 {
		add("reorder", pct(i.Reorder))
	}
	if i.Rate != 0 {
		add("rate", strconv.FormatInt(i.Rate, 10)+"bit")
	}
	if i.Queue != 0 {
		add("queue", i.Queue.String())
	}
	return strings.Join(out, ",")
}

// IsZero reports whether the impairment changes nothing.
func (i Impairment) IsZero() bool { return i == Impairment{} }
