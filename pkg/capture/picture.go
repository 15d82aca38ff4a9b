package capture

import (
	"image"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// picture renders the synthetic test picture: a smooth gradient with a strip
// of colour bars, a sweeping vertical bar, a bouncing colour-cycling ball and
// a binary frame counter, under faint luma noise that changes every frame,
// with a machine-readable Stamp (frame number, capture time) drawn last.
// Like a calm camera scene it is cheap to code coarsely (the noise vanishes
// at moderate quantizers), yet gives the rate control detail to spend a
// realistic bitrate on (the noise), unlike mediadevices' videotest driver,
// whose full-contrast noise block is incompressible at any quantizer.
//
// The static background is precomputed once; rendering a frame copies it
// with the noise into the caller's buffer and draws the moving parts on top,
// without allocating.
type picture struct {
	bg    *image.YCbCr
	noise []int8 // noiseRows rows of width+noiseRows samples, see noiseFor
	fps   float64
	barH  int // height of the static colour-bar strip at the bottom
	stamp stampClock
}

// 75 % colour bars in BT.601 limited-range Y'CbCr: white, yellow, cyan,
// green, magenta, red, blue.
var colourBars = [...][3]uint8{
	{180, 128, 128},
	{168, 44, 136},
	{145, 147, 44},
	{133, 63, 52},
	{63, 193, 204},
	{51, 109, 212},
	{28, 212, 120},
}

const counterBits = 16

func newPicture(width, height, fps int) *picture {
	p := &picture{
		bg:   newFrame(width, height),
		fps:  float64(fps),
		barH: evenFloor(height / 8),
	}
	p.drawBackground()
	p.noise = noiseFor(width)
	p.stamp.epoch = time.Now()
	return p
}

// drawBackground fills p.bg with the static part of the scene.
func (p *picture) drawBackground() {
	bg := p.bg
	w, h := bg.Rect.Dx(), bg.Rect.Dy()
	for y := range h {
		row := bg.Y[y*bg.YStride : y*bg.YStride+w]
		for x := range row {
			row[x] = uint8(48 + 96*x/w + 48*y/h)
		}
	}
	cw, ch := chromaSize(bg)
	for y := range ch {
		cb := bg.Cb[y*bg.CStride : y*bg.CStride+cw]
		cr := bg.Cr[y*bg.CStride : y*bg.CStride+cw]
		for x := range cb {
			cb[x] = uint8(96 + 64*x/cw)
			cr[x] = uint8(160 - 64*y/ch)
		}
	}
	for i, c := range colourBars {
		x0 := evenFloor(i * w / len(colourBars))
		x1 := evenFloor((i + 1) * w / len(colourBars))
		if i == len(colourBars)-1 {
			x1 = w
		}
		fillRect(bg, image.Rect(x0, h-p.barH, x1, h), c[0], c[1], c[2])
	}
}

// render draws frame number frame (frame/fps seconds into the sequence)
// into img, an I420 image of the picture's size.
func (p *picture) render(img *image.YCbCr, frame int64) {
	p.addNoise(img, frame)
	copy(img.Cb, p.bg.Cb)
	copy(img.Cr, p.bg.Cr)

	w, h := img.Rect.Dx(), img.Rect.Dy()
	sceneH := h - p.barH
	t := float64(frame) / p.fps

	// A white vertical bar sweeping left to right every 6 s.
	barW := max(2, evenFloor(w/32))
	x := int(math.Mod(t/6, 1)*float64(w+barW)) - barW
	fillRect(img, image.Rect(evenFloor(x), 0, evenFloor(x)+barW, sceneH), 220, 128, 128)

	// A ball bouncing around the scene, cycling through the hues every 7 s.
	r := max(2, sceneH/8)
	cx := r + int(triangle(t/5)*float64(max(0, w-2*r)))
	cy := r + int(triangle(t/3.3)*float64(max(0, sceneH-2*r)))
	hue := 2 * math.Pi * t / 7
	fillCircle(img, cx, cy, r, 150, uint8(128+100*math.Cos(hue)), uint8(128+100*math.Sin(hue)))

	drawCounter(img, frame)
	EncodeStamp(img, Stamp{Frame: uint16(frame), TimeMs: uint32(p.stamp.timeMs(frame, p.fps) % StampTimeModulus)})
}

// drawCounter draws the low 16 bits of frame as a row of black (0) and white
// (1) cells, most significant bit first, framed in grey, at the top left.
func drawCounter(img *image.YCbCr, frame int64) {
	h := img.Rect.Dy()
	cell := max(2, evenFloor(h/40))
	x0, y0 := cell, cell
	frameRect := image.Rect(x0-cell/2, y0-cell/2, x0+counterBits*cell+cell/2, y0+cell+cell/2)
	fillRect(img, frameRect, 128, 128, 128)
	for i := range counterBits {
		v := uint8(16)
		if frame>>(counterBits-1-i)&1 == 1 {
			v = 235
		}
		x := x0 + i*cell
		fillRect(img, image.Rect(x, y0, x+cell, y0+cell), v, 128, 128)
	}
}

// triangle maps t to a triangle wave in [0, 1] with period 1.
func triangle(t float64) float64 {
	f := t - math.Floor(t)
	if f > 0.5 {
		return 2 - 2*f
	}
	return 2 * f
}

// newFrame allocates a w x h I420 image.
func newFrame(w, h int) *image.YCbCr {
	return image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
}

// evenFloor rounds v down to an even number.
func evenFloor(v int) int { return v &^ 1 }

// chromaSize returns the size of the chroma planes of an I420 image.
func chromaSize(img *image.YCbCr) (w, h int) {
	return (img.Rect.Dx() + 1) / 2, (img.Rect.Dy() + 1) / 2
}

// fillRect paints r (in luma coordinates, clipped to the image) with one
// colour. Chroma covers every chroma sample the rectangle touches.
func fillRect(img *image.YCbCr, r image.Rectangle, y, cb, cr uint8) {
	r = r.Intersect(img.Rect)
	if r.Empty() {
		return
	}
	for row := r.Min.Y; row < r.Max.Y; row++ {
		fill(img.Y[row*img.YStride+r.Min.X:row*img.YStride+r.Max.X], y)
	}
	cx0, cy0 := r.Min.X/2, r.Min.Y/2
	cx1, cy1 := (r.Max.X+1)/2, (r.Max.Y+1)/2
	for row := cy0; row < cy1; row++ {
		off := row * img.CStride
		fill(img.Cb[off+cx0:off+cx1], cb)
		fill(img.Cr[off+cx0:off+cx1], cr)
	}
}

// fillCircle paints the disc of radius r centred on (cx, cy), clipped.
func fillCircle(img *image.YCbCr, cx, cy, r int, y, cb, cr uint8) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	span := func(dy, radius int) int {
		return int(math.Sqrt(float64(radius*radius - dy*dy)))
	}
	for row := max(0, cy-r); row < min(h, cy+r+1); row++ {
		dx := span(row-cy, r)
		x0, x1 := max(0, cx-dx), min(w, cx+dx+1)
		if x0 < x1 {
			fill(img.Y[row*img.YStride+x0:row*img.YStride+x1], y)
		}
	}
	cw, ch := chromaSize(img)
	ccx, ccy, cr2 := cx/2, cy/2, r/2
	for row := max(0, ccy-cr2); row < min(ch, ccy+cr2+1); row++ {
		dx := span(row-ccy, cr2)
		x0, x1 := max(0, ccx-dx), min(cw, ccx+dx+1)
		if x0 < x1 {
			off := row * img.CStride
			fill(img.Cb[off+x0:off+x1], cb)
			fill(img.Cr[off+x0:off+x1], cr)
		}
	}
}

