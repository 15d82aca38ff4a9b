package capture

/*
#cgo pkg-config: openh264
#include <string.h>
#include <wels/codec_api.h>

static ISVCDecoder *h264_open(void) {
	ISVCDecoder *dec = NULL;
	if (WelsCreateDecoder(&dec) != 0 || dec == NULL) return NULL;
	SDecodingParam p;
	memset(&p, 0, sizeof p);
	p.sVideoProperty.eVideoBsType = VIDEO_BITSTREAM_DEFAULT;
	if ((*dec)->Initialize(dec, &p) != 0) {
		WelsDestroyDecoder(dec);
		return NULL;
	}
	return dec;
}

// h264_decode decodes one access unit; it returns the decoding state and
// sets *w/*h when a picture came out.
static int h264_decode(ISVCDecoder *dec, const unsigned char *src, int len, int *w, int *h) {
	unsigned char *dst[3] = {0};
	SBufferInfo info;
	memset(&info, 0, sizeof info);
	int st = (*dec)->DecodeFrameNoDelay(dec, src, len, dst, &info);
	*w = 0; *h = 0;
	if (st == 0 && info.iBufferStatus == 1) {
		*w = info.UsrData.sSystemBuffer.iWidth;
		*h = info.UsrData.sSystemBuffer.iHeight;
	}
	return st;
}

static void h264_close(ISVCDecoder *dec) {
	(*dec)->Uninitialize(dec);
	WelsDestroyDecoder(dec);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// h264Decoder decodes H.264 access units (Annex-B) through openh264.
type h264Decoder struct{ dec *C.ISVCDecoder }

func newH264Decoder() (*h264Decoder, error) {
	dec := C.h264_open()
	if dec == nil {
		return nil, errors.New("openh264: cannot create decoder")
	}
	return &h264Decoder{dec: dec}, nil
}

// decode returns the picture size, or 0x0 when the access unit produced
// no picture yet.
func (d *h264Decoder) decode(au []byte) (w, h int, err error) {
	if len(au) == 0 {
		return 0, 0, errors.New("empty access unit")
	}
	var cw, ch C.int
	if st := C.h264_decode(d.dec, (*C.uchar)(unsafe.Pointer(&au[0])), C.int(len(au)), &cw, &ch); st != 0 {
		return 0, 0, fmt.Errorf("openh264: decoding state %#x", int(st))
	}
	return int(cw), int(ch), nil
}

func (d *h264Decoder) close() {
	if d.dec != nil {
		C.h264_close(d.dec)
		d.dec = nil
	}
}
