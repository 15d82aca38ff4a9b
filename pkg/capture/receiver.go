package capture

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/callctl/callctl/pkg/sdk"
)

// ReceiveOptions configures NewReceiveSink.
type ReceiveOptions struct {
	// RecordDir, when set, writes every received track to a file there:
	// VP8 as IVF, H264 as Annex-B .h264, Opus as Ogg.
	RecordDir string
	// NoDecode skips decoding (frames are still assembled and counted).
	NoDecode bool
}

// ReceiveSink decodes what a call receives, enough to report frames
// decoded, resolution, frame rate, freezes and audio level, and optionally
// records it. It implements sdk.ReceiveSink.
type ReceiveSink struct {
	opts ReceiveOptions
	now  func() time.Time
	av   avRegistry // pairs each peer's stamped audio and video

	mu     sync.Mutex
	errs   []error
	closed bool
}

var _ sdk.ReceiveSink = (*ReceiveSink)(nil)

// NewReceiveSink returns a sink; it creates RecordDir if needed.
func NewReceiveSink(opts ReceiveOptions) (*ReceiveSink, error) {
	if opts.RecordDir != "" {
		if err := os.MkdirAll(opts.RecordDir, 0o755); err != nil {
			return nil, fmt.Errorf("record dir: %w", err)
		}
	}
	return &ReceiveSink{opts: opts, now: time.Now}, nil
}

// Errors returns problems met while opening tracks (e.g. a file that could
// not be created); tracks that failed are still counted, just not decoded
// or recorded.
func (s *ReceiveSink) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

func (s *ReceiveSink) fail(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

// OpenTrack implements sdk.ReceiveSink.
func (s *ReceiveSink) OpenTrack(info sdk.TrackInfo) sdk.TrackReceiver {
	var rec trackRecorder
	if s.opts.RecordDir != "" {
		r, err := newTrackRecorder(s.opts.RecordDir, info)
		if err != nil {
			s.fail(err)
			report(info, err)
		} else {
			rec = &reportingRecorder{trackRecorder: r, info: info}
		}
	}
	mime := strings.ToLower(info.MimeType)
	switch mime {
	case "video/vp8", "video/h264":
		return s.newVideoReceiver(info, mime, rec)
	case "audio/opus":
		return s.newAudioReceiver(info, rec)
	default:
		return &countingReceiver{rec: rec}
	}
}

// report surfaces a receiver's failure through the SDK (an error event).
func report(info sdk.TrackInfo, err error) {
	if info.ReportError != nil {
		info.ReportError(err)
	}
}

// reportingRecorder stops recording at the first write error (a full disk,
// say) and reports it once, instead of failing silently for every packet.
type reportingRecorder struct {
	trackRecorder
	info   sdk.TrackInfo
	failed bool // WriteRTP is called from one goroutine per track
}

func (r *reportingRecorder) WriteRTP(p *rtp.Packet) error {
	if r.failed {
		return nil
	}
	if err := r.trackRecorder.WriteRTP(p); err != nil {
		r.failed = true
		report(r.info, fmt.Errorf("recording stopped: %w", err))
		return err
	}
	return nil
}

// countingReceiver only records (codecs we do not decode).
type countingReceiver struct{ rec trackRecorder }

func (c *countingReceiver) WriteRTP(p *rtp.Packet) {
	if c.rec != nil {
		c.rec.WriteRTP(p)
	}
}
func (c *countingReceiver) Stats() sdk.ReceiveStats { return sdk.ReceiveStats{} }
func (c *countingReceiver) Close() error {
	if c.rec != nil {
		return c.rec.Close()
	}
	return nil
}

// audioReceiver decodes Opus and measures its level.
type audioReceiver struct {
	sink     *ReceiveSink
	info     sdk.TrackInfo
	dec      *opusDecoder
	channels int
	rec      trackRecorder

	mu      sync.Mutex // guards the following
	stats   sdk.ReceiveStats
	window  levelWindow
	markers markerDetector
	errored bool
}

func (s *ReceiveSink) newAudioReceiver(info sdk.TrackInfo, rec trackRecorder) *audioReceiver {
	a := &audioReceiver{sink: s, info: info, rec: rec, markers: markerDetector{epochMs: info.StampEpochMs}}
	if !s.opts.NoDecode {
		ch := int(info.Channels)
		if ch == 0 {
			ch = 2
		}
		d, err := newOpusDecoder(ch)
		if err != nil {
			s.fail(fmt.Errorf("opus decoder: %w", err))
		} else {
			a.dec, a.channels = d, ch
		}
	}
	if info.StampEpochMs != 0 {
		s.av.register(info.PeerID, a, nil)
	}
	return a
}

func (a *audioReceiver) WriteRTP(p *rtp.Packet) {
	if a.rec != nil {
		a.rec.WriteRTP(p)
	}
	if a.dec == nil || len(p.Payload) == 0 {
		return
	}
	pcm, err := a.dec.decode(p.Payload)
	now := a.sink.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.stats.DecodeErrors++
		return
	}
	a.stats.SamplesDecoded += uint64(len(pcm))
	a.window.add(now, pcm)
	a.markers.add(now, pcm, a.channels)
}

