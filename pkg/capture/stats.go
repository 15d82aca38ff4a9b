package capture

import "sync/atomic"

// LayerStats counts the output of one encoding (one simulcast layer, or the
// single audio or video stream). Counters start at zero and only grow.
type LayerStats struct {
	// FramesEncoded is the number of frames (audio: packets) the encoder
	// produced.
	FramesEncoded uint64
	// KeyFrames is the number of encoded key frames (0 for audio).
	KeyFrames uint64
	// Bytes is the encoded payload size, before RTP packetisation.
	Bytes uint64
	// FramesDropped counts frames that were due but not produced: the
	// pacing loop fell behind real time, or the encoder dropped or failed a
	// frame. Frames not produced while paused are not counted.
	FramesDropped uint64
	// SamplesWritten is the number of encoded samples written to the track.
	SamplesWritten uint64
	// EncodeErrors and WriteErrors count failed encoder calls and failed
	// track writes (a write fails when any of the track's bindings fails).
	EncodeErrors uint64
	WriteErrors  uint64
}

// SourceStats is a snapshot of a source's counters.
type SourceStats struct {
	// Layers has one entry per track, in the order of Tracks (low to high).
	Layers []LayerStats
}

// Total sums the counters of all layers.
func (s SourceStats) Total() LayerStats {
	var t LayerStats
	for _, l := range s.Layers {
		t.FramesEncoded += l.FramesEncoded
		t.KeyFrames += l.KeyFrames
		t.Bytes += l.Bytes
		t.FramesDropped += l.FramesDropped
		t.SamplesWritten += l.SamplesWritten
		t.EncodeErrors += l.EncodeErrors
		t.WriteErrors += l.WriteErrors
	}
	return t
}

// layerCounters are the live counters behind LayerStats.
type layerCounters struct {
	framesEncoded  atomic.Uint64
	keyFrames      atomic.Uint64
	bytes          atomic.Uint64
	framesDropped  atomic.Uint64
	samplesWritten atomic.Uint64
	encodeErrors   atomic.Uint64
	writeErrors    atomic.Uint64
}

func (c *layerCounters) encoded(n int, keyFrame bool) {
	c.framesEncoded.Add(1)
	c.bytes.Add(uint64(n))
	if keyFrame {
		c.keyFrames.Add(1)
	}
}

func (c *layerCounters) snapshot() LayerStats {
	return LayerStats{
		FramesEncoded:  c.framesEncoded.Load(),
		KeyFrames:      c.keyFrames.Load(),
		Bytes:          c.bytes.Load(),
		FramesDropped:  c.framesDropped.Load(),
		SamplesWritten: c.samplesWritten.Load(),
		EncodeErrors:   c.encodeErrors.Load(),
		WriteErrors:    c.writeErrors.Load(),
	}
}
