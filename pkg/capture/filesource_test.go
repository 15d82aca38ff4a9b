package capture

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"github.com/callctl/callctl/pkg/sdk"
)

// mustFileVideo creates a replaying source closed at the end of the test.
func mustFileVideo(t *testing.T, opts FileOptions) *FileVideoSource {
	t.Helper()
	s, err := NewFileVideo(opts)
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

// recordFileVideo replaces the tracks of s by recorders, one per layer.
func recordFileVideo(s *FileVideoSource) []*recorder {
	recs := make([]*recorder, len(s.layers))
	for i, l := range s.layers {
		recs[i] = &recorder{}
		l.out.w = recs[i]
	}
	return recs
}

// clipIndex returns the index of the clip frame data is (the replay sends
// the clip's own bytes), or -1.
func clipIndex(c *clip, data []byte) int {
	return slices.IndexFunc(c.frames, func(f clipFrame) bool { return &f.data[0] == &data[0] })
}

// A 3-layer replay over 3 s: every layer sends a frame per 1/30 s within
// 10 % of real time, the RTP time (sum of sample durations) keeps up with
// the wall clock, and the 2 s clips loop in order, restarting at their
// first key frame.
func TestFileVideoReplayTiming(t *testing.T) {
	t.Parallel()
	s := mustFileVideo(t, FileOptions{Path: testClips(t)})
	recs := recordFileVideo(s)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	loop := len(s.layers[len(s.layers)-1].clip.frames)
	waitFor(t, 30*time.Second, "a loop of the file", func() bool { return len(recs[len(recs)-1].frames()) > loop+5 })
	s.Close()

	// Properties that hold however late the pacer runs: frames in file
	// order, every due slot sent or counted as dropped, and every frame on
	// the whole-frame RTP grid.
	for i, r := range recs {
		c := s.layers[i].clip
		frames := r.frames()
		for j, f := range frames {
			if got := clipIndex(c, f.data); got != j%len(c.frames) {
				t.Fatalf("layer %d: frame %d is clip frame %d, want %d", i, j, got, j%len(c.frames))
			}
		}
		samples := r.all()
		ticks := rtpTicks(samples, 90000)
		for j := range samples {
			if ticks[j]%(90000/testClipFPS) != 0 {
				t.Fatalf("layer %d: sample %d at RTP tick %d, off the frame grid", i, j, ticks[j])
			}
		}
		st := s.Stats().Layers[i]
		keys := uint64(len(frames)+testClipGOP-1) / testClipGOP // one per GOP started
		if st.KeyFrames != keys || st.SamplesWritten != uint64(len(frames)) || st.FramesEncoded != uint64(len(frames)) {
			t.Errorf("layer %d: stats %+v for %d frames", i, st, len(frames))
		}
		if due := uint64(s.layers[i].out.next); st.FramesEncoded+st.FramesDropped != due {
			t.Errorf("layer %d: %d sent + %d dropped, %d due", i, st.FramesEncoded, st.FramesDropped, due)
		}
	}
}

// The replay through the real track (H264, packetised by pion into a fake
// binding): the frames reassemble and decode, and the RTP timestamps keep
// increasing by one frame interval across the loop.
func TestFileVideoReplayRTP(t *testing.T) {
	t.Parallel()
	s := mustFileVideo(t, FileOptions{Path: testClips(t), Codec: "h264", Layers: 1})
	if c := s.Codec(); c.MimeType != webrtc.MimeTypeH264 || c.SDPFmtpLine != h264FmtpLine {
		t.Errorf("codec %+v", c)
	}
	f := bind(t, s.Tracks()[0], 102)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "70 frames (past the loop)", func() bool { return s.Stats().Total().SamplesWritten >= 70 })
	s.Close()

	dec, err := newH264Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.close()
	sb := samplebuilder.New(512, &codecs.H264Packet{}, 90000)
	pkts := f.snapshot()
	decoded := 0
	var prevTS uint32
	for i, p := range pkts {
		if i > 0 && p.Timestamp != pkts[i-1].Timestamp {
			// Whole frame intervals: more than one when the pacer ran late.
			if d := p.Timestamp - prevTS; d == 0 || d%3000 != 0 {
				t.Fatalf("packet %d: timestamp step %d", i, d)
			}
		}
		if i == 0 || p.Timestamp != pkts[i-1].Timestamp {
			prevTS = p.Timestamp
		}
		sb.Push(&p)
		for smp := sb.Pop(); smp != nil; smp = sb.Pop() {
			if w, h, err := dec.decode(smp.Data); err != nil || w != 640 || h != 360 {
				t.Fatalf("frame %d decodes to %dx%d, %v", decoded, w, h, err)
			}
			decoded++
		}
	}
	if decoded < 65 {
		t.Errorf("%d frames decoded from %d packets", decoded, len(pkts))
	}
}

