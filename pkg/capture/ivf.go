package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// IVF (https://wiki.multimedia.cx/index.php/IVF): a 32-byte file header,
// then per frame a 12-byte header (size, 64-bit pts) and the frame.
const (
	ivfSignature       = "DKIF"
	ivfFileHeaderSize  = 32
	ivfFrameHeaderSize = 12
)

// parseIVF splits a VP8 IVF file into frames, without copying them. The
// frame rate is taken from the timestamps: the most common pts step in the
// file's time base, when it makes a whole rate of 1 to 60 fps.
func parseIVF(b []byte) (*clip, error) {
	if len(b) < ivfFileHeaderSize {
		return nil, errors.New("ivf: truncated header")
	}
	if fourcc := string(b[8:12]); fourcc != "VP80" {
		return nil, fmt.Errorf("ivf: codec %q, only VP80 is supported", fourcc)
	}
	hdr := int(binary.LittleEndian.Uint16(b[6:]))
	rate := binary.LittleEndian.Uint32(b[16:]) // time base denominator
	scale := binary.LittleEndian.Uint32(b[20:])
	if hdr < ivfFileHeaderSize || hdr > len(b) {
		return nil, fmt.Errorf("ivf: header size %d", hdr)
	}
	c := &clip{codec: CodecVP8}
	var pts []uint64
	for p := hdr; p < len(b); {
		if len(b)-p < ivfFrameHeaderSize {
			return nil, fmt.Errorf("ivf: truncated frame header at byte %d", p)
		}
		size := int(binary.LittleEndian.Uint32(b[p:]))
		pts = append(pts, binary.LittleEndian.Uint64(b[p+4:]))
		p += ivfFrameHeaderSize
		if size > len(b)-p {
			return nil, fmt.Errorf("ivf: truncated frame at byte %d", p)
		}
		if size > 0 {
			frame := b[p : p+size : p+size]
			c.frames = append(c.frames, clipFrame{data: frame, key: isVP8KeyFrame(frame)})
		}
		p += size
	}
	c.fps = ivfFrameRate(pts, rate, scale)
	return c, nil
}

// ivfFrameRate returns the whole frame rate of timestamps in a time base
// of scale/rate seconds, or 0 when it is not one.
func ivfFrameRate(pts []uint64, rate, scale uint32) int {
	if rate == 0 || scale == 0 {
		return 0
	}
	steps := map[uint64]int{}
	for i := 1; i < len(pts); i++ {
		if pts[i] > pts[i-1] {
			steps[pts[i]-pts[i-1]]++
		}
	}
	var step uint64 = 1 // a single frame: one tick
	best := 0
	for s, n := range steps {
		if n > best || n == best && s < step {
			step, best = s, n
		}
	}
	if step > uint64(rate) {
		return 0 // under 1 fps; also keeps step × scale below 2^64 (a wrap to 0 divided by zero)
	}
	den := step * uint64(scale)
	if uint64(rate)%den != 0 {
		return 0
	}
	if fps := uint64(rate) / den; fps >= 1 && fps <= 60 {
		return int(fps)
	}
	return 0
}

// writeIVF writes the VP8 frames of a width x height stream at fps as IVF,
// in a time base of 1/fps: frames[i] has pts[i], its frame number (frames
// the encoder dropped leave gaps). w should be buffered.
func writeIVF(w io.Writer, width, height, fps int, frames [][]byte, pts []int64) error {
	hdr := make([]byte, ivfFileHeaderSize)
	copy(hdr, ivfSignature)
	binary.LittleEndian.PutUint16(hdr[4:], 0) // version
	binary.LittleEndian.PutUint16(hdr[6:], ivfFileHeaderSize)
	copy(hdr[8:], "VP80")
	binary.LittleEndian.PutUint16(hdr[12:], uint16(width))
	binary.LittleEndian.PutUint16(hdr[14:], uint16(height))
	binary.LittleEndian.PutUint32(hdr[16:], uint32(fps))
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	binary.LittleEndian.PutUint32(hdr[24:], uint32(len(frames)))
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	fh := make([]byte, ivfFrameHeaderSize)
	for i, f := range frames {
		binary.LittleEndian.PutUint32(fh, uint32(len(f)))
		binary.LittleEndian.PutUint64(fh[4:], uint64(pts[i]))
		if _, err := w.Write(fh); err != nil {
			return err
		}
		if _, err := w.Write(f); err != nil {
			return err
		}
	}
	return nil
}
