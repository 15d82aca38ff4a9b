package demo

import (
	msc "github.com/callctl/callctl/pkg/mediasoupclient"
)

// This file holds the request and response bodies of every method the
// client sends, as the wire has them. Where the dialects differ the
// structs carry both spellings; Conn's methods pick and normalise.

// Device describes a client in join (and peers in responses).
type Device struct {
	Flag    string `json:"flag"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Peer is another participant.
type Peer struct {
	ID          string
	DisplayName string
	Device      Device
}

// wirePeer is a peer in join responses and newPeer: `id` (JS) or `peerId`
// (TS).
type wirePeer struct {
	ID          string `json:"id"`
	PeerID      string `json:"peerId"`
	DisplayName string `json:"displayName"`
	Device      Device `json:"device"`
}

func (w wirePeer) peer() Peer {
	return Peer{ID: firstNonEmpty(w.ID, w.PeerID), DisplayName: w.DisplayName, Device: w.Device}
}

type createTransportRequest struct {
	ForceTCP         bool                  `json:"forceTcp"`
	Producing        bool                  `json:"producing"` // JS dialect
	Consuming        bool                  `json:"consuming"` // JS dialect
	SctpCapabilities *msc.SctpCapabilities `json:"sctpCapabilities,omitempty"`
	AppData          map[string]any        `json:"appData"` // TS: {direction}
}

type createTransportResponse struct {
	ID             string              `json:"id"`          // JS
	TransportID    string              `json:"transportId"` // TS
	IceParameters  msc.IceParameters   `json:"iceParameters"`
	IceCandidates  []msc.IceCandidate  `json:"iceCandidates"`
	DtlsParameters msc.DtlsParameters  `json:"dtlsParameters"`
	SctpParameters *msc.SctpParameters `json:"sctpParameters"`
}

type connectTransportRequest struct {
	TransportID    string             `json:"transportId"`
	DtlsParameters msc.DtlsParameters `json:"dtlsParameters"`
}

type joinRequest struct {
	DisplayName      string                `json:"displayName"`
	Device           Device                `json:"device"`
	RtpCapabilities  *msc.RtpCapabilities  `json:"rtpCapabilities,omitempty"`
	SctpCapabilities *msc.SctpCapabilities `json:"sctpCapabilities,omitempty"`
}

type joinResponse struct {
	Peers []wirePeer `json:"peers"`
}

type produceRequest struct {
	TransportID   string            `json:"transportId"`
	Kind          string            `json:"kind"`
	RtpParameters msc.RtpParameters `json:"rtpParameters"`
	AppData       map[string]any    `json:"appData"`
}

type produceResponse struct {
	ID         string `json:"id"`         // JS
	ProducerID string `json:"producerId"` // TS
}

type produceDataRequest struct {
	TransportID          string                   `json:"transportId"`
	SctpStreamParameters msc.SctpStreamParameters `json:"sctpStreamParameters"`
	Label                string                   `json:"label"`
	Protocol             string                   `json:"protocol"`
	AppData              map[string]any           `json:"appData"`
}

type produceDataResponse struct {
	ID             string `json:"id"`             // JS
	DataProducerID string `json:"dataProducerId"` // TS
}

type restartIceRequest struct {
	TransportID string `json:"transportId"`
}

type restartIceResponse struct {
	msc.IceParameters                    // JS: the raw parameters
	Wrapped           *msc.IceParameters `json:"iceParameters"` // TS
}

type producerIDRequest struct {
	ProducerID string `json:"producerId"`
}

type consumerIDRequest struct {
	ConsumerID string `json:"consumerId"`
}

type preferredLayersRequest struct {
	ConsumerID    string `json:"consumerId"`
	SpatialLayer  int    `json:"spatialLayer"`
	TemporalLayer *int   `json:"temporalLayer,omitempty"`
}

// StreamStats is one RTP stream as the server sees it (mediasoup's
// getProducerStats / getConsumerStats entries; fields it lacks are zero).
type StreamStats struct {
	Type        string  `json:"type"`
	SSRC        uint32  `json:"ssrc"`
	RID         string  `json:"rid,omitempty"`
	MimeType    string  `json:"mimeType"`
	Bitrate     float64 `json:"bitrate"`
	PacketCount uint64  `json:"packetCount"`
	ByteCount   uint64  `json:"byteCount"`
	PacketsLost int64   `json:"packetsLost"`
	NackCount   uint64  `json:"nackCount"`
	PliCount    uint64  `json:"pliCount"`
	Score       int     `json:"score"`
	// PacketsRetransmitted counts the retransmissions the server received
	// (RTX), PacketsRepaired those that filled a gap.
	PacketsRetransmitted uint64 `json:"packetsRetransmitted"`
	PacketsRepaired      uint64 `json:"packetsRepaired"`
}
