package sdk

import (
	"context"
	"regexp"
	"strconv"
	"time"
)

// Adaptive layer selection (Config.AdaptiveLayers): the server already
// adapts simulcast layers to the downlink bandwidth it estimates; what it
// cannot see is the client's side: packets lost on the way in, and a
// decoder that freezes (e.g. a bot short of CPU). The adapter steps a
// consumer's preferred spatial layer down when either happens and back up
// after a calm period.
const (
	adaptDownLoss    = 0.05             // packet loss over one interval that steps down
	adaptUpAfter     = 10 * time.Second // calm time before stepping up again
	adaptSettleAfter = 3 * time.Second  // after a change, ignore the switch's own freeze
)

// ConsumerAdapted reports that adaptive layer selection changed the
// preferred spatial layer of a consumer (the server's consumer.layers
// event follows when it forwards the new layer).
type ConsumerAdapted struct {
	ConsumerID   string `json:"consumerId"`
	PeerID       string `json:"peerId"`
	SpatialLayer int    `json:"spatialLayer"`
	Reason       string `json:"reason"` // "loss", "freeze" or "stable"
}

func (ConsumerAdapted) Type() string { return "consumer.adapted" }
func (ConsumerAdapted) isEvent()     {}

// layerAdapter is the per-consumer policy: a pure function of what it is
// told, so it is tested without a network.
type layerAdapter struct {
	layer, max int
	started    bool
	calmSince  time.Time
	changedAt  time.Time
	lost, recv int64
	freezes    uint64
}

func newLayerAdapter(maxLayer int) *layerAdapter {
	return &layerAdapter{layer: maxLayer, max: maxLayer}
}

// observe takes cumulative counters once per interval and returns the
// new preferred layer when it changes.
func (a *layerAdapter) observe(now time.Time, lost, received int64, freezes uint64) (layer int, reason string, changed bool) {
	dLost, dRecv, dFreezes := lost-a.lost, received-a.recv, freezes-a.freezes
	a.lost, a.recv, a.freezes = lost, received, freezes
	if !a.started || now.Sub(a.changedAt) < adaptSettleAfter {
		if !a.started {
			a.started, a.calmSince = true, now
		}
		return a.layer, "", false
	}
	loss := 0.0
	if dLost > 0 && dLost+dRecv > 0 {
		loss = float64(dLost) / float64(dLost+dRecv)
	}
	switch {
	case loss > adaptDownLoss || dFreezes > 0:
		a.calmSince = now
		if a.layer == 0 {
			return a.layer, "", false
		}
		reason = "freeze"
		if loss > adaptDownLoss {
			reason = "loss"
		}
		a.layer--
	case a.layer < a.max && now.Sub(a.calmSince) >= adaptUpAfter:
		a.layer++
		a.calmSince, reason = now, "stable"
	default:
		return a.layer, "", false
	}
	a.changedAt = now
	return a.layer, reason, true
}

var scalabilityMode = regexp.MustCompile(`^[LS](\d+)T(\d+)`)

// spatialLayers reads the number of spatial layers from a consumer's
// scalabilityMode ("L3T3", "S3T3_KEY"); 1 when absent.
func spatialLayers(mode string) int {
	m := scalabilityMode.FindStringSubmatch(mode)
	if m == nil {
		return 1
	}
	n, _ := strconv.Atoi(m[1])
	return max(n, 1)
}

// adaptLayers runs the adapters once (on the queue, after sampleRates).
func (cl *call) adaptLayers(ctx context.Context, now time.Time) {
	for _, c := range cl.consumers {
		a := c.adapter
		if a == nil || c.producerPaused {
			continue
		}
		var lost, recv int64
		if st := c.c.GetStats(); st != nil {
			lost, recv = st.InboundRTPStreamStats.PacketsLost, int64(st.InboundRTPStreamStats.PacketsReceived)
		}
		var freezes uint64
		if box := c.receiver.Load(); box != nil {
			freezes = box.Stats().Freezes
		}
		layer, reason, changed := a.observe(now, lost, recv, freezes)
		if !changed {
			continue
		}
		cl.log.Info("adapting video layer", "consumer", c.id, "peer", c.peerID, "spatial", layer, "reason", reason)
		if cl.sess == nil {
			return
		}
		if err := cl.setPreferredLayers(ctx, c, Layers{Spatial: layer, Temporal: -1}); err != nil {
			cl.emit(errorEvent("setConsumerPreferredLayers", err, false))
			continue
		}
		cl.emit(ConsumerAdapted{ConsumerID: c.id, PeerID: c.peerID, SpatialLayer: layer, Reason: reason})
	}
}
