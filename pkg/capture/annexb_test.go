package capture

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// A crafted stream (one huge SPS, then thousands of tiny IDR slices that
// each get the SPS put in front) must fail instead of needing memory in
// proportion to the square of its size.
func TestParseAnnexBBoundsRepeatedParameterSets(t *testing.T) {
	sps := append(nal(0x67, 0x42, 0xc0, 0x1e, 0x8c, 0x8d, 0x40, 0x50, 0x17, 0xfc, 0xb8, 0x0f, 0x08, 0x84, 0x6a),
		bytes.Repeat([]byte{0xff}, 30000)...)
	pps := nal(0x68, 0xce, 0x3c, 0x80)
	stream := slices.Concat(sps, pps, nal(0x65, 0x88, 0x84, 0x21), bytes.Repeat(nal(0x65, 0x88, 0x84), 2000))
	if _, err := parseClip(stream); err == nil || !strings.Contains(err.Error(), "exceed the file size") {
		t.Fatalf("got %v", err)
	}
	// Ordinary streams (parameter sets once, IDRs far apart) still parse.
	ok := slices.Concat(sps[:19], pps, nal(0x65, 0x88, 0x84, 0x21), bytes.Repeat(nal(0x41, 0x9a, 0x21), 30), nal(0x65, 0x88, 0x84, 0x22))
	if c, err := parseClip(ok); err != nil || len(c.keys) != 2 {
		t.Fatalf("ordinary stream: %v", err)
	}
}
