// This file builds the remote session descriptions that stand in for a
// mediasoup WebRtcTransport: the server speaks ORTC-style parameters (ICE,
// DTLS, RTP, SCTP), pion speaks SDP, and this file translates, the way
// mediasoup-client's RemoteSdp does.

package mediasoupclient

import (
	"fmt"
	"strings"
)

// mediaSection is one m-section of the remote description.
type mediaSection struct {
	MID  string
	Kind string // "audio", "video" or "application" (DataChannels)
	// Direction is the remote side's direction: "recvonly" for a section
	// answering our send, "sendonly" for a consumer we receive, "inactive"
	// for a closed one.
	Direction  string
	Codecs     []RtpCodecParameters
	Extensions []RtpHeaderExtensionParameters
	// Receive (consumer) sections describe the remote stream explicitly.
	SSRC, RtxSSRC uint32
	CNAME         string
	StreamID      string
	TrackID       string
	// RIDs mirrors the offer's simulcast RIDs in an answer (recv).
	RIDs []string
}

// remoteSDP is the remote description of one transport.
type remoteSDP struct {
	ICE        IceParameters
	Candidates []IceCandidate
	DTLS       DtlsParameters
	// Setup is the remote a=setup value: "passive" in answers (we are the
	// DTLS client), "actpass" in offers.
	Setup    string
	Sections []*mediaSection
	// SCTP is set when the server enabled DataChannels on the transport.
	SCTP *SctpParameters

	version int
}

// section returns the section with mid, or nil.
func (r *remoteSDP) section(mid string) *mediaSection {
	for _, s := range r.Sections {
		if s.MID == mid {
			return s
		}
	}
	return nil
}

// String renders the description; each call bumps the session version.
func (r *remoteSDP) String() string {
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

func (r *remoteSDP) writeSection(b *strings.Builder, s *mediaSection) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format+"\r\n", args...) }
	if s.Kind == "application" {
		w("m=application 7 UDP/DTLS/SCTP webrtc-datachannel")
	} else {
		pts := make([]string, 0, len(s.Codecs))
		for _, c := range s.Codecs {
			pts = append(pts, fmt.Sprint(c.PayloadType))
		}
		w("m=%s 7 UDP/TLS/RTP/SAVPF %s", s.Kind, strings.Join(pts, " "))
	}
	w("c=IN IP4 127.0.0.1")
	w("a=mid:%s", s.MID)
	r.writeTransport(w)
	if s.Kind == "application" {
		port, size := 5000, 262144
		if r.SCTP != nil {
			port, size = r.SCTP.Port, r.SCTP.MaxMessageSize
		}
		w("a=sctp-port:%d", port)
		w("a=max-message-size:%d", size)
		return
	}
	w("a=%s", s.Direction)
	writeCodecs(w, s.Codecs)
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
		writeSSRCs(w, s)
	}
}

// writeTransport writes the ICE and DTLS attributes every section repeats.
func (r *remoteSDP) writeTransport(w func(string, ...any)) {
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
}

func writeCodecs(w func(string, ...any), codecs []RtpCodecParameters) {
	for _, c := range codecs {
		name := c.MimeType[strings.Index(c.MimeType, "/")+1:]
		if c.Channels > 1 {
			w("a=rtpmap:%d %s/%d/%d", c.PayloadType, name, c.ClockRate, c.Channels)
		} else {
			w("a=rtpmap:%d %s/%d", c.PayloadType, name, c.ClockRate)
		}
		if f := formatFmtp(c.Parameters); f != "" {
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
}

func writeSSRCs(w func(string, ...any), s *mediaSection) {
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

// pickFingerprint prefers sha-256 (universally supported), else the last.
func pickFingerprint(fps []DtlsFingerprint) (DtlsFingerprint, bool) {
	for _, f := range fps {
		if strings.EqualFold(f.Algorithm, "sha-256") {
			return f, true
		}
	}
	if len(fps) == 0 {
		return DtlsFingerprint{}, false
	}
	return fps[len(fps)-1], true
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
