package mediasoupclient

import (
	"strings"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// This file holds the RFC 6464 client-to-mixer audio level writer.
// mediasoup's AudioLevelObserver and ActiveSpeakerObserver read nothing
// but the ssrc-audio-level header extension of a producer's packets: a
// producer that never writes it is never an active speaker. pion does not
// write it either, so every audio producer's packets pass through a
// voiceTrack that stamps it.

const (
	// IdleLevel (-100 dBov) is the quietest level stamped: a silent
	// participant's, and that of a source's silent frames. It is an idle
	// microphone in a quiet room rather than digital silence (127) for
	// two reasons. mediasoup's AudioLevelObserver ignores it all the same
	// (its threshold is -80 dBov on the reference server and in
	// mediasoup-demo). But its ActiveSpeakerObserver learns each
	// producer's noise floor from the quietest level that is not digital
	// silence and counts as speech only what is louder than that floor:
	// a producer that stamps only digital silence and a steady tone gets
	// the tone as its floor and never becomes the dominant speaker.
	IdleLevel uint8 = 100
	// DefaultVoiceLevel (-30 dBov) is stamped on the packets of sources
	// that cannot tell the level of their frames (pre-encoded files): a
	// typical level of speech, well above the observers' thresholds.
	DefaultVoiceLevel uint8 = 30
)

// opusSilence is one 20 ms Opus frame of silence (TOC 0xf8: CELT
// fullband, 20 ms, mono, one frame; what libopus' DTX emits). A silent
// participant sends it in place of its encoded audio, so that what the
// others hear matches the level it stamps.
var opusSilence = []byte{0xf8, 0xff, 0xfe}

// Voice tells the audio level writer what to stamp on each packet.
type Voice struct {
	// Level returns the level of the frame being written, in -dBov (0 =
	// full scale … 127 = silence). It is called on the source's writing
	// goroutine, right after the source encoded the frame. nil:
	// DefaultVoiceLevel.
	Level func() uint8
	// Talking reports whether the participant speaks at the given time.
	// When it does not, packets carry IdleLevel and their Opus payload
	// is replaced by a silence frame (the source keeps running: it may
	// be shared by other producers). nil: always talking.
	Talking func(time.Time) bool
	// Now is the clock Talking is asked with (default time.Now).
	Now func() time.Time
}

// WithVoice wraps an audio track so that every packet it writes carries
// the ssrc-audio-level header extension (when the transport negotiated
// it) with the level v gives. Each binding (PeerConnection) is stamped
// separately, so two wrappers of one shared track can talk at different
// times.
func WithVoice(t webrtc.TrackLocal, v Voice) webrtc.TrackLocal {
	if v.Now == nil {
		v.Now = time.Now
	}
	return &voiceTrack{TrackLocal: t, voice: v}
}

// withDefaultVoice gives an audio track that no WithVoice wrapped the
// constant voice level; other tracks are returned as they are.
func withDefaultVoice(t webrtc.TrackLocal) webrtc.TrackLocal {
	if _, ok := t.(*voiceTrack); ok || t.Kind() != webrtc.RTPCodecTypeAudio {
		return t
	}
	return WithVoice(t, Voice{})
}

type voiceTrack struct {
	webrtc.TrackLocal
	voice Voice
	bound boundContexts
}

// Bind binds the wrapped track to a context whose writer stamps the level.
func (t *voiceTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	return t.TrackLocal.Bind(t.bound.bind(ctx, &voiceContext{TrackLocalContext: ctx, voice: t.voice}))
}

// Unbind unbinds the wrapped track with the context it was bound to.
func (t *voiceTrack) Unbind(ctx webrtc.TrackLocalContext) error {
	return t.TrackLocal.Unbind(t.bound.unbind(ctx))
}

type voiceContext struct {
	webrtc.TrackLocalContext
	voice Voice
}

func (c *voiceContext) WriteStream() webrtc.TrackLocalWriter {
	w := &voiceWriter{w: c.TrackLocalContext.WriteStream(), voice: c.voice}
	for _, x := range c.HeaderExtensions() {
		if x.URI == uriAudioLevel {
			w.id = uint8(x.ID)
		}
	}
	for _, codec := range c.CodecParameters() {
		w.opus = w.opus || strings.EqualFold(codec.MimeType, webrtc.MimeTypeOpus)
	}
	return w
}

// voiceWriter stamps one binding's packets.
type voiceWriter struct {
	w     webrtc.TrackLocalWriter
	voice Voice
	id    uint8 // negotiated extension id; 0: not negotiated, nothing to do
	opus  bool  // the binding sends Opus: silence can replace the payload
}

func (w *voiceWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if w.id == 0 {
		return w.w.WriteRTP(h, payload)
	}
	level, talking := w.level()
	if !talking && w.opus {
		payload = opusSilence
	}
	ext, err := rtp.AudioLevelExtension{Level: level, Voice: talking && level < IdleLevel}.Marshal()
	if err != nil {
		return 0, err
	}
	// A copy: pion's static tracks hand every binding the same
	// extension slice, and SetExtension may write into it.
	hc := h.Clone()
	if err := hc.SetExtension(w.id, ext); err != nil {
		return 0, err
	}
	return w.w.WriteRTP(&hc, payload)
}

func (w *voiceWriter) Write(b []byte) (int, error) {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		return 0, err
	}
	return w.WriteRTP(&p.Header, p.Payload)
}

// level is what to stamp now and whether the participant talks.
func (w *voiceWriter) level() (uint8, bool) {
	if w.voice.Talking != nil && !w.voice.Talking(w.voice.Now()) {
		return IdleLevel, false
	}
	if w.voice.Level == nil {
		return DefaultVoiceLevel, true
	}
	return min(w.voice.Level(), IdleLevel), true
}
