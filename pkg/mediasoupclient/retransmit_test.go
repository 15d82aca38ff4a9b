package mediasoupclient

import (
	"bytes"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// wire records what a stream writes below the retransmitter.
type wire struct {
	mu   sync.Mutex
	sent []rtp.Packet
}

func (w *wire) Write(h *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sent = append(w.sent, rtp.Packet{Header: h.Clone(), Payload: bytes.Clone(payload)})
	return len(payload), nil
}

func (w *wire) take() []rtp.Packet {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.sent
	w.sent = nil
	return s
}

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type testStream struct {
	r     *retransmitter
	info  *interceptor.StreamInfo
	wire  *wire
	write interceptor.RTPWriter
	rtcp  interceptor.RTCPReader
	in    chan []byte
}

// newTestStream binds one NACK-capable stream (with RTX) to a new
// retransmitter over store, as one PeerConnection would.
func newTestStream(t *testing.T, store *payloadStore, c *clock, ssrc uint32, target func() int) *testStream {
	t.Helper()
	i, err := newRetransmitterFactory(store, target).NewInterceptor("")
	if err != nil {
		t.Fatal(err)
	}
	r := i.(*retransmitter)
	r.now = c.now
	ts := &testStream{
		r:    r,
		info: &interceptor.StreamInfo{SSRC: ssrc, SSRCRetransmission: ssrc + 1, PayloadType: 96, PayloadTypeRetransmission: 97, RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}}},
		wire: &wire{},
		in:   make(chan []byte, 4),
	}
	ts.write = r.BindLocalStream(ts.info, ts.wire)
	ts.rtcp = r.BindRTCPReader(interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		return copy(b, <-ts.in), a, nil
	}))
	t.Cleanup(func() { _ = r.Close() })
	return ts
}

// send writes one packet, as a track writes to one of its bindings.
func (ts *testStream) send(t *testing.T, seq uint16, payload []byte) {
	t.Helper()
	h := &rtp.Header{Version: 2, SSRC: ts.info.SSRC, PayloadType: 96, SequenceNumber: seq, Timestamp: uint32(seq) * 3000}
	if _, err := ts.write.Write(h, payload, nil); err != nil {
		t.Fatal(err)
	}
}

// sendN sends packets 0..n-1 of size bytes, drops them from the wire
// and returns their sequence numbers.
func (ts *testStream) sendN(t *testing.T, n, size int) []uint16 {
	t.Helper()
	var seqs []uint16
	for seq := range uint16(n) {
		ts.send(t, seq, payloadOf(seq, size))
		seqs = append(seqs, seq)
	}
	ts.wire.take()
	return seqs
}

