package netem

import (
	"math/rand/v2"
	"sync"
	"time"
)

// mtu is the packet size the rate limiter's bucket and queue are sized in.
const mtu = 1500

// defaultQueue is Impairment.Queue's default.
const defaultQueue = 200 * time.Millisecond

// Why a packet did not get through.
type dropReason int

const (
	pass      dropReason = iota
	dropLoss             // random (or burst) loss
	dropQueue            // the rate limiter's queue was full
	dropCut              // the link is cut
)

// verdict is what a link decided for one packet.
type verdict struct {
	drop dropReason
	at   time.Time // when to deliver it (drop == pass)
}

// link is one direction of the impaired network: every socket of a Net
// shares it, so a rate limit is the whole uplink's, as on a real access
// line. Its decisions depend only on the arrival times given to admit and
// on its random source, which makes it testable on a fake clock.
type link struct {
	mu  sync.Mutex
	imp Impairment
	rng *rand.Rand
	cut bool

	bad      bool      // Gilbert-Elliott state: in a loss burst
	tokens   float64   // rate limiter: bytes available; negative = queued backlog
	tokensAt time.Time // when tokens was last brought up to date
	lastAt   time.Time // latest in-order delivery time handed out
}

func newLink(imp Impairment, seed uint64) *link {
	return &link{imp: imp, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// set replaces the impairment; the queue's backlog and the loss state
// carry over, as a real link's would.
func (l *link) set(imp Impairment) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if imp.Rate == 0 || l.imp.Rate == 0 {
		l.tokensAt = time.Time{} // start (or stop) limiting with a full bucket
	}
	l.imp = imp
}

func (l *link) impairment() Impairment {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.imp
}

func (l *link) setCut(on bool) {
	l.mu.Lock()
	l.cut = on
	l.mu.Unlock()
}

func (l *link) isCut() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cut
}

// admit decides the fate of a packet of size bytes offered at now: loss
// first (on the wire), then the rate limiter's queue, then the delay.
func (l *link) admit(now time.Time, size int) verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cut {
		return verdict{drop: dropCut}
	}
	if l.lost() {
		return verdict{drop: dropLoss}
	}
	depart, ok := l.shape(now, size)
	if !ok {
		return verdict{drop: dropQueue}
	}
	return verdict{at: l.delay(depart)}
}

// lost draws the random loss of one packet.
func (l *link) lost() bool {
	p := l.imp.Loss / 100
	if p <= 0 {
		return false
	}
	if l.imp.Burst <= 1 || p >= 1 {
		return l.rng.Float64() < p
	}
	// Two states: bad loses everything and lasts Burst packets on average
	// (leaves with r = 1/Burst); good enters bad with the probability that
	// makes the stationary share of bad p: p·r / (1-p).
	r := 1 / l.imp.Burst
	if l.bad {
		if l.rng.Float64() < r {
			l.bad = false
		}
	} else if l.rng.Float64() < p*r/(1-p) {
		l.bad = true
	}
	return l.bad
}

// shape runs the token bucket: it returns when the packet leaves the
// queue, or false when the queue is full.
func (l *link) shape(now time.Time, size int) (time.Time, bool) {
	if l.imp.Rate <= 0 {
		return now, true
	}
	bytesPerSec := float64(l.imp.Rate) / 8
	bucket := max(2*mtu, bytesPerSec*0.005) // a few packets, or 5 ms at high rates
	queue := l.imp.Queue
	if queue == 0 {
		queue = defaultQueue
	}
	limit := max(2*mtu, bytesPerSec*queue.Seconds())
	if l.tokensAt.IsZero() {
		l.tokens = bucket
	} else if el := now.Sub(l.tokensAt); el > 0 {
		l.tokens = min(bucket, l.tokens+el.Seconds()*bytesPerSec)
	}
	if now.After(l.tokensAt) {
		l.tokensAt = now
	}
	if l.tokens-float64(size) < -limit {
		return time.Time{}, false
	}
	l.tokens -= float64(size)
	if l.tokens >= 0 {
		return now, true
	}
	wait := time.Duration(-l.tokens / bytesPerSec * float64(time.Second))
	return now.Add(wait), true
}

// delay adds the propagation delay and jitter to a departure time,
// keeping order unless the packet is picked for reordering.
func (l *link) delay(depart time.Time) time.Time {
	if l.imp.Delay == 0 && l.imp.Jitter == 0 {
		return l.inOrder(depart)
	}
	if l.imp.Reorder > 0 && l.rng.Float64() < l.imp.Reorder/100 {
		return depart // skips the line
	}
	d := l.imp.Delay
	if j := l.imp.Jitter; j > 0 {
		d += time.Duration((2*l.rng.Float64() - 1) * float64(j))
	}
	return l.inOrder(depart.Add(max(0, d)))
}

func (l *link) inOrder(at time.Time) time.Time {
	if at.Before(l.lastAt) {
		at = l.lastAt
	}
	l.lastAt = at
	return at
}
