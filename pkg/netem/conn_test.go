package netem

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var loopback = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}

// pair opens an impaired socket on n and a plain peer socket, both on
// 127.0.0.1.
func pair(t *testing.T, n *Net) (*conn, *net.UDPConn) {
	t.Helper()
	c, err := n.ListenUDP("udp4", loopback)
	if err != nil {
		t.Fatal(err)
	}
	peer, err := net.ListenUDP("udp4", loopback)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Close()
		_ = peer.Close()
	})
	return c.(*conn), peer
}

func newNet(t *testing.T, spec string) *Net {
	t.Helper()
	s, err := ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(s, Options{Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// readAll reads what arrives on r until quiet for idle.
func readAll(r interface {
	ReadFrom([]byte) (int, net.Addr, error)
	SetReadDeadline(time.Time) error
}, idle time.Duration) (got []byte, at []time.Time) {
	buf := make([]byte, 2048)
	for {
		_ = r.SetReadDeadline(time.Now().Add(idle))
		n, _, err := r.ReadFrom(buf)
		if err != nil {
			return got, at
		}
		if n > 0 {
			got = append(got, buf[0])
			at = append(at, time.Now())
		}
	}
}

func TestConnPassThroughBothWays(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	n := newNet(t, "none")
	c, peer := pair(t, n)
	for i := range 50 {
		if _, err := c.WriteTo([]byte{byte(i)}, peer.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		if _, err := peer.WriteTo([]byte{byte(i)}, c.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	fromC, _ := readAll(peer, 200*time.Millisecond)
	fromPeer, _ := readAll(c, 200*time.Millisecond)
	if len(fromC) != 50 || len(fromPeer) != 50 {
		t.Fatalf("received %d and %d of 50 packets without impairment", len(fromC), len(fromPeer))
	}
	for i := range 50 {
		if fromC[i] != byte(i) || fromPeer[i] != byte(i) {
			t.Fatalf("packet %d out of order", i)
		}
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestConnDelayOrdersAndDelays(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	n := newNet(t, "send.delay=80ms,send.jitter=30ms,recv.delay=40ms")
	c, peer := pair(t, n)
	start := time.Now()
	for i := range 40 {
		_, _ = c.WriteTo([]byte{byte(i)}, peer.LocalAddr())
		_, _ = peer.WriteTo([]byte{byte(i)}, c.LocalAddr())
	}
	sent, sentAt := readAll(peer, 300*time.Millisecond)
	recv, recvAt := readAll(c, 300*time.Millisecond)
	if len(sent) != 40 || len(recv) != 40 {
		t.Fatalf("got %d sent and %d received of 40", len(sent), len(recv))
	}
	for i := range 40 {
		if sent[i] != byte(i) || recv[i] != byte(i) {
			t.Fatalf("packet %d reordered by jitter", i)
		}
	}
	if d := sentAt[0].Sub(start); d < 50*time.Millisecond {
		t.Errorf("first sent packet after %s, want at least 80ms-30ms", d)
	}
	if d := recvAt[0].Sub(start); d < 40*time.Millisecond {
		t.Errorf("first received packet after %s, want at least 40ms", d)
	}
	_ = n.Close()
}

func TestConnCutDropsBothWays(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	n := newNet(t, "delay=50ms")
	c, peer := pair(t, n)
	_, _ = c.WriteTo([]byte{1}, peer.LocalAddr()) // in flight when the cut comes
	n.Cut(true)
	for range 10 {
		_, _ = c.WriteTo([]byte{2}, peer.LocalAddr())
		_, _ = peer.WriteTo([]byte{2}, c.LocalAddr())
	}
	if got, _ := readAll(peer, 150*time.Millisecond); len(got) != 0 {
		t.Fatalf("peer received %d packets through a cut", len(got))
	}
	if got, _ := readAll(c, 50*time.Millisecond); len(got) != 0 {
		t.Fatalf("received %d packets through a cut", len(got))
	}
	n.Cut(false)
	_, _ = c.WriteTo([]byte{3}, peer.LocalAddr())
	_, _ = peer.WriteTo([]byte{3}, c.LocalAddr())
	if got, _ := readAll(peer, 200*time.Millisecond); len(got) != 1 || got[0] != 3 {
		t.Fatalf("after restore the peer got %v, want [3]", got)
	}
	if got, _ := readAll(c, 200*time.Millisecond); len(got) != 1 || got[0] != 3 {
		t.Fatalf("after restore got %v, want [3]", got)
	}
	st := n.Stats()
	if st.Send.Cut != 11 || st.Recv.Cut != 10 {
		t.Errorf("cut counters %+v, want 11 sent (one in flight) and 10 received", st)
	}
	_ = n.Close()
}

func TestConnRecvLoss(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	n := newNet(t, "recv.loss=50%")
	c, peer := pair(t, n)
	for i := range 400 {
		_, _ = peer.WriteTo([]byte{byte(i)}, c.LocalAddr())
		if i%50 == 0 {
			time.Sleep(time.Millisecond) // keep the socket buffer from overflowing
		}
	}
	got, _ := readAll(c, 200*time.Millisecond)
	if len(got) < 140 || len(got) > 260 {
		t.Errorf("%d of 400 packets through 50%% loss", len(got))
	}
	if st := n.Stats().Recv; st.Lost+st.Delivered != st.Packets || st.Delivered != uint64(len(got)) {
		t.Errorf("stats %+v, read %d", st, len(got))
	}
	_ = n.Close()
}

func TestConnReadDeadlineAndClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	n := newNet(t, "none")
	c, _ := pair(t, n)
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, _, err := c.ReadFrom(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past deadline: %v", err)
	}
	_ = c.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, _, err := c.ReadFrom(make([]byte, 10))
		done <- err
	}()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read on a closed conn: %v", err)
	}
	if _, err := c.WriteTo([]byte{1}, loopback); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write on a closed conn: %v", err)
	}
}
