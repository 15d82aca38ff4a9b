package capture

import (
	"time"

	"github.com/pion/rtp"
)

// Bounds of the wait for a missing packet. pion's NACK generator asks for
// a retransmission every 100 ms, so a repaired packet lands up to about
// 100 ms + RTT after its slot: minGapWait leaves room for that on a short
// path. Three frame intervals cover low frame rates, where frames are far
// apart. On a long path the wait follows the repairs measured
// (repairMargin over the smoothed repair time, see noteRepair), up to
// maxGapWait. Past the wait the gap is given up and the receiver asks for
// a key frame: waiting longer only delays the picture and then bursts
// stale frames.
const (
	minGapWait       = 150 * time.Millisecond
	maxGapWait       = time.Second
	repairMargin     = 50 * time.Millisecond
	gapWaitFrames    = 3
	maxPendingPkts   = 1024 // a hard cap when the clock does not move
	maxGivenUp       = 16   // holes remembered after giving up, for late repairs
	defaultFrameTime = time.Second / 30
)

// givenUpHole is a run of missing packets [from, to) that was given up,
// and when it was noticed: a retransmission arriving later still tells
// how long repairs take.
type givenUpHole struct {
	from, to uint64
	noticed  time.Time
}

// assembledFrame is one complete frame, in sequence order.
type assembledFrame struct {
	data []byte
	// afterLoss: packets before this frame were given up, so a decoder
	// fed the previous frames has lost its references.
	afterLoss bool
}

// frameAssembler orders RTP packets and joins them into frames (a run of
// packets with one timestamp, ended by the marker bit). Unlike pion's
// samplebuilder, which waits for 512 packets before abandoning a hole, it
// gives a missing packet a wall-clock deadline tuned to the frame rate,
// then skips to the next frame boundary and flags the loss.
type frameAssembler struct {
	newDepacketizer func() rtp.Depacketizer
	isHead          func(payload []byte) bool
	isKey           func(frame []byte) bool
	clockRate       uint32
	now             func() time.Time

	pkts    map[uint64]*rtp.Packet // by extended sequence number
	arrived map[uint64]time.Time   // when each packet in pkts arrived
	started bool
	lastExt uint64 // extended number of the packet pushed last (unwrap reference)
	next    uint64 // everything before next was emitted or given up
	highest uint64
	// resync: after a loss, packets are dropped until one provably starts
	// a frame, so that emitting restarts at a frame boundary.
	resync  bool
	prev    *rtp.Packet // the last packet consumed (emitted or dropped)
	prevExt uint64
	lost    bool // a loss not yet reported on an emitted frame

	lastTS    uint32
	haveTS    bool
	frameTime time.Duration // smoothed frame interval from RTP timestamps

	repair  time.Duration // smoothed time from noticing a hole to its repair
	givenUp []givenUpHole // the last maxGivenUp holes given up
}

// isKey tells key frames (complete and depacketized) apart: one that is
// complete behind a hole ends the wait for the hole at once.
func newFrameAssembler(newDep func() rtp.Depacketizer, isKey func([]byte) bool, clockRate uint32, now func() time.Time) *frameAssembler {
	if clockRate == 0 {
		clockRate = 90000
	}
	// resync from the start: the first packet may be in the middle of a frame.
	return &frameAssembler{newDepacketizer: newDep, isHead: newDep().IsPartitionHead, isKey: isKey, clockRate: clockRate,
		now: now, pkts: map[uint64]*rtp.Packet{}, arrived: map[uint64]time.Time{}, frameTime: defaultFrameTime, resync: true}
}

// unwrap extends a 16-bit sequence number near the last one seen.
func (a *frameAssembler) unwrap(seq uint16) uint64 {
	if !a.started {
		return 1<<32 + uint64(seq) // room below for reordered packets
	}
	diff := int64(int16(seq - uint16(a.lastExt)))
	return uint64(int64(a.lastExt) + diff)
}

