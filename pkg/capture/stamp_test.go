package capture

import (
	"image"
	"strconv"
	"testing"
	"time"
)

func TestStampRoundTrip(t *testing.T) {
	for _, size := range [][2]int{{1280, 720}, {640, 360}, {160, 90}, {16, 16}} {
		for _, s := range []Stamp{{0, 0}, {1, 1}, {0xffff, StampTimeModulus - 1}, {0x1234, 0xabcde}} {
			img := newFrame(size[0], size[1])
			EncodeStamp(img, s)
			got, ok := DecodeStamp(img)
			if !ok || got != s {
				t.Errorf("%v %+v: decoded %+v, %v", size, s, got, ok)
			}
		}
	}
}

func TestStampRejects(t *testing.T) {
	img := newFrame(320, 180)
	if _, ok := DecodeStamp(img); ok {
		t.Error("a blank picture decoded")
	}
	p := newPicture(320, 180, 30)
	p.stamp.epoch = time.Time{}
	p.render(img, 77)
	if s, ok := DecodeStamp(img); !ok || s.Frame != 77 || s.TimeMs != 2566 {
		t.Fatalf("rendered frame 77 decoded as %+v, %v; want {77 2566}", s, ok)
	}
	// Flip one data cell: the CRC must catch it.
	r := stampCell(20, 320, 180)
	fillRect(img, r, 255-img.Y[(r.Min.Y+2)*img.YStride+r.Min.X+2], 128, 128)
	if s, ok := DecodeStamp(img); ok {
		t.Errorf("a picture with a flipped bit decoded as %+v", s)
	}
	if _, ok := DecodeStamp(&image.YCbCr{Rect: image.Rect(0, 0, 8, 8), YStride: 8, Y: make([]byte, 64)}); ok {
		t.Error("a tiny picture decoded")
	}
}

// TestStampSurvivesCodecs encodes the test picture as the simulcast
// source does (rendered at 720p, scaled down per layer) at each layer's
// ladder bitrate, and reads the stamp of every decoded frame.
func TestStampSurvivesCodecs(t *testing.T) {
	sizes := [][2]int{{640, 360}, {320, 180}, {160, 90}}
	for _, codec := range []string{CodecVP8, CodecH264} {
		for _, size := range sizes {
			t.Run(codec+"/"+strconv.Itoa(size[1])+"p", func(t *testing.T) {
				checkStampThroughCodec(t, codec, size[0], size[1])
			})
		}
	}
}

func checkStampThroughCodec(t *testing.T, codec string, w, h int) {
	const frames = 60
	enc, err := newVideoEncoder(codec, videoEncoderConfig{width: w, height: h, fps: 30, bitrate: ladderBitrate(w, h), keyFrameEvery: 90})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.close()
	var decode func([]byte) (decodedPicture, error)
	if codec == CodecVP8 {
		d, err := newVP8Decoder()
		if err != nil {
			t.Fatal(err)
		}
		defer d.close()
		decode = d.decodeStamped
	} else {
		d, err := newH264Decoder()
		if err != nil {
			t.Fatal(err)
		}
		defer d.close()
		decode = d.decodeStamped
	}
	pic := newPicture(1280, 720, 30)
	pic.stamp.epoch = time.Time{}
	chain := []*image.YCbCr{newFrame(1280, 720)}
	for cw := 640; cw >= w; cw /= 2 {
		chain = append(chain, newFrame(cw, cw*9/16))
	}
	decoded, read := 0, 0
	for n := range int64(frames) {
		pic.render(chain[0], 1000+n)
		for i := 1; i < len(chain); i++ {
			downscale(chain[i], chain[i-1])
		}
		data, err := enc.encode(chain[len(chain)-1], n == 0)
		if err != nil || len(data) == 0 {
			continue
		}
		got, err := decode(data)
		if err != nil {
			t.Fatalf("frame %d: decode: %v", n, err)
		}
		if got.w == 0 {
			continue
		}
		decoded++
		if !got.stamped {
			continue
		}
		read++
		want := Stamp{Frame: uint16(1000 + n), TimeMs: uint32((1000 + n) * 1000 / 30)}
		if got.stamp != want {
			t.Fatalf("frame %d: stamp %+v, want %+v", n, got.stamp, want)
		}
	}
	t.Logf("%s %dx%d: %d frames decoded, %d stamps read", codec, w, h, decoded, read)
	if decoded < frames*9/10 || read < decoded*95/100 {
		t.Fatalf("%d of %d frames decoded, %d stamps read: want nearly all", decoded, frames, read)
	}
}

