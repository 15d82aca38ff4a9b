package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// oggPage builds an Ogg page holding body, cut by lacing.
func oggPage(serial, seq uint32, flags byte, lacing []byte, body []byte) []byte {
	p := make([]byte, oggPageHeaderSize, oggPageHeaderSize+len(lacing)+len(body))
	copy(p, oggCapturePattern)
	p[5] = flags
	binary.LittleEndian.PutUint64(p[6:], uint64(seq)*960)
	binary.LittleEndian.PutUint32(p[14:], serial)
	binary.LittleEndian.PutUint32(p[18:], seq)
	p[26] = byte(len(lacing))
	p = append(append(p, lacing...), body...)
	binary.LittleEndian.PutUint32(p[22:], oggCRC(p))
	return p
}

// filled returns n bytes starting with toc.
func filled(toc byte, n int, fill byte) []byte {
	b := bytes.Repeat([]byte{fill}, n)
	b[0] = toc
	return b
}

// Pages holding several packets, a packet spanning two pages, a packet of
// exactly 255 bytes (ended by a 0 lacing value) and a page of another
// stream: the replay gets every Opus packet whole, with its duration.
func TestOggPacketsAcrossPages(t *testing.T) {
	head := append([]byte("OpusHead"), 1, 2, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0)
	tags := append([]byte("OpusTags"), 4, 0, 0, 0, 't', 'e', 's', 't', 0, 0, 0, 0)
	a := filled(0x08, 100, 1)   // SILK 20 ms, one frame: 960
	b := filled(0x09, 300, 2)   // two 20 ms frames: 1920
	c := filled(0x0b, 600, 3)   // code 3: frame count in the next byte
	c[1] = 3                    // three 20 ms frames: 2880
	d := filled(0x80, 10, 4)    // CELT 2.5 ms: 120
	e := filled(0xf8, 255, 5)   // CELT 20 ms: 960
	other := filled(0x08, 7, 9) // another logical stream

	var file []byte
	file = append(file, oggPage(1, 0, 2, []byte{19}, head)...)
	file = append(file, oggPage(1, 1, 0, []byte{byte(len(tags))}, tags)...)
	file = append(file, oggPage(1, 2, 0, []byte{100, 255, 45, 255, 255}, slices.Concat(a, b, c[:510]))...)
	file = append(file, oggPage(2, 0, 2, []byte{7}, other)...)
	file = append(file, oggPage(1, 3, 1, []byte{90, 10}, slices.Concat(c[510:], d))...)
	file = append(file, oggPage(1, 4, 4, []byte{255, 0}, e)...)

	// pion's reader accepts the pages (their checksums are right).
	r, hdr, err := oggreader.NewWith(bytes.NewReader(file))
	if err != nil || hdr.Channels != 2 {
		t.Fatalf("oggreader: %v %+v", err, hdr)
	}
	for range 5 {
		if _, _, err := r.ParseNextPage(); err != nil {
			t.Fatalf("oggreader: %v", err)
		}
	}

	packets, err := oggPackets(file)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]byte{head, tags, a, b, c, d, e}
	if len(packets) != len(want) {
		t.Fatalf("%d packets, want %d", len(packets), len(want))
	}
	for i := range want {
		if !bytes.Equal(packets[i], want[i]) {
			t.Errorf("packet %d: %d bytes, want %d", i, len(packets[i]), len(want[i]))
		}
	}

	c2, err := parseClip(file)
	if err != nil {
		t.Fatal(err)
	}
	var samples []int
	for _, f := range c2.frames {
		samples = append(samples, f.samples)
	}
	if !slices.Equal(samples, []int{960, 1920, 2880, 120, 960}) {
		t.Errorf("packet durations %v", samples)
	}
	if d := c2.duration(0); d != 142500*time.Microsecond {
		t.Errorf("duration %v", d)
	}

	bad := slices.Clone(file)
	bad[len(bad)-1] ^= 1
	if _, err := oggPackets(bad); err == nil {
		t.Error("a corrupt page passed the checksum")
	}
}

// nal returns an Annex-B NAL unit with a four-byte start code.
func nal(b ...byte) []byte { return append([]byte{0, 0, 0, 1}, b...) }

