package sdk

import (
	"context"
	"errors"
	"fmt"

	msc "github.com/callctl/callctl/pkg/mediasoupclient"
)

// producer is one published source on the current session.
type producer struct {
	slot   string // "audio", "video" or a Publish name
	p      *msc.Producer
	source MediaSource
	codec  string
	paused bool
	scores map[uint32]int // server score per encoding SSRC
}

func (p *producer) id() string   { return p.p.ID() }
func (p *producer) kind() string { return p.p.Kind() }

// publishSlot produces a slot's source, then applies the mute the user
// chose (kept across reconnects), or resumes a source a reconnect paused.
func (cl *call) publishSlot(ctx context.Context, slot string) error {
	src := cl.sources[slot]
	if err := cl.produce(ctx, slot, src); err != nil {
		return err
	}
	if cl.muted[slot] {
		return cl.setEnabled(ctx, slot, false)
	}
	src.SetPaused(false)
	for layer := range src.Tracks() {
		src.RequestKeyFrame(layer) // new consumers start with a key frame
	}
	return nil
}

// produce publishes one source on the current session's send transport.
func (cl *call) produce(ctx context.Context, slot string, src MediaSource) error {
	s := cl.sess
	if s == nil || s.send == nil {
		return errors.New("no send transport")
	}
	kind := src.Kind().String()
	if !s.device.CanProduce(kind) {
		return fmt.Errorf("router cannot receive %s", kind)
	}
	codec := src.Codec()
	p, err := s.send.Produce(ctx, msc.ProducerOptions{
		Tracks: src.Tracks(), Codec: &codec, Encodings: encodingsOf(src),
		AppData:           map[string]any{"source": sourceAppData(slot, kind)},
		OnKeyFrameRequest: src.RequestKeyFrame,
	})
	if err != nil {
		return err
	}
	pr := &producer{slot: slot, p: p, source: src, codec: codec.MimeType, scores: map[uint32]int{}}
	cl.producers[slot] = pr
	if !cl.started[src] { // a source keeps running across reconnects
		if err := src.Start(cl.ctx); err != nil {
			return fmt.Errorf("start %s source: %w", slot, err)
		}
		cl.started[src] = true
	}
	n := len(p.RtpParameters().Encodings)
	cl.store.update(func(st *CallState) {
		st.Producers[p.ID()] = ProducerState{ID: p.ID(), Kind: kind, Codec: pr.codec, Encodings: n}
	})
	cl.emit(ProducerCreated{ProducerID: p.ID(), Kind: kind, Codec: pr.codec, Encodings: n})
	return nil
}

// sourceAppData is the appData.source mediasoup-demo expects: "audio",
// "video" or (for extra sources) the slot name.
func sourceAppData(slot, kind string) string {
	if slot == "audio" || slot == "video" {
		return kind
	}
	return slot
}

// encodingsOf describes a layered source's encodings (maxBitrate,
// scaleResolutionDownBy) for the producer's parameters.
func encodingsOf(src MediaSource) []msc.RtpEncodingParameters {
	ls, ok := src.(LayeredSource)
	if !ok || len(src.Tracks()) < 2 {
		return nil
	}
	layers := ls.Layers()
	out := make([]msc.RtpEncodingParameters, len(layers))
	top := layers[len(layers)-1]
	for i, l := range layers {
		out[i].MaxBitrate = l.MaxBitrate
		if l.Height > 0 {
			out[i].ScaleResolutionDownBy = float64(top.Height) / float64(l.Height)
		}
	}
	return out
}

// setEnabled mutes or unmutes (or first publishes) a slot.
func (cl *call) setEnabled(ctx context.Context, slot string, on bool) error {
	if cl.sess == nil { // reconnecting: applied when the call is back
		cl.muted[slot] = !on
		if src := cl.sources[slot]; src != nil {
			src.SetPaused(!on)
		}
		return nil
	}
	p := cl.producers[slot]
	if p == nil {
		if !on {
			return nil
		}
		if cl.sources[slot] == nil || cl.sess.send == nil {
			return fmt.Errorf("%s: %w", slot, ErrNoSource)
		}
		return cl.publishSlot(ctx, slot)
	}
	if p.paused == !on {
		return nil
	}
	if err := cl.signalPause(ctx, p, !on); err != nil {
		return err
	}
	p.paused = !on
	cl.muted[slot] = !on
	cl.store.update(func(st *CallState) {
		ps := st.Producers[p.id()]
		ps.Paused = p.paused
		st.Producers[p.id()] = ps
	})
	if on {
		cl.emit(ProducerResumed{ProducerID: p.id(), Kind: p.kind()})
	} else {
		cl.emit(ProducerPaused{ProducerID: p.id(), Kind: p.kind()})
	}
	return nil
}

// signalPause stops RTP first when muting (nothing is sent while muted),
// tells the server, and undoes the local change if the server refuses.
func (cl *call) signalPause(ctx context.Context, p *producer, pause bool) error {
	conn := cl.sess.conn
	if pause {
		p.source.SetPaused(true)
		p.p.Pause()
		if err := conn.PauseProducer(ctx, p.id()); err != nil {
			p.p.Resume()
			p.source.SetPaused(false)
			return err
		}
		return nil
	}
	if err := conn.ResumeProducer(ctx, p.id()); err != nil {
		return err
	}
	p.p.Resume()
	p.source.SetPaused(false)
	p.source.RequestKeyFrame(len(p.source.Tracks()) - 1)
	return nil
}

// Publish adds another source under name (for example a second video,
// "screen"): it is produced now, kept across reconnects, and its appData
// source is name. EnableSource mutes and unmutes it.
func (c *Client) Publish(ctx context.Context, name string, src MediaSource) error {
	if name == "" || src == nil {
		return errors.New("publish: name and source are required")
	}
	return c.onCall(ctx, func(ctx context.Context, cl *call) error {
		if cl.sources[name] != nil {
			return fmt.Errorf("publish: %q is already published", name)
		}
		cl.sources[name] = src
		if cl.sess == nil {
			return nil // produced when the reconnect completes
		}
		if err := cl.publishSlot(ctx, name); err != nil {
			delete(cl.sources, name)
			return err
		}
		return nil
	})
}

// EnableSource mutes (on=false) or unmutes a source by its slot: "audio",
// "video" or a Publish name.
func (c *Client) EnableSource(ctx context.Context, name string, on bool) error {
	return c.onCall(ctx, func(ctx context.Context, cl *call) error { return cl.setEnabled(ctx, name, on) })
}
