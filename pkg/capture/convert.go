package capture

import (
	"image"
	"image/color"
)

// toI420 fills dst, an I420 image, with src scaled to dst's size by
// nearest-neighbour sampling (a camera picture is rarely far from the size
// sent, and the simulcast layers below are box-filtered from it). Y'CbCr
// sources of any chroma subsampling (what camera decoders produce: 4:2:2
// from YUYV, 4:2:0 from NV12 or MJPEG) are sampled directly; other images
// go through the colour model, slowly.
func toI420(dst *image.YCbCr, src image.Image) {
	dw, dh := dst.Rect.Dx(), dst.Rect.Dy()
	sb := src.Bounds()
	sw, sh := sb.Dx(), sb.Dy()
	if sw <= 0 || sh <= 0 {
		return
	}
	// Source column/row of each destination column/row (sample centres).
	xs := make([]int, dw)
	for x := range xs {
		xs[x] = sb.Min.X + (2*x+1)*sw/(2*dw)
	}
	ys := make([]int, dh)
	for y := range ys {
		ys[y] = sb.Min.Y + (2*y+1)*sh/(2*dh)
	}
	cw, ch := chromaSize(dst)
	if s, ok := src.(*image.YCbCr); ok {
		for y := range dh {
			row := dst.Y[y*dst.YStride : y*dst.YStride+dw]
			srow := s.YOffset(0, ys[y]) // x offset added below
			for x := range row {
				row[x] = s.Y[srow+xs[x]]
			}
		}
		for y := range ch {
			sy := ys[min(2*y, dh-1)]
			off := y * dst.CStride
			for x := range cw {
				ci := s.COffset(xs[min(2*x, dw-1)], sy)
				dst.Cb[off+x] = s.Cb[ci]
				dst.Cr[off+x] = s.Cr[ci]
			}
		}
		return
	}
	for y := range dh {
		for x := range dw {
			c := color.YCbCrModel.Convert(src.At(xs[x], ys[y])).(color.YCbCr)
			dst.Y[y*dst.YStride+x] = c.Y
			if x%2 == 0 && y%2 == 0 {
				off := y/2*dst.CStride + x/2
				dst.Cb[off], dst.Cr[off] = c.Cb, c.Cr
			}
		}
	}
}
