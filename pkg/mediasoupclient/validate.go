package mediasoupclient

import (
	"fmt"
	"strings"
)

// This file checks server-provided parameters before they reach an SDP
// line: a string with CR/LF would add lines of the server's choosing (a
// peer id "a\r\nm=video ..." turns one m-section into two), and absurd
// numbers make pion fail half-way through a negotiation. A rejected item
// costs only itself.

// Bounds on what one consumer or transport may carry. mediasoup itself
// sends a handful of each.
const (
	maxCodecs     = 32
	maxExtensions = 32
	maxFeedback   = 32
	maxParameters = 32
	maxCandidates = 64
	maxTokenLen   = 256
)

// sdpSafe reports whether s can stand in an SDP attribute value: printable
// ASCII without white space, and not too long.
func sdpSafe(s string) bool {
	if s == "" || len(s) > maxTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// msidToken turns an arbitrary id (a peer id may contain spaces or
// non-ASCII) into a token for a=msid, which only groups tracks: unsafe
// bytes become '_'.
func msidToken(s string) string {
	if sdpSafe(s) {
		return s
	}
	if len(s) > maxTokenLen {
		s = s[:maxTokenLen]
	}
	b := []byte(s)
	for i, c := range b {
		if c <= ' ' || c >= 0x7f {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidParameters}, args...)...)
}

func validateIceParameters(p IceParameters) error {
	if !sdpSafe(p.UsernameFragment) || !sdpSafe(p.Password) {
		return invalid("ICE ufrag/password must be printable tokens")
	}
	return nil
}

func validateTransportStrings(o TransportOptions) error {
	if err := validateIceParameters(o.IceParameters); err != nil {
		return err
	}
	if len(o.IceCandidates) > maxCandidates {
		return invalid("%d ICE candidates (at most %d)", len(o.IceCandidates), maxCandidates)
	}
	for _, c := range o.IceCandidates {
		if !sdpSafe(c.Foundation) || !sdpSafe(c.Host()) || !sdpSafe(c.Protocol) || c.Port <= 0 || c.Port > 65535 ||
			(c.Type != "" && !sdpSafe(c.Type)) || (c.TCPType != "" && !sdpSafe(c.TCPType)) {
			return invalid("ICE candidate %+v", c)
		}
	}
	for _, f := range o.DtlsParameters.Fingerprints {
		if !sdpSafe(f.Algorithm) || !sdpSafe(f.Value) {
			return invalid("DTLS fingerprint %q %q", f.Algorithm, f.Value)
		}
	}
	if s := o.SctpParameters; s != nil && (s.Port <= 0 || s.Port > 65535 || s.MaxMessageSize < 0) {
		return invalid("SCTP parameters %+v", *s)
	}
	return nil
}

// validateRtpParameters checks a consumer's RTP parameters.
func validateRtpParameters(p RtpParameters) error {
	if len(p.Codecs) == 0 || len(p.Codecs) > maxCodecs {
		return invalid("%d codecs (want 1 to %d)", len(p.Codecs), maxCodecs)
	}
	for _, c := range p.Codecs {
		if err := validateCodec(c); err != nil {
			return err
		}
	}
	if len(p.HeaderExtensions) > maxExtensions {
		return invalid("%d header extensions (at most %d)", len(p.HeaderExtensions), maxExtensions)
	}
	for _, x := range p.HeaderExtensions {
		if x.ID < 1 || x.ID > 255 || !sdpSafe(x.URI) {
			return invalid("header extension %d %q", x.ID, x.URI)
		}
	}
	if len(p.Encodings) == 0 || p.Encodings[0].SSRC == 0 {
		return invalid("no encoding with an SSRC")
	}
	if e := p.Encodings[0]; e.RTX != nil && (e.RTX.SSRC == 0 || e.RTX.SSRC == e.SSRC) {
		return invalid("RTX SSRC %d for SSRC %d", e.RTX.SSRC, e.SSRC)
	}
	if p.MID != "" && !sdpSafe(p.MID) {
		return invalid("mid %q", p.MID)
	}
	if p.Rtcp.CNAME != "" && !sdpSafe(p.Rtcp.CNAME) {
		return invalid("cname %q", p.Rtcp.CNAME)
	}
	return nil
}

func validateCodec(c RtpCodecParameters) error {
	slash := strings.IndexByte(c.MimeType, '/')
	switch {
	case c.PayloadType < 0 || c.PayloadType > 127:
		return invalid("payload type %d", c.PayloadType)
	case c.ClockRate <= 0 || c.ClockRate > 1_000_000:
		return invalid("clock rate %d", c.ClockRate)
	case c.Channels < 0 || c.Channels > 8:
		return invalid("%d channels", c.Channels)
	case slash <= 0 || slash == len(c.MimeType)-1 || !sdpSafe(c.MimeType):
		return invalid("mime type %q", c.MimeType)
	case len(c.RtcpFeedback) > maxFeedback || len(c.Parameters) > maxParameters:
		return invalid("codec %s has too many parameters or feedback entries", c.MimeType)
	}
	for _, fb := range c.RtcpFeedback {
		if !sdpSafe(fb.Type) || (fb.Parameter != "" && !sdpSafe(fb.Parameter)) {
			return invalid("rtcp-fb %q %q", fb.Type, fb.Parameter)
		}
	}
	for k, v := range c.Parameters {
		if !sdpSafe(k) || strings.ContainsAny(k, "=;") {
			return invalid("codec parameter %q", k)
		}
		if s, ok := v.(string); ok && (!sdpSafe(s) || strings.Contains(s, ";")) {
			return invalid("codec parameter %s=%q", k, s)
		}
	}
	return nil
}
