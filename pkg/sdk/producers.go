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
	scores map[uint32]int  // server score per encoding SSRC
	adapt  *sendAdaptation // Config.SendAdaptation of a simulcast video, else nil
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
	if s == nil {
		return errors.New("not connected")
	}
	if s.send == nil {
		if err := cl.createSendTransport(ctx, s); err != nil {
			return err
		}
	}
	kind := src.Kind().String()
	if !s.device.CanProduce(kind) {
		return fmt.Errorf("router cannot receive %s", kind)
	}
	codec := src.Codec()
	p, err := s.send.Produce(ctx, msc.ProducerOptions{
		Tracks: src.Tracks(), Codec: &codec, Encodings: encodingsOf(src),
		AppData:           producerAppData(slot, kind, src),
		OnKeyFrameRequest: src.RequestKeyFrame,
	})
	if err != nil {
		return err
	}
	pr := &producer{slot: slot, p: p, source: src, codec: codec.MimeType, scores: map[uint32]int{}}
	cl.producers[slot] = pr
	cl.startSendAdaptation(pr)
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

// producerAppData adds to appData.source the stamp epoch and period of
// a StampedSource, for receivers to compute delay.
func producerAppData(slot, kind string, src MediaSource) map[string]any {
	ad := map[string]any{"source": sourceAppData(slot, kind)}
	if epoch, period := StampInfoOf(src); epoch > 0 {
		ad["stampEpochMs"] = epoch
		if period > 0 {
			ad["stampPeriodMs"] = period
		}
	}
	return ad
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
		if cl.sources[slot] == nil {
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

// Publication is a handle on a published source (Client.Publish). It
// stays valid across reconnects: it names the source, not the server's
// producer id, which changes when the call rejoins.
type Publication struct {
	c    *Client
	name string
}

// Name is the name the source was published under ("audio" and "video"
// are the configured sources).
func (p *Publication) Name() string { return p.name }

// SetEnabled mutes (false) or unmutes the source.
func (p *Publication) SetEnabled(ctx context.Context, on bool) error {
	return p.c.onCall(ctx, func(ctx context.Context, cl *call) error { return cl.setEnabled(ctx, p.name, on) })
}

// ProducerID is the server's id of the current producer ("" while
// reconnecting or muted before it was ever produced).
func (p *Publication) ProducerID(ctx context.Context) (string, error) {
	var id string
	err := p.c.onCall(ctx, func(_ context.Context, cl *call) error {
		if pr := cl.producers[p.name]; pr != nil {
			id = pr.id()
		}
		return nil
	})
	return id, err
}

// Unpublish closes the producer on the server and locally and stops the
// source.
func (p *Publication) Unpublish(ctx context.Context) error {
	return p.c.onCall(ctx, func(ctx context.Context, cl *call) error { return cl.unpublish(ctx, p.name) })
}

func (cl *call) unpublish(ctx context.Context, slot string) error {
	src := cl.sources[slot]
	if src == nil {
		return fmt.Errorf("%s: %w", slot, ErrNoSource)
	}
	if pr := cl.producers[slot]; pr != nil && cl.sess != nil {
		if err := cl.sess.conn.CloseProducer(ctx, pr.id()); err != nil {
			return err
		}
		_ = pr.p.Close(ctx)
		delete(cl.producers, slot)
		cl.store.update(func(st *CallState) { delete(st.Producers, pr.id()) })
		cl.emit(ProducerClosed{ProducerID: pr.id(), Kind: pr.kind(), Reason: "unpublished"})
	}
	delete(cl.sources, slot)
	delete(cl.muted, slot)
	if cl.started[src] {
		delete(cl.started, src)
		return src.Close()
	}
	return nil
}

// Publish adds another source under name (for example a second video,
// "screen"): it is produced now and kept across reconnects, with
// appData.source = name. The Client owns the source from here on: it is
// closed by Unpublish or when the call ends.
func (c *Client) Publish(ctx context.Context, name string, src MediaSource) (*Publication, error) {
	if name == "" || src == nil {
		return nil, errors.New("publish: name and source are required")
	}
	err := c.onCall(ctx, func(ctx context.Context, cl *call) error {
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
	if err != nil {
		return nil, err
	}
	return &Publication{c: c, name: name}, nil
}
