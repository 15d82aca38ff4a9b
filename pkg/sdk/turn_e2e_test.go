package sdk_test

import (
	"context"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// Relay-only media through a real TURN server (pion/turn, in the test
// process, on 127.0.0.1): both participants may use relay candidates only,
// so every packet between them and mediasoup passes the TURN server.

// TestRelayOnlyThroughTURN: with the relay-only policy, media flows both
// ways through a TURN server reached over UDP, then over TCP, and is
// decoded at the far side.
func TestRelayOnlyThroughTURN(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	t.Logf("mediasoup %s", srv.MediasoupVersion)
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			leakCheck(t)
			testRelayOnly(t, srv.URL, sdktest.StartTURN(t), transport)
		})
	}
}

func testRelayOnly(t *testing.T, serverURL string, ts *sdktest.TURN, transport string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	turn := ts.ICEServer(transport)
	alice := newFaultPeer(t, serverURL, "alice", peerOptions{relay: &turn})
	bob := newFaultPeer(t, serverURL, "bob", peerOptions{relay: &turn})
	room := "turn-" + transport
	alice.join(t, ctx, room)
	bob.join(t, ctx, room)
	bob.waitFlowing(t, ctx, "alice", 15)
	alice.waitFlowing(t, ctx, "bob", 15)
	t.Logf("%s: both decode each other's video %s after the joins began", ts.URL(transport), time.Since(start).Round(time.Millisecond))

	for _, p := range []*faultPeer{alice, bob} {
		st, err := p.c.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Transports) != 2 {
			t.Fatalf("%s: %d transports, want send and recv", p.name, len(st.Transports))
		}
		for _, tr := range st.Transports {
			if !ts.Relayed(tr.LocalAddress) {
				t.Errorf("%s %s transport: local candidate %s is not a relay address of the TURN server (%v)", p.name, tr.Transport, tr.LocalAddress, ts.Relays())
			}
			t.Logf("%s %s: %s -> %s, %d bytes sent, %d received", p.name, tr.Transport, tr.LocalAddress, tr.RemoteAddress, tr.BytesSent, tr.BytesReceived)
		}
	}
	// Media keeps flowing through the relay: more frames decoded, more
	// bytes through the TURN listener.
	frames, bytes := bob.frames(ctx, "alice"), ts.Bytes(transport)
	sdktest.WaitUntil(t, 15*time.Second, "more frames decoded and bytes relayed", func() bool {
		return decodedSince(bob.frames(ctx, "alice"), frames) && ts.Bytes(transport) > bytes+50_000
	})
	t.Logf("%s: %d bytes exchanged with the TURN server's clients", ts.URL(transport), ts.Bytes(transport))
}
