package capture

/*
#cgo pkg-config: openh264
#include <stdlib.h>
#include <string.h>
#include <wels/codec_api.h>

typedef struct {
	ISVCEncoder *enc;
	SFrameBSInfo info;
} h264enc;

// h264enc_new creates a single-layer, single-slice, single-thread
// constrained-baseline encoder for real-time camera video.
static h264enc *h264enc_new(int w, int h, float fps, int bitrate, int intra_period, int *rv) {
	ISVCEncoder *enc = NULL;
	*rv = WelsCreateSVCEncoder(&enc);
	if (*rv != 0 || enc == NULL) {
		if (*rv == 0) *rv = -1;
		return NULL;
	}
	int quiet = WELS_LOG_QUIET;
	(*enc)->SetOption(enc, ENCODER_OPTION_TRACE_LEVEL, &quiet);

	SEncParamExt p;
	memset(&p, 0, sizeof p);
	(*enc)->GetDefaultParams(enc, &p);
	p.iUsageType = CAMERA_VIDEO_REAL_TIME;
	p.iPicWidth = w;
	p.iPicHeight = h;
	p.iTargetBitrate = bitrate;
	p.iMaxBitrate = bitrate;
	p.iRCMode = RC_BITRATE_MODE;
	p.fMaxFrameRate = fps;
	p.bEnableFrameSkip = true;
	p.uiIntraPeriod = intra_period;
	p.iMultipleThreadIdc = 1;
	p.iSpatialLayerNum = 1;
	p.iTemporalLayerNum = 1;
	p.iEntropyCodingModeFlag = 0; // CAVLC: baseline
	p.eSpsPpsIdStrategy = CONSTANT_ID;
	p.bEnableDenoise = false;
	p.bEnableSceneChangeDetect = false; // key frames only when asked or due
	p.bEnableLongTermReference = false;
	p.sSpatialLayers[0].iVideoWidth = w;
	p.sSpatialLayers[0].iVideoHeight = h;
	p.sSpatialLayers[0].fFrameRate = fps;
	p.sSpatialLayers[0].iSpatialBitrate = bitrate;
	p.sSpatialLayers[0].iMaxSpatialBitrate = bitrate;
	p.sSpatialLayers[0].uiProfileIdc = PRO_BASELINE;
	p.sSpatialLayers[0].sSliceArgument.uiSliceMode = SM_SINGLE_SLICE;
	p.sSpatialLayers[0].sSliceArgument.uiSliceNum = 1;
	*rv = (*enc)->InitializeExt(enc, &p);
	if (*rv != 0) {
		WelsDestroySVCEncoder(enc);
		return NULL;
	}
	int format = videoFormatI420;
	(*enc)->SetOption(enc, ENCODER_OPTION_DATAFORMAT, &format);

	h264enc *e = calloc(1, sizeof *e);
	e->enc = enc;
	return e;
}

// h264enc_encode encodes one I420 picture; on success *size is the length
// of the Annex-B access unit produced (0 when the frame was skipped) and
// h264enc_copy fetches it.
static int h264enc_encode(h264enc *e, unsigned char *y, unsigned char *u, unsigned char *v,
		int ystride, int cstride, int w, int h, long long ts, int force_idr, int *size, int *type) {
	if (force_idr) (*e->enc)->ForceIntraFrame(e->enc, true);
	SSourcePicture pic;
	memset(&pic, 0, sizeof pic);
	pic.iColorFormat = videoFormatI420;
	pic.iPicWidth = w;
	pic.iPicHeight = h;
	pic.iStride[0] = ystride;
	pic.iStride[1] = pic.iStride[2] = cstride;
	pic.pData[0] = y;
	pic.pData[1] = u;
	pic.pData[2] = v;
	pic.uiTimeStamp = ts;
	memset(&e->info, 0, sizeof e->info);
	int rv = (*e->enc)->EncodeFrame(e->enc, &pic, &e->info);
	*size = 0;
	*type = e->info.eFrameType;
	if (rv != 0 || e->info.eFrameType == videoFrameTypeSkip) return rv;
	for (int l = 0; l < e->info.iLayerNum; l++)
		for (int n = 0; n < e->info.sLayerInfo[l].iNalCount; n++)
			*size += e->info.sLayerInfo[l].pNalLengthInByte[n];
	return 0;
}

static void h264enc_copy(h264enc *e, unsigned char *dst) {
	for (int l = 0; l < e->info.iLayerNum; l++) {
		int n = 0;
		for (int i = 0; i < e->info.sLayerInfo[l].iNalCount; i++)
			n += e->info.sLayerInfo[l].pNalLengthInByte[i];
		memcpy(dst, e->info.sLayerInfo[l].pBsBuf, n);
		dst += n;
	}
}

// h264enc_set_bitrate changes the target (and cap) bitrate of a running
// encoder, in bits per second.
static int h264enc_set_bitrate(h264enc *e, int bitrate) {
	SBitrateInfo b;
	memset(&b, 0, sizeof b);
	b.iLayer = SPATIAL_LAYER_ALL;
	b.iBitrate = bitrate;
	int rv = (*e->enc)->SetOption(e->enc, ENCODER_OPTION_MAX_BITRATE, &b);
	if (rv != 0) return rv;
	return (*e->enc)->SetOption(e->enc, ENCODER_OPTION_BITRATE, &b);
}

static void h264enc_free(h264enc *e) {
	(*e->enc)->Uninitialize(e->enc);
	WelsDestroySVCEncoder(e->enc);
	free(e);
}
*/
import "C"

