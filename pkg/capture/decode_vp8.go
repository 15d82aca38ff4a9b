package capture

import (
	"errors"
	"io"

	"github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/codec/vpx"
	"github.com/pion/mediadevices/pkg/prop"
)

// vp8Decoder decodes VP8 frames through libvpx (mediadevices' binding).
// The binding reads compressed frames from an io.Reader; frameFeed hands
// it exactly one frame per decode call.
type vp8Decoder struct {
	feed *frameFeed
	dec  codec.VideoDecoder
}

type frameFeed struct{ frame []byte }

func (f *frameFeed) Read(p []byte) (int, error) {
	if f.frame == nil {
		return 0, io.EOF
	}
	if len(p) < len(f.frame) {
		return 0, errors.New("vp8 frame larger than the decoder buffer")
	}
	n := copy(p, f.frame)
	f.frame = nil
	return n, nil
}

func newVP8Decoder() (*vp8Decoder, error) {
	feed := &frameFeed{}
	dec, err := vpx.NewDecoder(feed, prop.Media{})
	if err != nil {
		return nil, err
	}
	return &vp8Decoder{feed: feed, dec: dec}, nil
}

// decode returns the decoded picture size, or 0x0 when the frame produced
// no picture (e.g. a non-shown frame).
func (d *vp8Decoder) decode(frame []byte) (w, h int, err error) {
	d.feed.frame = frame
	img, release, err := d.dec.Read()
	if errors.Is(err, io.EOF) {
		return 0, 0, nil
	}
	if err != nil {
		d.feed.frame = nil
		return 0, 0, err
	}
	b := img.Bounds()
	if release != nil {
		release()
	}
	return b.Dx(), b.Dy(), nil
}

func (d *vp8Decoder) close() { _ = d.dec.Close() }
