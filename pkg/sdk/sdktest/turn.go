package sdktest

import (
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"
)

// TURN long-term credentials of StartTURN's server.
const (
	TURNRealm    = "callctl.test"
	TURNUser     = "bot"
	TURNPassword = "s3cret"
)

// TURN is a TURN server (pion/turn, in the test process) on 127.0.0.1
// with a UDP and a TCP listener and long-term credentials, relaying to
// loopback peers, as a reference mediasoup server on the same machine
// needs. It counts the bytes exchanged with its clients on each listener
// and remembers the relay addresses it allocated.
type TURN struct {
	UDPAddr, TCPAddr string // host:port of the listeners
	udpBytes         atomic.Uint64
	tcpBytes         atomic.Uint64

	mu     sync.Mutex
	relays []string // "ip:port" of every allocation
}

// StartTURN starts a TURN server, closed when the test ends.
func StartTURN(tb testing.TB) *TURN {
	tb.Helper()
	s := &TURN{}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		_ = pc.Close()
		tb.Fatal(err)
	}
	s.UDPAddr, s.TCPAddr = pc.LocalAddr().String(), ln.Addr().String()
	// Relays on 127.0.0.1, so that they pair with mediasoup's loopback
	// candidates; the permission handler admits loopback peers, which a
	// public TURN server should refuse.
	relay := func() turn.RelayAddressGenerator {
		return &turn.RelayAddressGeneratorStatic{RelayAddress: net.IPv4(127, 0, 0, 1), Address: "127.0.0.1"}
	}
	allowLoopback := func(_ net.Addr, peer net.IP) bool { return peer.IsLoopback() }
	key := turn.GenerateAuthKey(TURNUser, TURNRealm, TURNPassword)
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm: TURNRealm,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			return ra.Username, key, ra.Username == TURNUser
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
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	return s
}

// URL is the server's turn: URL for transport "udp" or "tcp".
func (s *TURN) URL(transport string) string {
	if transport == "tcp" {
		return "turn:" + s.TCPAddr + "?transport=tcp"
	}
	return "turn:" + s.UDPAddr
}

// ICEServer is the pion ICE server entry for URL(transport), with the
// credentials.
func (s *TURN) ICEServer(transport string) webrtc.ICEServer {
	return webrtc.ICEServer{URLs: []string{s.URL(transport)}, Username: TURNUser, Credential: TURNPassword}
}

// Bytes is what the server exchanged with its clients over transport
// ("udp" or "tcp"), both ways.
func (s *TURN) Bytes(transport string) uint64 {
	if transport == "tcp" {
		return s.tcpBytes.Load()
	}
	return s.udpBytes.Load()
}

// Relayed reports whether addr ("ip:port", or "ip:port/proto" as
// sdk.TransportStats has it) is one of the server's relay addresses.
func (s *TURN) Relayed(addr string) bool {
	ipPort, _, _ := strings.Cut(addr, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.relays, ipPort)
}

// Relays lists the relay addresses allocated so far.
func (s *TURN) Relays() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.relays)
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
