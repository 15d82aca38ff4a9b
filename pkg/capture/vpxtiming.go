package capture

import "time"

// Working around mediadevices v0.9.4's libvpx timestamps.
//
// Its vpx wrapper declares a millisecond timebase to libvpx but passes
// timestamps and durations in microseconds: for each frame, pts = wall-clock
// time since the encoder's creation and duration = gap g since the previous
// encode call (or the creation). libvpx therefore sees frames a thousand
// times too long, and VP8's frame-rate estimate, from which its rate control
// derives each frame's bit budget (bitrate / frame rate), is garbage. In
// libvpx's vp8_get_compressed_data, with prev the previous gap:
//
//   - the first frame sets the estimate to 1/g (g in ms) fps;
//   - later frames compute this = 2g - prev; if |g - prev| >= prev/20 ("a 10 %
//     change") the estimate is reset to 1/this fps, otherwise this is averaged
//     into a running estimate with weights that assume sane durations and,
//     a thousand times off, turn sub-millisecond jitter into factors of 0.5
//     or 2 per frame: a random walk;
//   - vp8_new_framerate replaces any estimate below 0.1 fps by 30 fps.
//
// So as long as every frame takes the reset path with this > 10 ms (or
// this <= 0), libvpx runs at a steady 30 fps budget (compensated by scaling
// the bitrate, see vp8.go). Otherwise the estimate can land between 0.1 and
// 30 fps and single frames get budgets of seconds of bitrate: measured as
// 30 KB P-frames in a 500 kbps stream and up to 1.5-2.5x the target over a
// few seconds under CPU contention. vpxTiming delays encode calls just
// enough to stay on the safe path: at a steady frame rate every third frame
// or so waits about 5 % of a frame interval plus a millisecond.
//
// The proper fix is upstream: a microsecond timebase in the wrapper.
type vpxTiming struct {
	last time.Time     // previous encode call, or the encoder's creation
	prev time.Duration // previous gap; 0 before the first call
}

const (
	// vpxTimingMargin absorbs the small offset between our clock readings
	// and the wrapper's.
	vpxTimingMargin = time.Millisecond
	// vpxMinThis keeps 1/this below VP8's 0.1 fps threshold.
	vpxMinThis = 10*time.Millisecond + vpxTimingMargin
)

func newVPXTiming() vpxTiming { return vpxTiming{last: time.Now()} }

// wait returns how long to wait before an encode call wanted at now.
func (t *vpxTiming) wait(now time.Time) time.Duration {
	g := now.Sub(t.last)
	return safeGap(t.prev, g) - g
}

// called records an encode call made at now.
func (t *vpxTiming) called(now time.Time) {
	t.prev, t.last = now.Sub(t.last), now
}

// safeGap returns the smallest gap >= g after a gap of prev (0 for the first
// frame) that keeps VP8's frame-rate estimate below 0.1 fps (see vpxTiming).
func safeGap(prev, g time.Duration) time.Duration {
	if prev == 0 {
		return max(g, vpxMinThis)
	}
	resetBelow := prev - prev/20 - vpxTimingMargin // g <= resetBelow: reset path
	resetAbove := prev + prev/20 + vpxTimingMargin // g >= resetAbove: reset path
	minThis := (prev + vpxMinThis + 1) / 2         // g >= minThis: this >= vpxMinThis
	reset := g <= resetBelow || g >= resetAbove
	this := 2*g - prev
	if reset && (this <= 0 || this >= vpxMinThis) {
		return g
	}
	// Waiting only lengthens g: take the first safe gap ahead, preferring
	// the window below prev only when a late wake-up cannot overshoot it.
	if g < minThis && minThis+2*vpxTimingMargin <= resetBelow {
		return minThis
	}
	return max(resetAbove, minThis)
}
