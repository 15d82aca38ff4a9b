package capture

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
	"weak"
)

// codecOpus names the audio codec of a clip.
const codecOpus = "opus"

// clip is a pre-encoded elementary stream held in memory: one video layer
// (VP8 from IVF, H264 from Annex-B) or one Opus track (from Ogg), split
// into frames and indexed at load. A clip is read-only once loaded and
// shared by every source that plays the same file (see loadClip).
type clip struct {
	path  string
	codec string // CodecVP8, CodecH264 or codecOpus
	// Video: the picture size (from the first key frame) and, for IVF, the
	// frame rate the file declares (0 when unknown, as for Annex-B).
	width, height int
	fps           int
	frames        []clipFrame // in file order; video starts at a key frame
	keys          []int       // indices of the key frames, ascending (video)
	bytes         int         // payload bytes of all frames
}

// clipFrame is one frame (video) or packet (audio) of a clip. data is
// usually a slice of the file's bytes.
type clipFrame struct {
	data    []byte
	key     bool
	samples int // audio: duration in 48 kHz samples
}

// nextKey returns the index of the first key frame at or after i, wrapping
// around to the first key frame of the clip.
func (c *clip) nextKey(i int) int {
	for _, k := range c.keys {
		if k >= i {
			return k
		}
	}
	return c.keys[0]
}

// duration returns the clip's play time at fps (video) or from its packet
// durations (audio).
func (c *clip) duration(fps int) time.Duration {
	if c.codec == codecOpus {
		n := 0
		for _, f := range c.frames {
			n += f.samples
		}
		return time.Duration(n) * time.Second / opusSampleRate
	}
	return time.Duration(len(c.frames)) * time.Second / time.Duration(fps)
}

// clipCache shares loaded clips within the process: many sources (bots)
// playing the same file hold one copy of its bytes. Entries are weak, so a
// clip no source uses any more is collected; a file changed on disk (size
// or modification time) is loaded again.
var clipCache = struct {
	sync.Mutex
	clips map[clipKey]weak.Pointer[clip]
}{clips: make(map[clipKey]weak.Pointer[clip])}

type clipKey struct {
	path  string
	size  int64
	mtime time.Time
}

// loadClip returns the parsed clip of path, from the cache when possible.
// The file's format is recognised by its content: IVF (VP8), Ogg (Opus) or
// an H.264 Annex-B byte stream.
func loadClip(path string) (*clip, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrInvalidOptions, path)
	}
	key := clipKey{abs, fi.Size(), fi.ModTime()}

	// Loading under the lock keeps concurrent sources from each loading
	// the file; loads are rare and take milliseconds.
	clipCache.Lock()
	defer clipCache.Unlock()
	if c := clipCache.clips[key].Value(); c != nil {
		return c, nil
	}
	for k, w := range clipCache.clips {
		if w.Value() == nil {
			delete(clipCache.clips, k)
		}
	}
	b, err := os.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	c, err := parseClip(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidMedia, path, err)
	}
	c.path = abs
	clipCache.clips[key] = weak.Make(c)
	return c, nil
}

// parseClip splits a file's bytes into a clip.
func parseClip(b []byte) (*clip, error) {
	var (
		c   *clip
		err error
	)
	switch {
	case bytes.HasPrefix(b, []byte(ivfSignature)):
		c, err = parseIVF(b)
	case bytes.HasPrefix(b, []byte(oggCapturePattern)):
		c, err = parseOggOpus(b)
	case bytes.HasPrefix(b, []byte{0, 0, 1}) || bytes.HasPrefix(b, []byte{0, 0, 0, 1}):
		c, err = parseAnnexB(b)
	default:
		return nil, fmt.Errorf("not IVF, Ogg or H.264 Annex-B")
	}
	if err != nil {
		return nil, err
	}
	if len(c.frames) == 0 {
		return nil, fmt.Errorf("no frames")
	}
	if c.codec != codecOpus {
		if err := c.indexVideo(); err != nil {
			return nil, err
		}
	}
	for _, f := range c.frames {
		c.bytes += len(f.data)
	}
	return c, nil
}

// indexVideo finds the key frames, drops the frames before the first one
// (a decoder cannot start there) and reads the picture size.
func (c *clip) indexVideo() error {
	mime := "video/" + c.codec
	for i, f := range c.frames {
		if f.key {
			c.keys = append(c.keys, i)
		}
	}
	if len(c.keys) == 0 {
		return fmt.Errorf("no key frame")
	}
	if first := c.keys[0]; first > 0 {
		c.frames = c.frames[first:]
		for i := range c.keys {
			c.keys[i] -= first
		}
	}
	c.width, c.height = frameSize(c.frames[0].data, mime)
	if c.width == 0 || c.height == 0 {
		return fmt.Errorf("cannot read the picture size of the first key frame")
	}
	return nil
}

// bitrate returns the clip's average bitrate in bits per second, played at
// fps (video).
func (c *clip) bitrate(fps int) int {
	return int(int64(c.bytes) * 8 * int64(fps) / int64(len(c.frames)))
}
