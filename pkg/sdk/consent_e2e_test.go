package sdk_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// consentCallLength outlasts mediasoup's default ICE consent timeout (30 s)
// twice: a client that stopped sending STUN Binding requests once media
// flows both ways (pion/ice before v4.0.8 did) loses its transports after
// 30 s, and their media stops.
const consentCallLength = 65 * time.Second

// TestCallOutlastsICEConsentTimeout keeps a two-party call up for 65 s on
// the current mediasoup (consent checks on, default timeout) and checks
// every 5 s that media kept arriving both ways, then that the server still
// sees every transport ICE-connected. Long: skipped with -short; mediasoup
// 3.8.4 has no consent timeout, so the legacy leg skips it too.
func TestCallOutlastsICEConsentTimeout(t *testing.T) {
	if testing.Short() {
		t.Skipf("long test (%v call); runs without -short", consentCallLength)
	}
	opts := sdktest.ServerOptions{}
	if opts.Legacy() {
		t.Skipf("mediasoup %s has no ICE consent timeout", sdktest.LegacyMediasoupVersion)
	}
	srv := sdktest.StartServer(t, opts)
	leakCheck(t)
	ctx, cancel := context.WithTimeout(context.Background(), consentCallLength+time.Minute)
	defer cancel()

	clients := map[string]*sdk.Client{}
	recorders := map[string]*recorder{}
	for _, name := range []string{"alice", "bob"} {
		c := newParticipant(t, srv.URL)
		recorders[name] = record(c)
		if err := c.JoinCall(ctx, "consent", name, name); err != nil {
			t.Fatal(err)
		}
		clients[name] = c
	}
	for name, r := range recorders {
		other := map[string]string{"alice": "bob", "bob": "alice"}[name]
		r.waitFor(t, name+": audio and video from "+other, 15*time.Second, func(evs []sdk.Event) bool {
			return count(evs, func(e sdk.ConsumerMedia) bool { return e.PeerID == other }) == 2
		})
	}

	received := map[string]uint64{} // client/consumer -> packets at the last sample
	sample := func(elapsed time.Duration) {
		t.Helper()
		for name, c := range clients {
			s, err := c.Stats(ctx)
			if err != nil {
				t.Fatalf("%v into the call: %s: stats: %v", elapsed, name, err)
			}
			if len(s.Consumers) != 2 {
				t.Fatalf("%v into the call: %s has %d consumers, want 2", elapsed, name, len(s.Consumers))
			}
			for _, cs := range s.Consumers {
				key := name + "/" + cs.ConsumerID
				if cs.PacketsReceived <= received[key] {
					t.Fatalf("%v into the call: %s's %s consumer stalled at %d packets (ICE consent lost?)",
						elapsed, name, cs.Kind, cs.PacketsReceived)
				}
				received[key] = cs.PacketsReceived
			}
			for _, ts := range s.Transports {
				if ts.State != "connected" {
					t.Fatalf("%v into the call: %s's transport %+v is not connected", elapsed, name, ts)
				}
			}
		}
	}
	start := time.Now()
	sample(0)
	tick := time.NewTicker(5 * time.Second) // sampling period of a fixed-length call
	defer tick.Stop()
	for time.Since(start) < consentCallLength {
		select {
		case <-tick.C:
			sample(time.Since(start).Round(time.Second))
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	if ok, detail := serverTransportsConnected(srv, "consent", 4); !ok {
		t.Errorf("after %v the server's transports are not all ICE-connected: %s", consentCallLength, detail)
	}
	t.Logf("packets received after %v: %v", consentCallLength, received)

	for name, c := range clients {
		if err := c.LeaveCall(ctx); err != nil {
			t.Fatal(err)
		}
		<-recorders[name].done
		if c.Err() != nil {
			t.Errorf("%s: %v", name, c.Err())
		}
	}
}

// serverTransportsConnected reads the reference server's /status and
// reports whether room has n transports, all in ICE state connected or
// completed.
func serverTransportsConnected(srv *sdktest.Server, room string, n int) (bool, string) {
	trs, err := srv.RoomTransports(room)
	if err != nil {
		return false, err.Error()
	}
	var states []string
	ok := 0
	for _, tr := range trs {
		states = append(states, fmt.Sprintf("%s:%s", tr.PeerID, tr.IceState))
		if tr.IceState == "connected" || tr.IceState == "completed" {
			ok++
		}
	}
	return ok == n && len(states) == n, strings.Join(states, " ")
}