func (a *audioReceiver) Stats() sdk.ReceiveStats {
	a.mu.Lock()
	s := a.stats
	now := a.sink.now()
	s.AudioLevel = a.window.dbfs(now)
	if d := a.markers.delays.summary(now); d != nil {
		s.AudioDelay = &d.Median
	}
	a.mu.Unlock()
	if s.AudioDelay != nil {
		s.AVOffset = a.sink.avOffset(a.info.PeerID)
	}
	return s
}

func (a *audioReceiver) Close() error {
	a.sink.av.unregister(a.info.PeerID, a, nil)
	if a.dec != nil {
		a.dec.close()
	}
	if a.rec != nil {
		return a.rec.Close()
	}
	return nil
}

// levelWindow keeps per-packet sums of squares for the last second.
type levelWindow struct {
	chunks []levelChunk
}

type levelChunk struct {
	at      time.Time
	sumSq   float64
	samples int
}

func (w *levelWindow) add(now time.Time, pcm []int16) {
	var sum float64
	for _, s := range pcm {
		f := float64(s) / 32768
		sum += f * f
	}
	w.chunks = append(w.chunks, levelChunk{now, sum, len(pcm)})
	w.trim(now)
}

func (w *levelWindow) trim(now time.Time) {
	i := 0
	for i < len(w.chunks) && now.Sub(w.chunks[i].at) > time.Second {
		i++
	}
	w.chunks = w.chunks[i:]
}

// SilenceDBFS is the level reported when nothing (or only zeros) arrived.
const SilenceDBFS = -127.0

func (w *levelWindow) dbfs(now time.Time) float64 {
	w.trim(now)
	var sum float64
	n := 0
	for _, c := range w.chunks {
		sum += c.sumSq
		n += c.samples
	}
	if n == 0 || sum == 0 {
		return SilenceDBFS
	}
	return math.Max(SilenceDBFS, 10*math.Log10(sum/float64(n)))
}

// frameMeter computes frame rate and freezes as the W3C stats spec
// defines them: a freeze is an inter-frame gap of at least
// max(3 × average frame duration, average + 150 ms); gaps over 5 s are
// pauses (e.g. a muted sender), not freezes.
type frameMeter struct {
	last      time.Time
	avg       time.Duration // moving average of inter-frame gaps
	gaps      int
	recent    []time.Time
	freezes   uint64
	freezeDur time.Duration
	// frozenFrames counts the frame slots that freezes kept the previous
	// picture on screen: each freeze's gap in average frame durations,
	// less the frame that ends it.
	frozenFrames uint64
}

func (m *frameMeter) frame(now time.Time) {
	if !m.last.IsZero() {
		gap := now.Sub(m.last)
		if m.gaps >= 5 && gap < 5*time.Second && gap >= max(3*m.avg, m.avg+150*time.Millisecond) {
			m.freezes++
			m.freezeDur += gap
			if m.avg > 0 {
				m.frozenFrames += uint64(max(0, (gap+m.avg/2)/m.avg-1))
			}
		}
		if gap < 5*time.Second {
			if m.gaps == 0 {
				m.avg = gap
			} else {
				m.avg += (gap - m.avg) / 16
			}
			m.gaps++
		}
	}
	m.last = now
	m.recent = append(m.recent, now)
	m.trim(now)
}

func (m *frameMeter) trim(now time.Time) {
	i := 0
	for i < len(m.recent) && now.Sub(m.recent[i]) > time.Second {
		i++
	}
	m.recent = m.recent[i:]
}

func (m *frameMeter) fps(now time.Time) float64 {
	m.trim(now)
	return float64(len(m.recent))
}

// isH264KeyFrame reports whether an Annex-B access unit holds an IDR slice.
func isH264KeyFrame(au []byte) bool {
	for _, nal := range splitAnnexB(au) {
		if len(nal) > 0 && nal[0]&0x1f == 5 {
			return true
		}
	}
	return false
}

// frameSize reads the picture size from a key frame without decoding:
// the VP8 key-frame header, or the H.264 SPS.
func frameSize(frame []byte, mime string) (int, int) {
	if strings.EqualFold(mime, "video/vp8") {
		if len(frame) >= 10 && frame[3] == 0x9d && frame[4] == 0x01 && frame[5] == 0x2a {
			return int(frame[6]) | int(frame[7]&0x3f)<<8, int(frame[8]) | int(frame[9]&0x3f)<<8
		}
		return 0, 0
	}
	for _, nal := range splitAnnexB(frame) {
		if len(nal) > 0 && nal[0]&0x1f == 7 {
			if w, h, err := parseSPSSize(nal); err == nil {
				return w, h
			}
		}
	}
	return 0, 0
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// recordPath names a recording after the peer, kind and consumer.
func recordPath(dir string, info sdk.TrackInfo, ext string) string {
	id := info.ConsumerID
	if len(id) > 8 {
		id = id[:8]
	}
	name := fmt.Sprintf("%s-%s-%s%s", unsafeName.ReplaceAllString(info.PeerID, "_"), info.Kind, id, ext)
	return filepath.Join(dir, name)
}
