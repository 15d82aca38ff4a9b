package capture

/*
#cgo pkg-config: openh264
#include <string.h>
#include <wels/codec_api.h>

// h264_decode_luma decodes one access unit like h264_decode and also
// returns the decoded luma plane and its stride (valid until the next
// call).
static int h264_decode_luma(ISVCDecoder *dec, const unsigned char *src, int len,
		int *w, int *h, unsigned char **y, int *stride) {
	unsigned char *dst[3] = {0};
	SBufferInfo info;
	memset(&info, 0, sizeof info);
	int st = (*dec)->DecodeFrameNoDelay(dec, src, len, dst, &info);
	*w = 0; *h = 0; *y = NULL; *stride = 0;
	if (st == 0 && info.iBufferStatus == 1) {
		*w = info.UsrData.sSystemBuffer.iWidth;
		*h = info.UsrData.sSystemBuffer.iHeight;
		*stride = info.UsrData.sSystemBuffer.iStride[0];
		*y = dst[0];
	}
	return st;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"
)

// decodeStamped decodes an access unit and reads the stamp of the picture
// it produced, straight from openh264's luma buffer.
func (d *h264Decoder) decodeStamped(au []byte) (decodedPicture, error) {
	if len(au) == 0 {
		return decodedPicture{}, errors.New("empty access unit")
	}
	var cw, ch, stride C.int
	var y *C.uchar
	if st := C.h264_decode_luma(d.dec, (*C.uchar)(unsafe.Pointer(&au[0])), C.int(len(au)), &cw, &ch, &y, &stride); st != 0 {
		return decodedPicture{}, fmt.Errorf("openh264: decoding state %#x", int(st))
	}
	out := decodedPicture{w: int(cw), h: int(ch)}
	if y != nil && out.w > 0 && out.h > 0 && int(stride) >= out.w {
		luma := &image.YCbCr{
			Y:       unsafe.Slice((*byte)(unsafe.Pointer(y)), int(stride)*(out.h-1)+out.w),
			YStride: int(stride),
			Rect:    image.Rect(0, 0, out.w, out.h),
		}
		out.stamp, out.stamped = DecodeStamp(luma)
	}
	return out, nil
}