// nack delivers a NACK for seqs to the stream's RTCP reader.
func (ts *testStream) nack(t *testing.T, seqs ...uint16) {
	t.Helper()
	pairs := rtcp.NackPairsFromSequenceNumbers(seqs)
	b, err := (&rtcp.TransportLayerNack{MediaSSRC: ts.info.SSRC, Nacks: pairs}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	ts.in <- b
	if _, _, err := ts.rtcp.Read(make([]byte, 1500), interceptor.Attributes{}); err != nil {
		t.Fatal(err)
	}
}

func payloadOf(seq uint16, n int) []byte {
	b := bytes.Repeat([]byte{byte(seq)}, n)
	b[0] = byte(seq >> 8)
	return b
}

func TestRetransmitterSharesPayloadsAcrossStreams(t *testing.T) {
	store, c := newPayloadStore(), &clock{t: time.Unix(1000, 0)}
	a := newTestStream(t, store, c, 1000, nil)
	b := newTestStream(t, store, c, 2000, nil)
	buf := make([]byte, 1200)
	for seq := uint16(10); seq < 20; seq++ {
		copy(buf, payloadOf(seq, 1200))
		a.send(t, seq, buf) // the same buffer to both bindings,
		b.send(t, seq, buf) // then refilled for the next packet
	}
	if n := store.len(); n != 10 {
		t.Fatalf("store holds %d payloads for 10 packets sent on two streams", n)
	}
	a.wire.take()
	b.wire.take()

	a.nack(t, 12, 15, 99)
	got := a.wire.take()
	if len(got) != 2 {
		t.Fatalf("resent %d packets for two kept and one unknown, want 2", len(got))
	}
	for i, want := range []uint16{12, 15} {
		p := got[i]
		if p.SSRC != 1001 || p.PayloadType != 97 {
			t.Errorf("resend %d on ssrc %d pt %d, want RTX 1001/97", i, p.SSRC, p.PayloadType)
		}
		if osn := binary.BigEndian.Uint16(p.Payload); osn != want {
			t.Errorf("resend %d carries original seq %d, want %d", i, osn, want)
		}
		if !bytes.Equal(p.Payload[2:], payloadOf(want, 1200)) {
			t.Errorf("resend %d: payload is not packet %d's", i, want)
		}
	}
	if got[1].SequenceNumber != got[0].SequenceNumber+1 {
		t.Errorf("RTX sequence numbers %d, %d: not consecutive", got[0].SequenceNumber, got[1].SequenceNumber)
	}
	if len(b.wire.take()) != 0 {
		t.Error("a NACK for one stream resent on the other")
	}
}

func TestRetransmitterOncePerRoundTrip(t *testing.T) {
	store, c := newPayloadStore(), &clock{t: time.Unix(1000, 0)}
	a := newTestStream(t, store, c, 1000, nil)
	for seq := uint16(7); seq < 10; seq++ { // media enough for two resends
		a.send(t, seq, payloadOf(seq, 100))
	}
	a.wire.take()

	// The receiver's report says 40 ms of round trip.
	lsr := ntpMiddle(c.t.Add(-40 * time.Millisecond))
	rr, err := (&rtcp.ReceiverReport{Reports: []rtcp.ReceptionReport{{SSRC: 1000, LastSenderReport: lsr}}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	a.in <- rr
	if _, _, err := a.rtcp.Read(make([]byte, 1500), interceptor.Attributes{}); err != nil {
		t.Fatal(err)
	}
	if rtt := a.r.stream(1000).rtt; rtt < 39*time.Millisecond || rtt > 41*time.Millisecond {
		t.Fatalf("round trip %s from the report, want 40ms", rtt)
	}
	for _, step := range []struct {
		after time.Duration
		want  int
	}{{0, 1}, {20 * time.Millisecond, 0}, {30 * time.Millisecond, 1}} {
		c.t = c.t.Add(step.after)
		a.nack(t, 7)
		if n := len(a.wire.take()); n != step.want {
			t.Errorf("%s after the last: resent %d times, want %d", step.after, n, step.want)
		}
	}
}

func TestRetransmitterForgetsOldAndRefilledPackets(t *testing.T) {
	store, c := newPayloadStore(), &clock{t: time.Unix(1000, 0)}
	a := newTestStream(t, store, c, 1000, nil)
	for seq := uint16(0); seq < retransmitHistory+10; seq++ {
		a.send(t, seq, payloadOf(seq, 50))
	}
	a.wire.take()
	a.nack(t, 5, retransmitHistory+5)
	got := a.wire.take()
	if len(got) != 1 || binary.BigEndian.Uint16(got[0].Payload) != retransmitHistory+5 {
		t.Fatalf("resent %v: want only the newer packet in the slot", got)
	}
	if n := store.len(); n != retransmitHistory {
		t.Fatalf("store holds %d payloads, want the history's %d", n, retransmitHistory)
	}
	// Another stream writes other bytes from the same buffer with the
	// same numbers: it must not get the first stream's payload.
	b := newTestStream(t, store, c, 2000, nil)
	buf := payloadOf(1, 64)
	a.send(t, 900, buf)
	buf[10] ^= 0xff
	b.send(t, 900, buf)
	b.wire.take()
	b.nack(t, 900)
	if got := b.wire.take(); len(got) != 1 || !bytes.Equal(got[0].Payload[2:], buf) {
		t.Fatalf("resent %v, want the bytes stream b sent", got)
	}
}

func TestRetransmitterBudget(t *testing.T) {
	store, c := newPayloadStore(), &clock{t: time.Unix(1000, 0)}
	// 80 kbit/s: half a second holds 5000 bytes, four 1200-byte packets.
	a := newTestStream(t, store, c, 1000, func() int { return 80_000 })
	seqs := a.sendN(t, 10, 1188)
	a.nack(t, seqs...)
	if n := len(a.wire.take()); n != 4 {
		t.Fatalf("resent %d packets within the budget, want 4", n)
	}
	c.t = c.t.Add(500 * time.Millisecond)
	a.nack(t, seqs...)
	if n := len(a.wire.take()); n != 4 {
		t.Fatalf("half a second later: resent %d, want 4 again (the ones refused before)", n)
	}
}

// Without an estimator, a server that NACKs everything again and again
// gets no more than the media sent: each packet once, then nothing until
// more media goes out.
func TestRetransmitterResendsNoMoreThanItSent(t *testing.T) {
	store, c := newPayloadStore(), &clock{t: time.Unix(1000, 0)}
	a := newTestStream(t, store, c, 1000, nil)
	seqs := a.sendN(t, 10, 1000)
	resent := 0
	for range 20 {
		c.t = c.t.Add(10 * time.Millisecond) // past the round trip: allowed again
		a.nack(t, seqs...)
		resent += len(a.wire.take())
	}
	if resent != 10 {
		t.Fatalf("20 NACKs of 10 packets sent: resent %d, want 10 (the media sent)", resent)
	}
	a.send(t, 10, payloadOf(10, 1000))
	a.wire.take()
	c.t = c.t.Add(10 * time.Millisecond)
	a.nack(t, seqs...)
	if n := len(a.wire.take()); n != 1 {
		t.Fatalf("one more packet sent: %d resent, want 1", n)
	}
}

func TestRetransmitterReleasesOnClose(t *testing.T) {
	store, c := newPayloadStore(), &clock{t: time.Unix(1000, 0)}
	a := newTestStream(t, store, c, 1000, nil)
	b := newTestStream(t, store, c, 2000, nil)
	for seq := uint16(0); seq < 20; seq++ {
		p := payloadOf(seq, 300)
		a.send(t, seq, p)
		b.send(t, seq, p)
	}
	a.r.UnbindLocalStream(a.info)
	if n := store.len(); n != 20 {
		t.Fatalf("one stream unbound: store holds %d, want the other's 20", n)
	}
	a.send(t, 50, payloadOf(50, 300)) // a late write after unbinding
	if err := b.r.Close(); err != nil {
		t.Fatal(err)
	}
	if n := store.len(); n != 0 {
		t.Fatalf("all closed: store still holds %d payloads", n)
	}
}

func TestNTPMiddle(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 500_000_000, time.UTC)
	got := ntpMiddle(at)
	secs := uint32(at.Unix()+2208988800) & 0xffff
	if got>>16 != secs || got&0xffff != 0x8000 {
		t.Fatalf("ntpMiddle = %#x, want seconds %#x and half a second 0x8000", got, secs)
	}
}

// FuzzRetransmitterRTCP feeds arbitrary RTCP from the server to a stream
// with a history: it must never panic, resend only packets it sent (on
// the RTX SSRC, with an original sequence number it kept), and never
// more bytes than the media it sent.
func FuzzRetransmitterRTCP(f *testing.F) {
	nack, _ := (&rtcp.TransportLayerNack{MediaSSRC: 1000, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{1, 2, 3, 300})}).Marshal()
	rr, _ := (&rtcp.ReceiverReport{Reports: []rtcp.ReceptionReport{{SSRC: 1000, LastSenderReport: 1, Delay: 1 << 31}}}).Marshal()
	f.Add(nack)
	f.Add(rr)
	f.Add(append(append([]byte{}, rr...), nack...))
	f.Add([]byte{0x81, 205, 0, 3, 0, 0, 0, 0, 0, 0, 0x03, 0xe8, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		store, c := newPayloadStore(), &clock{t: time.Unix(1000, 0)}
		a := newTestStream(t, store, c, 1000, nil)
		var sent int
		for seq := uint16(0); seq < 20; seq++ {
			p := payloadOf(seq, 100)
			a.send(t, seq, p)
			sent += 12 + len(p)
		}
		a.wire.take()
		for range 3 {
			c.t = c.t.Add(time.Second)
			a.in <- data
			_, _, _ = a.rtcp.Read(make([]byte, 1500), interceptor.Attributes{})
		}
		var resent int
		for _, p := range a.wire.take() {
			if p.SSRC != 1001 || len(p.Payload) < 2 {
				t.Fatalf("resent %v", p)
			}
			if osn := binary.BigEndian.Uint16(p.Payload); osn >= 20 || !bytes.Equal(p.Payload[2:], payloadOf(osn, 100)) {
				t.Fatalf("resent packet %d, which was never sent", osn)
			}
			resent += 12 + len(p.Payload) - 2
		}
		if resent > sent {
			t.Fatalf("resent %d bytes for %d sent", resent, sent)
		}
	})
}
