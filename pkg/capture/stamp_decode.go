package capture

import (
	"errors"
	"image"
	"io"
)

// decodedPicture is what a decoder reports of one frame: its size (0x0
// when the frame produced no picture) and the stamp read from it.
type decodedPicture struct {
	w, h    int
	stamp   Stamp
	stamped bool
}

// decodeStamped decodes a VP8 frame and reads its stamp.
func (d *vp8Decoder) decodeStamped(frame []byte) (decodedPicture, error) {
	d.feed.frame = frame
	img, release, err := d.dec.Read()
	if errors.Is(err, io.EOF) {
		return decodedPicture{}, nil
	}
	if err != nil {
		d.feed.frame = nil
		return decodedPicture{}, err
	}
	if release != nil {
		defer release()
	}
	b := img.Bounds()
	out := decodedPicture{w: b.Dx(), h: b.Dy()}
	if y, ok := img.(*image.YCbCr); ok {
		out.stamp, out.stamped = DecodeStamp(y)
	}
	return out, nil
}
