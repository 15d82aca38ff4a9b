package capture

import (
	"bytes"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// asmHarness drives a frameAssembler over VP8 payloads on a fake clock.
type asmHarness struct {
	t    *testing.T
	a    *frameAssembler
	now  time.Time
	out  []assembledFrame
	keys map[int]bool // frames that are key frames
}

func newAsmHarness(t *testing.T) *asmHarness {
	h := &asmHarness{t: t, now: time.Unix(0, 0), keys: map[int]bool{}}
	isKey := func(frame []byte) bool { return len(frame) > 0 && h.keys[int(frame[0]>>4)] }
	h.a = newFrameAssembler(func() rtp.Depacketizer { return &codecs.VP8Packet{} }, isKey, 90000, func() time.Time { return h.now })
	return h
}

// pkt pushes one packet of frame f (part i of n): VP8 descriptor S bit on
// the first part, payload byte f*16+i.
func (h *asmHarness) pkt(seq uint16, f, i, n int) {
	desc := byte(0)
	if i == 0 {
		desc = 0x10
	}
	p := &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: uint32(f) * 3000, Marker: i == n-1},
		Payload: []byte{desc, byte(f*16 + i)}}
	h.out = append(h.out, h.a.push(p)...)
}

func (h *asmHarness) expect(frames ...[]byte) {
	h.t.Helper()
	if len(h.out) != len(frames) {
		h.t.Fatalf("got %d frames %v, want %d", len(h.out), h.out, len(frames))
	}
	for i, f := range frames {
		if !bytes.Equal(h.out[i].data, f) {
			h.t.Errorf("frame %d: % x, want % x", i, h.out[i].data, f)
		}
	}
}

func TestAssemblerReordersAndWaitsForRetransmission(t *testing.T) {
	h := newAsmHarness(t)
	h.pkt(65534, 0, 0, 2)
	h.pkt(65535, 0, 1, 2) // frame 0 done
	h.pkt(1, 1, 1, 2)     // frame 1's first packet (seq 0) is late
	h.now = h.now.Add(100 * time.Millisecond)
	h.pkt(2, 2, 0, 1)
	h.pkt(0, 1, 0, 2) // the retransmission, within the wait
	h.expect([]byte{0x00, 0x01}, []byte{0x10, 0x11}, []byte{0x20})
	for _, f := range h.out {
		if f.afterLoss {
			t.Errorf("a repaired hole reported as loss")
		}
	}
}

func TestAssemblerGivesUpAndResyncsAtFrameStart(t *testing.T) {
	h := newAsmHarness(t)
	h.pkt(10, 0, 0, 1)
	// Frame 1 (seq 11-13) loses seq 12; frame 2 (14-15) loses seq 14 too.
	h.pkt(11, 1, 0, 3)
	h.pkt(13, 1, 2, 3)
	h.pkt(15, 2, 1, 2)
	h.pkt(16, 3, 0, 2)
	h.pkt(17, 3, 1, 2)
	h.expect([]byte{0x00})
	h.now = h.now.Add(minGapWait)
	h.pkt(18, 4, 0, 1) // the clock moved: both holes are given up
	h.expect([]byte{0x00}, []byte{0x30, 0x31}, []byte{0x40})
	if !h.out[1].afterLoss || h.out[2].afterLoss {
		t.Errorf("afterLoss flags %v %v, want true false", h.out[1].afterLoss, h.out[2].afterLoss)
	}
	h.pkt(12, 1, 1, 3) // too late now
	if len(h.out) != 3 {
		t.Errorf("a late packet produced a frame")
	}
}

func TestAssemblerSkipsAHoleForACompleteKeyFrame(t *testing.T) {
	h := newAsmHarness(t)
	h.keys[5] = true
	h.pkt(10, 0, 0, 1)
	h.pkt(11, 1, 0, 2) // frame 1 loses seq 12, then a cut: 13-19 lost
	h.pkt(20, 4, 0, 1) // not a key frame: waits behind the hole
	h.expect([]byte{0x00})
	h.pkt(22, 5, 1, 2) // the key frame's head is missing yet
	h.expect([]byte{0x00})
	h.pkt(21, 5, 0, 2) // complete key frame: emitted at once, clock unmoved
	h.expect([]byte{0x00}, []byte{0x50, 0x51})
	if !h.out[1].afterLoss {
		t.Errorf("the key frame after the hole is not flagged afterLoss")
	}
	h.pkt(23, 6, 0, 1)
	h.pkt(12, 1, 1, 2) // too late now
	h.expect([]byte{0x00}, []byte{0x50, 0x51}, []byte{0x60})
}

// TestAssemblerWaitFollowsRepairs: on a long path repairs take longer than
// the initial wait; a late one is still measured, and the wait grows so
// that the next hole is repaired in time instead of given up.
func TestAssemblerWaitFollowsRepairs(t *testing.T) {
	h := newAsmHarness(t)
	const repair = 250 * time.Millisecond
	h.pkt(10, 0, 0, 1)
	h.pkt(12, 2, 0, 1) // 11 lost: noticed now
	h.now = h.now.Add(minGapWait)
	h.pkt(13, 3, 0, 1) // the wait is over: 11 given up
	h.expect([]byte{0x00}, []byte{0x20}, []byte{0x30})
	h.now = h.now.Add(repair - minGapWait)
	h.pkt(11, 1, 0, 1) // the repair, too late, measured
	if w := h.a.gapWait(); w <= minGapWait || w > repair+repairMargin {
		t.Fatalf("gapWait after a %s repair: %s", repair, w)
	}
	for range 3 { // more late repairs of the same length
		h.pkt(15, 5, 0, 1)
		h.now = h.now.Add(h.a.gapWait())
		h.pkt(16, 6, 0, 1)
		h.now = h.now.Add(repair - h.a.gapWait())
		h.pkt(14, 4, 0, 1)
		h.out = h.out[:3]
		h.a.restart(17) // a fresh numbering for the next round
		h.pkt(17, 7, 0, 1)
		h.out = h.out[:3]
	}
	if w := h.a.gapWait(); w < repair {
		t.Fatalf("gapWait %s after repeated %s repairs", w, repair)
	}
	h.out = nil
	h.pkt(19, 9, 0, 1) // 18 lost
	h.now = h.now.Add(repair)
	h.pkt(20, 10, 0, 1) // waited long enough for the repair…
	h.pkt(18, 8, 0, 1)  // …which arrives in time
	h.expect([]byte{0x80}, []byte{0x90}, []byte{0xa0})
	for _, f := range h.out {
		if f.afterLoss {
			t.Errorf("a hole repaired within the learnt wait counted as loss")
		}
	}
}

func TestAssemblerBoundsHostileStreams(t *testing.T) {
	h := newAsmHarness(t)
	h.pkt(0, 0, 0, 1)
	for i := 1; i < 3*maxPendingPkts; i++ { // one endless frame
		h.pkt(uint16(i), 1, 1, 1<<20)
	}
	if n := len(h.a.pkts); n > maxPendingPkts+1 {
		t.Errorf("%d packets held", n)
	}
	h.pkt(uint16(3*maxPendingPkts), 5, 0, 1)
	h.pkt(40000, 6, 0, 1) // a jump no reordering explains
	h.pkt(40001, 7, 0, 1)
	if n := len(h.out); n < 2 || !bytes.Equal(h.out[n-2].data, []byte{0x60}) || !h.out[n-2].afterLoss ||
		!bytes.Equal(h.out[n-1].data, []byte{0x70}) {
		t.Errorf("after the jump: frames %v", h.out)
	}
}
