package demo

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Notification is one typed server notification. The set is closed:
// switch on the concrete type.
type Notification interface{ isNotification() }

// NewPeer: a participant joined.
type NewPeer struct{ Peer Peer }

// PeerClosed: a participant left.
type PeerClosed struct{ PeerID string }

// PeerDisplayNameChanged: a participant renamed itself.
type PeerDisplayNameChanged struct{ PeerID, DisplayName, OldDisplayName string }

// ConsumerClosed: the producer of one of our consumers closed.
type ConsumerClosed struct{ ConsumerID string }

// ConsumerPaused and ConsumerResumed: a producer paused or resumed.
type (
	ConsumerPaused  struct{ ConsumerID string }
	ConsumerResumed struct{ ConsumerID string }
)

// ConsumerLayersChanged: the server forwards other simulcast/SVC layers
// (nil: none).
type ConsumerLayersChanged struct {
	ConsumerID                  string
	SpatialLayer, TemporalLayer *int
}

// ConsumerScore: the server's 0-10 score of a consumer and its producer.
type ConsumerScore struct {
	ConsumerID           string
	Score, ProducerScore int
}

// ProducerScore: the server's score of each encoding of our producer.
type ProducerScore struct {
	ProducerID string
	Scores     map[uint32]int // by SSRC
}

// ActiveSpeaker: the loudest participant ("" on silence).
type ActiveSpeaker struct {
	PeerID string
	Volume float64
}

// DataConsumerClosed: the data producer of one of our data consumers
// closed.
type DataConsumerClosed struct{ DataConsumerID string }

// Other is a notification this package does not type (downlinkBwe,
// speakingPeers, anything newer).
type Other struct{ Method string }

func (NewPeer) isNotification()                {}
func (PeerClosed) isNotification()             {}
func (PeerDisplayNameChanged) isNotification() {}
func (ConsumerClosed) isNotification()         {}
func (ConsumerPaused) isNotification()         {}
func (ConsumerResumed) isNotification()        {}
func (ConsumerLayersChanged) isNotification()  {}
func (ConsumerScore) isNotification()          {}
func (ProducerScore) isNotification()          {}
func (ActiveSpeaker) isNotification()          {}
func (DataConsumerClosed) isNotification()     {}
func (Other) isNotification()                  {}

// errMissingID rejects notifications that name nothing.
var errMissingID = errors.New("missing id")

// notificationBody is the union of every notification's fields in both
// dialects.
type notificationBody struct {
	PeerID         *string         `json:"peerId"`
	ID             string          `json:"id"`
	DisplayName    string          `json:"displayName"`
	OldDisplayName string          `json:"oldDisplayName"`
	Device         Device          `json:"device"`
	Peer           *wirePeer       `json:"peer"` // TS newPeer
	ConsumerID     string          `json:"consumerId"`
	DataConsumerID string          `json:"dataConsumerId"`
	ProducerID     string          `json:"producerId"`
	SpatialLayer   *int            `json:"spatialLayer"`
	TemporalLayer  *int            `json:"temporalLayer"`
	Layers         *wireLayers     `json:"layers"` // TS consumerLayersChanged
	Volume         float64         `json:"volume"`
	Score          json.RawMessage `json:"score"`
}

type wireLayers struct {
	SpatialLayer  *int `json:"spatialLayer"`
	TemporalLayer *int `json:"temporalLayer"`
}

// decodeNotification types one notification. Unknown methods become
// Other; known ones with missing ids or bad shapes are errors.
func decodeNotification(method string, data json.RawMessage) (Notification, error) {
	var b notificationBody
	if len(data) > 0 {
		if err := json.Unmarshal(data, &b); err != nil {
			return nil, fmt.Errorf("notification %s: %w", method, err)
		}
	}
	peerID := ""
	if b.PeerID != nil {
		peerID = *b.PeerID
	}
	n, err := typedNotification(method, b, peerID)
	if err != nil {
		return nil, fmt.Errorf("notification %s: %w", method, err)
	}
	return n, nil
}

func typedNotification(method string, b notificationBody, peerID string) (Notification, error) {
	need := func(id string, n Notification) (Notification, error) {
		if id == "" {
			return nil, errMissingID
		}
		return n, nil
	}
	switch method {
	case "newPeer":
		p := wirePeer{ID: b.ID, PeerID: peerID, DisplayName: b.DisplayName, Device: b.Device}
		if b.Peer != nil {
			p = *b.Peer
		}
		return need(p.peer().ID, NewPeer{Peer: p.peer()})
	case "peerClosed":
		return need(peerID, PeerClosed{PeerID: peerID})
	case "peerDisplayNameChanged":
		return need(peerID, PeerDisplayNameChanged{PeerID: peerID, DisplayName: b.DisplayName, OldDisplayName: b.OldDisplayName})
	case "consumerClosed":
		return need(b.ConsumerID, ConsumerClosed{ConsumerID: b.ConsumerID})
	case "consumerPaused":
		return need(b.ConsumerID, ConsumerPaused{ConsumerID: b.ConsumerID})
	case "consumerResumed":
		return need(b.ConsumerID, ConsumerResumed{ConsumerID: b.ConsumerID})
	case "consumerLayersChanged":
		n := ConsumerLayersChanged{ConsumerID: b.ConsumerID, SpatialLayer: b.SpatialLayer, TemporalLayer: b.TemporalLayer}
		if b.Layers != nil {
			n.SpatialLayer, n.TemporalLayer = b.Layers.SpatialLayer, b.Layers.TemporalLayer
		}
		return need(b.ConsumerID, n)
	case "consumerScore":
		return decodeConsumerScore(b)
	case "producerScore":
		return decodeProducerScore(b)
	case "activeSpeaker":
		return ActiveSpeaker{PeerID: peerID, Volume: b.Volume}, nil
	case "dataConsumerClosed":
		return need(b.DataConsumerID, DataConsumerClosed{DataConsumerID: b.DataConsumerID})
	default:
		return Other{Method: method}, nil
	}
}

func decodeConsumerScore(b notificationBody) (Notification, error) {
	var s struct {
		Score         int `json:"score"`
		ProducerScore int `json:"producerScore"`
	}
	if b.ConsumerID == "" {
		return nil, errMissingID
	}
	if len(b.Score) > 0 {
		if err := json.Unmarshal(b.Score, &s); err != nil {
			return nil, err
		}
	}
	return ConsumerScore{ConsumerID: b.ConsumerID, Score: s.Score, ProducerScore: s.ProducerScore}, nil
}

func decodeProducerScore(b notificationBody) (Notification, error) {
	var s []struct {
		SSRC  uint32 `json:"ssrc"`
		Score int    `json:"score"`
	}
	if b.ProducerID == "" {
		return nil, errMissingID
	}
	if len(b.Score) > 0 {
		if err := json.Unmarshal(b.Score, &s); err != nil {
			return nil, err
		}
	}
	n := ProducerScore{ProducerID: b.ProducerID, Scores: map[uint32]int{}}
	for _, e := range s {
		n.Scores[e.SSRC] = e.Score
	}
	return n, nil
}
