package sdk

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	msc "github.com/callctl/callctl/pkg/mediasoupclient"
	"github.com/callctl/callctl/pkg/sdk/internal/demo"
)

// consumer is one remote stream received on the current session.
type consumer struct {
	c                    *msc.Consumer
	id, producerID, kind string
	peerID, codec, typ   string
	ssrc                 uint32
	created              time.Time

	producerPaused, closed bool
	score, producerScore   int // from consumerScore notifications
	spatialLayer           *int
	temporalLayer          *int
	preferredLayer         *int
	adapter                *layerAdapter // nil unless Config.AdaptiveLayers and several spatial layers

	stopRead   context.CancelFunc
	readerDone chan struct{}
	// Written by the reader goroutine, read anywhere.
	packets, bytes atomic.Uint64
	receiver       atomic.Pointer[trackReceiverBox]
}

type trackReceiverBox struct{ TrackReceiver }

// close stops the reader; the transport's close or Consumer.Close ends
// the remote track.
func (c *consumer) close() {
	c.closed = true
	c.stopRead()
}

// handleRequest answers server-initiated requests.
func (cl *call) handleRequest(ctx context.Context, r *demo.ServerRequest) {
	if r.Err != nil {
		_ = r.Reject(ctx, 400, r.Err.Error())
		cl.emit(errorEvent(r.Method, r.Err, false))
		return
	}
	switch {
	case r.NewConsumer != nil:
		cl.onNewConsumer(ctx, r)
	case r.NewDataConsumer != nil:
		cl.onNewDataConsumer(ctx, r)
	default:
		_ = r.Reject(ctx, 501, "not supported by this client: "+r.Method)
	}
}

func (cl *call) onNewConsumer(ctx context.Context, r *demo.ServerRequest) {
	d := r.NewConsumer
	if !cl.cfg.Consume.wants(d.Kind, d.PeerID) {
		_ = r.Reject(ctx, 403, "not consumed by this client")
		return
	}
	for _, c := range cl.consumers {
		if c.producerID == d.ProducerID { // one consumer per producer
			_ = r.Reject(ctx, 409, "producer already consumed")
			cl.emit(errorEvent("newConsumer", fmt.Errorf("second consumer %s for producer %s rejected", d.ID, d.ProducerID), false))
			return
		}
	}
	c, err := cl.consume(ctx, d)
	if err != nil {
		_ = r.Reject(ctx, 500, err.Error())
		cl.emit(errorEvent("newConsumer", err, false))
		if errors.Is(err, msc.ErrBroken) {
			cl.lost("recv transport", err)
		}
		return
	}
	if err := r.Accept(ctx); err != nil {
		cl.closeConsumer(ctx, c, "accept failed")
		return
	}
	cl.consumerCreated(ctx, c)
}

// consume adds the consumer to the receive transport (the local
// negotiation completes before the request is accepted: the server resumes
// the consumer on accept) and starts reading its track.
func (cl *call) consume(ctx context.Context, d *demo.NewConsumer) (*consumer, error) {
	mc, err := cl.sess.recv.Consume(ctx, msc.ConsumerOptions{
		ID: d.ID, ProducerID: d.ProducerID, Kind: d.Kind, RtpParameters: d.RtpParameters, StreamID: d.PeerID, AppData: d.AppData,
	})
	if err != nil {
		return nil, err
	}
	enc := d.RtpParameters.Encodings[0]
	c := &consumer{
		c: mc, id: d.ID, producerID: d.ProducerID, peerID: d.PeerID, kind: d.Kind, codec: d.RtpParameters.Codecs[0].MimeType,
		typ: d.Type, ssrc: enc.SSRC, created: time.Now(), producerPaused: d.ProducerPaused, readerDone: make(chan struct{}),
	}
	if n := spatialLayers(enc.ScalabilityMode); cl.cfg.AdaptiveLayers && d.Kind == "video" && n > 1 && cl.videoLayers == nil {
		c.adapter = newLayerAdapter(n - 1)
	}
	cl.consumers[c.id] = c
	cl.startReader(c)
	return c, nil
}

