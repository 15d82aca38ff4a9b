package netem

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// Net is a transport.Net whose UDP sockets are impaired: give it to pion
// (SettingEngine.SetNet, or the ICEConfig.Net of pkg/sdk and
// pkg/mediasoupclient) and every datagram its sockets send or receive
// goes through the Spec. TCP, name resolution and interface listing are
// the wrapped Net's, unimpaired.
//
// The impairment is one link per direction shared by all sockets, so a
// rate limit caps the sum of their traffic, like an access line. Set and
// Cut change it at run time. Each socket runs two goroutines until it is
// closed (pion closes its sockets with the PeerConnection); Close closes
// whatever sockets are still open.
type Net struct {
	transport.Net
	send, recv *link
	now        func() time.Time
	stats      netStats

	mu    sync.Mutex
	conns map[*conn]struct{}
}

// Options configure New.
type Options struct {
	// Base is the network wrapped (default: the operating system's,
	// pion's stdnet).
	Base transport.Net
	// Seed seeds the random losses, jitter and reordering, making a run
	// repeatable for the same packet sequence (default 1).
	Seed uint64
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// New returns a Net impairing traffic as spec says.
func New(spec Spec, opts Options) (*Net, error) {
	base := opts.Base
	if base == nil {
		var err error
		if base, err = stdnet.NewNet(); err != nil {
			return nil, fmt.Errorf("netem: %w", err)
		}
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Net{
		Net:  base,
		send: newLink(spec.Send, opts.Seed), recv: newLink(spec.Recv, opts.Seed+1),
		now: opts.Now, conns: map[*conn]struct{}{},
	}, nil
}

// Set changes the impairment from now on. Packets already delayed keep
// their delivery time.
func (n *Net) Set(spec Spec) {
	n.send.set(spec.Send)
	n.recv.set(spec.Recv)
}

// Spec is the impairment in effect.
func (n *Net) Spec() Spec { return Spec{Send: n.send.impairment(), Recv: n.recv.impairment()} }

// Cut drops every packet both ways while on (including those already
// delayed), as an unplugged cable would; Cut(false) restores the link.
func (n *Net) Cut(on bool) {
	n.send.setCut(on)
	n.recv.setCut(on)
}

func (n *Net) isCut(send bool) bool {
	if send {
		return n.send.isCut()
	}
	return n.recv.isCut()
}

// ListenUDP opens an impaired UDP socket.
func (n *Net) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	u, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	return n.track(newConn(n, u, false)), nil
}

// ListenPacket opens an impaired socket for udp networks; others are the
// wrapped Net's.
func (n *Net) ListenPacket(network, address string) (net.PacketConn, error) {
	pc, err := n.Net.ListenPacket(network, address)
	if err != nil || !strings.HasPrefix(network, "udp") {
		return pc, err
	}
	return n.track(newConn(n, pc, false)), nil
}

// DialUDP opens an impaired connected UDP socket.
func (n *Net) DialUDP(network string, laddr, raddr *net.UDPAddr) (transport.UDPConn, error) {
	u, err := n.Net.DialUDP(network, laddr, raddr)
	if err != nil {
		return nil, err
	}
	return n.track(newConn(n, u, true)), nil
}

func (n *Net) track(c *conn) *conn {
	n.mu.Lock()
	n.conns[c] = struct{}{}
	n.mu.Unlock()
	return c
}

func (n *Net) forget(c *conn) {
	n.mu.Lock()
	delete(n.conns, c)
	n.mu.Unlock()
}

// Close closes every socket still open and waits for their goroutines.
// The Net stays usable.
func (n *Net) Close() error {
	n.mu.Lock()
	conns := make([]*conn, 0, len(n.conns))
	for c := range n.conns {
		conns = append(conns, c)
	}
	n.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
	return nil
}

// DirectionStats counts what one direction did with the packets offered.
type DirectionStats struct {
	Packets   uint64 // offered
	Delivered uint64 // passed (delayed or not); those cut in flight are also in Cut
	Lost      uint64 // random loss
	QueueDrop uint64 // the rate limiter's queue was full
	Cut       uint64 // dropped by Cut
	Overflow  uint64 // received but not read in time (receive only)
}

// Stats are both directions' counters.
type Stats struct {
	Send, Recv DirectionStats
}

// Stats returns the counters since New.
func (n *Net) Stats() Stats {
	return Stats{Send: n.stats.send.snapshot(), Recv: n.stats.recv.snapshot()}
}

type netStats struct{ send, recv dirCounters }

func (s *netStats) dir(send bool) *dirCounters {
	if send {
		return &s.send
	}
	return &s.recv
}

type dirCounters struct {
	packets, delivered, lost, queueDrop, cut, overflow atomic.Uint64
}

func (d *dirCounters) count(r dropReason) {
	d.packets.Add(1)
	switch r {
	case pass:
		d.delivered.Add(1)
	case dropLoss:
		d.lost.Add(1)
	case dropQueue:
		d.queueDrop.Add(1)
	case dropCut:
		d.cut.Add(1)
	}
}

func (d *dirCounters) snapshot() DirectionStats {
	return DirectionStats{
		Packets: d.packets.Load(), Delivered: d.delivered.Load(), Lost: d.lost.Load(),
		QueueDrop: d.queueDrop.Load(), Cut: d.cut.Load(), Overflow: d.overflow.Load(),
	}
}
