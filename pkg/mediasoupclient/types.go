// This file holds mediasoup's RTP, ICE, DTLS and SCTP data types as they
// travel in JSON (mediasoup-client's types).

package mediasoupclient

import (
	"sort"
	"strconv"
	"strings"
)

// Parameters are codec parameters (fmtp). Values are strings or JSON
// numbers, exactly as the router sends them: mediasoup compares with strict
// equality, so "1" and 1 are different values.
type Parameters map[string]any

// RtcpFeedback is one rtcp-fb entry.
type RtcpFeedback struct {
	Type      string `json:"type"`
	Parameter string `json:"parameter,omitempty"`
}

// RtpCodecCapability is a codec in RtpCapabilities.
type RtpCodecCapability struct {
	Kind                 string         `json:"kind"`
	MimeType             string         `json:"mimeType"`
	PreferredPayloadType int            `json:"preferredPayloadType"`
	ClockRate            int            `json:"clockRate"`
	Channels             int            `json:"channels,omitempty"`
	Parameters           Parameters     `json:"parameters"`
	RtcpFeedback         []RtcpFeedback `json:"rtcpFeedback"`
}

// RtpHeaderExtension is a header extension in RtpCapabilities.
type RtpHeaderExtension struct {
	Kind             string `json:"kind"`
	URI              string `json:"uri"`
	PreferredID      int    `json:"preferredId"`
	PreferredEncrypt bool   `json:"preferredEncrypt"`
	Direction        string `json:"direction,omitempty"`
}

// RtpCapabilities describes what a router or client can do.
type RtpCapabilities struct {
	Codecs           []RtpCodecCapability `json:"codecs"`
	HeaderExtensions []RtpHeaderExtension `json:"headerExtensions"`
}

// RtpCodecParameters is a codec in RtpParameters.
type RtpCodecParameters struct {
	MimeType     string         `json:"mimeType"`
	PayloadType  int            `json:"payloadType"`
	ClockRate    int            `json:"clockRate"`
	Channels     int            `json:"channels,omitempty"`
	Parameters   Parameters     `json:"parameters"`
	RtcpFeedback []RtcpFeedback `json:"rtcpFeedback"`
}

// RtpHeaderExtensionParameters is a header extension in RtpParameters.
type RtpHeaderExtensionParameters struct {
	URI        string     `json:"uri"`
	ID         int        `json:"id"`
	Encrypt    bool       `json:"encrypt"`
	Parameters Parameters `json:"parameters"`
}

// RtxParameters names the RTX stream of an encoding.
type RtxParameters struct {
	SSRC uint32 `json:"ssrc"`
}

// RtpEncodingParameters is one encoding (simulcast stream) of RtpParameters.
type RtpEncodingParameters struct {
	SSRC                  uint32         `json:"ssrc,omitempty"`
	RID                   string         `json:"rid,omitempty"`
	RTX                   *RtxParameters `json:"rtx,omitempty"`
	DTX                   bool           `json:"dtx,omitempty"`
	ScalabilityMode       string         `json:"scalabilityMode,omitempty"`
	MaxBitrate            int            `json:"maxBitrate,omitempty"`
	ScaleResolutionDownBy float64        `json:"scaleResolutionDownBy,omitempty"`
	Active                *bool          `json:"active,omitempty"`
}

// RtcpParameters carries the CNAME of a stream.
type RtcpParameters struct {
	CNAME       string `json:"cname,omitempty"`
	ReducedSize bool   `json:"reducedSize"`
}

// RtpParameters describe one producer's or consumer's RTP.
type RtpParameters struct {
	MID              string                         `json:"mid,omitempty"`
	Codecs           []RtpCodecParameters           `json:"codecs"`
	HeaderExtensions []RtpHeaderExtensionParameters `json:"headerExtensions"`
	Encodings        []RtpEncodingParameters        `json:"encodings"`
	Rtcp             RtcpParameters                 `json:"rtcp"`
}

