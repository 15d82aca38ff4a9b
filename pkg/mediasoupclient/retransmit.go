package mediasoupclient

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// retransmitHistory is the number of sent packets each stream keeps for
// retransmission: about a second of a 2 Mbit/s layer.
const retransmitHistory = 256

// retransmitter answers the server's NACKs, in place of pion's NACK
// responder, which copies every sent packet into a 1460-byte buffer per
// stream: 1.5 MB per publisher of three layers and audio, whatever the
// packets' size, and N copies of the same payloads in a fleet of N. Here
// each stream keeps its packets' headers (inline, no allocation) and
// shares their payloads through a payloadStore, so a fleet holds each
// layer's payloads once, at their own size.
//
// Like pion's, it retransmits with RTX when the stream has an RTX SSRC,
// not twice within a round-trip time, and (given the estimator's target)
// not faster than that target. Without an estimator it resends no more
// than the media it sent (see resendBudget): a server NACKing everything
// over and over gets each packet once more, not a flood.
type retransmitter struct {
	interceptor.NoOp
	store  *payloadStore
	target func() int // bits/s the estimator allows; nil or 0: none
	now    func() time.Time
	sent   atomic.Int64 // media bytes written, every stream

	mu      sync.Mutex
	streams map[uint32]*sentStream
	budget  resendBudget
}

// newRetransmitterFactory returns the interceptor factory; target may be
// nil.
func newRetransmitterFactory(store *payloadStore, target func() int) interceptor.Factory {
	return retransmitterFactory{store: store, target: target}
}

type retransmitterFactory struct {
	store  *payloadStore
	target func() int
}

func (f retransmitterFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &retransmitter{store: f.store, target: f.target, now: time.Now, streams: map[uint32]*sentStream{}}, nil
}

// BindLocalStream keeps what the stream sends, if it negotiated NACK.
func (r *retransmitter) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	if !supportsNack(info) {
		return w
	}
	s := &sentStream{
		ssrc: info.SSRC, rtxSSRC: info.SSRCRetransmission, rtxPT: info.PayloadTypeRetransmission,
		rtxSeq: uint16(rand.Uint32()), writer: w, store: r.store,
	}
	r.mu.Lock()
	if old := r.streams[info.SSRC]; old != nil {
		old.clear()
	}
	r.streams[info.SSRC] = s
	r.mu.Unlock()
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if h.SSRC == info.SSRC {
			s.keep(h, payload)
			r.sent.Add(int64(h.MarshalSize() + len(payload)))
		}
		return w.Write(h, payload, a)
	})
}

// UnbindLocalStream lets go of the stream's history.
func (r *retransmitter) UnbindLocalStream(info *interceptor.StreamInfo) {
	r.mu.Lock()
	s := r.streams[info.SSRC]
	delete(r.streams, info.SSRC)
	r.mu.Unlock()
	if s != nil {
		s.clear()
	}
}

// Close lets go of every history.
func (r *retransmitter) Close() error {
	r.mu.Lock()
	streams := r.streams
	r.streams = map[uint32]*sentStream{}
	r.mu.Unlock()
	for _, s := range streams {
		s.clear()
	}
	return nil
}

// BindRTCPReader answers NACKs and follows the round-trip time in the
// reception reports.
func (r *retransmitter) BindRTCPReader(reader interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, attr, err := reader.Read(b, a)
		if err != nil {
			return 0, nil, err
		}
		if attr == nil {
			attr = interceptor.Attributes{}
		}
		pkts, err := attr.GetRTCPPackets(b[:n])
		if err != nil {
			return 0, nil, err
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.TransportLayerNack:
				r.answer(p)
			case *rtcp.ReceiverReport:
				r.reports(p.Reports)
			case *rtcp.SenderReport:
				r.reports(p.Reports)
			}
		}
		return n, attr, nil
	})
}

func (r *retransmitter) stream(ssrc uint32) *sentStream {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.streams[ssrc]
}

// answer resends what the NACK asks for and the history still holds.
func (r *retransmitter) answer(nack *rtcp.TransportLayerNack) {
	s := r.stream(nack.MediaSSRC)
	if s == nil {
		return
	}
	for _, pair := range nack.Nacks {
		more := true
		pair.Range(func(seq uint16) bool {
			more = r.resend(s, seq)
			return more
		})
		if !more {
			return
		}
	}
}

