package capture

/*
#include <stdlib.h>
*/
import "C"

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/gen2brain/malgo"
	"github.com/pion/mediadevices/pkg/wave"
	"github.com/pion/webrtc/v4"

	"github.com/callctl/callctl/pkg/sdk"
)

var _ sdk.MediaSource = (*MicrophoneSource)(nil)

// MicrophoneOptions configures NewMicrophoneAudio. Zero fields take
// defaults.
type MicrophoneOptions struct {
	// Device selects the microphone by the ID or name ListDevices reports.
	// Empty: the system's default capture device (else the first).
	Device string
	// Channels captured and encoded, 1 (default) or 2.
	Channels int
	// Bitrate is the Opus target bitrate in bits per second. Default 32 kbps.
	Bitrate int
	// TrackID and StreamID name the track. Default "audio" and "callctl".
	TrackID, StreamID string
}

// audioBackends are the capture systems tried, in order. miniaudio's null
// backend is left out: it would pass for a silent microphone.
var audioBackends = []malgo.Backend{malgo.BackendPulseaudio, malgo.BackendAlsa, malgo.BackendJack}

// MicrophoneSource captures a microphone (PulseAudio, ALSA or JACK through
// miniaudio, as pion/mediadevices' microphone driver does), encodes 20 ms
// Opus packets and writes them into one webrtc.TrackLocalStaticSample.
// The RTP timestamps follow the device's sample clock.
//
// miniaudio is used directly rather than through mediadevices' driver
// package, whose init opens an audio context in every process that links
// it, panics when that fails, and registers ALSA's "null" device as a
// microphone on machines without a sound card.
type MicrophoneSource struct {
	opts  MicrophoneOptions
	codec webrtc.RTPCodecCapability
	track *webrtc.TrackLocalStaticSample
	enc   *opusEncoder
	out   trackWriter
	stats layerCounters
	run   runner

	actx     *malgo.AllocatedContext
	dev      *malgo.Device
	deviceID unsafe.Pointer // C copy of the device's ID, freed on Close
	name     string

	// The capture callback cuts the samples into 20 ms chunks.
	chunks  chan []int16
	partial []int16 // capture thread only
	paused  atomic.Bool
}

// microphone is a capture device found by listMicrophones.
type microphone struct {
	id, name  string
	isDefault bool
	info      malgo.DeviceInfo
}

// audioContext opens a miniaudio context on the first capture system that
// works, or fails with ErrNoDevice.
func audioContext() (*malgo.AllocatedContext, error) {
	actx, err := malgo.InitContext(audioBackends, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: no audio system (PulseAudio, ALSA, JACK): %w", ErrNoDevice, err)
	}
	return actx, nil
}

// listMicrophones lists the capture devices of actx, ALSA's "null" sink
// excepted.
func listMicrophones(actx *malgo.AllocatedContext) ([]microphone, error) {
	devs, err := actx.Devices(malgo.Capture)
	if err != nil {
		return nil, fmt.Errorf("capture: list microphones: %w", err)
	}
	var mics []microphone
	for _, d := range devs {
		id := deviceIDString(d.ID)
		if id == "null" {
			continue
		}
		mics = append(mics, microphone{id: id, name: d.Name(), isDefault: d.IsDefault != 0, info: d})
	}
	return mics, nil
}

// deviceIDString renders a miniaudio device ID: the backend's name for it
// when printable (PulseAudio and ALSA use strings), else hexadecimal.
func deviceIDString(id malgo.DeviceID) string {
	b := id[:]
	if i := bytes.IndexByte(b, 0); i > 0 {
		s := string(b[:i])
		if !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r > '~' }) {
			return s
		}
	}
	return id.String()
}

// NewMicrophoneAudio opens a microphone and its Opus encoder; Start starts
// capturing, Close releases both. Without a microphone it returns an error
// wrapping ErrNoDevice.
func NewMicrophoneAudio(opts MicrophoneOptions) (*MicrophoneSource, error) {
	opts.Channels = cmp.Or(opts.Channels, 1)
	opts.Bitrate = cmp.Or(opts.Bitrate, DefaultAudioBitrate)
	opts.TrackID = cmp.Or(opts.TrackID, DefaultAudioTrackID)
	opts.StreamID = cmp.Or(opts.StreamID, DefaultStreamID)
	switch {
	case opts.Channels != 1 && opts.Channels != 2:
		return nil, fmt.Errorf("%w: %d audio channels (want 1 or 2)", ErrInvalidOptions, opts.Channels)
	case opts.Bitrate < 6000 || opts.Bitrate > 510_000:
		return nil, fmt.Errorf("%w: opus bitrate %d not in 6000..510000", ErrInvalidOptions, opts.Bitrate)
	}
	actx, err := audioContext()
	if err != nil {
		return nil, err
	}
	s := &MicrophoneSource{opts: opts, actx: actx, chunks: make(chan []int16, 8)}
	if err := s.open(); err != nil {
		_ = s.release()
		return nil, err
	}
	return s, nil
}