// push adds a packet and returns the frames it completes, if any.
func (a *frameAssembler) push(p *rtp.Packet) []assembledFrame {
	ext := a.unwrap(p.SequenceNumber)
	switch {
	case !a.started:
		a.started, a.next, a.highest = true, ext, ext
	case ext+maxPendingPkts < a.next || ext > a.highest+maxPendingPkts:
		a.restart(ext) // a jump no reordering explains: a new numbering
	case ext < a.next:
		a.lateRepair(ext)
		return nil // late: already emitted or given up
	}
	if ext < a.highest && a.pkts[ext] == nil {
		a.repaired(ext)
	}
	a.lastExt = ext
	a.pkts[ext] = p
	a.arrived[ext] = a.now()
	a.highest = max(a.highest, ext)
	if ext > a.next {
		a.skipToKeyFrame(ext)
	}
	var out []assembledFrame
	for {
		if f, ok := a.take(); ok {
			if f != nil {
				out = append(out, *f)
			}
			continue
		}
		if !a.giveUp() {
			return out
		}
	}
}

// take consumes what can be consumed at next: a dropped packet while
// resyncing, or a complete frame. ok is false when it has to wait.
func (a *frameAssembler) take() (f *assembledFrame, ok bool) {
	p := a.pkts[a.next]
	if p == nil {
		return nil, false
	}
	if a.resync && !a.startsFrame(p) {
		a.consume(a.next)
		a.next++
		return nil, true
	}
	a.resync = false
	end, complete := a.frameEnd(p.Timestamp)
	if !complete {
		return nil, false
	}
	f = a.build(end)
	return f, true
}

// frameEnd finds the last packet of the frame starting at next.
func (a *frameAssembler) frameEnd(ts uint32) (uint64, bool) {
	for s := a.next; s <= a.highest; s++ {
		p := a.pkts[s]
		switch {
		case p == nil:
			return 0, false
		case p.Timestamp != ts:
			return s - 1, true // the marker was lost with its meaning: a new frame began
		case p.Marker:
			return s, true
		}
	}
	return 0, false
}

// build joins packets next..end into a frame and moves past them.
func (a *frameAssembler) build(end uint64) *assembledFrame {
	dep := a.newDepacketizer() // fresh: no fragment state carried over a loss
	var data []byte
	ts := a.pkts[a.next].Timestamp
	bad := false
	for s := a.next; s <= end; s++ {
		payload, err := dep.Unmarshal(a.pkts[s].Payload)
		if err != nil {
			bad = true
		}
		data = append(data, payload...)
		a.consume(s)
	}
	a.next = end + 1
	if bad || len(data) == 0 {
		// Padding-only frames carry nothing; undecodable ones count as loss.
		a.lost = a.lost || bad
		return nil
	}
	a.measure(ts)
	f := &assembledFrame{data: data, afterLoss: a.lost}
	a.lost = false
	return f
}

// measure keeps a smoothed frame interval from RTP timestamps.
func (a *frameAssembler) measure(ts uint32) {
	if a.haveTS {
		if d := time.Duration(int64(int32(ts-a.lastTS))) * time.Second / time.Duration(a.clockRate); d > 0 && d < time.Second {
			a.frameTime += (d - a.frameTime) / 8
		}
	}
	a.lastTS, a.haveTS = ts, true
}

// gapWait is how long a missing packet may be waited for.
func (a *frameAssembler) gapWait() time.Duration {
	w := max(minGapWait, gapWaitFrames*a.frameTime)
	if a.repair > 0 {
		w = max(w, a.repair+repairMargin)
	}
	return min(w, maxGapWait)
}

// repaired: packet ext filled a hole in time; the hole was noticed when
// the first packet after it arrived.
func (a *frameAssembler) repaired(ext uint64) {
	for s := ext + 1; s <= a.highest; s++ {
		if t, ok := a.arrived[s]; ok {
			a.noteRepair(a.now().Sub(t))
			return
		}
	}
}

// lateRepair: packet ext arrived after its hole was given up; if the hole
// is remembered, it still measures a repair (one that the wait was too
// short for).
func (a *frameAssembler) lateRepair(ext uint64) {
	for _, h := range a.givenUp {
		if ext >= h.from && ext < h.to {
			a.noteRepair(a.now().Sub(h.noticed))
			return
		}
	}
}

// noteRepair smooths repair times, rising fast (a wait that is too short
// loses whole frames) and falling slowly.
func (a *frameAssembler) noteRepair(d time.Duration) {
	if d <= 0 || d > maxGapWait {
		return
	}
	if d > a.repair {
		a.repair += (d - a.repair) / 2
	} else {
		a.repair += (d - a.repair) / 16
	}
}

