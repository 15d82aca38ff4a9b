package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/callctl/callctl/pkg/sdk/internal/ortc"
	"github.com/callctl/callctl/pkg/sdk/internal/protoo"
	"github.com/callctl/callctl/pkg/sdk/internal/sdp"
)

// recvTransport is one pion PeerConnection standing for a mediasoup
// consuming WebRtcTransport. The remote description is an offer with one
// m-section per consumer; pion answers as DTLS client.
type recvTransport struct {
	cl        *call
	id        string
	pc        *webrtc.PeerConnection
	stats     *statsHolder
	remote    *sdp.Remote
	connected bool
	nextMid   int
}

// consumer is one remote stream we receive.
type consumer struct {
	id, producerID, peerID, kind, codec, typ string
	mid                                      string
	ssrc                                     uint32
	created                                  time.Time
	paused, producerPaused, closed           bool

	// Written by the track reader goroutine, read anywhere.
	packets  atomic.Uint64
	bytes    atomic.Uint64
	receiver atomic.Pointer[trackReceiverBox]

	score          int // from consumerScore notifications
	producerScore  int
	spatialLayer   *int
	temporalLayer  *int
	preferredLayer *int
	adapter        *layerAdapter // nil unless Config.AdaptiveLayers and several spatial layers
}

type trackReceiverBox struct{ TrackReceiver }

func newRecvTransport(cl *call, info transportInfo) (*recvTransport, error) {
	api, st, err := cl.c.newAPI(false)
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
	t := &recvTransport{cl: cl, id: info.ID, pc: pc, stats: st, remote: &sdp.Remote{
		ICE: info.IceParameters, Candidates: info.IceCandidates, DTLS: info.DtlsParameters, Setup: "actpass",
	}}
	watchState(cl, pc, "recv", func() bool { return cl.recv == t })
	pc.OnTrack(func(track *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		mid := ""
		for _, tr := range pc.GetTransceivers() {
			if tr.Receiver() == recv {
				mid = tr.Mid()
			}
		}
		if mid == probatorMid {
			// Drain probation packets so the TWCC interceptor sees them.
			cl.wg.Add(1)
			go func() {
				defer cl.wg.Done()
				buf := make([]byte, 1500)
				for {
					if _, _, err := track.Read(buf); err != nil {
						return
					}
				}
			}()
			return
		}
		// Find the consumer on the queue, then read on our own goroutine.
		_ = cl.q.Add(func(context.Context) {
			if cl.recv != t {
				return // a transport replaced by a reconnect
			}
			var cons *consumer
			for _, c := range cl.consumers {
				if c.mid == mid {
					cons = c
				}
			}
			if cons == nil || cl.ended {
				return
			}
			var tr TrackReceiver
			if sink := cl.c.cfg.Sink; sink != nil {
				codec := track.Codec()
				id := cons.id
				tr = sink.OpenTrack(TrackInfo{
					ConsumerID: cons.id, ProducerID: cons.producerID, PeerID: cons.peerID, Kind: cons.kind,
					MimeType: codec.MimeType, ClockRate: codec.ClockRate, Channels: codec.Channels,
					RequestKeyFrame: func() {
						_ = cl.q.Add(func(ctx context.Context) { cl.requestKeyFrame(ctx, id) })
					},
				})
			}
			cl.wg.Add(1)
			go cl.readTrack(cons, track, tr)
		})
	})
	return t, nil
}

func (t *recvTransport) close() { _ = t.pc.Close() }

// readTrack drains a received track (pion's interceptors count and report
// as packets pass), feeds the sink, and reports the first packet.
func (cl *call) readTrack(c *consumer, track *webrtc.TrackRemote, tr TrackReceiver) {
	defer cl.wg.Done()
	if tr != nil {
		c.receiver.Store(&trackReceiverBox{tr})
		defer func() { _ = tr.Close() }()
	}
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		n := pkt.MarshalSize()
		if tr != nil {
			tr.WriteRTP(pkt)
		}
		if c.packets.Add(1) == 1 {
			after := time.Since(c.created).Milliseconds()
			_ = cl.q.Add(func(context.Context) {
				if !cl.ended {
					cl.emit(ConsumerMedia{ConsumerID: c.id, PeerID: c.peerID, Kind: c.kind, AfterMillis: after})
				}
			})
		}
		c.bytes.Add(uint64(n))
	}
}

