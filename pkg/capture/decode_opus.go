package capture

/*
#cgo pkg-config: opus
#include <opus/opus.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// opusDecoder decodes Opus packets to interleaved 16-bit PCM at 48 kHz
// through libopus.
type opusDecoder struct {
	dec      *C.OpusDecoder
	channels int
	pcm      []int16
}

const opusMaxFrame = 5760 // 120 ms at 48 kHz

func newOpusDecoder(channels int) (*opusDecoder, error) {
	var e C.int
	dec := C.opus_decoder_create(48000, C.int(channels), &e)
	if e != C.OPUS_OK || dec == nil {
		return nil, fmt.Errorf("opus_decoder_create: %d", int(e))
	}
	return &opusDecoder{dec: dec, channels: channels, pcm: make([]int16, opusMaxFrame*channels)}, nil
}

var errOpusDecode = errors.New("opus decode failed")

// decode returns the decoded samples (interleaved); valid until the next
// call.
func (d *opusDecoder) decode(packet []byte) ([]int16, error) {
	if len(packet) == 0 {
		return nil, errOpusDecode
	}
	n := C.opus_decode(d.dec, (*C.uchar)(unsafe.Pointer(&packet[0])), C.opus_int32(len(packet)),
		(*C.opus_int16)(unsafe.Pointer(&d.pcm[0])), opusMaxFrame, 0)
	if n < 0 {
		return nil, fmt.Errorf("%w: %d", errOpusDecode, int(n))
	}
	return d.pcm[:int(n)*d.channels], nil
}

func (d *opusDecoder) close() {
	if d.dec != nil {
		C.opus_decoder_destroy(d.dec)
		d.dec = nil
	}
}
