package mediasoupclient

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/pion/webrtc/v4"
)

// RecvTransport is the local side of a consuming mediasoup
// WebRtcTransport. The remote description is an offer with one m-section
// per consumer; pion answers as DTLS client.
type RecvTransport struct {
	*transport

	nextMid int // fallback mid counter; guarded by mu

	tmu    sync.Mutex            // guards tracks
	tracks map[string]*trackSlot // by mid
}

// trackSlot hands the remote track pion creates (on the first packet) to
// the consumer of its m-section.
type trackSlot struct {
	once     sync.Once
	ready    chan struct{} // closed when track is set
	track    *webrtc.TrackRemote
	receiver *webrtc.RTPReceiver
}

func (t *RecvTransport) slot(mid string) *trackSlot {
	t.tmu.Lock()
	defer t.tmu.Unlock()
	s := t.tracks[mid]
	if s == nil {
		s = &trackSlot{ready: make(chan struct{})}
		t.tracks[mid] = s
	}
	return s
}

func (t *RecvTransport) dropSlot(mid string) {
	t.tmu.Lock()
	delete(t.tracks, mid)
	t.tmu.Unlock()
}

func (t *RecvTransport) onTrack(track *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	mid := ""
	for _, tr := range t.pc.GetTransceivers() {
		if tr.Receiver() == recv {
			mid = tr.Mid()
		}
	}
	if mid == probatorMid {
		// Drain probation packets so the TWCC interceptor sees them.
		t.goTracked(func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := track.Read(buf); err != nil {
					return
				}
			}
		})
		return
	}
	s := t.slot(mid)
	s.once.Do(func() {
		s.track, s.receiver = track, recv
		close(s.ready)
	})
}

// ConsumerOptions are the server's consumer parameters (mediasoup's
// consumer.id, producerId, kind, rtpParameters).
type ConsumerOptions struct {
	ID            string
	ProducerID    string
	Kind          string
	RtpParameters RtpParameters
	// StreamID groups tracks for lip sync (mediasoup-client uses the
	// producing peer's id); default: the RTP CNAME.
	StreamID string
	AppData  map[string]any
}

func (o ConsumerOptions) validate() error {
	switch {
	case o.ID == "" || o.ProducerID == "" || len(o.ID) > maxTokenLen || len(o.ProducerID) > maxTokenLen:
		return invalid("consumer id %q / producer id %q", o.ID, o.ProducerID)
	case o.Kind != MediaKindAudio && o.Kind != MediaKindVideo:
		return invalid("kind %q", o.Kind)
	}
	return validateRtpParameters(o.RtpParameters)
}

// Consume adds a consumer's m-section and completes the local
// negotiation (connecting the transport on first use). Only after it
// returns should the application resume the server-side consumer: RTP
// that arrives before the negotiation is dropped by pion. A negotiation
// that fails is rolled back, so the transport keeps working for others.
func (t *RecvTransport) Consume(ctx context.Context, o ConsumerOptions) (*Consumer, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if err := t.lockOpen(); err != nil {
		return nil, err
	}
	defer t.mu.Unlock()
	if err := t.connect(ctx); err != nil {
		return nil, err
	}
	mid := o.RtpParameters.MID
	if mid == "" {
		mid = strconv.Itoa(t.nextMid)
	}
	t.nextMid++
	if mid == probatorMid || mid == dataMid || t.remote.section(mid) != nil {
		return nil, invalid("mid %q already in use", mid)
	}
	enc := o.RtpParameters.Encodings[0]
	sec := &mediaSection{
		MID: mid, Kind: o.Kind, Direction: "sendonly",
		Codecs: o.RtpParameters.Codecs, Extensions: o.RtpParameters.HeaderExtensions,
		SSRC: enc.SSRC, CNAME: orDefault(o.RtpParameters.Rtcp.CNAME, "-"),
		StreamID: msidToken(orDefault(o.StreamID, o.RtpParameters.Rtcp.CNAME)), TrackID: msidToken(o.ID),
	}
	if enc.RTX != nil {
		sec.RtxSSRC = enc.RTX.SSRC
	}
	n := len(t.remote.Sections)
	t.remote.Sections = append(t.remote.Sections, sec)
	if o.Kind == MediaKindVideo && t.remote.section(probatorMid) == nil {
		t.remote.Sections = append(t.remote.Sections, probatorSection(sec))
	}
	slot := t.slot(mid)
	if err := t.renegotiateAsAnswerer(ctx); err != nil {
		t.remote.Sections = t.remote.Sections[:n]
		t.dropSlot(mid)
		return nil, err
	}
	return &Consumer{
		id: o.ID, producerID: o.ProducerID, kind: o.Kind, rtp: o.RtpParameters, appData: o.AppData,
		t: t, section: sec, slot: slot, done: make(chan struct{}),
	}, nil
}

// The RTP probator: mediasoup probes downlink bandwidth with padding-only
// RTP on SSRC 1234, PT 127 and MID "probator". mediasoup-client declares a
// receiver for it so that the probes reach the transport-cc feedback
// generator instead of being dropped as an unknown SSRC.
const (
	probatorMid  = "probator"
	probatorSSRC = 1234
	probatorPT   = 127
)

func probatorSection(video *mediaSection) *mediaSection {
	codec := video.Codecs[0]
	codec.PayloadType = probatorPT
	return &mediaSection{
		MID: probatorMid, Kind: "video", Direction: "sendonly",
		Codecs: []RtpCodecParameters{codec}, Extensions: video.Extensions,
		SSRC: probatorSSRC, CNAME: "probator", StreamID: "probator", TrackID: "probator",
	}
}

// closeConsumer marks a consumer's m-section inactive (m-sections are
// never recycled) and renegotiates.
func (t *RecvTransport) closeConsumer(ctx context.Context, c *Consumer) error {
	if err := t.lockOpen(); err != nil {
		return nil // the transport's Close ended it
	}
	defer t.mu.Unlock()
	t.dropSlot(c.section.MID)
	c.section.Direction = "inactive"
	if err := t.renegotiateAsAnswerer(ctx); err != nil {
		return fmt.Errorf("renegotiate after closing consumer %s: %w", c.id, err)
	}
	return nil
}