type newConsumerData struct {
	PeerID         string             `json:"peerId"`
	ProducerID     string             `json:"producerId"`
	ID             string             `json:"id"`
	ConsumerID     string             `json:"consumerId"`
	Kind           string             `json:"kind"`
	RtpParameters  ortc.RtpParameters `json:"rtpParameters"`
	Type           string             `json:"type"`
	ProducerPaused bool               `json:"producerPaused"`
	AppData        json.RawMessage    `json:"appData"`
}

// consume adds a consumer's m-section and completes the local negotiation.
// Only after it returns may the newConsumer request be accepted (the
// server resumes the consumer on accept).
func (cl *call) consume(ctx context.Context, d newConsumerData) (*consumer, error) {
	t := cl.recv
	id := firstNonEmpty(d.ID, d.ConsumerID)
	switch {
	case id == "" || d.ProducerID == "":
		return nil, errors.New("newConsumer: missing consumer or producer id")
	case d.Kind != "audio" && d.Kind != "video":
		return nil, fmt.Errorf("newConsumer: bad kind %q", d.Kind)
	case len(d.RtpParameters.Codecs) == 0 || len(d.RtpParameters.Encodings) == 0 || d.RtpParameters.Encodings[0].SSRC == 0:
		return nil, errors.New("newConsumer: rtpParameters lack codecs or an SSRC")
	case cl.consumers[id] != nil:
		return nil, fmt.Errorf("newConsumer: duplicate consumer %s", id)
	}
	mid := d.RtpParameters.MID
	if mid == "" {
		mid = strconv.Itoa(t.nextMid)
	}
	t.nextMid++
	if t.remote.Section(mid) != nil {
		return nil, fmt.Errorf("newConsumer: mid %q already in use", mid)
	}
	enc := d.RtpParameters.Encodings[0]
	sec := &sdp.Section{
		MID: mid, Kind: d.Kind, Direction: "sendonly",
		Codecs: d.RtpParameters.Codecs, Extensions: d.RtpParameters.HeaderExtensions,
		SSRC: enc.SSRC, CNAME: d.RtpParameters.Rtcp.CNAME, StreamID: d.PeerID, TrackID: id,
	}
	if enc.RTX != nil {
		sec.RtxSSRC = enc.RTX.SSRC
	}
	n := len(t.remote.Sections)
	t.remote.Sections = append(t.remote.Sections, sec)
	if d.Kind == "video" && t.remote.Section(probatorMid) == nil {
		t.remote.Sections = append(t.remote.Sections, probatorSection(sec))
	}
	if err := t.negotiate(ctx); err != nil {
		t.remote.Sections = t.remote.Sections[:n]
		return nil, err
	}
	c := &consumer{
		id: id, producerID: d.ProducerID, peerID: d.PeerID, kind: d.Kind, codec: d.RtpParameters.Codecs[0].MimeType,
		typ: d.Type, mid: mid, ssrc: enc.SSRC, created: time.Now(), producerPaused: d.ProducerPaused,
	}
	if n := spatialLayers(enc.ScalabilityMode); cl.c.cfg.AdaptiveLayers && d.Kind == "video" && n > 1 && cl.videoLayers == nil {
		c.adapter = newLayerAdapter(n - 1)
	}
	cl.consumers[id] = c
	return c, nil
}

// The RTP probator: mediasoup probes downlink bandwidth with padding-only
// RTP on SSRC 1234, PT 127 and MID "probator". mediasoup-client declares a
// receiver for it so that the probes reach the transport-cc feedback
// generator instead of being dropped as an unknown SSRC.
const (
	probatorMid  = "probator"
	probatorSSRC = 1234
	probatorPT   = 127
)

func probatorSection(video *sdp.Section) *sdp.Section {
	codec := video.Codecs[0]
	codec.PayloadType = probatorPT
	return &sdp.Section{
		MID: probatorMid, Kind: "video", Direction: "sendonly",
		Codecs: []ortc.RtpCodecParameters{codec}, Extensions: video.Extensions,
		SSRC: probatorSSRC, CNAME: "probator", StreamID: "probator", TrackID: "probator",
	}
}