func fill(b []byte, v uint8) {
	for i := range b {
		b[i] = v
	}
}

const (
	// noiseRows is the period of the noise pattern, in rows and columns.
	noiseRows = 256
	// noiseAmplitude is the peak luma noise, in code values. The background
	// stays within [28, 235], so adding it never overflows.
	noiseAmplitude = 3
)

var noiseTables struct {
	sync.Mutex
	byWidth map[int][]int8
}

// noiseFor returns noiseRows rows of width+noiseRows samples of triangular
// noise in [-noiseAmplitude, noiseAmplitude]. Tables are read-only and
// shared by all pictures of the same width.
func noiseFor(width int) []int8 {
	noiseTables.Lock()
	defer noiseTables.Unlock()
	if n, ok := noiseTables.byWidth[width]; ok {
		return n
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := make([]int8, (width+noiseRows)*noiseRows)
	for i := range n {
		n[i] = int8(rng.IntN(noiseAmplitude+1) + rng.IntN(noiseAmplitude+1) - noiseAmplitude)
	}
	if noiseTables.byWidth == nil {
		noiseTables.byWidth = make(map[int][]int8)
	}
	noiseTables.byWidth[width] = n
	return n
}

// addNoise writes the background luma plus low-amplitude noise into img,
// like a camera's sensor noise. The noise pattern is shifted by a
// pseudo-random offset every frame, so consecutive frames carry unrelated
// noise, which an encoder can only afford to code at low quantizers: it
// makes the rate control spend its budget (a noiseless flat picture would
// undershoot any realistic target) without making the picture
// incompressible at high quantizers.
func (p *picture) addNoise(img *image.YCbCr, frame int64) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	stride := w + noiseRows
	x := uint64(frame) * 0x9e3779b97f4a7c15 // Fibonacci hashing
	ox, oy := int(x>>56), int(x>>48&0xff)
	for y := range h {
		bg := p.bg.Y[y*p.bg.YStride : y*p.bg.YStride+w]
		out := img.Y[y*img.YStride : y*img.YStride+w]
		row := (y + oy) % noiseRows * stride
		n := p.noise[row+ox : row+ox+w]
		for i, v := range bg {
			out[i] = uint8(int(v) + int(n[i]))
		}
	}
}
