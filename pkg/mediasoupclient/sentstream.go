package mediasoupclient

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

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

// keep records a packet as sent; hdrSize is h.MarshalSize().
func (s *sentStream) keep(h *rtp.Header, hdrSize int, payload []byte) {
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
	if hdrSize <= sentHeaderInline {
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
