package sdk

import (
	"context"
	"math"
	"sync/atomic"
	"time"
)

// Send-side adaptation (Config.SendAdaptation): pion's GCC estimates the
// uplink from the server's transport-wide congestion control feedback;
// a simulcast video whose encodings do not fit in the estimate (minus
// what the other producers send) stops its top layers while the link
// shows congestion, and resumes them, one at a time, once it is calm. A
// stopped layer's RTP is dropped before pion sends it
// (msc.Producer.SetMaxSpatialLayer), and the server's consumers switch to
// the layers that still arrive. A source that encodes live
// (EncoderControl) also stops encoding the stopped layers and lowers the
// bitrate of the highest layer still sent when even that does not fit
// (adaptBitrates); recovery restores the nominal bitrates.
//
// pion's GCC has no probing: it never estimates much above what is sent,
// so with a layer stopped it cannot tell that the link recovered.
// Resuming the layer is the probe; one that congests again within
// adaptFailedRaise was premature and doubles the wait before the next,
// so a link that stays short is probed ever more rarely (at most once a
// minute).
const (
	adaptInterval    = 500 * time.Millisecond
	adaptDownHold    = 2 * time.Second  // short (and congested) this long before a layer stops
	adaptUpHold      = 5 * time.Second  // room this long before a layer resumes
	adaptUpHoldMax   = 60 * time.Second // cap of the backed-off wait
	adaptFailedRaise = 15 * time.Second // a drop this soon after a raise: the raise failed
	adaptUpMargin    = 1.15             // headroom asked of the estimate to resume a layer
	adaptOverhead    = 1.1              // RTP, SRTP and header extensions on top of the encoders' rates
	adaptSmoothing   = 0.3              // weight of a new bitrate measurement
	adaptCalmLoss    = 0.05             // average loss (GCC's) below which the link is calm
)

// Reasons of a ProducerAdapted event.
const (
	AdaptCongestion = "congestion" // layers stopped: the estimate is short
	AdaptRecovered  = "recovered"  // a layer resumed: the estimate has room
)

// ProducerAdapted reports that send-side adaptation changed what a
// producer sends: its highest encoding now sent, out of Layers.
type ProducerAdapted struct {
	ProducerID      string `json:"producerId"`
	Kind            string `json:"kind"`
	MaxSpatialLayer int    `json:"maxSpatialLayer"`
	Layers          int    `json:"layers"`
	EstimateBps     int    `json:"estimateBps"` // the uplink estimate (GCC)
	BudgetBps       int    `json:"budgetBps"`   // what of it is left for this producer
	NeededBps       int    `json:"neededBps"`   // what the layers now sent need
	Reason          string `json:"reason"`
	// BitratesBps are the encoders' target bitrates now, low to high (0
	// for a stopped layer), when the source encodes live.
	BitratesBps []int `json:"bitratesBps,omitempty"`
}

// EncoderControl is implemented by live video sources whose encoders
// send-side adaptation can act on (capture.VideoSource).
type EncoderControl interface {
	// SetLayerActive stops or resumes encoding one layer.
	SetLayerActive(layer int, active bool)
	// SetLayerBitrate sets one layer's target bitrate; 0 restores its
	// nominal one.
	SetLayerBitrate(layer, bps int)
}

// adaptMinBitrate is the share of its nominal bitrate below which the
// highest layer sent is not squeezed (a starved encoder only smears).
const adaptMinBitrate = 0.5

// adaptBitrates returns the encoders' target bitrates when layers
// 0..top are sent within budget (bits/s, overhead included): nominal
// ones when they fit, else the top layer is lowered to what is left, to
// no less than adaptMinBitrate of its nominal rate; stopped layers get 0.
// It is pure.
func adaptBitrates(nominal []int, top, budget int) []int {
	out := make([]int, len(nominal))
	lower := 0
	for i := 0; i < top && i < len(nominal); i++ {
		out[i] = nominal[i]
		lower += nominal[i]
	}
	if top < 0 || top >= len(nominal) {
		return out
	}
	left := int(float64(budget)/adaptOverhead) - lower
	out[top] = max(min(nominal[top], left), int(float64(nominal[top])*adaptMinBitrate))
	return out
}

func (ProducerAdapted) Type() string { return "producer.adapted" }
func (ProducerAdapted) isEvent()     {}

// sendLayers decides a simulcast producer's highest layer from the
// bandwidth it may use. It is pure: time comes from the caller.
type sendLayers struct {
	rates      []float64 // each layer's bitrate: nominal, then as measured while sent
	needs      []int     // bits/s needed to send layers 0..i, from rates
	cur        int       // highest layer sent
	shortSince time.Time
	// shortCongested: the link showed congestion since shortSince.
	shortCongested bool
	roomSince      time.Time
	raisedAt       time.Time
	upHold         time.Duration
}

