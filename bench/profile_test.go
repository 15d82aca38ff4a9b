//go:build linux

package bench

import (
	"strings"
	"testing"
)

func TestByPackage(t *testing.T) {
	top := `Showing nodes accounting for 230ms, 92.00% of 250ms total
      flat  flat%   sum%        cum   cum%
      90ms 36.00% 36.00%       90ms 36.00%  internal/runtime/syscall/linux.Syscall6
      40ms 16.00% 52.00%       40ms 16.00%  runtime.memmove
      10ms  4.00% 56.00%       10ms  4.00%  github.com/pion/ice/v4.(*CandidatePair).UpdatePacketSent
      10ms  4.00% 60.00%       80ms 32.00%  github.com/pion/srtp/v3.(*SessionSRTP).writeRTP
      10ms  4.00% 64.00%       10ms  4.00%  github.com/pion/srtp/v3.(*Context).encryptRTP
      10ms  4.00% 68.00%       10ms  4.00%  syscall.Syscall`
	got := byPackage(top)
	want := []string{
		" 40.0%  system calls",
		" 16.0%  Go runtime",
		"  8.0%  github.com/pion/srtp/v3",
		"  4.0%  github.com/pion/ice/v4",
	}
	lines := strings.Split(got, "\n")
	if len(lines) != len(want) {
		t.Fatalf("byPackage:\n%s", got)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], w)
		}
	}
}
