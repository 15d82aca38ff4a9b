package fleet

import (
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
)

func TestPercentiles(t *testing.T) {
	var ms []int64
	for i := int64(1); i <= 100; i++ {
		ms = append(ms, 101-i) // unsorted
	}
	p := percentiles(ms)
	if p != (Percentiles{Count: 100, P50: 50, P90: 90, P99: 99, Max: 100}) {
		t.Errorf("1..100: %+v", p)
	}
	if p := percentiles([]int64{7}); p != (Percentiles{Count: 1, P50: 7, P90: 7, P99: 7, Max: 7}) {
		t.Errorf("one: %+v", p)
	}
	if p := percentiles(nil); p != (Percentiles{}) {
		t.Errorf("none: %+v", p)
	}
}

func TestAggregate(t *testing.T) {
	pub := func(id, room string, state State, joinMs int64, packets uint64) sample {
		return sample{
			info: Info{Member: Member{Role: Publisher, ID: id, Room: room}, State: state, JoinMillis: joinMs},
			stats: &sdk.CallStats{Producers: []sdk.ProducerStats{
				{Kind: "video", Layers: []sdk.LayerStats{{PacketsSent: packets, BytesSent: packets * 1000}, {PacketsSent: 1, BytesSent: 100, PacketsLost: 2}}},
				{Kind: "audio", Layers: []sdk.LayerStats{{PacketsSent: 50, BytesSent: 5000}}},
			}},
		}
	}
	sub := sample{
		info: Info{Member: Member{Role: Subscriber, ID: "s0", Room: "fleet-0"}, State: StateReconnecting, JoinMillis: 300, Rejoins: 2, EventsDropped: 3},
		stats: &sdk.CallStats{Consumers: []sdk.ConsumerStats{
			{PeerID: "p0", Kind: "video", PacketsReceived: 90, BytesReceived: 9000, PacketsLost: 1, ReceiveStats: sdk.ReceiveStats{FramesDecoded: 30, Freezes: 1}},
			{PeerID: "p1", Kind: "video", PacketsReceived: 10, BytesReceived: 1000},
			{PeerID: "p0", Kind: "audio", PacketsReceived: 50, ReceiveStats: sdk.ReceiveStats{SamplesDecoded: 48000}},
		}},
	}
	now := time.Unix(5, 0)
	s := aggregate(now, []sample{
		pub("p0", "fleet-0", StateJoined, 100, 100),
		pub("p1", "fleet-10", StateJoined, 200, 10),
		{info: Info{Member: Member{Role: Publisher, ID: "p2", Room: "fleet-2"}, State: StateFailed, Error: "refused"}},
		{info: Info{Member: Member{Role: Subscriber, ID: "s1", Room: "fleet-1"}, State: StatePending}},
		sub,
	})
	want := Counts{Planned: 5, Pending: 1, Joined: 2, Reconnecting: 1, Failed: 1, EverJoined: 3, Rejoined: 2}
	if s.Participants != want {
		t.Errorf("counts %+v, want %+v", s.Participants, want)
	}
	if s.JoinMillis != (Percentiles{Count: 3, P50: 200, P90: 300, P99: 300, Max: 300}) {
		t.Errorf("join ms %+v", s.JoinMillis)
	}
	if v := s.Sent["video"]; v != (SentStats{Producers: 2, Packets: 112, Bytes: 110200, PacketsLost: 4}) {
		t.Errorf("sent video %+v", v)
	}
	if a := s.Sent["audio"]; a.Producers != 2 || a.Packets != 100 {
		t.Errorf("sent audio %+v", a)
	}
	if v := s.Received["video"]; v != (ReceivedStats{Consumers: 2, Packets: 100, Bytes: 10000, PacketsLost: 1, FramesDecoded: 30, Freezes: 1, Decoding: 1}) {
		t.Errorf("received video %+v", v)
	}
	if a := s.Received["audio"]; a.Decoding != 1 || a.Consumers != 1 {
		t.Errorf("received audio %+v", a)
	}
	wantRooms := []RoomCount{{"fleet-0", 1, 1}, {"fleet-10", 1, 0}}
	if len(s.Rooms) != 2 || s.Rooms[0] != wantRooms[0] || s.Rooms[1] != wantRooms[1] {
		t.Errorf("rooms %+v, want %+v (only participants in a call, fleet-10 after fleet-0)", s.Rooms, wantRooms)
	}
	if s.EventsDropped != 3 || !s.Time.Equal(now) {
		t.Errorf("dropped %d, time %v", s.EventsDropped, s.Time)
	}
}