// A key-frame request makes the layer's very next frame the next key frame
// of its file: fewer than a GOP of frames are skipped.
func TestFileVideoRequestKeyFrame(t *testing.T) {
	t.Parallel()
	s := mustFileVideo(t, FileOptions{Path: testClips(t)})
	recs := recordFileVideo(s)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := s.layers[1].clip
	// Ask in the middle of a GOP.
	waitFor(t, 5*time.Second, "frame 10", func() bool { return len(recs[1].frames()) >= 10 })
	before := len(recs[1].frames())
	done := make(chan struct{})
	go func() { s.RequestKeyFrame(1); s.RequestKeyFrame(3); s.RequestKeyFrame(-1); close(done) }()
	select {
	case <-done:
	case <-time.After(100 * time.Millisecond):
		t.Fatal("RequestKeyFrame blocked")
	}
	waitFor(t, 5*time.Second, "frames after the request", func() bool { return len(recs[1].frames()) >= before+3 })
	frames := recs[1].frames()
	// The sample being written while we asked may still be a delta frame.
	k := slices.IndexFunc(frames[before:], func(f recordedSample) bool { return isVP8KeyFrame(f.data) })
	if k < 0 || k > 1 {
		t.Fatalf("no key frame right after the request (first key %d frames later)", k)
	}
	prev := clipIndex(c, frames[before+k-1].data)
	key := clipIndex(c, frames[before+k].data)
	skipped, skippedBytes := 0, 0
	for i := prev + 1; i != key; i = (i + 1) % len(c.frames) {
		skipped++
		skippedBytes += len(c.frames[i].data)
	}
	gopBytes := 0
	for _, f := range c.frames[:testClipGOP] {
		gopBytes += len(f.data)
	}
	t.Logf("jumped from frame %d to key frame %d: %d frames, %d bytes skipped (GOP %d bytes)", prev, key, skipped, skippedBytes, gopBytes)
	if skipped >= testClipGOP || skippedBytes > gopBytes {
		t.Errorf("skipped %d frames, %d bytes", skipped, skippedBytes)
	}
	// The other layers went on undisturbed.
	for _, i := range []int{0, 2} {
		for j, f := range recs[i].frames() {
			if clipIndex(s.layers[i].clip, f.data) != j%testClipFrames {
				t.Fatalf("layer %d jumped at frame %d", i, j)
			}
		}
	}
}

func TestFileVideoPause(t *testing.T) {
	t.Parallel()
	s := mustFileVideo(t, FileOptions{Path: testClip(t, "callctl-90p.ivf")})
	rec := recordFileVideo(s)[0]
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "5 frames", func() bool { return len(rec.frames()) >= 5 })
	s.SetPaused(true)
	time.Sleep(50 * time.Millisecond)
	paused := len(rec.frames())
	time.Sleep(300 * time.Millisecond)
	if got := len(rec.frames()); got != paused {
		t.Fatalf("%d samples written while paused", got-paused)
	}
	s.SetPaused(false)
	waitFor(t, 5*time.Second, "frames after resuming", func() bool { return len(rec.frames()) >= paused+2 })
	frames := rec.frames()
	if !isVP8KeyFrame(frames[paused].data) {
		t.Error("first frame after resuming is not a key frame")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var gap time.Duration
	for _, smp := range rec.samples {
		if smp.data == nil {
			gap += smp.dur
		}
	}
	if gap < 250*time.Millisecond {
		t.Errorf("RTP time bridged %v of a 350 ms pause", gap)
	}
}

