package mediasoupclient

import (
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
			size := h.MarshalSize()
			s.keep(h, size, payload)
			r.sent.Add(int64(size + len(payload)))
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
