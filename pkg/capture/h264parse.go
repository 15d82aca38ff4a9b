package capture

import "errors"

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

// bitReader reads an RBSP (emulation-prevention bytes removed).
type bitReader struct {
	b   []byte
	pos int
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

var errShortSPS = errors.New("truncated SPS")

func (r *bitReader) bit() (uint, error) {
	if r.pos >= len(r.b)*8 {
		return 0, errShortSPS
	}
	v := uint(r.b[r.pos/8]>>(7-r.pos%8)) & 1
	r.pos++
	return v, nil
}

func (r *bitReader) bits(n int) (uint, error) {
	var v uint
	for i := 0; i < n; i++ {
		b, err := r.bit()
		if err != nil {
			return 0, err
		}
		v = v<<1 | b
	}
	return v, nil
}

func (r *bitReader) ue() (uint, error) {
	zeros := 0
	for {
		b, err := r.bit()
		if err != nil {
			return 0, err
		}
		if b == 1 {
			break
		}
		zeros++
		if zeros > 31 {
			return 0, errShortSPS
		}
	}
	v, err := r.bits(zeros)
	return (1<<zeros - 1) + v, err
}

func (r *bitReader) se() (int, error) {
	v, err := r.ue()
	if v&1 == 1 {
		return int(v+1) / 2, err
	}
	return -int(v / 2), err
}

// parseSPSSize reads the cropped picture size from an H.264 sequence
// parameter set NAL unit (ITU-T H.264 §7.3.2.1.1).
func parseSPSSize(nal []byte) (w, h int, err error) {
	r := newRBSP(nal[1:])
	profile, err := r.bits(8)
	if err != nil {
		return 0, 0, err
	}
	if _, err = r.bits(16); err != nil { // constraints, level
		return 0, 0, err
	}
	if _, err = r.ue(); err != nil { // seq_parameter_set_id
		return 0, 0, err
	}
	chroma := uint(1)
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		if chroma, err = r.ue(); err != nil {
			return 0, 0, err
		}
		if chroma == 3 {
			_, _ = r.bit() // separate_colour_plane_flag
		}
		_, _ = r.ue()  // bit_depth_luma
		_, _ = r.ue()  // bit_depth_chroma
		_, _ = r.bit() // qpprime_y_zero_transform_bypass
		if scaling, _ := r.bit(); scaling == 1 {
			n := 8
			if chroma == 3 {
				n = 12
			}
			for i := 0; i < n; i++ {
				if present, _ := r.bit(); present == 1 {
					size := 16
					if i >= 6 {
						size = 64
					}
					last, next := 8, 8
					for j := 0; j < size; j++ {
						if next != 0 {
							d, _ := r.se()
							next = (last + d + 256) % 256
						}
						if next != 0 {
							last = next
						}
					}
				}
			}
		}
	}
	_, _ = r.ue() // log2_max_frame_num
	pocType, _ := r.ue()
	switch pocType {
	case 0:
		_, _ = r.ue()
	case 1:
		_, _ = r.bit()
		_, _ = r.se()
		_, _ = r.se()
		n, _ := r.ue()
		for i := uint(0); i < n; i++ {
			_, _ = r.se()
		}
	}
	_, _ = r.ue()  // max_num_ref_frames
	_, _ = r.bit() // gaps_in_frame_num_allowed
	wmbs, _ := r.ue()
	hmaps, _ := r.ue()
	frameMbsOnly, _ := r.bit()
	if frameMbsOnly == 0 {
		_, _ = r.bit()
	}
	_, _ = r.bit() // direct_8x8_inference
	cropped, err := r.bit()
	if err != nil {
		return 0, 0, err
	}
	w = int(wmbs+1) * 16
	h = int(hmaps+1) * 16 * int(2-frameMbsOnly)
	if cropped == 1 {
		l, _ := r.ue()
		rr, _ := r.ue()
		t, _ := r.ue()
		b, err := r.ue()
		if err != nil {
			return 0, 0, err
		}
		cx, cy := 2, 2*int(2-frameMbsOnly) // 4:2:0
		if chroma == 3 {
			cx, cy = 1, int(2-frameMbsOnly)
		}
		w -= cx * int(l+rr)
		h -= cy * int(t+b)
	}
	return w, h, nil
}