// negotiate applies the current remote offer and answers it.
func (t *recvTransport) negotiate(ctx context.Context) error {
	if err := t.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: t.remote.String()}); err != nil {
		return fmt.Errorf("set remote offer: %w", err)
	}
	answer, err := t.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("create answer: %w", err)
	}
	if !t.connected {
		local, err := parseLocalSDP(answer.SDP)
		if err != nil {
			return fmt.Errorf("parse answer: %w", err)
		}
		if err := connectTransport(ctx, t.cl, t.id, local); err != nil {
			return fmt.Errorf("connect recv transport: %w", err)
		}
		t.connected = true
	}
	if err := t.pc.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("set local answer: %w", err)
	}
	return nil
}

// closeConsumer marks its m-section inactive (m-sections are never
// recycled across kinds) and renegotiates.
func (cl *call) closeConsumer(ctx context.Context, c *consumer, reason string) {
	if c.closed {
		return
	}
	c.closed = true
	delete(cl.consumers, c.id)
	if sec := cl.recv.remote.Section(c.mid); sec != nil {
		sec.Direction = "inactive"
		if err := cl.recv.negotiate(ctx); err != nil {
			cl.log.Warn("renegotiate after consumer close", "err", err)
		}
	}
	cl.c.store.update(func(st *CallState) { delete(st.Consumers, c.id) })
	cl.emit(ConsumerClosed{ConsumerID: c.id, PeerID: c.peerID, Kind: c.kind, Reason: reason})
}

// handleRequest answers server-initiated requests.
func (cl *call) handleRequest(ctx context.Context, r *protoo.ServerRequest) {
	if cl.ended {
		_ = r.Reject(ctx, 410, "call ended")
		return
	}
	switch r.Method {
	case "newConsumer":
		var d newConsumerData
		if err := json.Unmarshal(r.Data, &d); err != nil {
			_ = r.Reject(ctx, 400, "malformed newConsumer")
			cl.emit(errorEvent("newConsumer", fmt.Errorf("malformed newConsumer: %w", err), false))
			return
		}
		if cl.recv == nil {
			_ = r.Reject(ctx, 500, "no receive transport")
			return
		}
		c, err := cl.consume(ctx, d)
		if err != nil {
			_ = r.Reject(ctx, 500, err.Error())
			cl.emit(errorEvent("newConsumer", err, false))
			return
		}
		if err := r.Accept(ctx, nil); err != nil {
			cl.closeConsumer(ctx, c, "accept failed")
			return
		}
		cl.c.store.update(func(st *CallState) {
			st.Consumers[c.id] = ConsumerState{
				ID: c.id, ProducerID: c.producerID, PeerID: c.peerID, Kind: c.kind, Codec: c.codec, Type: c.typ, ProducerPaused: c.producerPaused,
			}
		})
		cl.emit(ConsumerCreated{
			ConsumerID: c.id, ProducerID: c.producerID, PeerID: c.peerID, Kind: c.kind, Codec: c.codec,
			ConsumerType: c.typ, ProducerPaused: c.producerPaused,
		})
		if l := cl.videoLayers; l != nil && c.kind == "video" {
			if err := cl.setPreferredLayers(ctx, c, *l); err != nil {
				cl.emit(errorEvent("setConsumerPreferredLayers", err, false))
			}
		}
	default:
		// newDataConsumer and anything newer: we negotiate no SCTP.
		_ = r.Reject(ctx, 501, "not supported by this client: "+r.Method)
	}
}

