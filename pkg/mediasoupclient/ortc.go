package mediasoupclient

import (
	"errors"
	"fmt"
	"strings"
)

// extendedCodec pairs a router codec with the local codec that matches it.
type extendedCodec struct {
	Kind                 string
	MimeType             string
	ClockRate            int
	Channels             int
	LocalPayloadType     int
	LocalRtxPayloadType  int // 0 when there is no RTX
	RemotePayloadType    int
	RemoteRtxPayloadType int
	LocalParameters      Parameters
	RemoteParameters     Parameters
	RtcpFeedback         []RtcpFeedback
}

// extendedHeaderExt is a header extension both sides know.
type extendedHeaderExt struct {
	Kind      string
	URI       string
	SendID    int // local id, used when sending
	RecvID    int // router id, used when receiving
	Encrypt   bool
	Direction string // from the client's point of view
}

// extendedCaps is the result of matching local and router
// capabilities, in the router's order of preference.
type extendedCaps struct {
	Codecs           []extendedCodec
	HeaderExtensions []extendedHeaderExt
}

// ErrNoCodec means no codec of a kind is usable with this router.
var ErrNoCodec = errors.New("no matching codec")

// isRTX reports whether a mime type is an RTX codec.
func isRTX(mime string) bool { return strings.HasSuffix(strings.ToLower(mime), "/rtx") }

// Extend matches local capabilities against the router's (mediasoup-client
// getExtendedRtpCapabilities).
func extendCapabilities(local, remote RtpCapabilities) extendedCaps {
	var ext extendedCaps
	for _, rc := range remote.Codecs {
		if isRTX(rc.MimeType) {
			continue
		}
		for _, lc := range local.Codecs {
			params, ok := matchCodec(lc, rc)
			if !ok {
				continue
			}
			ext.Codecs = append(ext.Codecs, extendedCodec{
				Kind:              rc.Kind,
				MimeType:          rc.MimeType,
				ClockRate:         rc.ClockRate,
				Channels:          rc.Channels,
				LocalPayloadType:  lc.PreferredPayloadType,
				RemotePayloadType: rc.PreferredPayloadType,
				LocalParameters:   params.local,
				RemoteParameters:  params.remote,
				RtcpFeedback:      reduceFeedback(lc.RtcpFeedback, rc.RtcpFeedback),
			})
			break
		}
	}
	for i := range ext.Codecs {
		ec := &ext.Codecs[i]
		for _, lc := range local.Codecs {
			if isRTX(lc.MimeType) && int(lc.Parameters.Number("apt", -1)) == ec.LocalPayloadType {
				ec.LocalRtxPayloadType = lc.PreferredPayloadType
			}
		}
		for _, rc := range remote.Codecs {
			if isRTX(rc.MimeType) && int(rc.Parameters.Number("apt", -1)) == ec.RemotePayloadType {
				ec.RemoteRtxPayloadType = rc.PreferredPayloadType
			}
		}
		if ec.LocalRtxPayloadType == 0 || ec.RemoteRtxPayloadType == 0 {
			ec.LocalRtxPayloadType, ec.RemoteRtxPayloadType = 0, 0
		}
	}
	for _, rx := range remote.HeaderExtensions {
		for _, lx := range local.HeaderExtensions {
			if lx.Kind != rx.Kind || lx.URI != rx.URI {
				continue
			}
			ext.HeaderExtensions = append(ext.HeaderExtensions, extendedHeaderExt{
				Kind:      rx.Kind,
				URI:       rx.URI,
				SendID:    lx.PreferredID,
				RecvID:    rx.PreferredID,
				Encrypt:   lx.PreferredEncrypt,
				Direction: invertDirection(rx.Direction),
			})
			break
		}
	}
	return ext
}

func invertDirection(d string) string {
	switch d {
	case "recvonly":
		return "sendonly"
	case "sendonly":
		return "recvonly"
	case "":
		return "sendrecv"
	default:
		return d
	}
}