// newSendLayers takes each layer's nominal bitrate, low to high.
func newSendLayers(bitrates []int) *sendLayers {
	a := &sendLayers{rates: make([]float64, len(bitrates)), needs: make([]int, len(bitrates)), cur: len(bitrates) - 1, upHold: adaptUpHold}
	for i, b := range bitrates {
		a.rates[i] = float64(b)
	}
	a.sumNeeds()
	return a
}

func (a *sendLayers) sumNeeds() {
	sum := 0.0
	for i, r := range a.rates {
		sum += r
		a.needs[i] = int(sum * adaptOverhead)
	}
}

// measured updates a layer's bitrate from what it was measured sending
// (encoders rarely hit their targets; a synthetic picture needs far
// less). Smoothed, since key frames make it jump.
func (a *sendLayers) measured(layer int, bps float64) {
	if layer < 0 || layer > a.cur || bps <= 0 {
		return // a stopped layer keeps its last rate
	}
	a.rates[layer] += adaptSmoothing * (bps - a.rates[layer])
	a.sumNeeds()
}

// fits is the highest layer whose need fits in budget (0 at least: the
// lowest layer is never stopped).
func (a *sendLayers) fits(budget int) int {
	l := 0
	for i, n := range a.needs {
		if n <= budget {
			l = i
		}
	}
	return l
}

// step takes the budget and whether the link is calm (no delay
// overuse, little loss) at now, and returns the layer to send and
// whether that changed.
//
// A layer stops when the budget has been short for adaptDownHold with
// signs of congestion meanwhile: an estimate that merely lags (GCC only
// learns what the link carries from what is sent) is no reason. A layer
// resumes after the link was calm for the (backed-off) up hold, and the
// budget covers what is sent now. When the budget also covers the next
// layer it resumes after adaptUpHold; otherwise (with a layer stopped
// GCC's estimate often cannot show room for it) resuming it is the probe,
// after the backed-off hold.
func (a *sendLayers) step(now time.Time, budget int, calm bool) (int, bool) {
	if a.cur == len(a.needs)-1 && !a.raisedAt.IsZero() && now.Sub(a.raisedAt) > 2*adaptFailedRaise {
		a.upHold = adaptUpHold // the link carried everything for a while: forgive
	}
	if fit := a.fits(budget); fit < a.cur {
		a.roomSince = time.Time{}
		if a.shortSince.IsZero() {
			a.shortSince, a.shortCongested = now, false
		}
		a.shortCongested = a.shortCongested || !calm
		if now.Sub(a.shortSince) < adaptDownHold || !a.shortCongested {
			return a.cur, false
		}
		if !a.raisedAt.IsZero() && now.Sub(a.raisedAt) < adaptFailedRaise {
			a.upHold = min(2*a.upHold, adaptUpHoldMax)
		}
		a.cur, a.shortSince = fit, time.Time{}
		return a.cur, true
	}
	a.shortSince = time.Time{}
	if a.cur == len(a.needs)-1 || !calm {
		a.roomSince = time.Time{}
		return a.cur, false
	}
	if a.roomSince.IsZero() {
		a.roomSince = now
	}
	hold := a.upHold // a probe: the estimate cannot tell
	if float64(budget) >= float64(a.needs[a.cur+1])*adaptUpMargin {
		hold = adaptUpHold // the estimate has room (no backoff)
	}
	if now.Sub(a.roomSince) < hold {
		return a.cur, false
	}
	a.cur++
	a.roomSince, a.raisedAt = time.Time{}, now
	return a.cur, true
}

// sendAdaptation is one producer's adaptation loop state.
type sendAdaptation struct {
	adapter *sendLayers
	sampled []time.Time // per layer: the rate sample last taken
	stopped atomic.Bool // the producer is gone: the ticker goroutine ends
}

