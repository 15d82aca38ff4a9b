package capture

import (
	"errors"
	"testing"
)

// spsWriter builds SPS test vectors bit by bit.
type spsWriter struct {
	b    []byte
	nbit int
}

func (w *spsWriter) bit(v uint) {
	if w.nbit%8 == 0 {
		w.b = append(w.b, 0)
	}
	w.b[len(w.b)-1] |= byte(v&1) << (7 - w.nbit%8)
	w.nbit++
}

func (w *spsWriter) bits(n int, v uint) {
	for i := n - 1; i >= 0; i-- {
		w.bit(v >> i)
	}
}

func (w *spsWriter) ue(v uint) {
	v++
	n := 0
	for x := v; x > 1; x >>= 1 {
		n++
	}
	w.bits(n, 0)
	w.bits(n+1, v)
}

func (w *spsWriter) se(v int) {
	if v > 0 {
		w.ue(uint(2*v - 1))
	} else {
		w.ue(uint(-2 * v))
	}
}

// highSPS is a High-profile SPS with picture order count type 1 (a cycle
// of cycle offsets), w x h macroblocks and a crop of cropR/cropB luma
// samples (4:2:0, so in steps of 2).
func highSPS(cycle uint, wmbs, hmbs uint, cropR, cropB uint) []byte {
	w := &spsWriter{}
	w.bits(8, 0x67) // NAL header: SPS
	w.bits(8, 100)  // profile_idc: High
	w.bits(16, 0x001f)
	w.ue(0)        // seq_parameter_set_id
	w.ue(1)        // chroma_format_idc 4:2:0
	w.ue(0)        // bit_depth_luma_minus8
	w.ue(0)        // bit_depth_chroma_minus8
	w.bit(0)       // qpprime_y_zero_transform_bypass_flag
	w.bit(1)       // seq_scaling_matrix_present_flag
	w.bit(1)       // list 0 present
	for range 16 { //
		w.se(1) // delta_scale
	}
	for range 7 {
		w.bit(0)
	}
	w.ue(0) // log2_max_frame_num_minus4
	w.ue(1) // pic_order_cnt_type
	w.bit(0)
	w.se(-3)
	w.se(2)
	w.ue(cycle)
	for i := range cycle {
		w.se(int(i) - 1)
	}
	w.ue(4) // max_num_ref_frames
	w.bit(0)
	w.ue(wmbs - 1)
	w.ue(hmbs - 1)
	w.bit(1) // frame_mbs_only_flag
	w.bit(1) // direct_8x8_inference_flag
	w.bit(1) // frame_cropping_flag
	w.ue(0)
	w.ue(cropR / 2)
	w.ue(0)
	w.ue(cropB / 2)
	w.bit(0) // vui_parameters_present_flag
	w.bit(1) // rbsp_stop_one_bit
	return w.b
}

func TestParseSPSSizeHighProfile(t *testing.T) {
	w, h, err := parseSPSSize(highSPS(255, 80, 68, 0, 8))
	if err != nil || w != 1280 || h != 1080 {
		t.Fatalf("got %dx%d, %v; want 1280x1080", w, h, err)
	}
}

// Hostile SPSs fail with errBadSPS (or errShortSPS) instead of looping
// over exp-Golomb-sized counts or reporting absurd sizes.
func TestParseSPSSizeRejectsHostileInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		nal  []byte
		want error
	}{
		// Found in the field: pic_order_cnt_type 1 with a cycle count near
		// 2^31 whose last bits are missing; the old parser took the
		// truncated count and spun through it for 6-12 s.
		{"poc cycle near 2^31", []byte{0x67, 0x64, 0x00, 0x1f, 0x92, 0xd9, 0x40, 0x50, 0x05, 0x10, 0x00, 0x00, 0x00, 0x10, 0x00, 0x10}, errShortSPS},
		{"poc cycle 256", highSPS(256, 80, 45, 0, 0), errBadSPS},
		{"too wide", highSPS(1, 1056, 10, 0, 0), errBadSPS},
		{"too many macroblocks", highSPS(1, 1000, 1000, 0, 0), errBadSPS},
		{"cropped to nothing", highSPS(1, 2, 2, 32, 0), errBadSPS},
		{"truncated", highSPS(1, 80, 45, 0, 0)[:12], errShortSPS},
		{"header only", []byte{0x67}, errShortSPS},
		{"empty", nil, errShortSPS},
		{"all ones", []byte{0x67, 0x64, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, errShortSPS},
		{"33 leading zeros", []byte{0x67, 0x42, 0, 0x1f, 0, 0, 0, 0, 0x80}, errBadSPS},
	} {
		w, h, err := parseSPSSize(tc.nal)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %dx%d, %v; want %v", tc.name, w, h, err, tc.want)
		}
	}
}

// The brief's 19-byte stream, start code included, through the receive
// path's size probe: no size, and no hang.
func TestFrameSizeHostileSPS(t *testing.T) {
	au := []byte{0x00, 0x00, 0x01, 0x67, 0x64, 0x00, 0x1f, 0x92, 0xd9, 0x40, 0x50, 0x05, 0x10, 0x00, 0x00, 0x00, 0x10, 0x00, 0x10}
	if w, h := frameSize(au, "video/h264"); w != 0 || h != 0 {
		t.Errorf("got %dx%d", w, h)
	}
}