type matchedParams struct{ local, remote Parameters }

// matchCodec is mediasoup's strict codec match.
func matchCodec(local, remote RtpCodecCapability) (matchedParams, bool) {
	if !strings.EqualFold(local.MimeType, remote.MimeType) || isRTX(local.MimeType) ||
		local.ClockRate != remote.ClockRate || local.Channels != remote.Channels {
		return matchedParams{}, false
	}
	lp, rp := local.Parameters.Clone(), remote.Parameters.Clone()
	switch strings.ToLower(remote.MimeType) {
	case "video/h264", "video/h264-svc":
		if lp.Number("packetization-mode", 0) != rp.Number("packetization-mode", 0) {
			return matchedParams{}, false
		}
		lprof, lok := parseH264Profile(lp.String("profile-level-id", "42e01f"))
		rprof, rok := parseH264Profile(rp.String("profile-level-id", "42e01f"))
		if !lok || !rok || lprof != rprof {
			return matchedParams{}, false
		}
	case "video/vp9":
		if lp.Number("profile-id", 0) != rp.Number("profile-id", 0) {
			return matchedParams{}, false
		}
	}
	return matchedParams{local: lp, remote: rp}, true
}

func reduceFeedback(a, b []RtcpFeedback) []RtcpFeedback {
	out := []RtcpFeedback{}
	for _, fa := range a {
		for _, fb := range b {
			if fa.Type == fb.Type && fa.Parameter == fb.Parameter {
				out = append(out, fa)
				break
			}
		}
	}
	return out
}

// CanProduce reports whether any codec of kind matched.
func (e extendedCaps) CanProduce(kind string) bool {
	for _, c := range e.Codecs {
		if c.Kind == kind {
			return true
		}
	}
	return false
}

// RecvCapabilities are the capabilities sent in `join`: router payload types
// and header-extension ids with local codec parameters, so that the router's
// consumers match exactly what the local stack can receive.
func (e extendedCaps) RecvCapabilities() RtpCapabilities {
	caps := RtpCapabilities{Codecs: []RtpCodecCapability{}, HeaderExtensions: []RtpHeaderExtension{}}
	for _, c := range e.Codecs {
		caps.Codecs = append(caps.Codecs, RtpCodecCapability{
			Kind:                 c.Kind,
			MimeType:             c.MimeType,
			PreferredPayloadType: c.RemotePayloadType,
			ClockRate:            c.ClockRate,
			Channels:             c.Channels,
			Parameters:           c.LocalParameters,
			RtcpFeedback:         c.RtcpFeedback,
		})
		if c.RemoteRtxPayloadType != 0 {
			caps.Codecs = append(caps.Codecs, RtpCodecCapability{
				Kind:                 c.Kind,
				MimeType:             c.Kind + "/rtx",
				PreferredPayloadType: c.RemoteRtxPayloadType,
				ClockRate:            c.ClockRate,
				Parameters:           Parameters{"apt": float64(c.RemotePayloadType)},
				RtcpFeedback:         []RtcpFeedback{},
			})
		}
	}
	for _, x := range e.HeaderExtensions {
		if x.Direction != "sendrecv" && x.Direction != "recvonly" {
			continue
		}
		caps.HeaderExtensions = append(caps.HeaderExtensions, RtpHeaderExtension{
			Kind:             x.Kind,
			URI:              x.URI,
			PreferredID:      x.RecvID,
			PreferredEncrypt: x.Encrypt,
			Direction:        x.Direction,
		})
	}
	return caps
}