// startSendAdaptation adapts a simulcast video producer to the uplink
// estimate (with Config.SendAdaptation) until it is replaced or closed.
// Sources that do not describe their layers' bitrates are left alone.
func (cl *call) startSendAdaptation(pr *producer) {
	ls, ok := pr.source.(LayeredSource)
	if !cl.cfg.SendAdaptation || pr.kind() != "video" || !ok || len(pr.p.RtpParameters().Encodings) < 2 {
		return
	}
	layers := ls.Layers()
	if len(layers) != len(pr.p.RtpParameters().Encodings) {
		return
	}
	rates := make([]int, len(layers))
	for i, l := range layers {
		rates[i] = l.MaxBitrate
	}
	sa := &sendAdaptation{adapter: newSendLayers(rates), sampled: make([]time.Time, len(rates))}
	pr.adapt = sa
	cl.wg.Add(1)
	go func() {
		defer cl.wg.Done()
		tick := time.NewTicker(adaptInterval)
		defer tick.Stop()
		for !sa.stopped.Load() {
			select {
			case <-cl.ctx.Done():
				return
			case <-tick.C:
			}
			_ = cl.q.Add(func(context.Context) {
				if cl.ended || cl.sess == nil || cl.producers[pr.slot] != pr {
					sa.stopped.Store(true)
					return
				}
				cl.adaptSend(pr, time.Now())
			})
		}
	}()
}

// adaptSend runs one adaptation step of a producer, on the queue.
func (cl *call) adaptSend(pr *producer, now time.Time) {
	a := pr.adapt.adapter
	if pr.paused || cl.sess.send == nil {
		a.shortSince, a.roomSince = time.Time{}, time.Time{}
		return
	}
	est, ok := cl.sess.send.BandwidthEstimate()
	if !ok {
		return
	}
	cl.measureLayers(pr)
	budget := est.TargetBps - cl.otherSendBps(pr)
	calm := est.Usage != "overuse" && est.Loss < adaptCalmLoss
	layer, changed := a.step(now, budget, calm)
	cl.log.Debug("send adaptation step", "producer", pr.id(), "estimate", est, "budgetBps", budget,
		"calm", calm, "needsBps", a.needs, "maxSpatialLayer", a.cur)
	if !changed {
		return
	}
	before := pr.p.MaxSpatialLayer()
	if err := pr.p.SetMaxSpatialLayer(layer); err != nil {
		cl.log.Warn("send adaptation", "producer", pr.id(), "err", err)
		return
	}
	reason := AdaptCongestion
	if layer > before {
		reason = AdaptRecovered
		pr.source.RequestKeyFrame(layer) // receivers switching up need one
	}
	bitrates := cl.controlEncoders(pr, layer, budget, reason)
	cl.log.Info("send adaptation", "producer", pr.id(), "maxSpatialLayer", layer, "estimateBps", est.TargetBps,
		"budgetBps", budget, "reason", reason, "delayBps", est.DelayBps, "lossBps", est.LossBps, "loss", est.Loss)
	cl.emit(ProducerAdapted{
		ProducerID: pr.id(), Kind: pr.kind(), MaxSpatialLayer: layer, Layers: len(a.needs),
		EstimateBps: est.TargetBps, BudgetBps: budget, NeededBps: a.needs[layer], Reason: reason,
		BitratesBps: bitrates,
	})
}

// controlEncoders applies a layer change to a live source's encoders:
// layers above top stop encoding, and the top layer's bitrate fits the
// budget on congestion (nominal again on recovery). It returns the
// bitrates set, nil when the source has no encoders to control (clips,
// fleets' shared sources).
func (cl *call) controlEncoders(pr *producer, top, budget int, reason string) []int {
	ec, ok := pr.source.(EncoderControl)
	ls, ok2 := pr.source.(LayeredSource)
	if !ok || !ok2 {
		return nil
	}
	nominal := make([]int, 0, 3)
	for _, l := range ls.Layers() {
		nominal = append(nominal, l.MaxBitrate)
	}
	if reason == AdaptRecovered {
		budget = math.MaxInt32 // nominal rates: the estimate lags what is not sent
	}
	rates := adaptBitrates(nominal, top, budget)
	for i, r := range rates {
		ec.SetLayerActive(i, i <= top)
		if i <= top {
			ec.SetLayerBitrate(i, r)
		}
	}
	return rates
}

// measureLayers feeds the layers' measured bitrates (sampled once a
// second) to the adapter.
func (cl *call) measureLayers(pr *producer) {
	for i, enc := range pr.p.RtpParameters().Encodings {
		if m := cl.rates[enc.SSRC]; m != nil && !m.at.IsZero() && !m.at.Equal(pr.adapt.sampled[i]) {
			pr.adapt.sampled[i] = m.at
			pr.adapt.adapter.measured(i, m.bps)
		}
	}
}

// otherSendBps is what the producers other than pr send, as last
// measured (bits/s).
func (cl *call) otherSendBps(pr *producer) int {
	total := 0.0
	for _, p := range cl.producers {
		if p == pr {
			continue
		}
		for _, enc := range p.p.RtpParameters().Encodings {
			if m := cl.rates[enc.SSRC]; m != nil {
				total += m.bps
			}
		}
	}
	return int(total)
}