func (cl *call) consumerCreated(ctx context.Context, c *consumer) {
	cl.store.update(func(st *CallState) {
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
}

// startReader waits for the consumer's track and reads it on its own
// goroutine (pion's interceptors count and report as packets pass),
// feeding the sink.
func (cl *call) startReader(c *consumer) {
	ctx, cancel := context.WithCancel(cl.ctx)
	c.stopRead = cancel
	cl.wg.Add(1)
	go func() {
		defer cl.wg.Done()
		defer close(c.readerDone)
		track, err := c.c.Track(ctx)
		if err != nil {
			return
		}
		var tr TrackReceiver
		if cl.cfg.Sink != nil {
			tr = cl.openSinkTrack(c, track.Codec())
		}
		cl.readTrack(c, track, tr)
	}()
}

// readTrack copies RTP to the sink until the track ends (the consumer
// or the transport closed).
func (cl *call) readTrack(c *consumer, track *webrtc.TrackRemote, tr TrackReceiver) {
	if tr != nil {
		c.receiver.Store(&trackReceiverBox{tr})
		defer func() {
			if err := tr.Close(); err != nil {
				cl.sinkError(c, err)
			}
		}()
	}
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		if tr != nil {
			tr.WriteRTP(pkt)
		}
		if c.packets.Add(1) == 1 {
			after := time.Since(c.created).Milliseconds()
			_ = cl.q.Add(func(context.Context) {
				cl.emit(ConsumerMedia{ConsumerID: c.id, PeerID: c.peerID, Kind: c.kind, AfterMillis: after})
			})
		}
		c.bytes.Add(uint64(pkt.MarshalSize()))
	}
}

// openSinkTrack asks the sink for a receiver of one consumer's track.
func (cl *call) openSinkTrack(c *consumer, codec webrtc.RTPCodecParameters) TrackReceiver {
	id := c.id
	ad := c.c.AppData()
	return cl.cfg.Sink.OpenTrack(TrackInfo{
		ConsumerID: c.id, ProducerID: c.producerID, PeerID: c.peerID, Kind: c.kind,
		MimeType: codec.MimeType, ClockRate: codec.ClockRate, Channels: codec.Channels,
		StampEpochMs: appDataInt(ad, "stampEpochMs"), StampPeriodMs: appDataInt(ad, "stampPeriodMs"),
		RequestKeyFrame: func() {
			// An RTCP PLI on the consumer's stream reaches the producer
			// one signaling round trip and the task queue sooner than a
			// requestConsumerKeyFrame request, which stays the fallback.
			if err := c.c.RequestKeyFrame(); err != nil {
				_ = cl.q.Add(func(ctx context.Context) { cl.requestKeyFrame(ctx, id) })
			}
		},
		ReportError: func(err error) { cl.sinkError(c, err) },
	})
}

// sinkError surfaces a sink's failure (for example a recording on a full
// disk) as a non-fatal error event.
func (cl *call) sinkError(c *consumer, err error) {
	_ = cl.q.Add(func(context.Context) {
		cl.emit(errorEvent("sink", fmt.Errorf("%s %s from %s: %w", c.kind, c.id, c.peerID, err), false))
	})
}

// closeConsumer removes a consumer (its producer closed, or the accept
// failed).
func (cl *call) closeConsumer(ctx context.Context, c *consumer, reason string) {
	if c.closed {
		return
	}
	c.close()
	delete(cl.consumers, c.id)
	if err := c.c.Close(ctx); err != nil {
		cl.log.Warn("close consumer", "consumer", c.id, "err", err)
		if errors.Is(err, msc.ErrBroken) {
			cl.lost("recv transport", err)
		}
	}
	cl.store.update(func(st *CallState) { delete(st.Consumers, c.id) })
	cl.emit(ConsumerClosed{ConsumerID: c.id, PeerID: c.peerID, Kind: c.kind, Reason: reason})
}

// appDataInt reads an integer from a consumer's appData (JSON numbers
// decode as float64); 0 when absent or not a number.
func appDataInt(ad map[string]any, key string) int64 {
	switch v := ad[key].(type) {
	case float64:
		return int64(v)
	case int64:
		return v
	case int:
		return int64(v)
	}
	return 0
}
