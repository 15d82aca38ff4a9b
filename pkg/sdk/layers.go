package sdk

import (
	"context"
	"errors"
	"fmt"
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
		if cl.consumers[consumerID] == nil || cl.sess == nil {
			return fmt.Errorf("%w: %s", ErrNoSuchConsumer, consumerID)
		}
		return cl.sess.conn.RequestConsumerKeyFrame(ctx, consumerID)
	})
}

func (cl *call) setPreferredLayers(ctx context.Context, c *consumer, l Layers) error {
	var temporal *int
	if l.Temporal >= 0 {
		temporal = &l.Temporal
	}
	if err := cl.sess.conn.SetConsumerPreferredLayers(ctx, c.id, l.Spatial, temporal); err != nil {
		return err
	}
	s := l.Spatial
	c.preferredLayer = &s
	return nil
}

// requestKeyFrame is the sink's fire-and-forget key-frame request.
func (cl *call) requestKeyFrame(ctx context.Context, consumerID string) {
	if cl.ended || cl.sess == nil || cl.consumers[consumerID] == nil {
		return
	}
	if err := cl.sess.conn.RequestConsumerKeyFrame(ctx, consumerID); err != nil {
		cl.log.Debug("requestConsumerKeyFrame", "consumer", consumerID, "err", err)
	}
}
