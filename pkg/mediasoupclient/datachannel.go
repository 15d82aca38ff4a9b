package mediasoupclient

import (
	"context"
	"fmt"

	"github.com/pion/webrtc/v4"
)

// DataChannels over SCTP, as mediasoup-client does them: every channel is
// negotiated (no DCEP) with an explicit stream id; the send side picks the
// id, the receive side uses the server's. The first channel of a
// transport adds an m=application section.

// dataMid is the receive side's application m-section (mediasoup-client's
// choice).
const dataMid = "datachannel"

// ProduceDataParameters are what the application sends to the server to
// create a data producer (mediasoup's transport.produceData).
type ProduceDataParameters struct {
	SctpStreamParameters SctpStreamParameters
	Label                string
	Protocol             string
	AppData              map[string]any
}

// OnProduceData sets the hook that asks the server to create a data
// producer and returns its id. Set it before ProduceData.
func (t *SendTransport) OnProduceData(f func(ctx context.Context, p ProduceDataParameters) (dataProducerID string, err error)) {
	t.hmu.Lock()
	t.onProduceData = f
	t.hmu.Unlock()
}

// DataProducerOptions describe a DataChannel to send on. Setting
// MaxPacketLifeTime or MaxRetransmits makes it unordered.
type DataProducerOptions struct {
	Label, Protocol   string
	MaxPacketLifeTime *uint16
	MaxRetransmits    *uint16
	AppData           map[string]any
}

// DataProducer sends messages to the server on one SCTP stream.
type DataProducer struct {
	id      string
	label   string
	params  SctpStreamParameters
	appData map[string]any
	dc      *webrtc.DataChannel
}

// ProduceData opens a DataChannel towards the server.
func (t *SendTransport) ProduceData(ctx context.Context, o DataProducerOptions) (*DataProducer, error) {
	if t.remote.SCTP == nil {
		return nil, ErrSctpNotEnabled
	}
	if err := t.lockOpen(); err != nil {
		return nil, err
	}
	defer t.mu.Unlock()
	t.hmu.Lock()
	hook := t.onProduceData
	t.hmu.Unlock()
	if hook == nil {
		return nil, fmt.Errorf("%w: OnProduceData", ErrNoHandler)
	}
	if err := t.connect(ctx); err != nil {
		return nil, err
	}
	params := SctpStreamParameters{StreamID: t.nextStreamID % uint16(max(1, t.remote.SCTP.MIS)), MaxPacketLifeTime: o.MaxPacketLifeTime, MaxRetransmits: o.MaxRetransmits}
	t.nextStreamID++
	dc, err := newDataChannel(t.pc, o.Label, o.Protocol, &params)
	if err != nil {
		return nil, err
	}
	if err := t.negotiateSCTPAsOfferer(); err != nil {
		_ = dc.Close()
		return nil, err
	}
	id, err := hook(ctx, ProduceDataParameters{SctpStreamParameters: params, Label: o.Label, Protocol: o.Protocol, AppData: o.AppData})
	if err == nil && id == "" {
		err = fmt.Errorf("%w: empty data producer id", ErrInvalidParameters)
	}
	if err != nil {
		_ = dc.Close()
		return nil, err
	}
	return &DataProducer{id: id, label: o.Label, params: params, appData: o.AppData, dc: dc}, nil
}

// newDataChannel creates a negotiated pion DataChannel for params,
// setting params.Ordered the way mediasoup expects.
func newDataChannel(pc *webrtc.PeerConnection, label, protocol string, params *SctpStreamParameters) (*webrtc.DataChannel, error) {
	ordered := params.MaxPacketLifeTime == nil && params.MaxRetransmits == nil
	if params.Ordered != nil {
		ordered = *params.Ordered && ordered
	}
	params.Ordered = &ordered
	negotiated, id := true, params.StreamID
	dc, err := pc.CreateDataChannel(label, &webrtc.DataChannelInit{
		Ordered: &ordered, MaxPacketLifeTime: params.MaxPacketLifeTime, MaxRetransmits: params.MaxRetransmits,
		Protocol: &protocol, Negotiated: &negotiated, ID: &id,
	})
	if err != nil {
		return nil, fmt.Errorf("create data channel: %w", err)
	}
	return dc, nil
}

