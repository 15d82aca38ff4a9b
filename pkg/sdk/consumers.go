package sdk

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Layers selects a simulcast/SVC layer: spatial 0 is the lowest
// resolution. Temporal -1 means "the highest available".
type Layers struct {
	Spatial  int `json:"spatialLayer"`
	Temporal int `json:"temporalLayer"`
}

// ErrNoSuchConsumer is returned for an unknown consumer id.
var ErrNoSuchConsumer = errors.New("no such consumer")

// SetPreferredLayers asks the server to forward the given layers of one
// video consumer (setConsumerPreferredLayers).
func (c *Client) SetPreferredLayers(ctx context.Context, consumerID string, l Layers) error {
	return c.onCall(ctx, func(ctx context.Context, cl *call) error {
		cons := cl.consumers[consumerID]
		if cons == nil {
			return fmt.Errorf("%w: %s", ErrNoSuchConsumer, consumerID)
		}
		cons.adapter = nil // an explicit choice ends adaptation
		return cl.setPreferredLayers(ctx, cons, l)
	})
}

// SetVideoLayers applies preferred layers to every current and future
// video consumer.
func (c *Client) SetVideoLayers(ctx context.Context, l Layers) error {
	return c.onCall(ctx, func(ctx context.Context, cl *call) error {
		cl.videoLayers = &l
		for _, cons := range cl.consumers {
			if cons.kind == "video" {
				cons.adapter = nil // an explicit choice ends adaptation
				if err := cl.setPreferredLayers(ctx, cons, l); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// RequestKeyFrame asks the server for a key frame on a video consumer.
func (c *Client) RequestKeyFrame(ctx context.Context, consumerID string) error {
	return c.onCall(ctx, func(ctx context.Context, cl *call) error {
		if cl.consumers[consumerID] == nil {
			return fmt.Errorf("%w: %s", ErrNoSuchConsumer, consumerID)
		}
		return cl.control(ctx, "requestConsumerKeyFrame", map[string]any{"consumerId": consumerID})
	})
}

// onCall runs f on the current call's queue.
func (c *Client) onCall(ctx context.Context, f func(ctx context.Context, cl *call) error) error {
	c.mu.Lock()
	cl := c.cur
	c.mu.Unlock()
	if cl == nil {
		return ErrNotJoined
	}
	return cl.q.Run(ctx, func(ctx context.Context) error {
		if cl.ended {
			return ErrNotJoined
		}
		return f(ctx, cl)
	})
}

func (cl *call) setPreferredLayers(ctx context.Context, c *consumer, l Layers) error {
	data := map[string]any{"consumerId": c.id, "spatialLayer": l.Spatial}
	if l.Temporal >= 0 {
		data["temporalLayer"] = l.Temporal
	}
	if err := cl.control(ctx, "setConsumerPreferredLayers", data); err != nil {
		return err
	}
	s := l.Spatial
	c.preferredLayer = &s
	return nil
}

// requestKeyFrame is the sink's fire-and-forget key-frame request.
func (cl *call) requestKeyFrame(ctx context.Context, consumerID string) {
	if cl.ended || cl.consumers[consumerID] == nil {
		return
	}
	if err := cl.control(ctx, "requestConsumerKeyFrame", map[string]any{"consumerId": consumerID}); err != nil {
		cl.log.Debug("requestConsumerKeyFrame", "consumer", consumerID, "err", err)
	}
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
		for _, enc := range p.sender.GetParameters().Encodings {
			if st := cl.send.stats.get(uint32(enc.SSRC)); st != nil {
				cl.meter(uint32(enc.SSRC)).sample(st.OutboundRTPStreamStats.BytesSent, now)
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
					if !cl.ended && !cl.recovering {
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
type ServerStreamStats struct {
	Type        string  `json:"type"`
	SSRC        uint32  `json:"ssrc"`
	RID         string  `json:"rid,omitempty"`
	MimeType    string  `json:"mimeType"`
	Bitrate     float64 `json:"bitrate"`
	PacketCount uint64  `json:"packetCount"`
	ByteCount   uint64  `json:"byteCount"`
	PacketsLost int64   `json:"packetsLost"`
	NackCount   uint64  `json:"nackCount"`
	PliCount    uint64  `json:"pliCount"`
	Score       int     `json:"score"`
}

// ServerProducerStats asks the server for its statistics of our producer
// of kind ("audio" or "video"): one entry per received stream, so a
// simulcast producer shows each layer.
func (c *Client) ServerProducerStats(ctx context.Context, kind string) ([]ServerStreamStats, error) {
	var out []ServerStreamStats
	err := c.onCall(ctx, func(ctx context.Context, cl *call) error {
		p := cl.producers[kind]
		if p == nil {
			return fmt.Errorf("no %s producer", kind)
		}
		raw := []ServerStreamStats{}
		var wrapped struct {
			Stats []ServerStreamStats `json:"stats"`
		}
		var dst any = &raw
		if cl.dialect == DialectTS {
			dst = &wrapped
		}
		if err := cl.request(ctx, "getProducerStats", map[string]any{"producerId": p.id}, dst); err != nil {
			return err
		}
		if cl.dialect == DialectTS {
			raw = wrapped.Stats
		}
		out = raw
		return nil
	})
	return out, err
}
