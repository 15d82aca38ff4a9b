// Package sdp builds the remote session descriptions that stand in for a
// mediasoup WebRtcTransport: the server speaks ORTC-style parameters (ICE,
// DTLS, RTP), pion speaks SDP, and this package translates, the way
// mediasoup-client's RemoteSdp does.
package sdp

import (
	"fmt"
	"strings"

	"github.com/callctl/callctl/pkg/sdk/internal/ortc"
)

// Section is one m-section of the remote description.
type Section struct {
	MID  string
	Kind string // "audio" or "video"
	// Direction is the remote side's direction: "recvonly" for a section
	// answering our send, "sendonly" for a consumer we receive, "inactive"
	// for a closed one.
	Direction  string
	Codecs     []ortc.RtpCodecParameters
	Extensions []ortc.RtpHeaderExtensionParameters
	// Receive (consumer) sections describe the remote stream explicitly.
	SSRC, RtxSSRC uint32
	CNAME         string
	StreamID      string
	TrackID       string
	// RIDs mirrors the offer's simulcast RIDs in an answer (recv).
	RIDs []string
}

// Remote is the remote description of one transport.
type Remote struct {
	ICE        ortc.IceParameters
	Candidates []ortc.IceCandidate
	DTLS       ortc.DtlsParameters
	// Setup is the remote a=setup value: "passive" in answers (we are the
	// DTLS client), "actpass" in offers.
	Setup    string
	Sections []*Section

	version int
}

// Section returns the section with mid, or nil.
func (r *Remote) Section(mid string) *Section {
	for _, s := range r.Sections {
		if s.MID == mid {
			return s
		}
	}
	return nil
}

// UpdateICE replaces the ICE parameters (after restartIce).
func (r *Remote) UpdateICE(p ortc.IceParameters) { r.ICE = p }

// String renders the description; each call bumps the session version.
func (r *Remote) String() string {
	r.version++
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\r\n", args...) }
	w("v=0")
	w("o=callctl 10000 %d IN IP4 0.0.0.0", r.version)
	w("s=-")
	w("t=0 0")
	if r.ICE.IceLite {
		w("a=ice-lite")
	}
	if fp, ok := pickFingerprint(r.DTLS.Fingerprints); ok {
		w("a=fingerprint:%s %s", fp.Algorithm, strings.ToUpper(fp.Value))
	}
	w("a=msid-semantic: WMS *")
	mids := make([]string, 0, len(r.Sections))
	for _, s := range r.Sections {
		if s.Direction != "inactive" || len(r.Sections) == 1 {
			mids = append(mids, s.MID)
		}
	}
	if len(mids) > 0 {
		w("a=group:BUNDLE %s", strings.Join(mids, " "))
	}
	for _, s := range r.Sections {
		r.writeSection(&b, s)
	}
	return b.String()
}

func (r *Remote) writeSection(b *strings.Builder, s *Section) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format+"\r\n", args...) }
	pts := make([]string, 0, len(s.Codecs))
	for _, c := range s.Codecs {
		pts = append(pts, fmt.Sprint(c.PayloadType))
	}
	w("m=%s 7 UDP/TLS/RTP/SAVPF %s", s.Kind, strings.Join(pts, " "))
	w("c=IN IP4 127.0.0.1")
	w("a=mid:%s", s.MID)
	w("a=ice-ufrag:%s", r.ICE.UsernameFragment)
	w("a=ice-pwd:%s", r.ICE.Password)
	for _, c := range r.Candidates {
		line := fmt.Sprintf("a=candidate:%s 1 %s %d %s %d typ %s", c.Foundation, strings.ToLower(c.Protocol), c.Priority, c.Host(), c.Port, orDefault(c.Type, "host"))
		if strings.EqualFold(c.Protocol, "tcp") {
			line += " tcptype " + orDefault(c.TCPType, "passive")
		}
		w("%s", line)
	}
	w("a=end-of-candidates")
	w("a=ice-options:renomination")
	w("a=setup:%s", r.Setup)
	w("a=%s", s.Direction)
	for _, c := range s.Codecs {
		name := c.MimeType[strings.Index(c.MimeType, "/")+1:]
		if c.Channels > 1 {
			w("a=rtpmap:%d %s/%d/%d", c.PayloadType, name, c.ClockRate, c.Channels)
		} else {
			w("a=rtpmap:%d %s/%d", c.PayloadType, name, c.ClockRate)
		}
		if f := ortc.FormatFmtp(c.Parameters); f != "" {
			w("a=fmtp:%d %s", c.PayloadType, f)
		}
		for _, fb := range c.RtcpFeedback {
			if fb.Parameter != "" {
				w("a=rtcp-fb:%d %s %s", c.PayloadType, fb.Type, fb.Parameter)
			} else {
				w("a=rtcp-fb:%d %s", c.PayloadType, fb.Type)
			}
		}
	}
	for _, x := range s.Extensions {
		w("a=extmap:%d %s", x.ID, x.URI)
	}
	w("a=rtcp-mux")
	w("a=rtcp-rsize")
	if len(s.RIDs) > 0 {
		for _, rid := range s.RIDs {
			w("a=rid:%s recv", rid)
		}
		w("a=simulcast:recv %s", strings.Join(s.RIDs, ";"))
	}
	if s.SSRC != 0 && s.Direction != "inactive" {
		if s.StreamID != "" || s.TrackID != "" {
			w("a=msid:%s %s", orDefault(s.StreamID, "-"), s.TrackID)
		}
		if s.RtxSSRC != 0 {
			w("a=ssrc-group:FID %d %d", s.SSRC, s.RtxSSRC)
		}
		w("a=ssrc:%d cname:%s", s.SSRC, s.CNAME)
		if s.RtxSSRC != 0 {
			w("a=ssrc:%d cname:%s", s.RtxSSRC, s.CNAME)
		}
	}
}

// pickFingerprint prefers sha-256 (universally supported), else the last.
func pickFingerprint(fps []ortc.DtlsFingerprint) (ortc.DtlsFingerprint, bool) {
	for _, f := range fps {
		if strings.EqualFold(f.Algorithm, "sha-256") {
			return f, true
		}
	}
	if len(fps) == 0 {
		return ortc.DtlsFingerprint{}, false
	}
	return fps[len(fps)-1], true
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
