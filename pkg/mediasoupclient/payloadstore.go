package mediasoupclient

import (
	"bytes"
	"sync"
	"unsafe"
)

// payloadStore keeps one copy of each RTP payload that several send
// streams hold for retransmission. A fleet binds one pion track to many
// PeerConnections, and pion's static track writes the same payload slice
// to every binding, one after the other: the first binding's NACK history
// copies it, the others find that copy here and share it. A process-wide
// store (sharedPayloads) makes a fleet of N publishers hold each layer's
// history once instead of N times.
//
// Entries are found by the caller's buffer address, length, sequence
// number and timestamp, and confirmed by comparing the bytes, so a reused
// buffer or an address that happens to match never hands out the wrong
// payload. An entry is dropped when the last history holding it lets go.
type payloadStore struct {
	mu      sync.Mutex
	entries map[payloadKey]*sharedPayload
}

// payloadKey identifies one write of a payload. The address is a uintptr
// so that the store does not keep the caller's buffer alive.
type payloadKey struct {
	addr uintptr
	n    int
	seq  uint16
	ts   uint32
}

// sharedPayload is one stored payload and the number of histories
// holding it.
type sharedPayload struct {
	key  payloadKey
	data []byte
	refs int
}

// sharedPayloads is the store every send stream of this process uses.
var sharedPayloads = newPayloadStore()

func newPayloadStore() *payloadStore {
	return &payloadStore{entries: map[payloadKey]*sharedPayload{}}
}

// hold returns the stored copy of payload, written with this sequence
// number and timestamp, creating it if needed; the caller releases it.
func (s *payloadStore) hold(payload []byte, seq uint16, ts uint32) *sharedPayload {
	key := payloadKey{addr: uintptr(unsafe.Pointer(unsafe.SliceData(payload))), n: len(payload), seq: seq, ts: ts}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.entries[key]; p != nil {
		if bytes.Equal(p.data, payload) {
			p.refs++
			return p
		}
		// Same key, other bytes (the caller refilled its buffer): the
		// newest write wins the key; the old entry lives on unlisted.
		delete(s.entries, key)
		p.key = payloadKey{}
	}
	p := &sharedPayload{key: key, data: bytes.Clone(payload), refs: 1}
	if p.data == nil {
		p.data = []byte{}
	}
	s.entries[key] = p
	return p
}

// release drops one holder of p; the last one removes it.
func (s *payloadStore) release(p *sharedPayload) {
	if p == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p.refs--
	if p.refs == 0 && s.entries[p.key] == p {
		delete(s.entries, p.key)
	}
}

// len reports the number of listed payloads (for tests).
func (s *payloadStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}
