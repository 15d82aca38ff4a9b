package sdk_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// TestLoadBalancedServers: three reference servers, ten rooms, two
// participants each, every client given all three URLs. Every room's
// participants meet on one server (rendezvous order), and the rooms spread
// over the servers. Then one server dies: its rooms fail over, in the same
// order for both participants, and meet again on one server.
func TestLoadBalancedServers(t *testing.T) {
	if testing.Short() {
		t.Skip("long: three servers and twenty clients")
	}
	var servers []*sdktest.Server
	var urls []string
	for i := 0; i < 3; i++ {
		s := sdktest.StartServer(t, sdktest.ServerOptions{})
		servers, urls = append(servers, s), append(urls, s.URL)
	}
	leakCheck(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	type member struct {
		c *sdk.Client
		r *recorder
	}
	rooms := map[string][]member{}
	for i := 0; i < 10; i++ {
		room := fmt.Sprintf("lb-%d", i)
		for _, user := range []string{"a", "b"} {
			c, err := sdk.NewClient(sdk.Config{ServerURLs: urls, ICE: sdk.LoopbackICE(), Consume: sdk.ConsumeOptions{None: true},
				Reconnect: sdk.ReconnectConfig{MaxAttempts: 5, InitialDelay: 100 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			m := member{c, record(c)}
			if err := c.JoinCall(ctx, room, user, ""); err != nil {
				t.Fatal(err)
			}
			rooms[room] = append(rooms[room], m)
		}
	}
	used := map[string]int{}
	for room, ms := range rooms {
		sa, sb := ms[0].c.State().Snapshot().Server, ms[1].c.State().Snapshot().Server
		if sa == "" || sa != sb {
			t.Fatalf("room %s split: a on %q, b on %q", room, sa, sb)
		}
		used[sa]++
		ms[0].r.waitFor(t, room+": a meeting b", 10*time.Second, func(evs []sdk.Event) bool {
			return count(evs, func(e sdk.ParticipantJoined) bool { return e.ID == "b" }) >= 1
		})
	}
	if len(used) < 2 {
		t.Errorf("ten rooms all on one server: %v", used)
	}

	dead := servers[0] // the busiest server dies
	for _, s := range servers {
		if used[s.URL] > used[dead.URL] {
			dead = s
		}
	}
	dead.Kill()
	for room, ms := range rooms {
		if ms[0].c.State().Snapshot().Server != dead.URL {
			continue
		}
		for _, m := range ms {
			m.r.waitFor(t, room+" failing over", 30*time.Second, func(evs []sdk.Event) bool {
				return count(evs, func(e sdk.Reconnected) bool { return e.ServerURL != dead.URL }) == 1
			})
		}
		sa, sb := ms[0].c.State().Snapshot(), ms[1].c.State().Snapshot()
		if sa.Server == dead.URL || sa.Server != sb.Server {
			t.Errorf("room %s after failover: a on %q, b on %q", room, sa.Server, sb.Server)
		}
		waitParticipant(t, ms[0].c, "b")
	}
	for _, ms := range rooms {
		for _, m := range ms {
			if err := m.c.LeaveCall(ctx); err != nil {
				t.Fatal(err)
			}
			<-m.r.done
		}
	}
}

// waitParticipant polls a client's state until peer is in its room.
func waitParticipant(t *testing.T, c *sdk.Client, peer string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, ok := c.State().Snapshot().Participants[peer]; ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never (re)appeared: %+v", peer, c.State().Snapshot())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