func TestUnwrapStampTime(t *testing.T) {
	for _, c := range []struct {
		time                   uint32
		period, elapsed, slack int64
		want                   int64
	}{
		{100, 1000, 150, 0, 100},
		{100, 1000, 1150, 0, 1100},
		{900, 1000, 1050, 0, 900},    // 150 ms late across a wrap
		{100, 1000, 1050, 100, 1100}, // 50 ms in the future: within slack
		{500, 1000, 100, 100, -500},  // before the epoch
		{5, 1 << 20, 3<<20 + 10, 1000, 3<<20 + 5},
		{7, 0, 12345, 1000, 7},
	} {
		if got := unwrapStampTime(c.time, c.period, c.elapsed, c.slack); got != c.want {
			t.Errorf("unwrap(%d, %d, %d, %d) = %d, want %d", c.time, c.period, c.elapsed, c.slack, got, c.want)
		}
	}
}

func TestFrameTracker(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, c := range []struct {
		name      string
		frames    []uint16
		lost, dup uint64
	}{
		{"every frame", seq(0, 40, 1), 0, 0},
		{"wraps", seq(65520, 40, 1), 0, 0},
		{"two lost", append(seq(0, 20, 1), seq(22, 20, 1)...), 2, 0},
		{"half rate layer", seq(0, 40, 2), 0, 0},
		{"half rate, one lost", append(seq(0, 20, 2), seq(42, 20, 2)...), 1, 0},
		{"duplicate and older", []uint16{1, 2, 3, 3, 2, 4, 5}, 0, 2},
		{"restart", append(seq(5000, 20, 1), seq(0, 20, 1)...), 0, 0},
	} {
		var tr frameTracker
		for i, f := range c.frames {
			tr.frame(t0.Add(time.Duration(i)*33*time.Millisecond), f)
		}
		if tr.lost != c.lost || tr.duplicated != c.dup {
			t.Errorf("%s: lost %d, duplicated %d; want %d, %d", c.name, tr.lost, tr.duplicated, c.lost, c.dup)
		}
	}
	// A pause (muted sender) is no loss.
	var tr frameTracker
	tr.frame(t0, 10)
	tr.frame(t0.Add(6*time.Second), 190)
	if tr.lost != 0 {
		t.Errorf("lost %d across a pause", tr.lost)
	}
}

func seq(from uint16, n int, step uint16) []uint16 {
	out := make([]uint16, n)
	for i := range out {
		out[i] = from + uint16(i)*step
	}
	return out
}

func TestDelayWindow(t *testing.T) {
	var w delayWindow
	t0 := time.Unix(1000, 0)
	if w.summary(t0) != nil {
		t.Fatal("empty window has a summary")
	}
	for i := range 100 {
		w.add(t0.Add(time.Duration(i)*time.Millisecond), float64(i+1))
	}
	s := w.summary(t0.Add(100 * time.Millisecond))
	if s == nil || s.Median != 50 || s.P95 != 95 || s.Max != 100 || s.Samples != 100 {
		t.Fatalf("summary %+v", s)
	}
	for i := range 2000 { // bounded
		w.add(t0.Add(time.Second), float64(i))
	}
	if len(w.ms) != delayWindowMax {
		t.Errorf("window holds %d samples, want %d", len(w.ms), delayWindowMax)
	}
	if w.summary(t0.Add(time.Second+delayWindowAge+time.Millisecond)) != nil {
		t.Error("old samples not dropped")
	}
}

func FuzzDecodeStamp(f *testing.F) {
	img := newFrame(160, 90)
	EncodeStamp(img, Stamp{Frame: 42, TimeMs: 4242})
	f.Add(img.Y, uint8(160), uint8(90))
	f.Add([]byte{1, 2, 3}, uint8(16), uint8(16))
	f.Fuzz(func(t *testing.T, y []byte, w, h uint8) {
		if int(w)*int(h) > len(y) {
			return
		}
		img := &image.YCbCr{Y: y, YStride: int(w), Rect: image.Rect(0, 0, int(w), int(h))}
		s, ok := DecodeStamp(img)
		if !ok || w < 16 || h < 16 {
			return
		}
		// What decodes must re-encode to the same stamp.
		again := newFrame(int(w), int(h))
		EncodeStamp(again, s)
		if got, ok := DecodeStamp(again); !ok || got != s {
			t.Fatalf("%+v re-encoded decodes as %+v, %v", s, got, ok)
		}
	})
}

// TestStampClockLearnsOffset: a late first render must not shift the
// stamps of the later, punctual ones; no stamp claims a time after its
// render.
func TestStampClockLearnsOffset(t *testing.T) {
	epoch := time.Unix(1000, 0)
	var now time.Time
	c := stampClock{epoch: epoch, now: func() time.Time { return now }}
	start := epoch.Add(50 * time.Millisecond) // the pacing clock's origin
	for n, late := range []time.Duration{12, 1, 0, 3, 0} {
		now = start.Add(time.Duration(n)*100*time.Millisecond + late*time.Millisecond)
		got := c.timeMs(int64(n), 10)
		if rendered := now.Sub(epoch).Milliseconds(); got > rendered {
			t.Errorf("frame %d rendered at %d ms stamped %d ms: after its render", n, rendered, got)
		}
		if n >= 2 && got != 50+int64(n)*100 {
			t.Errorf("frame %d stamped %d ms, want its nominal %d", n, got, 50+n*100)
		}
	}
}
