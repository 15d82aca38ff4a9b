package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	msc "github.com/callctl/callctl/pkg/mediasoupclient"
	"github.com/callctl/callctl/pkg/sdk/internal/protoo"
)

// ServerRequest is a request from the server, typed: exactly one of
// NewConsumer and NewDataConsumer is set for the methods this package
// knows. It must be answered with Accept or Reject.
type ServerRequest struct {
	Method          string
	NewConsumer     *NewConsumer
	NewDataConsumer *NewDataConsumer
	// Err is why a known method's body could not be decoded (then the
	// request should be rejected).
	Err error

	r *protoo.ServerRequest
}

// Accept answers the request successfully.
func (s *ServerRequest) Accept(ctx context.Context) error { return s.r.Accept(ctx, nil) }

// Reject answers the request with an error.
func (s *ServerRequest) Reject(ctx context.Context, code int, reason string) error {
	return s.r.Reject(ctx, code, reason)
}

// NewConsumer asks the client to consume a producer.
type NewConsumer struct {
	PeerID         string
	ProducerID     string
	ID             string
	Kind           string
	RtpParameters  msc.RtpParameters
	Type           string // simple, simulcast, svc, pipe
	ProducerPaused bool
	AppData        map[string]any
}

// NewDataConsumer asks the client to consume a data producer. PeerID is
// empty for the server's bot.
type NewDataConsumer struct {
	PeerID               string
	DataProducerID       string
	ID                   string
	SctpStreamParameters msc.SctpStreamParameters
	Label, Protocol      string
	AppData              map[string]any
}

type wireNewConsumer struct {
	PeerID         string            `json:"peerId"`
	ProducerID     string            `json:"producerId"`
	ID             string            `json:"id"`         // JS
	ConsumerID     string            `json:"consumerId"` // TS
	Kind           string            `json:"kind"`
	RtpParameters  msc.RtpParameters `json:"rtpParameters"`
	Type           string            `json:"type"`
	ProducerPaused bool              `json:"producerPaused"`
	AppData        map[string]any    `json:"appData"`
}

type wireNewDataConsumer struct {
	PeerID               *string                  `json:"peerId"`
	DataProducerID       string                   `json:"dataProducerId"`
	ID                   string                   `json:"id"`             // JS
	DataConsumerID       string                   `json:"dataConsumerId"` // TS
	SctpStreamParameters msc.SctpStreamParameters `json:"sctpStreamParameters"`
	Label                string                   `json:"label"`
	Protocol             string                   `json:"protocol"`
	AppData              map[string]any           `json:"appData"`
}

func (c *Conn) onRequest(o Options, r *protoo.ServerRequest) {
	s := &ServerRequest{Method: r.Method, r: r}
	switch r.Method {
	case "newConsumer":
		s.NewConsumer, s.Err = decodeNewConsumer(r.Data)
	case "newDataConsumer":
		s.NewDataConsumer, s.Err = decodeNewDataConsumer(r.Data)
	}
	if o.OnRequest != nil {
		o.OnRequest(s)
		return
	}
	_ = r.Reject(context.Background(), 501, "not supported by this client: "+r.Method)
}

func decodeNewConsumer(data json.RawMessage) (*NewConsumer, error) {
	var w wireNewConsumer
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("malformed newConsumer: %w", err)
	}
	n := &NewConsumer{
		PeerID: w.PeerID, ProducerID: w.ProducerID, ID: firstNonEmpty(w.ID, w.ConsumerID), Kind: w.Kind,
		RtpParameters: w.RtpParameters, Type: w.Type, ProducerPaused: w.ProducerPaused, AppData: w.AppData,
	}
	if n.ID == "" || n.ProducerID == "" || n.PeerID == "" {
		return nil, errors.New("newConsumer: missing consumer, producer or peer id")
	}
	return n, nil
}

func decodeNewDataConsumer(data json.RawMessage) (*NewDataConsumer, error) {
	var w wireNewDataConsumer
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("malformed newDataConsumer: %w", err)
	}
	n := &NewDataConsumer{
		DataProducerID: w.DataProducerID, ID: firstNonEmpty(w.ID, w.DataConsumerID),
		SctpStreamParameters: w.SctpStreamParameters, Label: w.Label, Protocol: w.Protocol, AppData: w.AppData,
	}
	if w.PeerID != nil {
		n.PeerID = *w.PeerID
	}
	if n.ID == "" || n.DataProducerID == "" {
		return nil, errors.New("newDataConsumer: missing data consumer or data producer id")
	}
	return n, nil
}
