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
	bound  boundContexts
}

func newGatedTrack(t webrtc.TrackLocal) *gatedTrack {
	return &gatedTrack{TrackLocal: t}
}

func (g *gatedTrack) setOpen(open bool) { g.closed.Store(!open) }

// Bind binds the wrapped track to a context whose write stream is gated.
func (g *gatedTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	return g.TrackLocal.Bind(g.bound.bind(ctx, &gatedContext{TrackLocalContext: ctx, gate: g}))
}

// Unbind unbinds the wrapped track with the context it was bound to.
func (g *gatedTrack) Unbind(ctx webrtc.TrackLocalContext) error {
	return g.TrackLocal.Unbind(g.bound.unbind(ctx))
}

// boundContexts remembers the context a track wrapper bound its track to
// in place of each of pion's, so that Unbind hands the same one back.
type boundContexts struct {
	mu sync.Mutex
	m  map[string]webrtc.TrackLocalContext // by TrackLocalContext.ID
}

// bind records wrapped as ctx's stand-in and returns it.
func (b *boundContexts) bind(ctx, wrapped webrtc.TrackLocalContext) webrtc.TrackLocalContext {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]webrtc.TrackLocalContext{}
	}
	b.m[ctx.ID()] = wrapped
	return wrapped
}

// unbind forgets ctx's stand-in and returns it (ctx itself if none).
func (b *boundContexts) unbind(ctx webrtc.TrackLocalContext) webrtc.TrackLocalContext {
	b.mu.Lock()
	defer b.mu.Unlock()
	wrapped, ok := b.m[ctx.ID()]
	if !ok {
		return ctx
	}
	delete(b.m, ctx.ID())
	return wrapped
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
