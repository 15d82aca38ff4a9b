package mediasoupclient

import (
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// gatedTrack wraps the application's track for one encoding of a
// producer so that Producer.Pause and SetMaxSpatialLayer stop its RTP
// without unbinding it (pion cannot rebind a simulcast sender). Packets
// dropped while gated shift the sequence numbers of later packets down, so
// the server sees no gap to NACK when the stream resumes.
type gatedTrack struct {
	webrtc.TrackLocal
	closed atomic.Bool // closed by pause or by a spatial-layer cap

	mu       sync.Mutex
	bindings map[string]*gatedContext // by TrackLocalContext.ID
}

func newGatedTrack(t webrtc.TrackLocal) *gatedTrack {
	return &gatedTrack{TrackLocal: t, bindings: map[string]*gatedContext{}}
}

func (g *gatedTrack) setOpen(open bool) { g.closed.Store(!open) }

// Bind binds the wrapped track to a context whose write stream is gated.
func (g *gatedTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	gc := &gatedContext{TrackLocalContext: ctx, gate: g}
	g.mu.Lock()
	g.bindings[ctx.ID()] = gc
	g.mu.Unlock()
	return g.TrackLocal.Bind(gc)
}

// Unbind unbinds the wrapped track (pion's tracks match bindings by ID).
func (g *gatedTrack) Unbind(ctx webrtc.TrackLocalContext) error {
	g.mu.Lock()
	gc := g.bindings[ctx.ID()]
	delete(g.bindings, ctx.ID())
	g.mu.Unlock()
	if gc == nil {
		return g.TrackLocal.Unbind(ctx)
	}
	return g.TrackLocal.Unbind(gc)
}

type gatedContext struct {
	webrtc.TrackLocalContext
	gate *gatedTrack
}

func (c *gatedContext) WriteStream() webrtc.TrackLocalWriter {
	return &gatedWriter{w: c.TrackLocalContext.WriteStream(), gate: c.gate}
}

// gatedWriter is created per Bind; pion calls WriteStream once per binding,
// and the track writes from one goroutine at a time per binding.
type gatedWriter struct {
	w       webrtc.TrackLocalWriter
	gate    *gatedTrack
	mu      sync.Mutex
	dropped uint16 // packets dropped so far: the sequence-number shift
}

func (w *gatedWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.mu.Lock()
	if w.gate.closed.Load() {
		w.dropped++
		w.mu.Unlock()
		return h.MarshalSize() + len(payload), nil
	}
	shift := w.dropped
	w.mu.Unlock()
	if shift == 0 {
		return w.w.WriteRTP(h, payload)
	}
	hc := h.Clone()
	hc.SequenceNumber -= shift
	return w.w.WriteRTP(&hc, payload)
}

func (w *gatedWriter) Write(b []byte) (int, error) {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		return 0, err
	}
	return w.WriteRTP(&p.Header, p.Payload)
}
