package capture

import (
	"fmt"

	"github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/codec/opus"
	"github.com/pion/mediadevices/pkg/io/audio"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/mediadevices/pkg/wave"
)

// opusPacketSamples is the number of samples per channel in one 20 ms packet.
const opusPacketSamples = toneSampleRate / 50 // 960

// opusEncoder encodes 20 ms chunks of 48 kHz PCM with mediadevices' opus
// package (libopus, OPUS_APPLICATION_VOIP).
type opusEncoder struct {
	rc    codec.ReadCloser
	cur   *wave.Int16Interleaved // the chunk being encoded, handed to rc's reader
	level levelMeter             // RFC 6464 level of the last chunk (audiolevel.go)
}

func newOpusEncoder(channels, bitrate int) (*opusEncoder, error) {
	params, err := opus.NewParams()
	if err != nil {
		return nil, fmt.Errorf("capture: opus params: %w", err)
	}
	params.BitRate = bitrate
	params.Latency = opus.Latency20ms

	e := &opusEncoder{}
	reader := audio.ReaderFunc(func() (wave.Audio, func(), error) {
		return e.cur, func() {}, nil
	})
	rc, err := params.BuildAudioEncoder(reader, prop.Media{Audio: prop.Audio{
		SampleRate:    toneSampleRate,
		ChannelCount:  channels,
		SampleSize:    2,
		IsInterleaved: true,
	}})
	if err != nil {
		return nil, fmt.Errorf("capture: opus encoder: %w", err)
	}
	e.rc = rc
	return e, nil
}

// encode encodes one 20 ms chunk into one Opus packet.
func (e *opusEncoder) encode(pcm *wave.Int16Interleaved) ([]byte, error) {
	e.cur = pcm
	e.level.measure(pcm)
	b, release, err := e.rc.Read()
	e.cur = nil
	if err != nil {
		return nil, err
	}
	release()
	return b, nil
}

func (e *opusEncoder) close() error { return e.rc.Close() }

// sendOpus encodes one 20 ms chunk and writes the packet for RTP slot,
// counting what happened: the one step every Opus source shares.
func sendOpus(enc *opusEncoder, pcm *wave.Int16Interleaved, stats *layerCounters, out *trackWriter, slot int64) {
	data, err := enc.encode(pcm)
	if err != nil || len(data) == 0 {
		if err != nil {
			stats.encodeErrors.Add(1)
		}
		stats.framesDropped.Add(1)
		return
	}
	stats.encoded(len(data), false)
	out.write(slot, data)
}
