package metrics

import (
	"github.com/callctl/callctl/pkg/fleet"
	"github.com/callctl/callctl/pkg/sdk"
)

// direction tells sent (producer) from received (consumer) streams.
type direction uint8

const (
	received direction = iota
	sent
)

// seriesKey is one series of the media counters: bounded labels only.
type seriesKey struct {
	dir        direction
	room, kind string
}

// counts are one stream's (or one series') running totals.
type counts struct {
	packets, bytes, lost, frames, freezes uint64
}

func (c *counts) add(o counts) {
	c.packets += o.packets
	c.bytes += o.bytes
	c.lost += o.lost
	c.frames += o.frames
	c.freezes += o.freezes
}

// raise makes c the larger of c and o, field by field: a stream's counter
// that went backwards (a restarted interceptor) never makes a total shrink.
func (c *counts) raise(o counts) {
	c.packets = max(c.packets, o.packets)
	c.bytes = max(c.bytes, o.bytes)
	c.lost = max(c.lost, o.lost)
	c.frames = max(c.frames, o.frames)
	c.freezes = max(c.freezes, o.freezes)
}

// stream is one producer or consumer of a participant, as last sampled.
type stream struct {
	key seriesKey
	counts
}

// totals keeps monotonic media counters out of the fleet's samples, which
// restart at a rejoin and lose a stream when it closes. Each
// participant's current streams are kept by producer or consumer id;
// when a sample no longer has a stream, its last counts move into its
// series' retired base. Memory is therefore bounded by the streams open
// now plus the series (room × kind × direction).
type totals struct {
	streams map[string]map[string]*stream // participant id → stream id → stream
	retired map[seriesKey]counts
}

func newTotals() *totals {
	return &totals{streams: map[string]map[string]*stream{}, retired: map[seriesKey]counts{}}
}

// observe folds one sample of participant m into the totals.
func (t *totals) observe(m fleet.Member, st sdk.CallStats) {
	prev := t.streams[m.ID]
	cur := make(map[string]*stream, len(st.Producers)+len(st.Consumers))
	merge := func(id string, k seriesKey, c counts) {
		s := prev[id]
		if s == nil {
			s = &stream{key: k}
		}
		s.raise(c)
		cur[id] = s
	}
	for _, p := range st.Producers {
		var c counts
		for _, l := range p.Layers {
			c.packets += l.PacketsSent
			c.bytes += l.BytesSent
		}
		merge("p:"+p.ProducerID, seriesKey{sent, m.Room, p.Kind}, c)
	}
	for _, c := range st.Consumers {
		id := c.ConsumerID
		if id == "" { // never seen from the SDK; keeps distinct streams apart anyway
			id = c.ProducerID + "/" + c.Kind
		}
		merge("c:"+id, seriesKey{received, m.Room, c.Kind}, counts{
			packets: c.PacketsReceived, bytes: c.BytesReceived, lost: uint64(max(c.PacketsLost, 0)),
			frames: c.FramesDecoded, freezes: c.Freezes,
		})
	}
	for id, s := range prev {
		if _, open := cur[id]; !open {
			r := t.retired[s.key]
			r.add(s.counts)
			t.retired[s.key] = r
		}
	}
	t.streams[m.ID] = cur
}

// sums adds up every series: retired plus open streams.
func (t *totals) sums() map[seriesKey]counts {
	out := make(map[seriesKey]counts, len(t.retired))
	for k, c := range t.retired {
		out[k] = c
	}
	for _, streams := range t.streams {
		for _, s := range streams {
			c := out[s.key]
			c.add(s.counts)
			out[s.key] = c
		}
	}
	return out
}