// resend sends one packet again; false when the budget is spent.
func (r *retransmitter) resend(s *sentStream, seq uint16) bool {
	now := r.now()
	h, payload, ok := s.take(seq, now)
	if !ok {
		return true
	}
	size := h.MarshalSize() + len(payload)
	r.mu.Lock()
	allowed := r.budget.allow(now, size, r.targetBps(), r.sent.Load())
	r.mu.Unlock()
	if !allowed {
		s.untake(seq)
		return false
	}
	h, payload = s.wire(h, payload)
	_, _ = s.writer.Write(&h, payload, interceptor.Attributes{})
	return true
}

func (r *retransmitter) targetBps() int {
	if r.target == nil {
		return 0
	}
	return r.target()
}

// reports updates each stream's round-trip time from the receiver's
// last-SR and delay fields (RFC 3550 section 6.4.1).
func (r *retransmitter) reports(reports []rtcp.ReceptionReport) {
	now := ntpMiddle(r.now())
	for _, rep := range reports {
		if rep.LastSenderReport == 0 {
			continue
		}
		rtt := now - rep.LastSenderReport - rep.Delay
		if rtt >= 1<<31 {
			continue
		}
		if s := r.stream(rep.SSRC); s != nil {
			s.setRTT(time.Duration(rtt) * time.Second / (1 << 16))
		}
	}
}

// ntpMiddle is the middle 32 bits of t's NTP timestamp.
func ntpMiddle(t time.Time) uint32 {
	const ntpEpochOffset = 2208988800 // 1900 to 1970, in seconds
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return uint32(secs<<16 | frac>>16)
}

// supportsNack reports whether the stream negotiated generic NACK.
func supportsNack(info *interceptor.StreamInfo) bool {
	for _, fb := range info.RTCPFeedback {
		if fb.Type == "nack" && fb.Parameter == "" {
			return true
		}
	}
	return false
}

// resendBudget keeps retransmissions within what the link carries. With
// the estimator's target: under that target over half a second
// (libwebrtc's retransmission window), a token bucket that fills at the
// target and holds half a second of it. Without one: under the media
// sent, each media byte adding one byte of allowance, which holds at
// most mediaCredit.
type resendBudget struct {
	tokens float64 // bytes, with a target
	at     time.Time
	media  int64 // media bytes sent, as of the last call
	credit int64 // bytes resendable without a target
}

// mediaCredit bounds the allowance without a target: a burst of repairs
// after a short outage, not more.
const mediaCredit = 128 << 10

func (b *resendBudget) allow(now time.Time, size, targetBps int, mediaSent int64) bool {
	if targetBps <= 0 {
		b.credit = min(mediaCredit, b.credit+mediaSent-b.media)
		b.media = mediaSent
		if b.credit < int64(size) {
			return false
		}
		b.credit -= int64(size)
		return true
	}
	rate := float64(targetBps) / 8
	capacity := rate / 2
	if b.at.IsZero() {
		b.tokens = capacity
	} else {
		b.tokens = min(capacity, b.tokens+rate*now.Sub(b.at).Seconds())
	}
	b.at = now
	if b.tokens < float64(size) {
		return false
	}
	b.tokens -= float64(size)
	return true
}

// rtxPacket turns a kept packet into its RTX form (RFC 4588): the
// original sequence number before the payload, on the RTX SSRC and
// payload type, without padding.
func rtxPacket(h rtp.Header, payload []byte, ssrc uint32, pt uint8, seq uint16) (rtp.Header, []byte) {
	out := make([]byte, 2+len(payload))
	binary.BigEndian.PutUint16(out, h.SequenceNumber)
	copy(out[2:], payload)
	h.SSRC, h.PayloadType, h.SequenceNumber = ssrc, pt, seq
	h.Padding, h.PaddingSize = false, 0
	return h, out
}

