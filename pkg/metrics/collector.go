package metrics

import (
	"cmp"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callctl/callctl/pkg/fleet"
	"github.com/callctl/callctl/pkg/sdk"
)

// JoinBuckets are the join-duration histogram's upper bounds, in seconds.
var JoinBuckets = []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 30}

// States are the values of callctl_participants' state label, every one
// exported (zero included) for every role and room of the plan.
var States = []fleet.State{
	fleet.StatePending, fleet.StateJoining, fleet.StateJoined,
	fleet.StateReconnecting, fleet.StateLeft, fleet.StateFailed,
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("callctl_"+name, help, labels, nil)
}

var (
	descParticipants = desc("participants", "Participants by state.", "role", "room", "state")
	descJoins        = desc("joins_total", "Participants whose first join completed.", "role", "room")
	descJoinFailures = desc("join_failures_total", "Participants that failed before they ever joined.", "role", "room")
	descRejoins      = desc("rejoins_total", "Rejoins after a lost call.", "role", "room")
	descJoinDuration = desc("join_duration_seconds", "How long participants' first joins took.", "role")
	descRecvPackets  = desc("received_packets_total", "RTP packets subscribers received.", "room", "kind")
	descRecvBytes    = desc("received_bytes_total", "RTP bytes subscribers received.", "room", "kind")
	descRecvLost     = desc("received_packets_lost_total", "RTP packets subscribers lost (sequence gaps never filled).", "room", "kind")
	descSentPackets  = desc("sent_packets_total", "RTP packets publishers sent, all simulcast layers.", "room", "kind")
	descSentBytes    = desc("sent_bytes_total", "RTP bytes publishers sent, all simulcast layers.", "room", "kind")
	descFrames       = desc("frames_decoded_total", "Video frames subscribers decoded.", "room")
	descFreezes      = desc("freezes_total", "Video freezes subscribers saw (W3C definition).", "room")
	descHeight       = desc("decoded_frame_height_pixels", "The lowest frame height among the room's video consumers that decode now.", "room")
	descShard        = desc("shard_info", "This process's shard of the fleet (always 1).", "shard_index", "shard_count")
	descBuild        = desc("build_info", "callctl's version and Go version (always 1).", "version", "goversion")
)

// collector is callctl's prometheus.Collector: state from the fleet's
// snapshots at scrape time, media counters from the running totals.
type collector struct {
	snapshots func() []fleet.Snapshot
	shard     fleet.Shard
	version   string
	mu        sync.Mutex // guards totals
	totals    *totals
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descParticipants, descJoins, descJoinFailures, descRejoins, descJoinDuration,
		descRecvPackets, descRecvBytes, descRecvLost, descSentPackets, descSentBytes,
		descFrames, descFreezes, descHeight, descShard, descBuild,
	} {
		ch <- d
	}
}

func (c *collector) observe(m fleet.Member, st sdk.CallStats) {
	c.mu.Lock()
	c.totals.observe(m, st)
	c.mu.Unlock()
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descShard, prometheus.GaugeValue, 1, strconv.Itoa(c.shard.Index), strconv.Itoa(c.shard.Count))
	ch <- prometheus.MustNewConstMetric(descBuild, prometheus.GaugeValue, 1, c.version, runtime.Version())
	snaps := c.snapshots()
	collectParticipants(ch, snaps)
	collectJoinDurations(ch, snaps)
	collectHeights(ch, snaps)
	c.mu.Lock()
	sums := c.totals.sums()
	c.mu.Unlock()
	collectMedia(ch, sums)
}

// roleRoom is the label pair of the participant metrics.
type roleRoom struct{ role, room string }

// participantCounts are one role and room's participants.
type participantCounts struct {
	states                   map[fleet.State]int
	joins, failures, rejoins int
}

