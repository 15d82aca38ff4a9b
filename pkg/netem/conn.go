package netem

import (
	"container/heap"
	"net"
	"os"
	"sync"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/deadline"
)

// inboxSize bounds the packets received and ready for ReadFrom; beyond
// it arrivals are dropped, as a full socket buffer would.
const inboxSize = 1024

// readBufferSize fits any UDP datagram.
const readBufferSize = 65536

// packet is one datagram in flight through the impairment.
type packet struct {
	at   time.Time
	seq  uint64 // FIFO among packets due at the same time
	send bool
	data []byte
	addr net.Addr // the destination (send) or the source (receive)
}

// packetHeap orders packets by delivery time.
type packetHeap []*packet

func (h packetHeap) Len() int { return len(h) }
func (h packetHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h packetHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *packetHeap) Push(x any)   { *h = append(*h, x.(*packet)) }
func (h *packetHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return p
}

// conn is an impaired UDP socket. Two goroutines serve it until Close:
// a reader that takes datagrams off the real socket into the receive
// impairment, and a scheduler that delivers delayed packets both ways.
type conn struct {
	n     *Net
	under net.PacketConn
	// write sends on the real socket (Write for a connected socket,
	// whose WriteTo refuses an address).
	write func(b []byte, addr net.Addr) (int, error)

	inbox        chan *packet
	readDeadline *deadline.Deadline
	readDone     chan struct{} // closed when the reader stopped, with readErr
	readErr      error
	closed       chan struct{}
	closeOnce    sync.Once
	wg           sync.WaitGroup

	mu          sync.Mutex // guards the following
	queue       packetHeap
	seq         uint64
	pendingSend int // delayed packets per direction: while any wait,
	pendingRecv int // new ones queue behind them
	wake        chan struct{}
}

var _ transport.UDPConn = (*conn)(nil)

func newConn(n *Net, under net.PacketConn, connected bool) *conn {
	c := &conn{
		n: n, under: under,
		inbox: make(chan *packet, inboxSize), readDeadline: deadline.New(),
		readDone: make(chan struct{}), closed: make(chan struct{}), wake: make(chan struct{}, 1),
	}
	c.write = under.WriteTo
	if w, ok := under.(interface{ Write([]byte) (int, error) }); ok && connected {
		c.write = func(b []byte, _ net.Addr) (int, error) { return w.Write(b) }
	}
	c.wg.Add(2)
	go c.readLoop()
	go c.scheduleLoop()
	return c
}

// readLoop feeds what the real socket receives into the receive side.
func (c *conn) readLoop() {
	defer c.wg.Done()
	defer close(c.readDone)
	buf := make([]byte, readBufferSize)
	for {
		n, addr, err := c.under.ReadFrom(buf)
		if n > 0 {
			c.offer(false, buf[:n], addr)
		}
		if err != nil {
			c.readErr = err
			return
		}
	}
}

// offer runs one packet through a direction's impairment: dropped,
// delivered now, or queued for later.
func (c *conn) offer(send bool, b []byte, addr net.Addr) {
	l, st := c.n.recv, &c.n.stats.recv
	if send {
		l, st = c.n.send, &c.n.stats.send
	}
	now := c.n.now()
	v := l.admit(now, len(b))
	st.count(v.drop)
	if v.drop != pass {
		return
	}
	c.mu.Lock()
	pending := &c.pendingRecv
	if send {
		pending = &c.pendingSend
	}
	if !v.at.After(now) && *pending == 0 {
		c.mu.Unlock()
		c.deliver(&packet{send: send, data: b, addr: addr}, true)
		return
	}
	*pending++
	c.seq++
	heap.Push(&c.queue, &packet{at: v.at, seq: c.seq, send: send, data: append([]byte(nil), b...), addr: addr})
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// deliver hands a packet to the real socket or to ReadFrom. borrowed
// means data is the caller's buffer and must be copied to be kept.
func (c *conn) deliver(p *packet, borrowed bool) {
	if p.send {
		_, _ = c.write(p.data, p.addr) // a lost datagram, as on a real network
		return
	}
	if borrowed {
		p.data = append([]byte(nil), p.data...)
	}
	select {
	case c.inbox <- p:
	default:
		c.n.stats.recv.overflow.Add(1)
	}
}

// scheduleLoop delivers queued packets when they are due.
func (c *conn) scheduleLoop() {
	defer c.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := c.deliverDue()
		timer.Reset(wait)
		select {
		case <-c.closed:
			return
		case <-c.wake:
		case <-timer.C:
		}
	}
}

