package mediasoupclient

import (
	"context"
	"fmt"
	"sync"

	"github.com/pion/interceptor/pkg/stats"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// Producer is one local media stream sent to the server (mediasoup-client's
// Producer). Pause, Resume, SetMaxSpatialLayer and Close act locally; the
// application tells the server (pauseProducer, closeProducer, …) over its
// own signaling, as with mediasoup-client.
type Producer struct {
	id          string
	kind        string
	t           *SendTransport
	rtp         RtpParameters
	appData     map[string]any
	transceiver *webrtc.RTPTransceiver
	sender      *webrtc.RTPSender
	section     *mediaSection
	onKeyFrame  func(int)

	mu         sync.Mutex // guards the following
	gates      []*gatedTrack
	paused     bool
	maxSpatial int
	closed     bool
}

// ID is the server's producer id.
func (p *Producer) ID() string { return p.id }

// Kind is "audio" or "video".
func (p *Producer) Kind() string { return p.kind }

// RtpParameters are the parameters the server was given.
func (p *Producer) RtpParameters() RtpParameters { return p.rtp }

// AppData is what ProducerOptions.AppData carried.
func (p *Producer) AppData() map[string]any { return p.appData }

// Sender is the pion RTPSender carrying the producer.
func (p *Producer) Sender() *webrtc.RTPSender { return p.sender }

// Paused reports whether Pause is in effect.
func (p *Producer) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

// Closed reports whether Close was called or the transport closed.
func (p *Producer) Closed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed || p.t.Closed()
}

// Pause stops sending RTP (the tracks stay bound; what the application
// writes meanwhile is dropped).
func (p *Producer) Pause() { p.setPaused(true) }

// Resume sends RTP again.
func (p *Producer) Resume() { p.setPaused(false) }

func (p *Producer) setPaused(paused bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = paused
	p.applyGates()
}

// MaxSpatialLayer is the highest encoding sent.
func (p *Producer) MaxSpatialLayer() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxSpatial
}

// SetMaxSpatialLayer stops sending the encodings above layer (0 = only the
// lowest); the server's consumers switch to what still arrives.
func (p *Producer) SetMaxSpatialLayer(layer int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if layer < 0 || layer >= len(p.gates) {
		return fmt.Errorf("%w: spatial layer %d of %d", ErrInvalidParameters, layer, len(p.gates))
	}
	p.maxSpatial = layer
	p.applyGates()
	return nil
}

func (p *Producer) applyGates() {
	for i, g := range p.gates {
		g.setOpen(!p.paused && i <= p.maxSpatial)
	}
}

// ReplaceTrack sends another track in place of the current one, without
// renegotiation. pion cannot replace the tracks of a simulcast sender.
func (p *Producer) ReplaceTrack(track webrtc.TrackLocal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if len(p.gates) != 1 {
		return fmt.Errorf("%w: ReplaceTrack on a simulcast producer", ErrUnsupported)
	}
	g := newGatedTrack(withDefaultVoice(track))
	g.setOpen(!p.paused)
	if err := p.sender.ReplaceTrack(g); err != nil {
		return err
	}
	p.gates[0] = g
	return nil
}

// Close stops the producer and removes it from the transport (its
// m-section is answered inactive). The server-side producer is the
// application's to close.
func (p *Producer) Close(context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	if err := p.t.lockOpen(); err != nil {
		return nil // the transport's Close ended it
	}
	defer p.t.mu.Unlock()
	p.t.removeProducer(p)
	return nil
}

// StreamStats are pion's counters for one sent encoding.
type StreamStats struct {
	RID  string
	SSRC uint32
	// Stats is nil until the stream sent its first packet.
	Stats *stats.Stats
}

// GetStats returns the counters of each encoding, lowest first.
func (p *Producer) GetStats() []StreamStats {
	var out []StreamStats
	for _, enc := range p.sender.GetParameters().Encodings {
		out = append(out, StreamStats{RID: enc.RID, SSRC: uint32(enc.SSRC), Stats: p.t.stats.get(uint32(enc.SSRC))})
	}
	return out
}

// readRTCP drains RTCP for every encoding (so NACK and reports work) and
// turns PLI/FIR into OnKeyFrameRequest calls for the right encoding.
func (p *Producer) readRTCP() {
	encs := p.sender.GetParameters().Encodings
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
		p.t.goTracked(func() {
			for {
				pkts, err := read()
				if err != nil {
					return
				}
				for _, pkt := range pkts {
					switch pkt.(type) {
					case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
						if p.onKeyFrame != nil {
							p.onKeyFrame(layer)
						}
					}
				}
			}
		})
	}
}