func TestParseAnnexBAccessUnits(t *testing.T) {
	sps := nal(0x67, 0x42, 0xc0, 0x1e, 0x8c, 0x8d, 0x40, 0x50, 0x17, 0xfc, 0xb8, 0x0f, 0x08, 0x84, 0x6a)
	pps := nal(0x68, 0xce, 0x3c, 0x80)
	idr1 := nal(0x65, 0x88, 0x84, 0x21)        // first_mb_in_slice 0
	idr2 := nal(0x65, 0x40, 0x84, 0x22)        // a second slice of the same picture
	p1 := nal(0x41, 0x9a, 0x21, 0x22)          // next picture
	aud := append([]byte{0, 0, 1}, 0x09, 0xf0) // three-byte start code
	p2 := nal(0x41, 0x9a, 0x31, 0x32)
	idr3 := nal(0x65, 0x88, 0x84, 0x23) // no SPS/PPS in front
	stream := slices.Concat(sps, pps, idr1, idr2, p1, aud, p2, idr3)

	c, err := parseClip(stream)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		data []byte
		key  bool
	}{
		{slices.Concat(sps, pps, idr1, idr2), true},
		{p1, false},
		{slices.Concat(aud, p2), false},
		{slices.Concat(sps, pps, idr3), true}, // parameter sets put in front
	}
	if len(c.frames) != len(want) {
		t.Fatalf("%d access units, want %d", len(c.frames), len(want))
	}
	for i, w := range want {
		if !bytes.Equal(c.frames[i].data, w.data) || c.frames[i].key != w.key {
			t.Errorf("access unit %d: % x (key %v), want % x (key %v)", i, c.frames[i].data, c.frames[i].key, w.data, w.key)
		}
	}
	if !slices.Equal(c.keys, []int{0, 3}) || c.width != 640 || c.height != 360 {
		t.Errorf("keys %v, size %dx%d", c.keys, c.width, c.height)
	}

	// A stream cut before its first IDR starts at the IDR.
	c, err = parseClip(slices.Concat(p1, sps, pps, idr1))
	if err != nil || len(c.frames) != 1 || !c.frames[0].key {
		t.Errorf("cut stream: %v, %d frames", err, len(c.frames))
	}
	if _, err := parseClip(slices.Concat(p1, p2)); err == nil {
		t.Error("a stream without IDR parsed")
	}
}

func TestIVFFrameRate(t *testing.T) {
	for _, tc := range []struct {
		pts         []uint64
		rate, scale uint32
		want        int
	}{
		{[]uint64{0, 1, 2, 4}, 30, 1, 30},       // frame numbers, one dropped
		{[]uint64{0, 3000, 6000}, 90000, 1, 30}, // RTP clock
		{[]uint64{0, 33, 67, 100}, 1000, 1, 0},  // milliseconds: not a whole rate
		{[]uint64{0, 1, 2}, 30000, 1001, 0},     // 29.97
		{[]uint64{0}, 15, 1, 15},                // a single frame
		{[]uint64{0, 1}, 120, 1, 0},             // beyond 60 fps
		{[]uint64{0, 1 << 63}, 30, 2, 0},        // step × scale wraps to 0: no division by zero
	} {
		if got := ivfFrameRate(tc.pts, tc.rate, tc.scale); got != tc.want {
			t.Errorf("ivfFrameRate(%v, %d/%d) = %d, want %d", tc.pts, tc.scale, tc.rate, got, tc.want)
		}
	}
}

func TestParseClipErrors(t *testing.T) {
	for name, b := range map[string][]byte{
		"unknown":       []byte("RIFF...."),
		"ivf truncated": []byte(ivfSignature + "\x00\x00\x20\x00VP80"),
		"ivf vp9":       append([]byte(ivfSignature+"\x00\x00\x20\x00VP90"), make([]byte, 20)...),
		"ogg truncated": []byte(oggCapturePattern + "\x00\x02"),
		"ogg not opus":  oggPage(1, 0, 2, []byte{8}, []byte("Speex   ")),
	} {
		if _, err := parseClip(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "x.ivf")
	if err := os.WriteFile(path, []byte("nonsense"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadClip(path); !errors.Is(err, ErrInvalidMedia) {
		t.Errorf("loadClip: %v, want ErrInvalidMedia", err)
	}
	if _, err := loadClip(filepath.Join(dir, "missing.ivf")); err == nil {
		t.Error("loadClip of a missing file succeeded")
	}
}

// Sources playing the same file share one copy of it; a file changed on
// disk is loaded again.
func TestClipCacheShares(t *testing.T) {
	src, err := os.ReadFile(testClip(t, "callctl-180p.ivf"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "clip.ivf")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := loadClip(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := loadClip(path)
	if err != nil {
		t.Fatal(err)
	}
	if a != b || &a.frames[0].data[0] != &b.frames[0].data[0] {
		t.Error("two loads of one file do not share the clip")
	}
	if err := os.WriteFile(path, src[:len(src)-len(a.frames[len(a.frames)-1].data)-ivfFrameHeaderSize], 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := loadClip(path)
	if err != nil {
		t.Fatal(err)
	}
	if c == a || len(c.frames) != len(a.frames)-1 {
		t.Errorf("changed file: shared %v, %d frames (was %d)", c == a, len(c.frames), len(a.frames))
	}
}
