package sdk_test

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"

	"github.com/callctl/callctl/pkg/capture"
	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// Relay-only media through a real TURN server (pion/turn, in the test
// process, on 127.0.0.1): both participants may use relay candidates only,
// so every packet between them and mediasoup passes the TURN server.

const (
	turnRealm = "callctl.test"
	turnUser  = "bot"
	turnPass  = "s3cret"
)

// testTURN is a TURN server with a UDP and a TCP listener and long-term
// credentials, relaying to loopback peers (mediasoup is on 127.0.0.1),
// that counts the bytes exchanged with its clients on each listener and
// remembers the relay addresses it allocated.
type testTURN struct {
	udpAddr, tcpAddr string
	udpBytes         atomic.Uint64
	tcpBytes         atomic.Uint64

	mu     sync.Mutex
	relays []string // "ip:port" of every allocation
}

func startTURN(t *testing.T) *testTURN {
	t.Helper()
	s := &testTURN{}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		_ = pc.Close()
		t.Fatal(err)
	}
	s.udpAddr, s.tcpAddr = pc.LocalAddr().String(), ln.Addr().String()
	// The default generator would relay from an address mediasoup's
	// loopback candidates cannot be paired with; the permission handler
	// admits loopback peers, which a public TURN server would refuse.
	relay := func() turn.RelayAddressGenerator {
		return &turn.RelayAddressGeneratorStatic{RelayAddress: net.IPv4(127, 0, 0, 1), Address: "127.0.0.1"}
	}
	allowLoopback := func(_ net.Addr, peer net.IP) bool { return peer.IsLoopback() }
	key := turn.GenerateAuthKey(turnUser, turnRealm, turnPass)
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm: turnRealm,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			return ra.Username, key, ra.Username == turnUser
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn: &countingPacketConn{PacketConn: pc, n: &s.udpBytes}, RelayAddressGenerator: relay(), PermissionHandler: allowLoopback,
		}},
		ListenerConfigs: []turn.ListenerConfig{{
			Listener: &countingListener{Listener: ln, n: &s.tcpBytes}, RelayAddressGenerator: relay(), PermissionHandler: allowLoopback,
		}},
		EventHandler: turn.EventHandler{
			OnAllocationCreated: func(_, _ net.Addr, _, _, _ string, relayAddr net.Addr, _ int) {
				s.mu.Lock()
				s.relays = append(s.relays, relayAddr.String())
				s.mu.Unlock()
			},
		},
	})
	if err != nil {
		_, _ = pc.Close(), ln.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// relayed reports whether addr ("ip:port/proto", as TransportStats has
// it) is one of the server's relay addresses.
func (s *testTURN) relayed(addr string) bool {
	ipPort, _, _ := strings.Cut(addr, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.relays, ipPort)
}

type countingPacketConn struct {
	net.PacketConn
	n *atomic.Uint64
}

func (c *countingPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(b)
	c.n.Add(uint64(max(n, 0)))
	return n, addr, err
}

func (c *countingPacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(b, addr)
	c.n.Add(uint64(max(n, 0)))
	return n, err
}

type countingListener struct {
	net.Listener
	n *atomic.Uint64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: l.n}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Uint64
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(uint64(max(n, 0)))
	return n, err
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.n.Add(uint64(max(n, 0)))
	return n, err
}

// newRelayPeer is a faultPeer (320x180 VP8 and a tone, decoding what it
// receives) whose media may only go through the TURN server at url.
func newRelayPeer(t *testing.T, serverURL, name, turnURL string) *faultPeer {
	t.Helper()
	audio, err := capture.NewToneAudio(capture.AudioOptions{})
	if err != nil {
		t.Fatal(err)
	}
	video, err := capture.NewSyntheticVideo(capture.VideoOptions{Width: 320, Height: 180, FPS: 15})
	if err != nil {
		t.Fatal(err)
	}
	sink, err := capture.NewReceiveSink(capture.ReceiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ice := sdk.LoopbackICE()
	ice.Servers = []webrtc.ICEServer{{URLs: []string{turnURL}, Username: turnUser, Credential: turnPass}}
	ice.RelayOnly = true
	c, err := sdk.NewClient(sdk.Config{ServerURL: serverURL, Audio: audio, Video: video, Sink: sink, ICE: ice})
	if err != nil {
		t.Fatal(err)
	}
	return &faultPeer{name: name, c: c, r: record(c)}
}

// TestRelayOnlyThroughTURN: with the relay-only policy, media flows both
// ways through a TURN server reached over UDP, then over TCP, and is
// decoded at the far side.
func TestRelayOnlyThroughTURN(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	t.Logf("mediasoup %s", srv.MediasoupVersion)
	for _, tc := range []struct {
		name, query string
		counter     func(*testTURN) *atomic.Uint64
	}{
		{"udp", "", func(s *testTURN) *atomic.Uint64 { return &s.udpBytes }},
		{"tcp", "?transport=tcp", func(s *testTURN) *atomic.Uint64 { return &s.tcpBytes }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			ts := startTURN(t)
			addr := ts.udpAddr
			if tc.name == "tcp" {
				addr = ts.tcpAddr
			}
			testRelayOnly(t, srv.URL, ts, "turn:"+addr+tc.query, "turn-"+tc.name, tc.counter(ts))
		})
	}
}

func testRelayOnly(t *testing.T, serverURL string, ts *testTURN, turnURL, room string, relayedBytes *atomic.Uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	alice := newRelayPeer(t, serverURL, "alice", turnURL)
	bob := newRelayPeer(t, serverURL, "bob", turnURL)
	alice.join(t, ctx, room)
	bob.join(t, ctx, room)
	bob.waitFlowing(t, ctx, "alice", 15)
	alice.waitFlowing(t, ctx, "bob", 15)
	t.Logf("%s: both decode each other's video %s after the joins began", turnURL, time.Since(start).Round(time.Millisecond))

	for _, p := range []*faultPeer{alice, bob} {
		st, err := p.c.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Transports) != 2 {
			t.Fatalf("%s: %d transports, want send and recv", p.name, len(st.Transports))
		}
		for _, tr := range st.Transports {
			if !ts.relayed(tr.LocalAddress) {
				t.Errorf("%s %s transport: local candidate %s is not a relay address of the TURN server (%v)", p.name, tr.Transport, tr.LocalAddress, ts.relays)
			}
			t.Logf("%s %s: %s -> %s, %d bytes sent, %d received", p.name, tr.Transport, tr.LocalAddress, tr.RemoteAddress, tr.BytesSent, tr.BytesReceived)
		}
	}
	// Media keeps flowing through the relay: more frames decoded, more
	// bytes through the TURN listener.
	frames, bytes := bob.frames(ctx, "alice"), relayedBytes.Load()
	waitUntil(t, 15*time.Second, "more frames decoded and bytes relayed", func() bool {
		return decodedSince(bob.frames(ctx, "alice"), frames) && relayedBytes.Load() > bytes+50_000
	})
	t.Logf("%s: %d bytes exchanged with the TURN server's clients", turnURL, relayedBytes.Load())
}

// waitUntil polls cond until it holds or d passes.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

