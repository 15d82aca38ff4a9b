package fleet

import (
	"math"
	"slices"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
)

// Stats is one aggregate sample of the fleet: the data of a fleet.stats
// event.
type Stats struct {
	Time time.Time `json:"time"`
	// Participants counts participants by where they are, plus rejoins.
	Participants Counts `json:"participants"`
	// JoinMillis are percentiles of the participants' join times.
	JoinMillis Percentiles `json:"joinMs"`
	// Sent and Received sum, per kind, what publishers send and what
	// subscribers receive (from each participant's latest sample:
	// counters restart at a rejoin).
	Sent     map[string]SentStats     `json:"sent"`
	Received map[string]ReceivedStats `json:"received"`
	// Rooms counts the participants in each room that are in the call.
	Rooms []RoomCount `json:"rooms"`
	// EventsDropped counts events the output could not keep up with.
	EventsDropped uint64 `json:"eventsDropped"`
	// Expect is the expectation check's state (nil without one).
	Expect *ExpectSummary `json:"expect,omitempty"`
	// Shard is this process's shard of the fleet (nil when not sharded).
	Shard *Shard `json:"shard,omitempty"`
}

// Counts are participants by state.
type Counts struct {
	Planned      int `json:"planned"`
	Pending      int `json:"pending"`
	Joining      int `json:"joining"`
	Joined       int `json:"joined"` // in the call now
	Reconnecting int `json:"reconnecting"`
	Left         int `json:"left"`
	Failed       int `json:"failed"`
	// EverJoined counts participants that completed a join at some point.
	EverJoined int `json:"everJoined"`
	// Rejoined counts reconnections after a lost call, over all participants.
	Rejoined int `json:"rejoined"`
}

// Percentiles summarise a set of durations in milliseconds (nearest-rank).
type Percentiles struct {
	Count int   `json:"count"`
	P50   int64 `json:"p50"`
	P90   int64 `json:"p90"`
	P99   int64 `json:"p99"`
	Max   int64 `json:"max"`
}

// SentStats sums the producers of one kind.
type SentStats struct {
	Producers int    `json:"producers"`
	Packets   uint64 `json:"packets"`
	Bytes     uint64 `json:"bytes"`
	// PacketsLost is what the server's receiver reports say it lost.
	PacketsLost int64 `json:"packetsLost"`
}

// ReceivedStats sums the consumers of one kind.
type ReceivedStats struct {
	Consumers     int    `json:"consumers"`
	Packets       uint64 `json:"packets"`
	Bytes         uint64 `json:"bytes"`
	PacketsLost   int64  `json:"packetsLost"`
	FramesDecoded uint64 `json:"framesDecoded"`
	Freezes       uint64 `json:"freezes"`
	// Decoding counts consumers that decoded at least one frame (video)
	// or sample (audio).
	Decoding int `json:"decoding"`
}

// RoomCount is one room's participants in the call.
type RoomCount struct {
	Room        string `json:"room"`
	Publishers  int    `json:"publishers"`
	Subscribers int    `json:"subscribers"`
}

// sample is what aggregation needs of one participant.
type sample struct {
	info  Info
	stats *sdk.CallStats
}

// aggregate sums samples into Stats. It is pure: now is the sample time.
func aggregate(now time.Time, samples []sample) Stats {
	s := Stats{Time: now.UTC(), Sent: map[string]SentStats{}, Received: map[string]ReceivedStats{}, Rooms: []RoomCount{}}
	rooms := map[string]*RoomCount{}
	var joins []int64
	for _, smp := range samples {
		in := smp.info
		s.Participants.add(in)
		s.EventsDropped += in.EventsDropped
		if in.JoinMillis > 0 {
			joins = append(joins, in.JoinMillis)
		}
		if in.State.inCall() {
			rc := rooms[in.Room]
			if rc == nil {
				rc = &RoomCount{Room: in.Room}
				rooms[in.Room] = rc
			}
			if in.Role == Publisher {
				rc.Publishers++
			} else {
				rc.Subscribers++
			}
		}
		if smp.stats != nil {
			addSent(s.Sent, smp.stats.Producers)
			addReceived(s.Received, smp.stats.Consumers)
		}
	}
	s.JoinMillis = percentiles(joins)
	for _, rc := range rooms {
		s.Rooms = append(s.Rooms, *rc)
	}
	slices.SortFunc(s.Rooms, func(a, b RoomCount) int { return compareRooms(a.Room, b.Room) })
	return s
}

func (c *Counts) add(in Info) {
	c.Planned++
	switch in.State {
	case StatePending:
		c.Pending++
	case StateJoining:
		c.Joining++
	case StateJoined:
		c.Joined++
	case StateReconnecting:
		c.Reconnecting++
	case StateLeft:
		c.Left++
	case StateFailed:
		c.Failed++
	}
	if in.JoinMillis > 0 {
		c.EverJoined++
	}
	c.Rejoined += in.Rejoins
}

func addSent(m map[string]SentStats, producers []sdk.ProducerStats) {
	for _, p := range producers {
		s := m[p.Kind]
		s.Producers++
		for _, l := range p.Layers {
			s.Packets += l.PacketsSent
			s.Bytes += l.BytesSent
			s.PacketsLost += l.PacketsLost
		}
		m[p.Kind] = s
	}
}

func addReceived(m map[string]ReceivedStats, consumers []sdk.ConsumerStats) {
	for _, c := range consumers {
		r := m[c.Kind]
		r.Consumers++
		r.Packets += c.PacketsReceived
		r.Bytes += c.BytesReceived
		r.PacketsLost += c.PacketsLost
		r.FramesDecoded += c.FramesDecoded
		r.Freezes += c.Freezes
		if c.FramesDecoded > 0 || c.SamplesDecoded > 0 {
			r.Decoding++
		}
		m[c.Kind] = r
	}
}

// percentiles computes nearest-rank percentiles of ms (reordered).
func percentiles(ms []int64) Percentiles {
	if len(ms) == 0 {
		return Percentiles{}
	}
	slices.Sort(ms)
	rank := func(p float64) int64 {
		i := int(math.Ceil(p/100*float64(len(ms)))) - 1
		return ms[max(0, min(i, len(ms)-1))]
	}
	return Percentiles{Count: len(ms), P50: rank(50), P90: rank(90), P99: rank(99), Max: ms[len(ms)-1]}
}

// compareRooms orders fleet-3 before fleet-10.
func compareRooms(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