// rememberHole keeps a given-up hole for lateRepair, the oldest going
// first.
func (a *frameAssembler) rememberHole(from, to uint64, noticed time.Time) {
	if len(a.givenUp) == maxGivenUp {
		a.givenUp = append(a.givenUp[:0], a.givenUp[1:]...)
	}
	a.givenUp = append(a.givenUp, givenUpHole{from: from, to: to, noticed: noticed})
}

// giveUp abandons the first run of missing packets once it has been
// waited for long enough: gapWait since the first packet after it arrived
// (a missing packet is only known to be missing from then on), or at once
// when maxPendingPkts wait behind it. It reports whether it gave up.
func (a *frameAssembler) giveUp() bool {
	if a.next > a.highest {
		return false // everything consumed
	}
	hole := a.next
	for a.pkts[hole] != nil {
		hole++
	}
	if hole > a.highest {
		if a.highest-a.next < maxPendingPkts {
			return false // nothing after it yet: not a hole, just the present
		}
		// One "frame" of maxPendingPkts packets and no end: hostile or
		// broken. Drop it rather than hold ever more packets.
		for s := a.next; s <= a.highest; s++ {
			a.consume(s)
		}
		a.next, a.lost, a.resync = a.highest+1, true, true
		return true
	}
	after := hole + 1
	for a.pkts[after] == nil {
		after++
	}
	if a.now().Sub(a.arrived[after]) < a.gapWait() && a.highest-a.next < maxPendingPkts {
		return false
	}
	// Drop what came before the hole (an incomplete frame), then skip to
	// the next frame boundary.
	for s := a.next; s < hole; s++ {
		a.consume(s)
	}
	a.rememberHole(hole, after, a.arrived[after])
	a.next, a.lost, a.resync = after, true, true
	return true
}

// skipToKeyFrame: when the frame that packet ext belongs to is a complete
// key frame with a hole before it, nothing before it is needed any more (a decoder
// restarts there), so the hole is given up now rather than after
// gapWait. After a network cut this is the difference between showing
// the key frame the sender made on the receiver's request as soon as it
// arrives and 150-200 ms later.
func (a *frameAssembler) skipToKeyFrame(ext uint64) {
	ts := a.pkts[ext].Timestamp
	end := ext
	for !a.pkts[end].Marker {
		if n := a.pkts[end+1]; n == nil || n.Timestamp != ts {
			return // incomplete (or its marker was lost: left to giveUp)
		}
		end++
	}
	start := ext
	for start > a.next && a.pkts[start-1] != nil && a.pkts[start-1].Timestamp == ts {
		start--
	}
	if start <= a.next || !a.isHead(a.pkts[start].Payload) || !a.holeBefore(start) {
		return // nothing waits before it, or its head is missing
	}
	dep := a.newDepacketizer()
	var data []byte
	for s := start; s <= end; s++ {
		payload, err := dep.Unmarshal(a.pkts[s].Payload)
		if err != nil {
			return
		}
		data = append(data, payload...)
	}
	if !a.isKey(data) {
		return
	}
	for s := a.next; s < start; s++ {
		a.consume(s)
	}
	a.rememberHole(a.next, start, a.arrived[start])
	a.next, a.lost, a.resync = start, true, false
}

// holeBefore reports whether a packet is missing between next and s.
func (a *frameAssembler) holeBefore(s uint64) bool {
	for i := a.next; i < s; i++ {
		if a.pkts[i] == nil {
			return true
		}
	}
	return false
}

// consume forgets packet s, remembering it as the previous packet.
func (a *frameAssembler) consume(s uint64) {
	if p := a.pkts[s]; p != nil {
		a.prev, a.prevExt = p, s
		delete(a.pkts, s)
		delete(a.arrived, s)
	}
}

// startsFrame reports whether p (at next) begins a frame: it follows the
// last packet of a frame, or follows a hole and its payload says it is a
// frame's first packet.
func (a *frameAssembler) startsFrame(p *rtp.Packet) bool {
	if a.prev != nil && a.prevExt+1 == a.next {
		return a.prev.Marker || a.prev.Timestamp != p.Timestamp
	}
	return a.isHead(p.Payload)
}

// restart drops everything and starts over at ext, as after a loss.
func (a *frameAssembler) restart(ext uint64) {
	clear(a.pkts)
	clear(a.arrived)
	a.next, a.highest, a.prev = ext, ext, nil
	a.lost, a.resync = true, true
}