func (s *MicrophoneSource) open() error {
	mics, err := listMicrophones(s.actx)
	if err != nil {
		return err
	}
	var mic *microphone
	for i, m := range mics {
		if s.opts.Device == "" && (mic == nil || m.isDefault) || s.opts.Device != "" && (m.id == s.opts.Device || m.name == s.opts.Device) {
			mic = &mics[i]
		}
	}
	switch {
	case mic == nil && s.opts.Device == "":
		return fmt.Errorf("%w: no microphone found", ErrNoDevice)
	case mic == nil:
		return fmt.Errorf("%w: no microphone %q", ErrNoDevice, s.opts.Device)
	}
	s.name = mic.name

	s.codec = webrtc.RTPCodecCapability{
		MimeType:    webrtc.MimeTypeOpus,
		ClockRate:   opusSampleRate,
		Channels:    2,
		SDPFmtpLine: "minptime=10;useinbandfec=1",
	}
	binds := new(atomic.Uint32)
	if s.track, err = newSampleTrack(s.codec, s.opts.TrackID, s.opts.StreamID, binds); err != nil {
		return fmt.Errorf("capture: audio track: %w", err)
	}
	if s.enc, err = newOpusEncoder(s.opts.Channels, s.opts.Bitrate); err != nil {
		return err
	}
	s.out = newTrackWriter(s.track, opusClock, s.codec.ClockRate, binds, &s.stats)

	cfg := malgo.DefaultDeviceConfig(malgo.Capture)
	cfg.Capture.Format = malgo.FormatS16
	cfg.Capture.Channels = uint32(s.opts.Channels)
	cfg.SampleRate = opusSampleRate
	cfg.PeriodSizeInMilliseconds = 20
	s.deviceID = mic.info.ID.Pointer()
	cfg.Capture.DeviceID = s.deviceID
	if s.dev, err = malgo.InitDevice(s.actx.Context, cfg, malgo.DeviceCallbacks{Data: s.captured}); err != nil {
		return fmt.Errorf("capture: open microphone %q: %w", mic.name, err)
	}
	return nil
}

// captured runs on miniaudio's capture thread: it cuts the samples into
// 20 ms chunks for the encoding goroutine, dropping chunks it cannot take.
func (s *MicrophoneSource) captured(_, in []byte, frames uint32) {
	n := int(frames) * s.opts.Channels
	for i := 0; i < n && 2*i+1 < len(in); i++ {
		s.partial = append(s.partial, int16(binary.LittleEndian.Uint16(in[2*i:])))
		if len(s.partial) == opusPacketSamples*s.opts.Channels {
			select {
			case s.chunks <- s.partial:
			default:
				s.stats.framesDropped.Add(1)
			}
			s.partial = make([]int16, 0, opusPacketSamples*s.opts.Channels)
		}
	}
}

// Kind returns webrtc.RTPCodecTypeAudio.
func (s *MicrophoneSource) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }

// Codec returns audio/opus, 48 kHz, 2 channels, "minptime=10;useinbandfec=1".
func (s *MicrophoneSource) Codec() webrtc.RTPCodecCapability { return s.codec }

// Tracks returns the source's single *webrtc.TrackLocalStaticSample.
func (s *MicrophoneSource) Tracks() []webrtc.TrackLocal { return []webrtc.TrackLocal{s.track} }

// Device returns the name of the microphone in use.
func (s *MicrophoneSource) Device() string { return s.name }

// Start starts capturing and the encoding goroutine, which runs until ctx
// is done or Close.
func (s *MicrophoneSource) Start(ctx context.Context) error {
	if err := s.run.start(ctx, s.encodeLoop); err != nil {
		return err
	}
	if err := s.dev.Start(); err != nil {
		return fmt.Errorf("capture: start microphone %q: %w", s.name, err)
	}
	return nil
}

// RequestKeyFrame does nothing: Opus has no key frames.
func (s *MicrophoneSource) RequestKeyFrame(int) {}

// SetPaused stops (true) or resumes (false) sending; captured audio is
// discarded while paused and the RTP timestamps jump over the pause.
func (s *MicrophoneSource) SetPaused(paused bool) { s.paused.Store(paused) }

// Stats returns a snapshot of the counters (a single layer).
func (s *MicrophoneSource) Stats() SourceStats {
	return SourceStats{Layers: []LayerStats{s.stats.snapshot()}}
}

// Close stops capturing and the encoding goroutine and releases the
// device and encoder. It is idempotent.
func (s *MicrophoneSource) Close() error {
	return s.run.close(s.release)
}

func (s *MicrophoneSource) release() error {
	if s.dev != nil {
		s.dev.Uninit() // stops the capture thread first
		s.dev = nil
	}
	if s.deviceID != nil {
		C.free(s.deviceID)
		s.deviceID = nil
	}
	if s.actx != nil {
		_ = s.actx.Uninit()
		s.actx.Free()
		s.actx = nil
	}
	if s.enc != nil {
		return s.enc.close()
	}
	return nil
}

// encodeLoop encodes and writes the captured chunks until ctx is done.
// Chunk n is slot n of the 20 ms clock: the timestamps follow the device.
func (s *MicrophoneSource) encodeLoop(ctx context.Context) {
	pcm := wave.NewInt16Interleaved(wave.ChunkInfo{Len: opusPacketSamples, Channels: s.opts.Channels, SamplingRate: opusSampleRate})
	for slot := int64(0); ; slot++ {
		var chunk []int16
		select {
		case <-ctx.Done():
			return
		case chunk = <-s.chunks:
		}
		if s.paused.Load() {
			continue
		}
		copy(pcm.Data, chunk)
		sendOpus(s.enc, pcm, &s.stats, &s.out, slot)
	}
}