// IceParameters are a WebRtcTransport's ICE credentials.
type IceParameters struct {
	UsernameFragment string `json:"usernameFragment"`
	Password         string `json:"password"`
	IceLite          bool   `json:"iceLite"`
}

// IceCandidate is one of a WebRtcTransport's (host) candidates.
type IceCandidate struct {
	Foundation string `json:"foundation"`
	Priority   uint32 `json:"priority"`
	Address    string `json:"address,omitempty"` // mediasoup ≥ 3.13
	IP         string `json:"ip,omitempty"`      // older mediasoup
	Protocol   string `json:"protocol"`
	Port       int    `json:"port"`
	Type       string `json:"type"`
	TCPType    string `json:"tcpType,omitempty"`
}

// Host returns the candidate's address whichever field carries it.
func (c IceCandidate) Host() string {
	if c.Address != "" {
		return c.Address
	}
	return c.IP
}

// DtlsFingerprint is one certificate fingerprint.
type DtlsFingerprint struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}

// DtlsParameters are a transport's DTLS role and fingerprints.
type DtlsParameters struct {
	Role         string            `json:"role,omitempty"`
	Fingerprints []DtlsFingerprint `json:"fingerprints"`
}

// parseFmtp turns an SDP fmtp line into Parameters the way mediasoup-client
// does (sdp-transform): numeric values become numbers, except
// profile-level-id which stays a string.
func parseFmtp(line string) Parameters {
	p := Parameters{}
	for _, part := range strings.Split(line, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, found := strings.Cut(part, "=")
		if !found {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k != "profile-level-id" {
			if n, err := strconv.ParseFloat(v, 64); err == nil {
				p[k] = n
				continue
			}
		}
		p[k] = v
	}
	return p
}

// formatFmtp is the inverse of parseFmtp, with keys in a stable order.
func formatFmtp(p Parameters) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+formatValue(p[k]))
	}
	return strings.Join(parts, ";")
}

func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case bool:
		if x {
			return "1"
		}
		return "0"
	default:
		return ""
	}
}

// Number reads a numeric parameter (string or number), with a default.
func (p Parameters) Number(key string, def float64) float64 {
	switch x := p[key].(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case string:
		if n, err := strconv.ParseFloat(x, 64); err == nil {
			return n
		}
	}
	return def
}

// String reads a string parameter, with a default.
func (p Parameters) String(key, def string) string {
	if s, ok := p[key].(string); ok {
		return s
	}
	return def
}

// Clone returns a shallow copy (values are immutable scalars).
func (p Parameters) Clone() Parameters {
	c := make(Parameters, len(p))
	for k, v := range p {
		c[k] = v
	}
	return c
}

// NumSctpStreams is the number of SCTP streams each way.
type NumSctpStreams struct {
	OS  int `json:"OS"`
	MIS int `json:"MIS"`
}

// SctpCapabilities are what a client announces for DataChannels.
type SctpCapabilities struct {
	NumStreams NumSctpStreams `json:"numStreams"`
}

// SctpParameters are a WebRtcTransport's SCTP association parameters.
type SctpParameters struct {
	Port           int  `json:"port"`
	OS             int  `json:"OS"`
	MIS            int  `json:"MIS"`
	MaxMessageSize int  `json:"maxMessageSize"`
	IsDataChannel  bool `json:"isDataChannel,omitempty"`
}

// SctpStreamParameters describe one DataChannel (one SCTP stream).
type SctpStreamParameters struct {
	StreamID          uint16  `json:"streamId"`
	Ordered           *bool   `json:"ordered,omitempty"`
	MaxPacketLifeTime *uint16 `json:"maxPacketLifeTime,omitempty"`
	MaxRetransmits    *uint16 `json:"maxRetransmits,omitempty"`
}

// Media kinds, as mediasoup names them.
const (
	MediaKindAudio = "audio"
	MediaKindVideo = "video"
)