// mustFileAudio creates a replaying audio source closed at the end of the
// test.
func mustFileAudio(t *testing.T, path string) *FileAudioSource {
	t.Helper()
	s, err := NewFileAudio(AudioFileOptions{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The Opus replay through the real track over 3 s: one packet per 20 ms
// within 10 %, consecutive RTP timestamps 960 apart, and the 2 s file
// looping in order.
func TestFileAudioReplay(t *testing.T) {
	t.Parallel()
	s := mustFileAudio(t, testClip(t, "callctl.ogg"))
	f := bind(t, s.Tracks()[0], 111)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	loop := len(s.clip.frames)
	waitFor(t, 30*time.Second, "the file to loop", func() bool { return len(f.snapshot()) > loop+10 })
	s.Close()
	pkts := f.snapshot()
	if st := s.Stats().Total(); st.FramesEncoded != uint64(len(pkts)) || st.SamplesWritten != uint64(len(pkts)) {
		t.Errorf("stats %+v for %d packets", st, len(pkts))
	}
	for i, p := range pkts {
		if i > 0 {
			// 960 ticks, plus whole 20 ms packets skipped if the replay
			// stalled (counted in FramesDropped).
			if d := p.Timestamp - pkts[i-1].Timestamp; d == 0 || d%960 != 0 || p.SequenceNumber != pkts[i-1].SequenceNumber+1 {
				t.Fatalf("packet %d: timestamp step %d, sequence %d after %d", i, d, p.SequenceNumber, pkts[i-1].SequenceNumber)
			}
		}
		if want := s.clip.frames[i%len(s.clip.frames)].data; !bytes.Equal(p.Payload, want) {
			t.Fatalf("packet %d is not packet %d of the file", i, i%len(s.clip.frames))
		}
	}
	if len(pkts) <= len(s.clip.frames) {
		t.Errorf("%d packets: the %d-packet file did not loop", len(pkts), len(s.clip.frames))
	}
}

// Packets of 40 ms (two frames each) are paced at 40 ms, and the timestamps
// advance by their duration.
func TestFileAudioPacketDurations(t *testing.T) {
	t.Parallel()
	head := append([]byte("OpusHead"), 1, 1, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0)
	tags := append([]byte("OpusTags"), 0, 0, 0, 0, 0, 0, 0, 0)
	file := slices.Concat(oggPage(7, 0, 2, []byte{19}, head), oggPage(7, 1, 0, []byte{16}, tags))
	for i := range 5 {
		// Two packets of two 20 ms frames per page.
		file = append(file, oggPage(7, uint32(2+i), 0, []byte{3, 3}, []byte{0x09, byte(i), 1, 0x09, byte(i), 2})...)
	}
	path := filepath.Join(t.TempDir(), "40ms.ogg")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	s := mustFileAudio(t, path)
	f := bind(t, s.Tracks()[0], 111)
	start := time.Now()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	s.Close()
	pkts := f.snapshot()
	if want := time.Since(start).Seconds() * 25; float64(len(pkts)) < 0.9*want || float64(len(pkts)) > 1.1*want {
		t.Errorf("%d packets, want %.0f", len(pkts), want)
	}
	for i := 1; i < len(pkts); i++ {
		if d := pkts[i].Timestamp - pkts[i-1].Timestamp; d != 1920 {
			t.Fatalf("packet %d: timestamp step %d, want 1920", i, d)
		}
	}
}

func TestFileOptions(t *testing.T) {
	dir := testClips(t)
	layers := func(s *FileVideoSource) (sizes [][2]int) {
		for _, l := range s.Layers() {
			sizes = append(sizes, [2]int{l.Width, l.Height})
		}
		return sizes
	}
	// A directory: the simulcast set, low to high, named like the
	// synthetic source's tracks.
	s := mustFileVideo(t, FileOptions{Path: dir, TrackID: "cam", StreamID: "bot1"})
	if got := layers(s); !slices.Equal(got, testLayerSizes) {
		t.Errorf("layers %v", got)
	}
	for i, tr := range s.Tracks() {
		if tr.ID() != "cam" || tr.StreamID() != "bot1" || tr.RID() != simulcastRIDs[i] {
			t.Errorf("track %d: %q %q %q", i, tr.ID(), tr.StreamID(), tr.RID())
		}
	}
	for i, l := range s.Layers() {
		if l.MaxBitrate < 30_000 || i > 0 && l.MaxBitrate <= s.Layers()[i-1].MaxBitrate {
			t.Errorf("layer %d bitrate %d", i, l.MaxBitrate)
		}
	}
	if o := s.Options(); o.Codec != CodecVP8 || o.FPS != 30 || s.Codec().MimeType != webrtc.MimeTypeVP8 {
		t.Errorf("options %+v codec %+v", o, s.Codec())
	}

	// A prefix, the top layer only, a frame rate.
	s = mustFileVideo(t, FileOptions{Path: filepath.Join(dir, "callctl"), Codec: "H264", Layers: 1, FPS: 15})
	if got := layers(s); !slices.Equal(got, testLayerSizes[2:]) || s.Tracks()[0].RID() != "" || s.clock.rate != 15 {
		t.Errorf("layers %v rid %q rate %d", got, s.Tracks()[0].RID(), s.clock.rate)
	}
	// Files named explicitly.
	s = mustFileVideo(t, FileOptions{Paths: []string{filepath.Join(dir, "callctl-90p.ivf"), filepath.Join(dir, "callctl-360p.ivf")}})
	if got := layers(s); !slices.Equal(got, [][2]int{{160, 90}, {640, 360}}) {
		t.Errorf("layers %v", got)
	}

	// Two sets in one directory need a name.
	two := t.TempDir()
	for _, name := range []string{"a-90p.ivf", "a-180p.ivf", "b-90p.ivf"} {
		src, _ := os.ReadFile(filepath.Join(dir, strings.Replace(strings.Replace(name, "a-", "callctl-", 1), "b-", "callctl-", 1)))
		if err := os.WriteFile(filepath.Join(two, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s = mustFileVideo(t, FileOptions{Path: filepath.Join(two, "a")})
	if got := layers(s); !slices.Equal(got, testLayerSizes[:2]) {
		t.Errorf("set a: layers %v", got)
	}

	for name, tc := range map[string]struct {
		opts FileOptions
		want error
	}{
		"nothing":      {FileOptions{}, ErrInvalidOptions},
		"both":         {FileOptions{Path: dir, Paths: []string{dir}}, ErrInvalidOptions},
		"codec":        {FileOptions{Path: dir, Codec: "vp9"}, ErrUnsupportedCodec},
		"fps":          {FileOptions{Path: dir, FPS: 61}, ErrInvalidOptions},
		"layers":       {FileOptions{Path: dir, Layers: 4}, ErrInvalidOptions},
		"too many":     {FileOptions{Path: testClip(t, "callctl-90p.ivf"), Layers: 2}, ErrInvalidOptions},
		"two sets":     {FileOptions{Path: two}, ErrInvalidOptions},
		"no set":       {FileOptions{Path: filepath.Join(dir, "nope")}, ErrInvalidOptions},
		"descending":   {FileOptions{Paths: []string{testClip(t, "callctl-360p.ivf"), testClip(t, "callctl-90p.ivf")}}, ErrInvalidOptions},
		"mixed codecs": {FileOptions{Paths: []string{testClip(t, "callctl-90p.ivf"), testClip(t, "callctl-180p.h264")}}, ErrInvalidMedia},
		"audio":        {FileOptions{Path: testClip(t, "callctl.ogg")}, ErrInvalidMedia},
		"four files":   {FileOptions{Paths: []string{dir, dir, dir, dir}}, ErrInvalidOptions},
		"not a file":   {FileOptions{Paths: []string{dir}}, ErrInvalidOptions},
	} {
		if s, err := NewFileVideo(tc.opts); !errors.Is(err, tc.want) {
			if s != nil {
				s.Close()
			}
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
	for _, path := range []string{"", testClip(t, "callctl-90p.ivf")} {
		if _, err := NewFileAudio(AudioFileOptions{Path: path}); err == nil {
			t.Errorf("NewFileAudio(%q) succeeded", path)
		}
	}
}

// Many sources on the same files hold one copy of them.
func TestFileSourcesShareClips(t *testing.T) {
	dir := testClips(t)
	var sources []*FileVideoSource
	for range 20 {
		sources = append(sources, mustFileVideo(t, FileOptions{Path: dir}))
	}
	for _, s := range sources[1:] {
		for i := range s.layers {
			if s.layers[i].clip != sources[0].layers[i].clip {
				t.Fatal("sources on the same file do not share it")
			}
		}
	}
	a1, a2 := mustFileAudio(t, testClip(t, "callctl.ogg")), mustFileAudio(t, testClip(t, "callctl.ogg"))
	if a1.clip != a2.clip {
		t.Error("audio sources on the same file do not share it")
	}
}

func TestFileSourcesStopWithoutLeaks(t *testing.T) {
	base := runtime.NumGoroutine()
	v, err := NewFileVideo(FileOptions{Path: testClips(t)})
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewFileAudio(AudioFileOptions{Path: testClip(t, "callctl.ogg")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	for _, src := range []sdk.MediaSource{v, a} {
		if err := src.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := src.Start(ctx); !errors.Is(err, ErrAlreadyStarted) {
			t.Errorf("second Start: %v", err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	settleGoroutines(t, base)
	for _, src := range []sdk.MediaSource{v, a} {
		for range 2 {
			if err := src.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := src.Start(context.Background()); !errors.Is(err, ErrClosed) {
			t.Errorf("Start after Close: %v", err)
		}
	}
}