func collectParticipants(ch chan<- prometheus.Metric, snaps []fleet.Snapshot) {
	by := map[roleRoom]*participantCounts{}
	var order []roleRoom
	for _, s := range snaps {
		k := roleRoom{string(s.Info.Role), s.Info.Room}
		pc := by[k]
		if pc == nil {
			pc = &participantCounts{states: map[fleet.State]int{}}
			by[k] = pc
			order = append(order, k)
		}
		pc.states[s.Info.State]++
		pc.rejoins += s.Info.Rejoins
		switch {
		case s.Info.JoinMillis > 0:
			pc.joins++
		case s.Info.State == fleet.StateFailed:
			pc.failures++
		}
	}
	for _, k := range order {
		pc := by[k]
		for _, st := range States {
			ch <- prometheus.MustNewConstMetric(descParticipants, prometheus.GaugeValue, float64(pc.states[st]), k.role, k.room, string(st))
		}
		ch <- prometheus.MustNewConstMetric(descJoins, prometheus.CounterValue, float64(pc.joins), k.role, k.room)
		ch <- prometheus.MustNewConstMetric(descJoinFailures, prometheus.CounterValue, float64(pc.failures), k.role, k.room)
		ch <- prometheus.MustNewConstMetric(descRejoins, prometheus.CounterValue, float64(pc.rejoins), k.role, k.room)
	}
}

// collectJoinDurations builds the histogram from every participant's
// first join time: the set only grows, so the histogram is monotonic.
func collectJoinDurations(ch chan<- prometheus.Metric, snaps []fleet.Snapshot) {
	type hist struct {
		count   uint64
		sum     float64
		buckets map[float64]uint64
	}
	by := map[fleet.Role]*hist{}
	for _, s := range snaps {
		if s.Info.JoinMillis <= 0 {
			continue
		}
		h := by[s.Info.Role]
		if h == nil {
			h = &hist{buckets: make(map[float64]uint64, len(JoinBuckets))}
			by[s.Info.Role] = h
		}
		sec := float64(s.Info.JoinMillis) / 1000
		h.count++
		h.sum += sec
		for _, b := range JoinBuckets {
			if sec <= b {
				h.buckets[b]++ // cumulative: every bound at or above
			}
		}
	}
	for _, role := range []fleet.Role{fleet.Publisher, fleet.Subscriber} {
		if h := by[role]; h != nil {
			ch <- prometheus.MustNewConstHistogram(descJoinDuration, h.count, h.sum, h.buckets, string(role))
		}
	}
}

// collectHeights exports, per room, the lowest frame height that the
// video consumers of subscribers in the call decode now.
func collectHeights(ch chan<- prometheus.Metric, snaps []fleet.Snapshot) {
	lowest := map[string]int{}
	for _, s := range snaps {
		if s.Stats == nil || (s.Info.State != fleet.StateJoined && s.Info.State != fleet.StateReconnecting) {
			continue
		}
		for _, c := range s.Stats.Consumers {
			if c.Kind != "video" || c.FramesDecoded == 0 || c.Height <= 0 {
				continue
			}
			if h, ok := lowest[s.Info.Room]; !ok || c.Height < h {
				lowest[s.Info.Room] = c.Height
			}
		}
	}
	for room, h := range lowest {
		ch <- prometheus.MustNewConstMetric(descHeight, prometheus.GaugeValue, float64(h), room)
	}
}

func collectMedia(ch chan<- prometheus.Metric, sums map[seriesKey]counts) {
	keys := make([]seriesKey, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	// A stable order only for readable output; Prometheus does not care.
	slices.SortFunc(keys, func(a, b seriesKey) int {
		switch {
		case a.room != b.room:
			return cmp.Compare(a.room, b.room)
		case a.kind != b.kind:
			return cmp.Compare(a.kind, b.kind)
		}
		return int(a.dir) - int(b.dir)
	})
	frames, freezes := map[string]uint64{}, map[string]uint64{}
	var rooms []string
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, k := range keys {
		c := sums[k]
		if k.dir == sent {
			counter(descSentPackets, c.packets, k.room, k.kind)
			counter(descSentBytes, c.bytes, k.room, k.kind)
			continue
		}
		counter(descRecvPackets, c.packets, k.room, k.kind)
		counter(descRecvBytes, c.bytes, k.room, k.kind)
		counter(descRecvLost, c.lost, k.room, k.kind)
		if k.kind == "video" {
			if _, seen := frames[k.room]; !seen {
				rooms = append(rooms, k.room)
			}
			frames[k.room] += c.frames
			freezes[k.room] += c.freezes
		}
	}
	for _, room := range rooms {
		counter(descFrames, frames[room], room)
		counter(descFreezes, freezes[room], room)
	}
}
