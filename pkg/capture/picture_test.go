package capture

import (
	"bytes"
	"image"
	"testing"
	"time"
)

func TestPictureSize(t *testing.T) {
	for _, size := range [][2]int{{1280, 720}, {640, 360}, {320, 180}, {160, 90}, {16, 16}} {
		p := newPicture(size[0], size[1], 30)
		img := newFrame(size[0], size[1])
		p.render(img, 0)
		if got := img.Rect; got != image.Rect(0, 0, size[0], size[1]) {
			t.Errorf("%v: rect %v", size, got)
		}
		if img.SubsampleRatio != image.YCbCrSubsampleRatio420 {
			t.Errorf("%v: subsampling %v, want 4:2:0", size, img.SubsampleRatio)
		}
		if cw, ch := chromaSize(img); len(img.Cb) < cw*ch || img.CStride < cw {
			t.Errorf("%v: chroma plane too small", size)
		}
	}
}

func TestPictureMoves(t *testing.T) {
	p := newPicture(640, 360, 30)
	p.stamp.epoch = time.Time{} // stamp times from frame numbers only, as in clips
	a, b := newFrame(640, 360), newFrame(640, 360)
	p.render(a, 10)
	p.render(b, 11)
	if bytes.Equal(a.Y, b.Y) {
		t.Fatal("consecutive frames are identical")
	}
	// Deterministic: the same frame number renders the same picture.
	p.render(b, 10)
	if !bytes.Equal(a.Y, b.Y) || !bytes.Equal(a.Cb, b.Cb) {
		t.Fatal("frame 10 rendered twice differs")
	}
}

func TestPictureCounter(t *testing.T) {
	p := newPicture(640, 360, 30)
	const frame = 0b1010_0000_1111_0001
	img := newFrame(640, 360)
	p.render(img, frame)
	cell := evenFloor(360 / 40)
	for i := range counterBits {
		want := frame>>(counterBits-1-i)&1 == 1
		x, y := cell+i*cell+cell/2, cell+cell/2
		if got := img.Y[y*img.YStride+x] > 128; got != want {
			t.Errorf("bit %d: got %v, want %v", i, got, want)
		}
	}
}

func TestPictureRenderDoesNotAllocate(t *testing.T) {
	p := newPicture(640, 360, 30)
	img := newFrame(640, 360)
	n := int64(0)
	if allocs := testing.AllocsPerRun(20, func() { p.render(img, n); n++ }); allocs != 0 {
		t.Fatalf("render allocates %v times per frame", allocs)
	}
}

func TestDownscale(t *testing.T) {
	src := newFrame(640, 360)
	newPicture(640, 360, 30).render(src, 5)
	for _, size := range [][2]int{{320, 180}, {160, 90}} {
		dst := newFrame(size[0], size[1])
		downscale(dst, src)
		// A 2x box filter of the bottom-right colour bar (flat) keeps its value.
		if got, want := dst.Y[(size[1]-1)*dst.YStride+size[0]-1], src.Y[(src.Rect.Dy()-1)*src.YStride+src.Rect.Dx()-1]; absDiff(got, want) > 4 {
			t.Errorf("%v: corner luma %d, want about %d", size, got, want)
		}
		src = dst
	}
}

func absDiff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}

func BenchmarkRender720p(b *testing.B) {
	p := newPicture(1280, 720, 30)
	img := newFrame(1280, 720)
	for i := 0; b.Loop(); i++ {
		p.render(img, int64(i))
	}
}
