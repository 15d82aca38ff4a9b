package mediasoupclient

import "strconv"

// h264Profile is an H.264 profile as RFC 6184 profile-level-id encodes it.
type h264Profile int

// H.264 profiles distinguished by mediasoup and libwebrtc.
const (
	h264ProfileUnknown h264Profile = iota
	h264ProfileConstrainedBaseline
	h264ProfileBaseline
	h264ProfileMain
	h264ProfileConstrainedHigh
	h264ProfileHigh
	h264ProfilePredictiveHigh444
)

// profilePattern matches profile_idc and a bit pattern of profile_iop
// ('x' = any bit, most significant first), the table libwebrtc and
// mediasoup use.
var profilePatterns = []struct {
	idc     byte
	pattern string
	profile h264Profile
}{
	{0x42, "x1xx0000", h264ProfileConstrainedBaseline},
	{0x4D, "1xxx0000", h264ProfileConstrainedBaseline},
	{0x58, "11xx0000", h264ProfileConstrainedBaseline},
	{0x42, "x0xx0000", h264ProfileBaseline},
	{0x58, "10xx0000", h264ProfileBaseline},
	{0x4D, "0x0x0000", h264ProfileMain},
	{0x64, "00000000", h264ProfileHigh},
	{0x64, "00001100", h264ProfileConstrainedHigh},
	{0xF4, "00000000", h264ProfilePredictiveHigh444},
}

// parseH264Profile extracts the profile from a profile-level-id such as
// "42e01f". ok is false for malformed ids or unknown profiles.
func parseH264Profile(plid string) (h264Profile, bool) {
	if len(plid) != 6 {
		return h264ProfileUnknown, false
	}
	v, err := strconv.ParseUint(plid, 16, 32)
	if err != nil {
		return h264ProfileUnknown, false
	}
	idc, iop := byte(v>>16), byte(v>>8)
	for _, p := range profilePatterns {
		if p.idc == idc && bitsMatch(p.pattern, iop) {
			return p.profile, true
		}
	}
	return h264ProfileUnknown, false
}

func bitsMatch(pattern string, b byte) bool {
	for i := 0; i < 8; i++ {
		bit := (b >> (7 - i)) & 1
		switch pattern[i] {
		case '1':
			if bit != 1 {
				return false
			}
		case '0':
			if bit != 0 {
				return false
			}
		}
	}
	return true
}
