package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	msc "github.com/callctl/callctl/pkg/mediasoupclient"
)

// The methods below are the client→server requests of mediasoup-demo, one
// per method, normalised over the two dialects.

// GetRouterRtpCapabilities asks for the router's capabilities; the
// response's shape also tells the dialect.
func (c *Conn) GetRouterRtpCapabilities(ctx context.Context) (msc.RtpCapabilities, error) {
	var raw json.RawMessage
	var caps msc.RtpCapabilities
	if err := c.request(ctx, "getRouterRtpCapabilities", nil, &raw); err != nil {
		return caps, err
	}
	dialect, capsRaw, err := detectDialect(raw)
	if err != nil {
		return caps, err
	}
	if err := json.Unmarshal(capsRaw, &caps); err != nil {
		return caps, fmt.Errorf("router capabilities: %w", err)
	}
	c.mu.Lock()
	c.dialect = dialect
	c.mu.Unlock()
	return caps, nil
}

// CreateWebRtcTransport creates a server transport for producing or
// consuming; sctp enables DataChannels on it.
func (c *Conn) CreateWebRtcTransport(ctx context.Context, producing bool, sctp *msc.SctpCapabilities) (msc.TransportOptions, error) {
	dir := "consumer"
	if producing {
		dir = "producer"
	}
	var r createTransportResponse
	err := c.request(ctx, "createWebRtcTransport", createTransportRequest{
		Producing: producing, Consuming: !producing, SctpCapabilities: sctp, AppData: map[string]any{"direction": dir},
	}, &r)
	if err != nil {
		return msc.TransportOptions{}, err
	}
	return msc.TransportOptions{
		ID: firstNonEmpty(r.ID, r.TransportID), IceParameters: r.IceParameters, IceCandidates: r.IceCandidates,
		DtlsParameters: r.DtlsParameters, SctpParameters: r.SctpParameters,
	}, nil
}

// ConnectWebRtcTransport gives the server the client's DTLS parameters.
func (c *Conn) ConnectWebRtcTransport(ctx context.Context, transportID string, dtls msc.DtlsParameters) error {
	return c.request(ctx, "connectWebRtcTransport", connectTransportRequest{TransportID: transportID, DtlsParameters: dtls}, nil)
}

// Join enters the room. With rtp nil the server creates no consumers for
// us; with sctp nil no data consumers.
func (c *Conn) Join(ctx context.Context, displayName string, device Device, rtp *msc.RtpCapabilities, sctp *msc.SctpCapabilities) ([]Peer, error) {
	var r joinResponse
	if err := c.request(ctx, "join", joinRequest{DisplayName: displayName, Device: device, RtpCapabilities: rtp, SctpCapabilities: sctp}, &r); err != nil {
		return nil, err
	}
	peers := make([]Peer, 0, len(r.Peers))
	for _, w := range r.Peers {
		if p := w.peer(); p.ID != "" { // a peer without an id names nobody
			peers = append(peers, p)
		}
	}
	return peers, nil
}

// Produce creates a server producer. appData must carry "source" for the
// TS dialect.
func (c *Conn) Produce(ctx context.Context, transportID string, p msc.ProduceParameters) (string, error) {
	var r produceResponse
	if err := c.request(ctx, "produce", produceRequest{TransportID: transportID, Kind: p.Kind, RtpParameters: p.RtpParameters, AppData: p.AppData}, &r); err != nil {
		return "", err
	}
	if id := firstNonEmpty(r.ID, r.ProducerID); id != "" {
		return id, nil
	}
	return "", errors.New("produce: response has no producer id")
}

// ProduceData creates a server data producer. appData must carry
// "channel" ("chat" or "bot") for the TS dialect.
func (c *Conn) ProduceData(ctx context.Context, transportID string, p msc.ProduceDataParameters) (string, error) {
	var r produceDataResponse
	err := c.request(ctx, "produceData", produceDataRequest{
		TransportID: transportID, SctpStreamParameters: p.SctpStreamParameters, Label: p.Label, Protocol: p.Protocol, AppData: p.AppData,
	}, &r)
	if err != nil {
		return "", err
	}
	if id := firstNonEmpty(r.ID, r.DataProducerID); id != "" {
		return id, nil
	}
	return "", errors.New("produceData: response has no data producer id")
}

// RestartIce asks the server for new ICE parameters of a transport.
func (c *Conn) RestartIce(ctx context.Context, transportID string) (msc.IceParameters, error) {
	var r restartIceResponse
	if err := c.request(ctx, "restartIce", restartIceRequest{TransportID: transportID}, &r); err != nil {
		return msc.IceParameters{}, err
	}
	if r.Wrapped != nil {
		return *r.Wrapped, nil
	}
	return r.IceParameters, nil
}

// CloseProducer, PauseProducer and ResumeProducer act on our producer.
func (c *Conn) CloseProducer(ctx context.Context, id string) error {
	return c.control(ctx, "closeProducer", producerIDRequest{ProducerID: id})
}

// PauseProducer pauses our producer on the server.
func (c *Conn) PauseProducer(ctx context.Context, id string) error {
	return c.control(ctx, "pauseProducer", producerIDRequest{ProducerID: id})
}

// ResumeProducer resumes our producer on the server.
func (c *Conn) ResumeProducer(ctx context.Context, id string) error {
	return c.control(ctx, "resumeProducer", producerIDRequest{ProducerID: id})
}

// SetConsumerPreferredLayers chooses the simulcast/SVC layers forwarded
// to a consumer (temporal nil: the highest).
func (c *Conn) SetConsumerPreferredLayers(ctx context.Context, consumerID string, spatial int, temporal *int) error {
	return c.control(ctx, "setConsumerPreferredLayers", preferredLayersRequest{ConsumerID: consumerID, SpatialLayer: spatial, TemporalLayer: temporal})
}

// RequestConsumerKeyFrame asks the server for a key frame on a consumer.
func (c *Conn) RequestConsumerKeyFrame(ctx context.Context, consumerID string) error {
	return c.control(ctx, "requestConsumerKeyFrame", consumerIDRequest{ConsumerID: consumerID})
}

// GetProducerStats returns the server's statistics of our producer: one
// entry per received stream.
func (c *Conn) GetProducerStats(ctx context.Context, producerID string) ([]StreamStats, error) {
	raw := []StreamStats{}
	var wrapped struct {
		Stats []StreamStats `json:"stats"`
	}
	ts := c.Dialect() == DialectTS
	var dst any = &raw
	if ts {
		dst = &wrapped
	}
	if err := c.request(ctx, "getProducerStats", producerIDRequest{ProducerID: producerID}, dst); err != nil {
		return nil, err
	}
	if ts {
		raw = wrapped.Stats
	}
	return raw, nil
}
