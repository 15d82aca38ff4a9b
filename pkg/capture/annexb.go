package capture

import (
	"errors"
	"slices"
)

// H.264 NAL unit types (ITU-T H.264 table 7-1) used to split a stream.
const (
	nalSlice = 1
	nalIDR   = 5
	nalSEI   = 6
	nalSPS   = 7
	nalPPS   = 8
	nalAUD   = 9
)

// annexBNAL locates one NAL unit in an Annex-B byte stream.
type annexBNAL struct {
	start int // first byte of its start code (a leading zero byte included)
	body  int // first byte of the NAL header
	typ   byte
}

// scanAnnexB lists the NAL units of an Annex-B byte stream.
func scanAnnexB(b []byte) []annexBNAL {
	var nals []annexBNAL
	for i := 0; i+3 <= len(b); i++ {
		if b[i] != 0 || b[i+1] != 0 || b[i+2] != 1 {
			continue
		}
		start := i
		if start > 0 && b[start-1] == 0 {
			start-- // four-byte start code
		}
		if i+3 < len(b) {
			nals = append(nals, annexBNAL{start: start, body: i + 3, typ: b[i+3] & 0x1f})
		}
		i += 2
	}
	return nals
}

// parseAnnexB splits an H.264 Annex-B byte stream into access units, each
// a slice of b with its start codes, which is the form pion's H264
// payloader takes. Annex-B has no timing: the source plays one access unit
// per frame at the configured rate.
//
// An access unit ends where the next begins (H.264 §7.4.1.2.3, as far as a
// replay needs): at an access unit delimiter, SPS, PPS or SEI, or at a slice
// whose first_mb_in_slice is 0, once the current unit holds a slice. An IDR
// access unit without its own SPS and PPS gets the last ones seen put in
// front, so that every key frame the replay can jump to decodes on its own.
func parseAnnexB(b []byte) (*clip, error) {
	nals := scanAnnexB(b)
	if len(nals) == 0 {
		return nil, errors.New("h264: no NAL units")
	}
	c := &clip{codec: CodecH264}
	var sps, pps []byte // the latest, with start codes
	auStart := nals[0].start
	var hasSlice, hasIDR, hasSPS bool
	// Copies with parameter sets put in front may not grow the clip past
	// twice the file: a crafted file (a huge SPS, then thousands of tiny
	// IDR slices) would otherwise need gigabytes.
	copied := 0
	finish := func(end int) error {
		au := b[auStart:end:end]
		if hasIDR && !hasSPS && sps != nil && pps != nil {
			if copied += len(sps) + len(pps) + len(au); copied > len(b) {
				return errors.New("h264: parameter sets repeated in front of key frames would exceed the file size")
			}
			au = slices.Concat(sps, pps, au)
		}
		c.frames = append(c.frames, clipFrame{data: au, key: hasIDR})
		return nil
	}
	for i, n := range nals {
		end := len(b)
		if i+1 < len(nals) {
			end = nals[i+1].start
		}
		vcl := n.typ == nalSlice || n.typ == nalIDR
		firstSlice := vcl && n.body+1 < len(b) && b[n.body+1]&0x80 != 0 // ue(v) 0 is a single 1 bit
		boundary := n.typ == nalAUD || n.typ == nalSPS || n.typ == nalPPS || n.typ == nalSEI ||
			(n.typ >= 14 && n.typ <= 18) || firstSlice
		if hasSlice && boundary {
			if err := finish(n.start); err != nil {
				return nil, err
			}
			auStart, hasSlice, hasIDR, hasSPS = n.start, false, false, false
		}
		switch n.typ {
		case nalSPS:
			sps, hasSPS = withStartCode(b[n.body:end]), true
		case nalPPS:
			pps = withStartCode(b[n.body:end])
		case nalIDR:
			hasIDR = true
		}
		hasSlice = hasSlice || vcl
	}
	if hasSlice {
		if err := finish(len(b)); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// withStartCode returns a copy of a NAL unit behind a four-byte start code,
// trailing zero bytes (the next start code's, or padding) removed.
func withStartCode(nal []byte) []byte {
	for len(nal) > 0 && nal[len(nal)-1] == 0 {
		nal = nal[:len(nal)-1]
	}
	return slices.Concat([]byte{0, 0, 0, 1}, nal)
}
