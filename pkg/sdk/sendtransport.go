package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/callctl/callctl/pkg/sdk/internal/ortc"
	"github.com/callctl/callctl/pkg/sdk/internal/sdp"
)

// sendTransport is one pion PeerConnection standing for a mediasoup
// producing WebRtcTransport. pion offers; the answer is built from the
// server's parameters (ICE-lite, so pion is ICE-controlling; a=setup:passive,
// so pion is the DTLS client).
type sendTransport struct {
	cl        *call
	id        string
	pc        *webrtc.PeerConnection
	stats     *statsHolder
	remote    *sdp.Remote
	connected bool // connectWebRtcTransport done
}

// producer is one local producer.
type producer struct {
	id     string
	kind   string
	codec  string
	source MediaSource
	sender *webrtc.RTPSender
	paused bool
	scores map[uint32]int // server score per encoding SSRC
}

func newSendTransport(cl *call, info transportInfo) (*sendTransport, error) {
	api, st, err := cl.c.newAPI(true)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{
		ICEServers:    cl.c.cfg.ICE.Servers,
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return nil, err
	}
	t := &sendTransport{cl: cl, id: info.ID, pc: pc, stats: st, remote: &sdp.Remote{
		ICE: info.IceParameters, Candidates: info.IceCandidates, DTLS: info.DtlsParameters, Setup: "passive",
	}}
	watchState(cl, pc, "send", func() bool { return cl.send == t })
	return t, nil
}

// watchState reports a PeerConnection's state changes through the queue
// and treats a failed transport as a lost call. current tells whether
// the transport still belongs to the call (not replaced by a reconnect).
func watchState(cl *call, pc *webrtc.PeerConnection, name string, current func() bool) {
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		_ = cl.q.Add(func(context.Context) {
			if cl.ended || !current() {
				return
			}
			cl.emit(TransportStateChanged{Transport: name, State: s.String()})
			if s == webrtc.PeerConnectionStateFailed {
				cl.lost(name+" transport", fmt.Errorf("%w: %s transport ICE/DTLS failed", ErrTransportFailed, name))
			}
		})
	})
}

func (t *sendTransport) close() {
	_ = t.pc.Close()
}

// connect sends connectWebRtcTransport once, with the local fingerprint
// and the DTLS role the local description takes.
func connectTransport(ctx context.Context, cl *call, id string, local *localSDP) error {
	fp, err := local.fingerprint()
	if err != nil {
		return err
	}
	return cl.request(ctx, "connectWebRtcTransport", map[string]any{
		"transportId":    id,
		"dtlsParameters": ortc.DtlsParameters{Role: local.dtlsRole(), Fingerprints: []ortc.DtlsFingerprint{fp}},
	}, nil)
}

// produce publishes one source: transceiver, offer/answer, then the
// server's produce request with explicit SSRCs per encoding (pion does not
// write MID/RID header extensions, so mediasoup must demux by SSRC).
func (cl *call) produce(ctx context.Context, src MediaSource) error {
	t := cl.send
	if t == nil {
		return errors.New("no send transport")
	}
	kind := src.Kind().String()
	if !cl.ext.CanProduce(kind) {
		return fmt.Errorf("router cannot receive %s", kind)
	}
	codec := src.Codec()
	localParams, remoteParams, err := cl.ext.SendingParameters(kind, func(ec ortc.ExtendedCodec) bool {
		return codecMatches(ec, codec)
	})
	if err != nil {
		return fmt.Errorf("%s (%s): %w", kind, codec.MimeType, err)
	}

	tracks := src.Tracks()
	if len(tracks) == 0 {
		return errors.New("source has no tracks")
	}
	tr, err := t.pc.AddTransceiverFromTrack(tracks[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return fmt.Errorf("add transceiver: %w", err)
	}
	for _, extra := range tracks[1:] {
		if err := tr.Sender().AddEncoding(extra); err != nil {
			return fmt.Errorf("add encoding: %w", err)
		}
	}
	offer, err := t.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	local, err := parseLocalSDP(offer.SDP)
	if err != nil {
		return fmt.Errorf("parse offer: %w", err)
	}
	if !t.connected {
		if err := connectTransport(ctx, cl, t.id, local); err != nil {
			return fmt.Errorf("connect send transport: %w", err)
		}
		t.connected = true
	}
	if err := t.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local offer: %w", err)
	}
	mid := tr.Mid()

	// Header extensions: only those in the offer, with the ids pion uses.
	ids := local.extensionIDs(mid)
	keep := func(in []ortc.RtpHeaderExtensionParameters) []ortc.RtpHeaderExtensionParameters {
		out := []ortc.RtpHeaderExtensionParameters{}
		for _, x := range in {
			if id, ok := ids[x.URI]; ok {
				x.ID = id
				out = append(out, x)
			}
		}
		return out
	}
	localParams.HeaderExtensions = keep(localParams.HeaderExtensions)
	remoteParams.HeaderExtensions = keep(remoteParams.HeaderExtensions)

	section := &sdp.Section{MID: mid, Kind: kind, Direction: "recvonly", Codecs: remoteParams.Codecs, Extensions: remoteParams.HeaderExtensions}
	if len(tracks) > 1 {
		for _, tl := range tracks {
			section.RIDs = append(section.RIDs, tl.RID())
		}
	}
	t.remote.Sections = append(t.remote.Sections, section)
	if err := t.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: t.remote.String()}); err != nil {
		return fmt.Errorf("set remote answer: %w", err)
	}

	sender := tr.Sender()
	var layers []LayerInfo
	if ls, ok := src.(LayeredSource); ok {
		layers = ls.Layers()
	}
	params := sender.GetParameters()
	for i, enc := range params.Encodings {
		e := ortc.RtpEncodingParameters{SSRC: uint32(enc.SSRC)}
		if enc.RTX.SSRC != 0 {
			e.RTX = &ortc.RtxParameters{SSRC: uint32(enc.RTX.SSRC)}
		}
		if i < len(layers) && len(params.Encodings) > 1 {
			e.MaxBitrate = layers[i].MaxBitrate
			if top := layers[len(layers)-1]; layers[i].Height > 0 {
				e.ScaleResolutionDownBy = float64(top.Height) / float64(layers[i].Height)
			}
		}
		localParams.Encodings = append(localParams.Encodings, e)
	}
	localParams.MID = mid
	localParams.Rtcp = ortc.RtcpParameters{CNAME: local.cname(mid), ReducedSize: true}

	var resp struct {
		ID         string `json:"id"`
		ProducerID string `json:"producerId"`
	}
	if err := cl.request(ctx, "produce", map[string]any{
		"transportId":   t.id,
		"kind":          kind,
		"rtpParameters": localParams,
		"appData":       map[string]any{"source": kind},
	}, &resp); err != nil {
		return err
	}
	p := &producer{id: firstNonEmpty(resp.ID, resp.ProducerID), kind: kind, codec: codec.MimeType, source: src, sender: sender, scores: map[uint32]int{}}
	if p.id == "" {
		return errors.New("produce: response has no producer id")
	}
	cl.producers[kind] = p
	cl.readSenderRTCP(p, params.Encodings)
	if !cl.started[src] { // a source keeps running across reconnects
		if err := src.Start(cl.ctx); err != nil {
			return fmt.Errorf("start %s source: %w", kind, err)
		}
		cl.started[src] = true
	}
	cl.c.store.update(func(st *CallState) {
		st.Producers[p.id] = ProducerState{ID: p.id, Kind: kind, Codec: p.codec, Encodings: len(params.Encodings)}
	})
	cl.emit(ProducerCreated{ProducerID: p.id, Kind: kind, Codec: p.codec, Encodings: len(params.Encodings)})
	return nil
}

