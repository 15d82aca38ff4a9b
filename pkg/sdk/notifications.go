package sdk

import (
	"context"

	"github.com/callctl/callctl/pkg/sdk/internal/demo"
)

// handleNotification applies a server notification to the call state.
func (cl *call) handleNotification(ctx context.Context, n demo.Notification) {
	switch n := n.(type) {
	case demo.NewPeer:
		p := participant(n.Peer)
		cl.store.update(func(st *CallState) { st.Participants[p.ID] = p })
		cl.emit(ParticipantJoined{Participant: p})
	case demo.PeerClosed:
		cl.store.update(func(st *CallState) { delete(st.Participants, n.PeerID) })
		cl.emit(ParticipantLeft{ID: n.PeerID})
	case demo.PeerDisplayNameChanged:
		cl.store.update(func(st *CallState) {
			if p, ok := st.Participants[n.PeerID]; ok {
				p.DisplayName = n.DisplayName
				st.Participants[n.PeerID] = p
			}
		})
	case demo.ConsumerClosed:
		if c := cl.consumers[n.ConsumerID]; c != nil {
			cl.closeConsumer(ctx, c, "producer closed")
		}
	case demo.ConsumerPaused:
		cl.producerPaused(n.ConsumerID, true)
	case demo.ConsumerResumed:
		cl.producerPaused(n.ConsumerID, false)
	case demo.ConsumerLayersChanged:
		if c := cl.consumers[n.ConsumerID]; c != nil {
			c.spatialLayer, c.temporalLayer = n.SpatialLayer, n.TemporalLayer
			cl.emit(ConsumerLayersChanged{ConsumerID: n.ConsumerID, SpatialLayer: n.SpatialLayer, TemporalLayer: n.TemporalLayer})
		}
	case demo.ConsumerScore:
		if c := cl.consumers[n.ConsumerID]; c != nil {
			c.score, c.producerScore = n.Score, n.ProducerScore
		}
	case demo.ProducerScore:
		for _, p := range cl.producers {
			if p.id() == n.ProducerID {
				for ssrc, score := range n.Scores {
					p.scores[ssrc] = score
				}
			}
		}
	case demo.ActiveSpeaker:
		cl.emit(ActiveSpeaker{PeerID: n.PeerID, Volume: n.Volume, Changed: cl.speakers.observe(n.PeerID)})
	case demo.DataConsumerClosed:
		cl.closeDataConsumer(n.DataConsumerID)
	case demo.Other:
		cl.log.Debug("unhandled notification", "method", n.Method)
	}
}

// producerPaused records that the producer behind a consumer paused or
// resumed.
func (cl *call) producerPaused(consumerID string, paused bool) {
	c := cl.consumers[consumerID]
	if c == nil {
		return
	}
	c.producerPaused = paused
	cl.store.update(func(st *CallState) {
		cs := st.Consumers[c.id]
		cs.ProducerPaused = paused
		st.Consumers[c.id] = cs
	})
	if paused {
		cl.emit(ConsumerPaused{ConsumerID: c.id, PeerID: c.peerID, Kind: c.kind})
	} else {
		cl.emit(ConsumerResumed{ConsumerID: c.id, PeerID: c.peerID, Kind: c.kind})
	}
}
