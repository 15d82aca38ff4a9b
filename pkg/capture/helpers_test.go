package capture

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"
)

// vp8KeyFrameSize parses the frame size from a VP8 key frame header
// (RFC 6386, section 9.1): 3-byte frame tag, start code 9d 01 2a, then
// 14-bit width and height.
func vp8KeyFrameSize(frame []byte) (w, h int, ok bool) {
	if !isVP8KeyFrame(frame) || len(frame) < 10 ||
		frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
		return 0, 0, false
	}
	w = int(binary.LittleEndian.Uint16(frame[6:]) & 0x3fff)
	h = int(binary.LittleEndian.Uint16(frame[8:]) & 0x3fff)
	return w, h, true
}

// waitFor polls cond every 10 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settleGoroutines waits until at most n goroutines run.
func settleGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want <= %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mustVideo creates a video source closed at the end of the test.
func mustVideo(t *testing.T, opts VideoOptions) *VideoSource {
	t.Helper()
	s, err := NewSyntheticVideo(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}