import (
	"fmt"
	"image"
	"unsafe"
)

// h264FmtpLine is the SDP format of what h264Encoder emits: constrained
// baseline, non-interleaved packetization (FU-A), level 3.1 (openh264
// picks the level each stream actually needs; level-asymmetry-allowed lets
// the router ignore the difference).
const h264FmtpLine = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"

// h264Encoder encodes with Cisco's openh264, the same shared library the
// receiving side decodes with (pkg-config openh264, e.g. Debian's
// libopenh264-dev).
//
// mediadevices' codec/openh264 is deliberately not used: it links a
// vendored static openh264 2.1.1 built against 2.1.1's headers, but any
// binary of this package also links the system library for decoding, and
// then the dynamic linker binds the wrapper's calls to the system library
// (2.3.1 on Debian 12), whose SEncParamExt is 8 bytes larger: its
// GetDefaultParams writes past the wrapper's stack copy. It also never
// passes timestamps and leaks its output buffer when a frame outgrows it.
//
// The encoder runs single-threaded with one slice per frame (pion's
// payloader fragments it into FU-A packets), rate control in bitrate mode
// with frame skipping, and an IDR every keyFrameEvery frames; IDR frames
// carry SPS and PPS, so any key frame starts a decodable stream.
type h264Encoder struct {
	e      *C.h264enc
	fps    int
	frames int64 // encode calls so far: the timestamp source
}

var _ videoEncoder = (*h264Encoder)(nil)

func newH264Encoder(cfg videoEncoderConfig) (*h264Encoder, error) {
	var rv C.int
	e := C.h264enc_new(C.int(cfg.width), C.int(cfg.height), C.float(cfg.fps), C.int(cfg.bitrate), C.int(cfg.keyFrameEvery), &rv)
	if e == nil {
		return nil, fmt.Errorf("capture: h264 encoder %dx%d: openh264 error %d", cfg.width, cfg.height, int(rv))
	}
	return &h264Encoder{e: e, fps: cfg.fps}, nil
}

// encode returns one Annex-B access unit, or nothing when openh264's rate
// control skipped the frame. openh264 timestamps (milliseconds) follow the
// frame count at the configured rate.
func (e *h264Encoder) encode(img *image.YCbCr, keyFrame bool) ([]byte, error) {
	ts := e.frames * 1000 / int64(e.fps)
	e.frames++
	force := C.int(0)
	if keyFrame {
		force = 1
	}
	var size, typ C.int
	rv := C.h264enc_encode(e.e,
		(*C.uchar)(unsafe.Pointer(&img.Y[0])), (*C.uchar)(unsafe.Pointer(&img.Cb[0])), (*C.uchar)(unsafe.Pointer(&img.Cr[0])),
		C.int(img.YStride), C.int(img.CStride), C.int(img.Rect.Dx()), C.int(img.Rect.Dy()),
		C.longlong(ts), force, &size, &typ)
	if rv != 0 {
		return nil, fmt.Errorf("openh264: encode error %d", int(rv))
	}
	if size == 0 {
		return nil, nil
	}
	out := make([]byte, int(size))
	C.h264enc_copy(e.e, (*C.uchar)(unsafe.Pointer(&out[0])))
	return out, nil
}

// isKeyFrame reports whether an access unit holds an IDR slice.
// setBitrate changes the target bitrate; on the encoding goroutine only.
func (e *h264Encoder) setBitrate(bps int) error {
	if rv := C.h264enc_set_bitrate(e.e, C.int(bps)); rv != 0 {
		return fmt.Errorf("capture: h264 set bitrate %d: openh264 error %d", bps, int(rv))
	}
	return nil
}

func (e *h264Encoder) isKeyFrame(frame []byte) bool { return isH264KeyFrame(frame) }

func (e *h264Encoder) close() error {
	if e.e != nil {
		C.h264enc_free(e.e)
		e.e = nil
	}
	return nil
}
