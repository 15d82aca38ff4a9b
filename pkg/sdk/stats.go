package sdk

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/pion/webrtc/v4"

	msc "github.com/callctl/callctl/pkg/mediasoupclient"
	"github.com/callctl/callctl/pkg/sdk/internal/demo"
)

// CallStats is one sample of a call's media statistics, read from pion's
// own counters (interceptors and ICE agent).
type CallStats struct {
	Time       time.Time        `json:"time"`
	Transports []TransportStats `json:"transports"`
	Producers  []ProducerStats  `json:"producers"`
	Consumers  []ConsumerStats  `json:"consumers"`
	// ActiveSpeakerChanges counts the changes of the server's active
	// speaker this call saw (ActiveSpeaker.Changed after the first).
	ActiveSpeakerChanges int `json:"activeSpeakerChanges,omitempty"`
}

// TransportStats describes one PeerConnection.
type TransportStats struct {
	Transport     string  `json:"transport"` // "send" or "recv"
	State         string  `json:"state"`
	ICEState      string  `json:"iceState"`
	DTLSState     string  `json:"dtlsState"`
	LocalAddress  string  `json:"localAddress,omitempty"`
	RemoteAddress string  `json:"remoteAddress,omitempty"`
	RTTMillis     float64 `json:"rttMs"`
	BytesSent     uint64  `json:"bytesSent"`
	BytesReceived uint64  `json:"bytesReceived"`
}

// ProducerStats describes one local producer.
type ProducerStats struct {
	ProducerID string       `json:"producerId"`
	Kind       string       `json:"kind"`
	Codec      string       `json:"codec"`
	Paused     bool         `json:"paused"`
	Layers     []LayerStats `json:"layers"`
}

// LayerStats describes one sent encoding.
type LayerStats struct {
	RID         string  `json:"rid,omitempty"`
	SSRC        uint32  `json:"ssrc"`
	PacketsSent uint64  `json:"packetsSent"`
	BytesSent   uint64  `json:"bytesSent"`
	NACKs       uint64  `json:"nacks"`
	PLIs        uint64  `json:"plis"`
	FIRs        uint64  `json:"firs"`
	BitrateBps  float64 `json:"bitrateBps"`
	// From the server's receiver reports.
	PacketsLost int64   `json:"packetsLost"`
	RTTMillis   float64 `json:"rttMs"`
	// Score is the server's 0-10 quality score of this stream.
	Score int `json:"score"`
}

// ConsumerStats describes one received stream.
type ConsumerStats struct {
	ConsumerID      string  `json:"consumerId"`
	ProducerID      string  `json:"producerId"`
	PeerID          string  `json:"peerId"`
	Kind            string  `json:"kind"`
	Codec           string  `json:"codec"`
	SSRC            uint32  `json:"ssrc"`
	ProducerPaused  bool    `json:"producerPaused"`
	PacketsReceived uint64  `json:"packetsReceived"`
	BytesReceived   uint64  `json:"bytesReceived"`
	PacketsLost     int64   `json:"packetsLost"`
	JitterMillis    float64 `json:"jitterMs"`
	NACKs           uint64  `json:"nacks"`
	PLIs            uint64  `json:"plis"`
	BitrateBps      float64 `json:"bitrateBps"`
	// Server-side view: score 0-10 of what the server sends us and of the
	// producer it comes from, and the simulcast layers it forwards.
	Score         int  `json:"score"`
	ProducerScore int  `json:"producerScore"`
	SpatialLayer  *int `json:"spatialLayer"`
	TemporalLayer *int `json:"temporalLayer"`
	// What the sink decoded (zero without a sink).
	ReceiveStats
}