// negotiateSCTPAsOfferer adds the application m-section on the first
// DataChannel. Called with mu held.
func (t *SendTransport) negotiateSCTPAsOfferer() error {
	for _, s := range t.remote.Sections {
		if s.Kind == "application" {
			return nil
		}
	}
	offer, err := t.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	sdp, err := parseLocalSDP(offer.SDP)
	if err != nil {
		return fmt.Errorf("parse offer: %w", err)
	}
	mid := sdp.applicationMid()
	if mid == "" {
		return fmt.Errorf("offer has no application section")
	}
	t.remote.Sections = append(t.remote.Sections, &mediaSection{MID: mid, Kind: "application"})
	if err := t.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local offer: %w", err)
	}
	if err := t.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: t.remote.String()}); err != nil {
		return fmt.Errorf("set remote answer: %w", err)
	}
	return nil
}

// ID is the server's data producer id.
func (d *DataProducer) ID() string { return d.id }

// Label is the DataChannel's label.
func (d *DataProducer) Label() string { return d.label }

// SctpStreamParameters are the parameters the server was given.
func (d *DataProducer) SctpStreamParameters() SctpStreamParameters { return d.params }

// AppData is what DataProducerOptions.AppData carried.
func (d *DataProducer) AppData() map[string]any { return d.appData }

// DataChannel is the pion DataChannel (for OnOpen, ReadyState, buffering).
func (d *DataProducer) DataChannel() *webrtc.DataChannel { return d.dc }

// Send sends a binary message.
func (d *DataProducer) Send(b []byte) error { return d.dc.Send(b) }

// SendText sends a text message (SCTP PPID 51, what mediasoup-demo's chat
// and bot use).
func (d *DataProducer) SendText(s string) error { return d.dc.SendText(s) }

// Close closes the DataChannel; the server-side data producer is the
// application's to close.
func (d *DataProducer) Close() error { return d.dc.Close() }

// DataConsumerOptions are the server's data consumer parameters.
type DataConsumerOptions struct {
	ID                   string
	DataProducerID       string
	SctpStreamParameters SctpStreamParameters
	Label, Protocol      string
	AppData              map[string]any
}

// DataConsumer receives messages from the server on one SCTP stream.
type DataConsumer struct {
	id, dataProducerID, label string
	params                    SctpStreamParameters
	appData                   map[string]any
	dc                        *webrtc.DataChannel
}

// ConsumeData opens the DataChannel of a server-side data consumer. Set
// OnMessage on the result before the application lets the server send
// (mediasoup sends as soon as the SCTP stream is open).
func (t *RecvTransport) ConsumeData(ctx context.Context, o DataConsumerOptions) (*DataConsumer, error) {
	if t.remote.SCTP == nil {
		return nil, ErrSctpNotEnabled
	}
	if o.ID == "" || len(o.ID) > maxTokenLen {
		return nil, invalid("data consumer id %q", o.ID)
	}
	if err := t.lockOpen(); err != nil {
		return nil, err
	}
	defer t.mu.Unlock()
	if err := t.connect(ctx); err != nil {
		return nil, err
	}
	params := o.SctpStreamParameters
	dc, err := newDataChannel(t.pc, o.Label, o.Protocol, &params)
	if err != nil {
		return nil, err
	}
	if t.remote.section(dataMid) == nil {
		t.remote.Sections = append(t.remote.Sections, &mediaSection{MID: dataMid, Kind: "application"})
		if err := t.renegotiateAsAnswerer(ctx); err != nil {
			t.remote.Sections = t.remote.Sections[:len(t.remote.Sections)-1]
			_ = dc.Close()
			return nil, err
		}
	}
	return &DataConsumer{id: o.ID, dataProducerID: o.DataProducerID, label: o.Label, params: params, appData: o.AppData, dc: dc}, nil
}

// ID is the server's data consumer id.
func (d *DataConsumer) ID() string { return d.id }

// DataProducerID is the id of the data producer consumed.
func (d *DataConsumer) DataProducerID() string { return d.dataProducerID }

// Label is the DataChannel's label.
func (d *DataConsumer) Label() string { return d.label }

// SctpStreamParameters are the server's parameters.
func (d *DataConsumer) SctpStreamParameters() SctpStreamParameters { return d.params }

// AppData is what DataConsumerOptions.AppData carried.
func (d *DataConsumer) AppData() map[string]any { return d.appData }

// DataChannel is the pion DataChannel.
func (d *DataConsumer) DataChannel() *webrtc.DataChannel { return d.dc }

// OnMessage sets the handler for incoming messages (called on pion's
// goroutine, in order).
func (d *DataConsumer) OnMessage(f func(webrtc.DataChannelMessage)) { d.dc.OnMessage(f) }

// Close closes the DataChannel.
func (d *DataConsumer) Close() error { return d.dc.Close() }