// codecMatches picks the router codec a source's codec corresponds to.
func codecMatches(ec ortc.ExtendedCodec, c webrtc.RTPCodecCapability) bool {
	if !strings.EqualFold(ec.MimeType, c.MimeType) {
		return false
	}
	if strings.EqualFold(c.MimeType, webrtc.MimeTypeH264) {
		want := ortc.ParseFmtp(c.SDPFmtpLine)
		wp, _ := ortc.ParseH264Profile(want.String("profile-level-id", "42e01f"))
		gp, _ := ortc.ParseH264Profile(ec.LocalParameters.String("profile-level-id", "42e01f"))
		return wp == gp && want.Number("packetization-mode", 0) == ec.LocalParameters.Number("packetization-mode", 0)
	}
	return true
}

// readSenderRTCP drains RTCP for every encoding (so NACK and reports work)
// and turns PLI/FIR into key-frame requests on the right layer.
func (cl *call) readSenderRTCP(p *producer, encs []webrtc.RTPEncodingParameters) {
	for layer, enc := range encs {
		rid := enc.RID
		read := func() ([]rtcp.Packet, error) {
			pkts, _, err := p.sender.ReadRTCP()
			return pkts, err
		}
		if len(encs) > 1 {
			read = func() ([]rtcp.Packet, error) {
				pkts, _, err := p.sender.ReadSimulcastRTCP(rid)
				return pkts, err
			}
		}
		cl.wg.Add(1)
		go func() {
			defer cl.wg.Done()
			for {
				pkts, err := read()
				if err != nil {
					return
				}
				for _, pkt := range pkts {
					switch pkt.(type) {
					case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
						cl.log.Debug("key frame requested", "kind", p.kind, "layer", layer, "rtcp", fmt.Sprintf("%T", pkt))
						p.source.RequestKeyFrame(layer)
					}
				}
			}
		}()
	}
}

// setEnabled mutes or unmutes (or first publishes) a kind.
func (cl *call) setEnabled(ctx context.Context, kind string, on bool) error {
	if cl.recovering {
		// Applied when the call is back (produceAll).
		cl.muted[kind] = !on
		if src := cl.source(kind); src != nil {
			src.SetPaused(!on)
		}
		return nil
	}
	p := cl.producers[kind]
	if p == nil {
		if !on {
			return nil
		}
		src := cl.source(kind)
		if src == nil || cl.send == nil {
			return fmt.Errorf("%s: %w", kind, ErrNoSource)
		}
		return cl.produce(ctx, src)
	}
	if p.paused == !on {
		return nil
	}
	method := "pauseProducer"
	if on {
		method = "resumeProducer"
	}
	if !on {
		p.source.SetPaused(true) // stop RTP first: nothing is sent while muted
	}
	if err := cl.control(ctx, method, map[string]any{"producerId": p.id}); err != nil {
		if !on {
			p.source.SetPaused(false)
		}
		return err
	}
	if on {
		p.source.SetPaused(false)
		p.source.RequestKeyFrame(len(p.source.Tracks()) - 1)
	}
	p.paused = !on
	cl.muted[kind] = !on
	cl.c.store.update(func(st *CallState) {
		ps := st.Producers[p.id]
		ps.Paused = p.paused
		st.Producers[p.id] = ps
	})
	if on {
		cl.emit(ProducerResumed{ProducerID: p.id, Kind: kind})
	} else {
		cl.emit(ProducerPaused{ProducerID: p.id, Kind: kind})
	}
	return nil
}

// source returns the configured source of a kind.
func (cl *call) source(kind string) MediaSource {
	if kind == "video" {
		return cl.c.cfg.Video
	}
	return cl.c.cfg.Audio
}