// deliverDue delivers every packet that is due and returns the time
// until the next one.
func (c *conn) deliverDue() time.Duration {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.mu.Unlock()
			return time.Hour
		}
		now := c.n.now()
		if wait := c.queue[0].at.Sub(now); wait > 0 {
			c.mu.Unlock()
			return wait
		}
		p := heap.Pop(&c.queue).(*packet)
		if p.send {
			c.pendingSend--
		} else {
			c.pendingRecv--
		}
		c.mu.Unlock()
		if c.n.isCut(p.send) { // cut while in flight
			c.n.stats.dir(p.send).cut.Add(1)
			continue
		}
		c.deliver(p, false)
	}
}

// ReadFrom returns the next received packet that made it through.
func (c *conn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case p := <-c.inbox:
		return copy(b, p.data), p.addr, nil
	default:
	}
	select {
	case p := <-c.inbox:
		return copy(b, p.data), p.addr, nil
	case <-c.closed:
		return 0, nil, c.opError("read", net.ErrClosed)
	case <-c.readDone:
		return 0, nil, c.readErr
	case <-c.readDeadline.Done():
		return 0, nil, c.opError("read", os.ErrDeadlineExceeded)
	}
}

// WriteTo sends b to addr through the send impairment. A dropped packet
// counts as written, as on a real network.
func (c *conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	select {
	case <-c.closed:
		return 0, c.opError("write", net.ErrClosed)
	default:
	}
	c.offer(true, b, addr)
	return len(b), nil
}

func (c *conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "udp", Source: c.under.LocalAddr(), Err: err}
}

// Close closes the real socket and waits for the conn's goroutines.
func (c *conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closed)
		err = c.under.Close()
		c.wg.Wait()
		c.n.forget(c)
	})
	return err
}

func (c *conn) LocalAddr() net.Addr { return c.under.LocalAddr() }

func (c *conn) RemoteAddr() net.Addr {
	if r, ok := c.under.(interface{ RemoteAddr() net.Addr }); ok {
		return r.RemoteAddr()
	}
	return nil
}

func (c *conn) SetDeadline(t time.Time) error {
	c.readDeadline.Set(t)
	return c.under.SetWriteDeadline(t)
}

func (c *conn) SetReadDeadline(t time.Time) error {
	c.readDeadline.Set(t)
	return nil
}

func (c *conn) SetWriteDeadline(t time.Time) error { return c.under.SetWriteDeadline(t) }

func (c *conn) SetReadBuffer(bytes int) error {
	if s, ok := c.under.(interface{ SetReadBuffer(int) error }); ok {
		return s.SetReadBuffer(bytes)
	}
	return nil
}

func (c *conn) SetWriteBuffer(bytes int) error {
	if s, ok := c.under.(interface{ SetWriteBuffer(int) error }); ok {
		return s.SetWriteBuffer(bytes)
	}
	return nil
}

func (c *conn) Read(b []byte) (int, error) {
	n, _, err := c.ReadFrom(b)
	return n, err
}

func (c *conn) ReadFromUDP(b []byte) (int, *net.UDPAddr, error) {
	n, addr, err := c.ReadFrom(b)
	ua, _ := addr.(*net.UDPAddr)
	return n, ua, err
}

// ReadMsgUDP returns no out-of-band data: the impairment does not keep it.
func (c *conn) ReadMsgUDP(b, _ []byte) (n, oobn, flags int, addr *net.UDPAddr, err error) {
	n, addr, err = c.ReadFromUDP(b)
	return n, 0, 0, addr, err
}

func (c *conn) Write(b []byte) (int, error) { return c.WriteTo(b, nil) }

func (c *conn) WriteToUDP(b []byte, addr *net.UDPAddr) (int, error) {
	if addr == nil {
		return c.WriteTo(b, nil)
	}
	return c.WriteTo(b, addr)
}

// WriteMsgUDP drops the out-of-band data.
func (c *conn) WriteMsgUDP(b, _ []byte, addr *net.UDPAddr) (n, oobn int, err error) {
	n, err = c.WriteToUDP(b, addr)
	return n, 0, err
}
