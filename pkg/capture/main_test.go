package capture

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if testClipSet.dir != "" {
		_ = os.RemoveAll(testClipSet.dir)
	}
	os.Exit(code)
}

// testClipSet is a small clip set shared by the tests: 2 s of 160x90,
// 320x180 and 640x360 VP8 and H264 with a key frame every second, and 2 s
// of Opus, written once per test binary by WriteClips.
var testClipSet struct {
	once  sync.Once
	dir   string
	files []string
	err   error
}

const (
	testClipDuration = 2 * time.Second
	testClipFPS      = 30
	testClipFrames   = 60
	testClipGOP      = 30
)

// testClips returns the directory of the shared clip set, written on first
// use (about a second).
func testClips(t testing.TB) string {
	t.Helper()
	testClipSet.once.Do(func() {
		dir, err := os.MkdirTemp("", "callctl-clips-")
		if err != nil {
			testClipSet.err = err
			return
		}
		testClipSet.dir = dir
		testClipSet.files, testClipSet.err = WriteClips(dir, ClipOptions{
			Duration: testClipDuration, Width: 640, Height: 360, FPS: testClipFPS,
		})
	})
	if testClipSet.err != nil {
		t.Fatalf("writing the test clips: %v", testClipSet.err)
	}
	return testClipSet.dir
}

// testClip returns the path of one file of the shared clip set.
func testClip(t testing.TB, name string) string {
	return filepath.Join(testClips(t), name)
}