// Stats samples the call's statistics.
func (c *Client) Stats(ctx context.Context) (CallStats, error) {
	c.mu.Lock()
	cl := c.cur
	c.mu.Unlock()
	if cl == nil {
		return CallStats{}, ErrNotJoined
	}
	var out CallStats
	err := cl.q.Run(ctx, func(context.Context) error {
		if cl.ended {
			return ErrNotJoined
		}
		out = cl.stats()
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotJoined) {
		return out, fmt.Errorf("stats: %w", err)
	}
	return out, err
}

func (cl *call) stats() CallStats {
	s := CallStats{Time: time.Now().UTC(), Transports: []TransportStats{}, Producers: []ProducerStats{}, Consumers: []ConsumerStats{}}
	s.ActiveSpeakerChanges = cl.speakers.changes
	if sess := cl.sess; sess != nil {
		for _, t := range []struct {
			name string
			pc   *webrtc.PeerConnection
		}{{"send", pcOf(sess.send)}, {"recv", pcOf(sess.recv)}} {
			// A closed connection (the server went away) has nothing to
			// report, and asking would only make pion log errors.
			if t.pc != nil && t.pc.ConnectionState() != webrtc.PeerConnectionStateClosed {
				s.Transports = append(s.Transports, transportStats(t.name, t.pc, t.pc.GetStats()))
			}
		}
	}
	for _, slot := range sortedSlots(cl.producers) {
		s.Producers = append(s.Producers, cl.producerStats(cl.producers[slot]))
	}
	for _, c := range cl.consumers {
		s.Consumers = append(s.Consumers, cl.consumerStats(c))
	}
	sort.Slice(s.Consumers, func(i, j int) bool {
		if s.Consumers[i].PeerID != s.Consumers[j].PeerID {
			return s.Consumers[i].PeerID < s.Consumers[j].PeerID
		}
		return s.Consumers[i].Kind < s.Consumers[j].Kind
	})
	return s
}

func sortedSlots(m map[string]*producer) []string {
	slots := make([]string, 0, len(m))
	for slot := range m {
		slots = append(slots, slot)
	}
	sort.Slice(slots, func(i, j int) bool { return slotOrder(slots[i]) < slotOrder(slots[j]) })
	return slots
}

func (cl *call) producerStats(p *producer) ProducerStats {
	ps := ProducerStats{ProducerID: p.id(), Kind: p.kind(), Codec: p.codec, Paused: p.paused, Layers: []LayerStats{}}
	for _, enc := range p.p.GetStats() {
		ls := LayerStats{RID: enc.RID, SSRC: enc.SSRC, Score: p.scores[enc.SSRC]}
		if m := cl.rates[enc.SSRC]; m != nil {
			ls.BitrateBps = m.bps
		}
		if st := enc.Stats; st != nil {
			o, ri := st.OutboundRTPStreamStats, st.RemoteInboundRTPStreamStats
			ls.PacketsSent, ls.BytesSent = o.PacketsSent, o.BytesSent
			ls.NACKs, ls.PLIs, ls.FIRs = uint64(o.NACKCount), uint64(o.PLICount), uint64(o.FIRCount)
			// On loopback DLSR rounding can make an RTT sample negative.
			ls.PacketsLost, ls.RTTMillis = ri.PacketsLost, max(0, float64(ri.RoundTripTime)/float64(time.Millisecond))
		}
		ps.Layers = append(ps.Layers, ls)
	}
	return ps
}

func (cl *call) consumerStats(c *consumer) ConsumerStats {
	cs := ConsumerStats{
		ConsumerID: c.id, ProducerID: c.producerID, PeerID: c.peerID, Kind: c.kind, Codec: c.codec, SSRC: c.ssrc,
		ProducerPaused: c.producerPaused, Score: c.score, ProducerScore: c.producerScore,
		SpatialLayer: c.spatialLayer, TemporalLayer: c.temporalLayer,
	}
	if m := cl.rates[c.ssrc]; m != nil {
		cs.BitrateBps = m.bps
	}
	if box := c.receiver.Load(); box != nil {
		cs.ReceiveStats = box.Stats()
	}
	if st := c.c.GetStats(); st != nil {
		in := st.InboundRTPStreamStats
		cs.PacketsReceived, cs.BytesReceived, cs.PacketsLost = in.PacketsReceived, in.BytesReceived, in.PacketsLost
		cs.JitterMillis = in.Jitter * 1000 // the interceptor reports seconds
		cs.NACKs, cs.PLIs = uint64(in.NACKCount), uint64(in.PLICount)
	}
	return cs
}

// pcOf returns a transport's PeerConnection (nil for no transport).
func pcOf(t interface{ PeerConnection() *webrtc.PeerConnection }) *webrtc.PeerConnection {
	switch t := t.(type) {
	case *msc.SendTransport:
		if t == nil {
			return nil
		}
	case *msc.RecvTransport:
		if t == nil {
			return nil
		}
	}
	return t.PeerConnection()
}

func transportStats(name string, pc *webrtc.PeerConnection, report webrtc.StatsReport) TransportStats {
	ts := TransportStats{Transport: name, State: pc.ConnectionState().String(), ICEState: pc.ICEConnectionState().String()}
	cands := map[string]webrtc.ICECandidateStats{}
	for _, v := range report {
		switch x := v.(type) {
		case webrtc.TransportStats:
			ts.DTLSState = x.DTLSState.String()
			ts.BytesSent, ts.BytesReceived = x.BytesSent, x.BytesReceived
		case webrtc.ICECandidateStats:
			cands[x.ID] = x
		}
	}
	for _, v := range report {
		if p, ok := v.(webrtc.ICECandidatePairStats); ok && p.Nominated {
			l, r := cands[p.LocalCandidateID], cands[p.RemoteCandidateID]
			ts.LocalAddress = fmt.Sprintf("%s:%d/%s", l.IP, l.Port, l.Protocol)
			ts.RemoteAddress = fmt.Sprintf("%s:%d/%s", r.IP, r.Port, r.Protocol)
			ts.RTTMillis = p.CurrentRoundTripTime * 1000
		}
	}
	return ts
}

// rateMeter turns a byte counter into bits per second between samples.
type rateMeter struct {
	bytes uint64
	at    time.Time
	bps   float64
}

func (r *rateMeter) sample(bytes uint64, now time.Time) {
	if !r.at.IsZero() && now.After(r.at) && bytes >= r.bytes {
		r.bps = float64(bytes-r.bytes) * 8 / now.Sub(r.at).Seconds()
	}
	r.bytes, r.at = bytes, now
}

// sampleRates runs on the queue once a second (see startSampler).
func (cl *call) sampleRates() {
	now := time.Now()
	for _, p := range cl.producers {
		for _, enc := range p.p.GetStats() {
			if enc.Stats != nil {
				cl.meter(enc.SSRC).sample(enc.Stats.OutboundRTPStreamStats.BytesSent, now)
			}
		}
	}
	for _, c := range cl.consumers {
		cl.meter(c.ssrc).sample(c.bytes.Load(), now)
	}
}

func (cl *call) meter(ssrc uint32) *rateMeter {
	m := cl.rates[ssrc]
	if m == nil {
		m = &rateMeter{}
		cl.rates[ssrc] = m
	}
	return m
}

// startSampler samples bitrates every second until the call ends.
func (cl *call) startSampler() {
	cl.wg.Add(1)
	go func() {
		defer cl.wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-cl.ctx.Done():
				return
			case <-t.C:
				_ = cl.q.Add(func(ctx context.Context) {
					if !cl.ended && cl.sess != nil {
						now := time.Now()
						cl.sampleRates()
						cl.adaptLayers(ctx, now)
					}
				})
			}
		}
	}()
}

// ServerStreamStats is one RTP stream as the server sees it (mediasoup's
// getProducerStats / getConsumerStats entries; fields it lacks are zero).
type ServerStreamStats = demo.StreamStats

// ServerProducerStats asks the server for its statistics of our producer
// of kind ("audio" or "video"): one entry per received stream, so a
// simulcast producer shows each layer.
func (c *Client) ServerProducerStats(ctx context.Context, kind string) ([]ServerStreamStats, error) {
	var out []ServerStreamStats
	err := c.onCall(ctx, func(ctx context.Context, cl *call) error {
		p := cl.producers[kind]
		if p == nil || cl.sess == nil {
			return fmt.Errorf("no %s producer", kind)
		}
		var err error
		out, err = cl.sess.conn.GetProducerStats(ctx, p.id())
		return err
	})
	return out, err
}