// sentStream is one send stream's history: the last retransmitHistory
// packets, indexed by sequence number.
type sentStream struct {
	ssrc, rtxSSRC uint32
	rtxPT         uint8
	writer        interceptor.RTPWriter
	store         *payloadStore

	mu     sync.Mutex
	closed bool // cleared: keeps nothing more
	rtxSeq uint16
	rtt    time.Duration
	ring   [retransmitHistory]sentPacket
}

// sentPacket is one kept packet: its marshalled header (inline when it
// fits) and its shared payload.
type sentPacket struct {
	payload     *sharedPayload // nil: empty slot
	seq         uint16
	hdrLen      uint8
	paddingSize uint8
	hdr         [sentHeaderInline]byte
	bigHdr      []byte // a header longer than hdr
	resentAt    time.Time
}

// sentHeaderInline fits the fixed header, a CSRC or two and the few
// header extensions a send stream carries.
const sentHeaderInline = 64

// keep records a packet as sent.
func (s *sentStream) keep(h *rtp.Header, payload []byte) {
	p := s.store.hold(payload, h.SequenceNumber, h.Timestamp)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.store.release(p)
		return
	}
	slot := &s.ring[h.SequenceNumber%retransmitHistory]
	old := slot.payload
	slot.payload, slot.seq, slot.paddingSize, slot.resentAt = p, h.SequenceNumber, h.PaddingSize, time.Time{}
	slot.bigHdr, slot.hdrLen = nil, 0
	if size := h.MarshalSize(); size <= sentHeaderInline {
		n, _ := h.MarshalTo(slot.hdr[:])
		slot.hdrLen = uint8(n)
	} else if b, err := h.Marshal(); err == nil {
		slot.bigHdr = b
	} else {
		slot.payload = nil
		s.store.release(p)
	}
	s.mu.Unlock()
	s.store.release(old)
}

// take returns a kept packet to resend, unless it is gone or was resent
// less than a round trip ago; it marks it resent now.
func (s *sentStream) take(seq uint16, now time.Time) (rtp.Header, []byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	slot := &s.ring[seq%retransmitHistory]
	if slot.payload == nil || slot.seq != seq {
		return rtp.Header{}, nil, false
	}
	if !slot.resentAt.IsZero() && now.Sub(slot.resentAt) < s.rtt+5*time.Millisecond {
		return rtp.Header{}, nil, false
	}
	raw := slot.bigHdr
	if raw == nil {
		raw = append([]byte(nil), slot.hdr[:slot.hdrLen]...)
	}
	var h rtp.Header
	if _, err := h.Unmarshal(raw); err != nil {
		return rtp.Header{}, nil, false
	}
	h.PaddingSize = slot.paddingSize
	slot.resentAt = now
	return h, slot.payload.data, true
}

// untake forgets that seq was resent (the budget refused it).
func (s *sentStream) untake(seq uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slot := &s.ring[seq%retransmitHistory]; slot.seq == seq {
		slot.resentAt = time.Time{}
	}
}

// wire is the packet as resent: in RTX form when the stream has RTX.
func (s *sentStream) wire(h rtp.Header, payload []byte) (rtp.Header, []byte) {
	if s.rtxSSRC == 0 || s.rtxPT == 0 {
		return h, payload
	}
	if h.Padding && h.PaddingSize == 0 && len(payload) > 0 {
		// Padding inside the payload, as older pion/rtp users write it.
		if pad := int(payload[len(payload)-1]); pad <= len(payload) {
			payload = payload[:len(payload)-pad]
		}
	}
	s.mu.Lock()
	seq := s.rtxSeq
	s.rtxSeq++
	s.mu.Unlock()
	return rtxPacket(h, payload, s.rtxSSRC, s.rtxPT, seq)
}

func (s *sentStream) setRTT(rtt time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rtt == 0 {
		s.rtt = rtt
	} else {
		s.rtt += (rtt - s.rtt) / 8
	}
}

// clear lets go of every kept payload.
func (s *sentStream) clear() {
	s.mu.Lock()
	s.closed = true
	held := make([]*sharedPayload, 0, len(s.ring))
	for i := range s.ring {
		if p := s.ring[i].payload; p != nil {
			held = append(held, p)
		}
		s.ring[i] = sentPacket{}
	}
	s.mu.Unlock()
	for _, p := range held {
		s.store.release(p)
	}
}
