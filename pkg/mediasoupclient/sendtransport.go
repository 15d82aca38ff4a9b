package mediasoupclient

import (
	"context"
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"
)

// SendTransport is the local side of a producing mediasoup
// WebRtcTransport. pion offers; the answer is built from the server's
// parameters (ICE-lite, so pion is ICE-controlling; a=setup:passive, so
// pion is the DTLS client).
type SendTransport struct {
	*transport

	onProduce     func(ctx context.Context, p ProduceParameters) (string, error)
	onProduceData func(ctx context.Context, p ProduceDataParameters) (string, error)
	nextStreamID  uint16 // next SCTP stream id for ProduceData; guarded by mu
}

// ProduceParameters are what the application sends to the server to
// create a producer (mediasoup's transport.produce).
type ProduceParameters struct {
	Kind          string
	RtpParameters RtpParameters
	AppData       map[string]any
}

// OnProduce sets the hook that asks the server to create a producer and
// returns its id. Set it before Produce.
func (t *SendTransport) OnProduce(f func(ctx context.Context, p ProduceParameters) (producerID string, err error)) {
	t.hmu.Lock()
	t.onProduce = f
	t.hmu.Unlock()
}

// ProducerOptions describe what to produce.
type ProducerOptions struct {
	// Tracks are the encodings' tracks, lowest quality first (index =
	// spatial layer). One track: no simulcast. Several: simulcast, and pion
	// needs them to share ID and StreamID with distinct non-empty RIDs.
	// pion scales nothing: the application encodes each layer.
	Tracks []webrtc.TrackLocal
	// Encodings optionally describe each track (MaxBitrate,
	// ScaleResolutionDownBy, ScalabilityMode, DTX); SSRCs are filled in.
	Encodings []RtpEncodingParameters
	// Codec selects the codec. Default: the first track's codec when the
	// track has a Codec method (pion's static tracks do).
	Codec *webrtc.RTPCodecCapability
	// AppData travels to the server with the produce hook.
	AppData map[string]any
	// OnKeyFrameRequest is called, on a transport goroutine, when the
	// server asks for a key frame (PLI or FIR) on an encoding. It must not
	// block.
	OnKeyFrameRequest func(encodingIndex int)
}

// Produce sends tracks to the server: it adds them to the PeerConnection,
// negotiates locally, connects the transport on first use (OnConnect), and
// asks the application to create the server-side producer (OnProduce).
// mediasoup demultiplexes by SSRC: pion writes no MID/RID header
// extensions, so every encoding is announced with its explicit SSRC.
func (t *SendTransport) Produce(ctx context.Context, o ProducerOptions) (*Producer, error) {
	if len(o.Tracks) == 0 {
		return nil, fmt.Errorf("%w: no tracks", ErrInvalidParameters)
	}
	kind := o.Tracks[0].Kind().String()
	codec, err := producerCodec(o)
	if err != nil {
		return nil, err
	}
	local, remote, err := t.ext.SendingParameters(kind, func(ec extendedCodec) bool { return codecMatches(ec, codec) })
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", kind, codec.MimeType, err)
	}
	if err := t.lockOpen(); err != nil {
		return nil, err
	}
	defer t.mu.Unlock()
	if err := t.connect(ctx); err != nil {
		return nil, err
	}
	p, err := t.addProducer(ctx, o, local, remote)
	if err != nil {
		return nil, err
	}
	t.hmu.Lock()
	hook := t.onProduce
	t.hmu.Unlock()
	if hook == nil {
		t.removeProducer(p)
		return nil, fmt.Errorf("%w: OnProduce", ErrNoHandler)
	}
	id, err := hook(ctx, ProduceParameters{Kind: kind, RtpParameters: p.rtp, AppData: o.AppData})
	if err == nil && id == "" {
		err = fmt.Errorf("%w: empty producer id", ErrInvalidParameters)
	}
	if err != nil {
		t.removeProducer(p)
		return nil, err
	}
	p.id = id
	p.readRTCP()
	return p, nil
}

func producerCodec(o ProducerOptions) (webrtc.RTPCodecCapability, error) {
	if o.Codec != nil {
		return *o.Codec, nil
	}
	if c, ok := o.Tracks[0].(interface {
		Codec() webrtc.RTPCodecCapability
	}); ok {
		return c.Codec(), nil
	}
	return webrtc.RTPCodecCapability{}, fmt.Errorf("%w: no codec given and the track does not tell", ErrInvalidParameters)
}

// codecMatches picks the router codec that a track's codec corresponds to.
func codecMatches(ec extendedCodec, c webrtc.RTPCodecCapability) bool {
	if !strings.EqualFold(ec.MimeType, c.MimeType) {
		return false
	}
	if strings.EqualFold(c.MimeType, webrtc.MimeTypeH264) {
		want := parseFmtp(c.SDPFmtpLine)
		wp, _ := parseH264Profile(want.String("profile-level-id", "42e01f"))
		gp, _ := parseH264Profile(ec.LocalParameters.String("profile-level-id", "42e01f"))
		return wp == gp && want.Number("packetization-mode", 0) == ec.LocalParameters.Number("packetization-mode", 0)
	}
	return true
}