// handleNotification applies server notifications to the call state.
func (cl *call) handleNotification(n protoo.Notification) {
	if cl.ended {
		return
	}
	var d struct {
		ID             string          `json:"id"`
		PeerID         *string         `json:"peerId"`
		DisplayName    string          `json:"displayName"`
		Device         DeviceInfo      `json:"device"`
		Peer           json.RawMessage `json:"peer"`
		ConsumerID     string          `json:"consumerId"`
		SpatialLayer   *int            `json:"spatialLayer"`
		TemporalLayer  *int            `json:"temporalLayer"`
		Volume         float64         `json:"volume"`
		OldDisplayName string          `json:"oldDisplayName"`
	}
	if len(n.Data) > 0 {
		if err := json.Unmarshal(n.Data, &d); err != nil {
			cl.protocolError(fmt.Errorf("notification %s: %w", n.Method, err))
			return
		}
	}
	peerID := ""
	if d.PeerID != nil {
		peerID = *d.PeerID
	}
	switch n.Method {
	case "newPeer":
		p := Participant{ID: firstNonEmpty(d.ID, peerID), DisplayName: d.DisplayName, Device: d.Device}
		if len(d.Peer) > 0 { // TS dialect wraps the peer
			var w struct {
				PeerID      string     `json:"peerId"`
				DisplayName string     `json:"displayName"`
				Device      DeviceInfo `json:"device"`
			}
			if err := json.Unmarshal(d.Peer, &w); err == nil {
				p = Participant{ID: w.PeerID, DisplayName: w.DisplayName, Device: w.Device}
			}
		}
		if p.ID == "" {
			cl.protocolError(errors.New("newPeer without a peer id"))
			return
		}
		cl.c.store.update(func(st *CallState) { st.Participants[p.ID] = p })
		cl.emit(ParticipantJoined{Participant: p})
	case "peerClosed":
		cl.c.store.update(func(st *CallState) { delete(st.Participants, peerID) })
		cl.emit(ParticipantLeft{ID: peerID})
	case "peerDisplayNameChanged":
		cl.c.store.update(func(st *CallState) {
			if p, ok := st.Participants[peerID]; ok {
				p.DisplayName = d.DisplayName
				st.Participants[peerID] = p
			}
		})
	case "consumerClosed":
		if c := cl.consumers[d.ConsumerID]; c != nil {
			cl.closeConsumer(cl.ctx, c, "producer closed")
		}
	case "consumerPaused", "consumerResumed":
		c := cl.consumers[d.ConsumerID]
		if c == nil {
			return
		}
		c.producerPaused = n.Method == "consumerPaused"
		cl.c.store.update(func(st *CallState) {
			cs := st.Consumers[c.id]
			cs.ProducerPaused = c.producerPaused
			st.Consumers[c.id] = cs
		})
		if c.producerPaused {
			cl.emit(ConsumerPaused{ConsumerID: c.id, PeerID: c.peerID, Kind: c.kind})
		} else {
			cl.emit(ConsumerResumed{ConsumerID: c.id, PeerID: c.peerID, Kind: c.kind})
		}
	case "consumerLayersChanged":
		if c := cl.consumers[d.ConsumerID]; c != nil {
			c.spatialLayer, c.temporalLayer = d.SpatialLayer, d.TemporalLayer
			cl.emit(ConsumerLayersChanged{ConsumerID: d.ConsumerID, SpatialLayer: d.SpatialLayer, TemporalLayer: d.TemporalLayer})
		}
	case "activeSpeaker":
		cl.emit(ActiveSpeaker{PeerID: peerID, Volume: d.Volume})
	case "consumerScore":
		var sd struct {
			Score struct {
				Score         int `json:"score"`
				ProducerScore int `json:"producerScore"`
			} `json:"score"`
		}
		if c := cl.consumers[d.ConsumerID]; c != nil && json.Unmarshal(n.Data, &sd) == nil {
			c.score, c.producerScore = sd.Score.Score, sd.Score.ProducerScore
		}
	case "producerScore":
		var sd struct {
			ProducerID string `json:"producerId"`
			Score      []struct {
				EncodingIdx int    `json:"encodingIdx"`
				SSRC        uint32 `json:"ssrc"`
				Score       int    `json:"score"`
			} `json:"score"`
		}
		if json.Unmarshal(n.Data, &sd) == nil {
			for _, p := range cl.producers {
				if p.id == sd.ProducerID {
					for _, s := range sd.Score {
						p.scores[s.SSRC] = s.Score
					}
				}
			}
		}
	case "downlinkBwe", "speakingPeers":
		// Not surfaced.
	default:
		cl.log.Debug("unhandled notification", "method", n.Method)
	}
}
