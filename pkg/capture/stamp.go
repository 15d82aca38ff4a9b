package capture

import (
	"image"
	"time"
)

// Stamp is the machine-readable mark the test picture carries in every
// frame, read back by a receiver from the decoded picture to measure
// end-to-end delay and lost frames.
//
// Layout: 48 cells (stampCols × stampRows) of flat luma, dark (64) for 0
// and light (192) for 1 (full contrast made the cells that change every
// frame cost so much that openh264 skipped frames at 160x90), in a band across the full width of the picture at
// a fixed fraction of its height (rows 10/16 to 13/16), so the band scales
// with the picture and survives the downscaling to the lowest simulcast
// layer (at 160x90 a cell is 10x5 pixels). Bits, most significant first,
// row by row:
//
//	4 sync bits 1010 | 16 bits frame number | 20 bits time (ms) | CRC-8
//
// The sync cells also calibrate the threshold (the mean of their black and
// white levels), so a darker or brighter decode still reads right. A frame
// whose sync cells lack contrast or whose CRC fails is rejected: with 4
// sync bits and an 8-bit CRC a garbled band passes about once in 4096.
type Stamp struct {
	// Frame is the source's frame number (its pacing slot), modulo 2^16.
	Frame uint16
	// TimeMs is the capture time in milliseconds since the source's
	// stamp epoch (appData stampEpochMs), modulo 2^20 (about 17 minutes):
	// a receiver unwraps it against its own clock (see unwrapStampTime).
	TimeMs uint32
}

const (
	stampCols = 16
	stampRows = 3
	stampBits = stampCols * stampRows
	// stampTop and stampRowH place the band, in 1/16ths of the height:
	// above the colour bars (which start at 14/16), below most of the scene.
	stampTop  = 10
	stampRowH = 1
	// StampTimeModulus is the period of Stamp.TimeMs.
	StampTimeModulus = 1 << 20

	stampSync   = 0b1010
	stampBlack  = 64
	stampWhite  = 192
	stampMinGap = 60 // minimum white-black difference of the sync cells
)

// stampCell returns cell i's rectangle in a w x h picture (luma
// coordinates): the same fractions at every size.
func stampCell(i, w, h int) image.Rectangle {
	c, r := i%stampCols, i/stampCols
	y0 := (stampTop + r*stampRowH) * h / 16
	y1 := (stampTop + (r+1)*stampRowH) * h / 16
	return image.Rect(c*w/stampCols, y0, (c+1)*w/stampCols, y1)
}

// bits returns the 48 stamp bits, most significant first.
func (s Stamp) bits() uint64 {
	v := uint64(stampSync)<<36 | uint64(s.Frame)<<20 | uint64(s.TimeMs%StampTimeModulus)
	return v<<8 | uint64(crc8(v))
}

// crc8 is CRC-8 (polynomial 0x07) over the 40 payload bits, high byte first.
func crc8(v uint64) uint8 {
	var crc uint8
	for i := 4; i >= 0; i-- {
		crc ^= uint8(v >> (8 * i))
		for range 8 {
			if crc&0x80 != 0 {
				crc = crc<<1 ^ 0x07
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// EncodeStamp paints s into img (an I420 picture of any size of at least
// 16x16): luma dark or light per bit, neutral chroma.
func EncodeStamp(img *image.YCbCr, s Stamp) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	v := s.bits()
	for i := range stampBits {
		y := uint8(stampBlack)
		if v>>(stampBits-1-i)&1 == 1 {
			y = stampWhite
		}
		fillRect(img, stampCell(i, w, h), y, 128, 128)
	}
}

// DecodeStamp reads the stamp of a decoded picture. It reads only the
// luma plane (Cb and Cr may be nil). ok is false when the picture carries
// no valid stamp.
func DecodeStamp(img *image.YCbCr) (s Stamp, ok bool) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w < stampCols || h < 16 || img.YStride < w || len(img.Y) < (h-1)*img.YStride+w {
		return Stamp{}, false
	}
	var means [stampBits]int
	for i := range means {
		means[i] = cellMean(img, stampCell(i, w, h))
	}
	// Sync cells 1010: calibrate the threshold on them.
	white, black := (means[0]+means[2])/2, (means[1]+means[3])/2
	if min(means[0], means[2])-max(means[1], means[3]) < stampMinGap {
		return Stamp{}, false
	}
	thr := (white + black) / 2
	var v uint64
	for _, m := range means {
		v <<= 1
		if m > thr {
			v |= 1
		}
	}
	payload := v >> 8
	if payload>>36 != stampSync || uint8(v) != crc8(payload) {
		return Stamp{}, false
	}
	return Stamp{Frame: uint16(payload >> 20), TimeMs: uint32(payload & (StampTimeModulus - 1))}, true
}

// cellMean is the mean luma of the inner half of r (in both directions),
// away from the edges where compression rings and scaling blurs.
func cellMean(img *image.YCbCr, r image.Rectangle) int {
	dx, dy := r.Dx()/4, r.Dy()/4
	in := image.Rect(r.Min.X+dx, r.Min.Y+dy, r.Max.X-dx, r.Max.Y-dy)
	if in.Empty() {
		in = r
	}
	sum, n := 0, 0
	for y := in.Min.Y; y < in.Max.Y; y++ {
		row := img.Y[y*img.YStride:]
		for x := in.Min.X; x < in.Max.X; x++ {
			sum += int(row[x])
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

// unwrapStampTime returns the capture time, in ms since the stamp epoch,
// that a stamped time (modulo period) stands for, given the receiver's
// elapsed time since the same epoch: the latest such time not after
// elapsed+slack (slack covers clocks that disagree a little), so the delay
// comes out in [-slack, period-slack).
func unwrapStampTime(timeMs uint32, period, elapsed, slack int64) int64 {
	if period <= 0 {
		return int64(timeMs)
	}
	t := int64(timeMs) % period
	d := elapsed + slack - t
	k := d / period
	if d < 0 && d%period != 0 {
		k-- // round down, not toward zero
	}
	return t + k*period
}

// stampClock gives the capture time a frame's stamp carries: its nominal
// time on the source's pacing clock (the slot's start), in ms since epoch.
// The pacing clock starts when the source starts, after the epoch was
// announced, so the offset between the two is learnt from the renders: a
// slot is rendered at or after its nominal time, so the smallest
// (render time − nominal time) seen is the offset (the first render alone
// may be late by several ms, which would make every later delay look that
// much shorter). Stamps thus never claim a time after their render, and a
// late render counts as delay, as it should.
type stampClock struct {
	epoch time.Time // zero: no wall clock (clips), time = frame duration × n
	// Set at the first render, lowered by later ones.
	started  bool
	offsetMs int64
	now      func() time.Time // nil: time.Now
}

func (c *stampClock) timeMs(frame int64, fps float64) int64 {
	nominal := int64(float64(frame) * 1000 / fps)
	if c.epoch.IsZero() {
		return nominal
	}
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	if late := now().Sub(c.epoch).Milliseconds() - nominal; !c.started || late < c.offsetMs {
		c.started, c.offsetMs = true, late
	}
	return max(0, c.offsetMs+nominal)
}

// epochMs is the epoch in Unix milliseconds, 0 without one.
func (c *stampClock) epochMs() int64 {
	if c.epoch.IsZero() {
		return 0
	}
	return c.epoch.UnixMilli()
}
