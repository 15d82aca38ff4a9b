package netem

import (
	"strings"
	"testing"
	"time"
)

func TestParseSpec(t *testing.T) {
	both := Impairment{Delay: 100 * time.Millisecond, Jitter: 20 * time.Millisecond, Loss: 5, Rate: 500_000}
	cases := []struct {
		in   string
		want Spec
	}{
		{"", Spec{}},
		{"none", Spec{}},
		{"delay=100ms,jitter=20ms,loss=5%,rate=500kbit", Spec{Send: both, Recv: both}},
		{" delay = 100ms , jitter=20ms,loss=5,rate=0.5mbit ", Spec{Send: both, Recv: both}},
		{"send.loss=5%,recv.delay=50ms", Spec{Send: Impairment{Loss: 5}, Recv: Impairment{Delay: 50 * time.Millisecond}}},
		{"delay=10ms,recv.delay=0s", Spec{Send: Impairment{Delay: 10 * time.Millisecond}}},
		{"loss=2.5%,burst=4,reorder=1%,rate=2mbit,queue=50ms", Spec{
			Send: Impairment{Loss: 2.5, Burst: 4, Reorder: 1, Rate: 2_000_000, Queue: 50 * time.Millisecond},
			Recv: Impairment{Loss: 2.5, Burst: 4, Reorder: 1, Rate: 2_000_000, Queue: 50 * time.Millisecond},
		}},
		{"SEND.RATE=1Gbit", Spec{Send: Impairment{Rate: 1_000_000_000}}},
		{"rate=64000", Spec{Send: Impairment{Rate: 64000}, Recv: Impairment{Rate: 64000}}},
	}
	for _, c := range cases {
		got, err := ParseSpec(c.in)
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseSpec(%q) = %+v, want %+v", c.in, got, c.want)
		}
		back, err := ParseSpec(got.String())
		if err != nil || back != got {
			t.Errorf("round trip of %q via %q: %+v, %v", c.in, got.String(), back, err)
		}
	}
}

func TestParseSpecErrors(t *testing.T) {
	cases := map[string]string{
		"delay":             "key=value",
		"delay=fast":        "duration",
		"delay=-5ms":        "duration",
		"delay=2h":          "duration",
		"loss=101%":         "percentage",
		"loss=NaN":          "percentage",
		"loss=-1":           "percentage",
		"rate=500kbps":      "ambiguous",
		"rate=fast":         "not a rate",
		"rate=0.1bit":       "below 1 bit/s",
		"rate=1000gbit":     "not a rate",
		"up.loss=1%":        "direction",
		"colour=blue":       "unknown key",
		"burst=-2":          "burst",
		"loss=1%,,delay=1s": "key=value",
	}
	for in, want := range cases {
		_, err := ParseSpec(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSpec(%q) error = %v, want one mentioning %q", in, err, want)
		}
	}
}

func TestSpecString(t *testing.T) {
	s := Spec{Send: Impairment{Loss: 5}, Recv: Impairment{Delay: 50 * time.Millisecond}}
	if got, want := s.String(), "send.loss=5%,recv.delay=50ms"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := (Spec{}).String(); got != "none" {
		t.Errorf("zero String() = %q, want none", got)
	}
	if got := (Spec{Recv: Impairment{Rate: 1000}}).String(); got != "recv.rate=1000bit" {
		t.Errorf("String() = %q", got)
	}
}