// SendingParameters returns the RtpParameters to produce one codec of a
// kind: local payload types and local header-extension ids (what the local
// stack actually puts on the wire). mime selects the codec ("" = the
// router's first codec of that kind); for H264 fmtp selects the profile.
// remote is the same with the router's codec parameters, used to build the
// SDP answer.
func (e extendedCaps) SendingParameters(kind string, match func(extendedCodec) bool) (local, remote RtpParameters, err error) {
	var chosen *extendedCodec
	for i := range e.Codecs {
		c := &e.Codecs[i]
		if c.Kind == kind && (match == nil || match(*c)) {
			chosen = c
			break
		}
	}
	if chosen == nil {
		return RtpParameters{}, RtpParameters{}, fmt.Errorf("%w for %s", ErrNoCodec, kind)
	}
	local = RtpParameters{Codecs: []RtpCodecParameters{}, HeaderExtensions: []RtpHeaderExtensionParameters{}, Encodings: []RtpEncodingParameters{}}
	remote = local
	remote.Codecs = []RtpCodecParameters{}
	remote.HeaderExtensions = []RtpHeaderExtensionParameters{}
	local.Codecs = append(local.Codecs, RtpCodecParameters{
		MimeType: chosen.MimeType, PayloadType: chosen.LocalPayloadType, ClockRate: chosen.ClockRate,
		Channels: chosen.Channels, Parameters: chosen.LocalParameters, RtcpFeedback: chosen.RtcpFeedback,
	})
	remote.Codecs = append(remote.Codecs, RtpCodecParameters{
		MimeType: chosen.MimeType, PayloadType: chosen.LocalPayloadType, ClockRate: chosen.ClockRate,
		Channels: chosen.Channels, Parameters: chosen.RemoteParameters, RtcpFeedback: chosen.RtcpFeedback,
	})
	if chosen.LocalRtxPayloadType != 0 {
		rtx := RtpCodecParameters{
			MimeType: chosen.Kind + "/rtx", PayloadType: chosen.LocalRtxPayloadType, ClockRate: chosen.ClockRate,
			Parameters: Parameters{"apt": float64(chosen.LocalPayloadType)}, RtcpFeedback: []RtcpFeedback{},
		}
		local.Codecs = append(local.Codecs, rtx)
		remote.Codecs = append(remote.Codecs, rtx)
	}
	for _, x := range e.HeaderExtensions {
		if x.Kind != kind || (x.Direction != "sendrecv" && x.Direction != "sendonly") {
			continue
		}
		p := RtpHeaderExtensionParameters{URI: x.URI, ID: x.SendID, Encrypt: x.Encrypt, Parameters: Parameters{}}
		local.HeaderExtensions = append(local.HeaderExtensions, p)
		remote.HeaderExtensions = append(remote.HeaderExtensions, p)
	}
	remote.HeaderExtensions = reduceForAnswer(remote.HeaderExtensions, &remote.Codecs)
	return local, remote, nil
}

const (
	uriTransportCC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
	uriAbsSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
	uriMid         = "urn:ietf:params:rtp-hdrext:sdes:mid"
	uriRid         = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
	uriRepairedRid = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
	uriAudioLevel  = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
)

// reduceForAnswer applies mediasoup's congestion-control feedback rule:
// transport-cc present → drop goog-remb; else abs-send-time → drop
// transport-cc; else drop both.
func reduceForAnswer(exts []RtpHeaderExtensionParameters, codecs *[]RtpCodecParameters) []RtpHeaderExtensionParameters {
	has := func(uri string) bool {
		for _, x := range exts {
			if x.URI == uri {
				return true
			}
		}
		return false
	}
	drop := map[string]bool{}
	switch {
	case has(uriTransportCC):
		drop["goog-remb"] = true
	case has(uriAbsSendTime):
		drop["transport-cc"] = true
	default:
		drop["goog-remb"], drop["transport-cc"] = true, true
	}
	for i := range *codecs {
		c := &(*codecs)[i]
		fb := []RtcpFeedback{}
		for _, f := range c.RtcpFeedback {
			if !drop[f.Type] {
				fb = append(fb, f)
			}
		}
		c.RtcpFeedback = fb
	}
	return exts
}
