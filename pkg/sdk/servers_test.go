package sdk

import (
	"fmt"
	"slices"
	"testing"
)

func TestRendezvousOrder(t *testing.T) {
	servers := []string{"ws://a:1", "ws://b:1", "ws://c:1"}
	first := map[string]int{}
	for i := 0; i < 300; i++ {
		room := fmt.Sprintf("room-%d", i)
		order := rendezvous(room, servers)
		if len(order) != 3 || !slices.Equal(order, rendezvous(room, []string{"ws://c:1", "ws://a:1", "ws://b:1", "ws://a:1"})) {
			t.Fatalf("%s: order %v depends on the input order or duplicates", room, order)
		}
		first[order[0]]++
		// Without its first server a room moves to its second, and rooms
		// of the other servers do not move at all.
		without := rendezvous(room, slices.DeleteFunc(slices.Clone(servers), func(s string) bool { return s == order[0] }))
		if without[0] != order[1] {
			t.Fatalf("%s: without %s it went to %s, want %s", room, order[0], without[0], order[1])
		}
	}
	for _, s := range servers {
		if first[s] < 60 { // 100 expected of 300
			t.Errorf("server %s is first for %d of 300 rooms: %v", s, first[s], first)
		}
	}
}

func TestServerOrderWithoutBalancing(t *testing.T) {
	cfg := Config{ServerURL: "ws://main:1", Reconnect: ReconnectConfig{FallbackURLs: []string{"ws://f1:1", "ws://f2:1"}}}
	if got := cfg.serverOrder("r"); !slices.Equal(got, []string{"ws://main:1", "ws://f1:1", "ws://f2:1"}) {
		t.Errorf("order %v", got)
	}
}
