package netem

import "testing"

// FuzzParseSpec: no input panics, and whatever parses survives a round
// trip through String.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		"delay=100ms,jitter=20ms,loss=5%,rate=500kbit", "send.loss=5%,recv.delay=50ms", "none", "",
		"loss=1e-300", "rate=1.5bit", "burst=0.5,loss=99.999%", "queue=1ns,reorder=100",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := ParseSpec(s)
		if err != nil {
			return
		}
		back, err := ParseSpec(spec.String())
		if err != nil {
			t.Fatalf("ParseSpec(%q) ok, but its String %q fails: %v", s, spec.String(), err)
		}
		if back != spec {
			t.Fatalf("round trip of %q via %q: %+v != %+v", s, spec.String(), back, spec)
		}
	})
}