// addProducer adds the transceiver and runs the local offer/answer.
// Called with mu held.
func (t *SendTransport) addProducer(_ context.Context, o ProducerOptions, local, remote RtpParameters) (*Producer, error) {
	gates := make([]*gatedTrack, len(o.Tracks))
	for i, tr := range o.Tracks {
		gates[i] = newGatedTrack(withDefaultVoice(tr)) // audio: RFC 6464 levels, see audiolevel.go
	}
	tr, err := t.pc.AddTransceiverFromTrack(gates[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return nil, fmt.Errorf("add transceiver: %w", err)
	}
	p := &Producer{t: t, kind: local.Codecs[0].MimeType[:strings.Index(local.Codecs[0].MimeType, "/")],
		transceiver: tr, sender: tr.Sender(), gates: gates, appData: o.AppData, onKeyFrame: o.OnKeyFrameRequest, maxSpatial: len(gates) - 1}
	for _, extra := range gates[1:] {
		if err := tr.Sender().AddEncoding(extra); err != nil {
			_ = t.pc.RemoveTrack(tr.Sender())
			return nil, fmt.Errorf("add encoding: %w", err)
		}
	}
	if err := t.negotiateProducer(p, o, local, remote); err != nil {
		t.removeProducer(p)
		return nil, err
	}
	return p, nil
}

func (t *SendTransport) negotiateProducer(p *Producer, o ProducerOptions, local, remote RtpParameters) error {
	offer, err := t.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	sdp, err := parseLocalSDP(offer.SDP)
	if err != nil {
		return fmt.Errorf("parse offer: %w", err)
	}
	// pion assigned the mid in CreateOffer: from here on the remote
	// description must answer it, even if this produce fails.
	mid := p.transceiver.Mid()
	ids := sdp.extensionIDs(mid)
	local.HeaderExtensions = keepOffered(local.HeaderExtensions, ids)
	remote.HeaderExtensions = keepOffered(remote.HeaderExtensions, ids)
	section := &mediaSection{MID: mid, Kind: p.kind, Direction: "recvonly", Codecs: remote.Codecs, Extensions: remote.HeaderExtensions}
	if len(p.gates) > 1 {
		for _, g := range p.gates {
			section.RIDs = append(section.RIDs, g.RID())
		}
	}
	t.remote.Sections = append(t.remote.Sections, section)
	p.section = section
	if err := t.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local offer: %w", err)
	}
	if err := t.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: t.remote.String()}); err != nil {
		return fmt.Errorf("set remote answer: %w", err)
	}
	local.Encodings = producerEncodings(p.sender.GetParameters().Encodings, o.Encodings)
	local.MID = mid
	local.Rtcp = RtcpParameters{CNAME: sdp.cname(mid), ReducedSize: true}
	p.rtp = local
	return nil
}

// keepOffered keeps the header extensions the offer has, with its ids.
func keepOffered(in []RtpHeaderExtensionParameters, ids map[string]int) []RtpHeaderExtensionParameters {
	out := []RtpHeaderExtensionParameters{}
	for _, x := range in {
		if id, ok := ids[x.URI]; ok {
			x.ID = id
			out = append(out, x)
		}
	}
	return out
}

// producerEncodings announces each encoding with its SSRC (and RTX SSRC),
// merged with what the application said of it.
func producerEncodings(sent []webrtc.RTPEncodingParameters, given []RtpEncodingParameters) []RtpEncodingParameters {
	out := make([]RtpEncodingParameters, 0, len(sent))
	for i, enc := range sent {
		e := RtpEncodingParameters{}
		if i < len(given) {
			e = given[i]
			e.RID = ""
		}
		e.SSRC = uint32(enc.SSRC)
		e.RTX = nil
		if enc.RTX.SSRC != 0 {
			e.RTX = &RtxParameters{SSRC: uint32(enc.RTX.SSRC)}
		}
		out = append(out, e)
	}
	return out
}

// removeProducer takes a producer's transceiver out of use: the sender
// stops and its m-section is answered inactive from now on (m-sections
// are never recycled). Called with mu held; best effort.
func (t *SendTransport) removeProducer(p *Producer) {
	if err := t.pc.RemoveTrack(p.sender); err != nil {
		t.log.Debug("remove track", "err", err)
	}
	if t.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		_ = t.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
	}
	if p.section == nil {
		return
	}
	p.section.Direction = "inactive"
	if t.pc.CurrentRemoteDescription() == nil {
		return // nothing negotiated yet: the next Produce answers it
	}
	if err := t.renegotiateAsOfferer(nil); err != nil {
		t.log.Debug("renegotiate after removing a producer", "err", err)
	}
}
