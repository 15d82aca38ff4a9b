package capture

import (
	"errors"
	"fmt"
)

// splitAnnexB splits an Annex-B byte stream into NAL units (without start
// codes).
func splitAnnexB(b []byte) [][]byte {
	var nals [][]byte
	start := -1
	for i := 0; i+2 < len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				end := i
				if end > start && b[end-1] == 0 {
					end-- // 4-byte start code
				}
				nals = append(nals, b[start:end])
			}
			start = i + 3
			i += 2
		}
	}
	if start >= 0 && start < len(b) {
		nals = append(nals, b[start:])
	}
	return nals
}

var (
	errShortSPS = errors.New("truncated SPS")
	errBadSPS   = errors.New("invalid SPS")
)

// bitReader reads an RBSP bit by bit. The first error sticks: later reads
// return zero, so a parser can read a run of fields and check err once,
// but every loop bound taken from the stream is checked before use.
type bitReader struct {
	b   []byte
	pos int
	err error
}

func newRBSP(nal []byte) *bitReader {
	out := make([]byte, 0, len(nal))
	zeros := 0
	for _, c := range nal {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, c)
	}
	return &bitReader{b: out}
}

func (r *bitReader) bit() uint {
	if r.err != nil {
		return 0
	}
	if r.pos >= len(r.b)*8 {
		r.err = errShortSPS
		return 0
	}
	v := uint(r.b[r.pos/8]>>(7-r.pos%8)) & 1
	r.pos++
	return v
}

func (r *bitReader) bits(n int) uint {
	var v uint
	for i := 0; i < n; i++ {
		v = v<<1 | r.bit()
	}
	return v
}

// ue reads an unsigned exp-Golomb code (H.264 §9.1); 32-bit values at most.
func (r *bitReader) ue() uint {
	zeros := 0
	for r.bit() == 0 {
		if r.err != nil {
			return 0
		}
		zeros++
		if zeros > 31 {
			r.err = errBadSPS
			return 0
		}
	}
	return (1<<zeros - 1) + r.bits(zeros)
}

// ueMax reads a ue(v) field and fails the reader when it exceeds max,
// the largest value the spec allows for that field.
func (r *bitReader) ueMax(field string, limit uint) uint {
	v := r.ue()
	if r.err == nil && v > limit {
		r.err = fmt.Errorf("%w: %s %d > %d", errBadSPS, field, v, limit)
		return 0
	}
	return v
}

func (r *bitReader) se() int {
	v := r.ue()
	if v&1 == 1 {
		return int(v+1) / 2
	}
	return -int(v / 2)
}

// Limits of H.264 used to reject a hostile SPS before any loop or size
// is derived from it.
const (
	// Level 6.2 (the largest, table A-1): MaxFS is 139264 macroblocks and
	// a side may not exceed sqrt(8 × MaxFS) macroblocks (§A.3.1 f, g).
	spsMaxFrameMbs = 139264
	spsMaxSideMbs  = 1055
)

// parseSPSSize reads the cropped picture size from an H.264 sequence
// parameter set NAL unit (ITU-T H.264 §7.3.2.1.1). Every field that
// drives a loop or a size is checked against its range in §7.4.2.1.1.
func parseSPSSize(nal []byte) (w, h int, err error) {
	if len(nal) < 2 {
		return 0, 0, errShortSPS
	}
	r := newRBSP(nal[1:])
	chroma := r.spsProfile()
	r.ueMax("log2_max_frame_num_minus4", 12)
	r.spsPicOrderCount()
	r.ueMax("max_num_ref_frames", 16)
	r.bit() // gaps_in_frame_num_value_allowed_flag
	wmbs := r.ueMax("pic_width_in_mbs_minus1", spsMaxSideMbs-1) + 1
	hmaps := r.ueMax("pic_height_in_map_units_minus1", spsMaxSideMbs-1) + 1
	frameMbsOnly := r.bit()
	if frameMbsOnly == 0 {
		r.bit() // mb_adaptive_frame_field_flag
	}
	r.bit() // direct_8x8_inference_flag
	w = int(wmbs) * 16
	h = int(hmaps) * 16 * int(2-frameMbsOnly)
	if r.bit() == 1 { // frame_cropping_flag
		cx, cy := 2, 2*int(2-frameMbsOnly) // 4:2:0
		if chroma == 3 {
			cx, cy = 1, int(2-frameMbsOnly)
		}
		l, rr, t, b := r.ue(), r.ue(), r.ue(), r.ue()
		// Each offset fits 32 bits, so the sums cannot overflow int.
		w -= cx * int(l+rr)
		h -= cy * int(t+b)
	}
	switch {
	case r.err != nil:
		return 0, 0, r.err
	case int(wmbs)*int(hmaps)*int(2-frameMbsOnly) > spsMaxFrameMbs:
		return 0, 0, fmt.Errorf("%w: %dx%d macroblocks", errBadSPS, wmbs, hmaps*(2-frameMbsOnly))
	case w <= 0 || h <= 0:
		return 0, 0, fmt.Errorf("%w: cropping leaves %dx%d", errBadSPS, w, h)
	}
	return w, h, nil
}

// spsProfile reads the SPS up to and including the high-profile fields
// and returns chroma_format_idc (1, 4:2:0, unless the profile says).
func (r *bitReader) spsProfile() uint {
	profile := r.bits(8)
	r.bits(16) // constraint flags, level_idc
	r.ueMax("seq_parameter_set_id", 31)
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
	default:
		return 1
	}
	chroma := r.ueMax("chroma_format_idc", 3)
	if chroma == 3 {
		r.bit() // separate_colour_plane_flag
	}
	r.ueMax("bit_depth_luma_minus8", 6)
	r.ueMax("bit_depth_chroma_minus8", 6)
	r.bit()           // qpprime_y_zero_transform_bypass_flag
	if r.bit() == 1 { // seq_scaling_matrix_present_flag
		n := 8
		if chroma == 3 {
			n = 12
		}
		for i := 0; i < n && r.err == nil; i++ {
			if r.bit() == 1 {
				size := 16
				if i >= 6 {
					size = 64
				}
				r.scalingList(size)
			}
		}
	}
	return chroma
}

// scalingList skips one scaling_list() (§7.3.2.1.1.1).
func (r *bitReader) scalingList(size int) {
	last, next := 8, 8
	for j := 0; j < size && r.err == nil; j++ {
		if next != 0 {
			d := r.se()
			if d < -128 || d > 127 {
				r.err = fmt.Errorf("%w: delta_scale %d", errBadSPS, d)
				return
			}
			next = (last + d + 256) % 256
		}
		if next != 0 {
			last = next
		}
	}
}

// spsPicOrderCount skips the picture order count fields. Type 1 carries a
// cycle of up to 255 offsets: an unchecked count here let a 19-byte SPS
// spin for seconds.
func (r *bitReader) spsPicOrderCount() {
	switch r.ueMax("pic_order_cnt_type", 2) {
	case 0:
		r.ueMax("log2_max_pic_order_cnt_lsb_minus4", 12)
	case 1:
		r.bit() // delta_pic_order_always_zero_flag
		r.se()  // offset_for_non_ref_pic
		r.se()  // offset_for_top_to_bottom_field
		n := r.ueMax("num_ref_frames_in_pic_order_cnt_cycle", 255)
		for i := uint(0); i < n && r.err == nil; i++ {
			r.se()
		}
	}
}
