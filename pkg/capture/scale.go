package capture

import "image"

// downscale fills dst with src reduced by a box filter. dst must be at most
// half of src in each dimension, rounded up (the simulcast ladder halves
// twice); every destination sample averages the 2x2 block of source samples
// at twice its coordinates, clamped at the right and bottom edges. Both
// images are I420.
func downscale(dst, src *image.YCbCr) {
	halvePlane(dst.Y, dst.YStride, dst.Rect.Dx(), dst.Rect.Dy(),
		src.Y, src.YStride, src.Rect.Dx(), src.Rect.Dy())
	dcw, dch := chromaSize(dst)
	scw, sch := chromaSize(src)
	halvePlane(dst.Cb, dst.CStride, dcw, dch, src.Cb, src.CStride, scw, sch)
	halvePlane(dst.Cr, dst.CStride, dcw, dch, src.Cr, src.CStride, scw, sch)
}

func halvePlane(dst []byte, dstStride, dw, dh int, src []byte, srcStride, sw, sh int) {
	for y := range dh {
		y0 := 2 * y
		y1 := min(y0+1, sh-1)
		r0 := src[y0*srcStride : y0*srcStride+sw]
		r1 := src[y1*srcStride : y1*srcStride+sw]
		out := dst[y*dstStride : y*dstStride+dw]
		for x := range out {
			x0 := 2 * x
			x1 := min(x0+1, sw-1)
			out[x] = uint8((uint(r0[x0]) + uint(r0[x1]) + uint(r1[x0]) + uint(r1[x1]) + 2) >> 2)
		}
	}
}
