package sdk

// Event is something that happened in a call. The set of event types is
// closed (sealed): switch on the concrete type. Type returns the stable
// name used in the NDJSON stream.
type Event interface {
	Type() string
	isEvent()
}

// ConnectionStatus is the signaling connection's state.
type ConnectionStatus string

// Connection states.
const (
	StatusIdle         ConnectionStatus = "idle"
	StatusConnecting   ConnectionStatus = "connecting"
	StatusConnected    ConnectionStatus = "connected"
	StatusJoined       ConnectionStatus = "joined"
	StatusReconnecting ConnectionStatus = "reconnecting"
	StatusLeaving      ConnectionStatus = "leaving"
	StatusClosed       ConnectionStatus = "closed"
)

// Participant is another peer in the room.
type Participant struct {
	ID          string     `json:"id"`
	DisplayName string     `json:"displayName"`
	Device      DeviceInfo `json:"device"`
}

// ConnectionStatusChanged reports a change of the connection status.
type ConnectionStatusChanged struct {
	Status ConnectionStatus `json:"status"`
	Reason string           `json:"reason,omitempty"`
}

// Joined reports that the join completed.
type Joined struct {
	Room             string        `json:"room"`
	PeerID           string        `json:"peerId"`
	DisplayName      string        `json:"displayName"`
	Dialect          string        `json:"dialect"`
	Server           string        `json:"server,omitempty"` // the signaling server joined
	MediasoupVersion string        `json:"mediasoupVersion,omitempty"`
	Participants     []Participant `json:"participants"`
	JoinMillis       int64         `json:"joinMs"`
}

// ParticipantJoined reports a new peer in the room.
type ParticipantJoined struct {
	Participant
}

// ParticipantLeft reports a peer leaving.
type ParticipantLeft struct {
	ID string `json:"id"`
}

// ProducerCreated reports a local producer the server accepted.
type ProducerCreated struct {
	ProducerID string `json:"producerId"`
	Kind       string `json:"kind"`
	Codec      string `json:"codec"`
	Encodings  int    `json:"encodings"`
	Paused     bool   `json:"paused"`
}

// ProducerPaused reports that a local producer was paused (muted).
type ProducerPaused struct {
	ProducerID string `json:"producerId"`
	Kind       string `json:"kind"`
}

// ProducerResumed reports that a local producer was resumed (unmuted).
type ProducerResumed struct {
	ProducerID string `json:"producerId"`
	Kind       string `json:"kind"`
}

// ProducerClosed reports that a local producer ended.
type ProducerClosed struct {
	ProducerID string `json:"producerId"`
	Kind       string `json:"kind"`
	Reason     string `json:"reason,omitempty"`
}

// ConsumerCreated reports a remote producer we now receive.
type ConsumerCreated struct {
	ConsumerID     string `json:"consumerId"`
	ProducerID     string `json:"producerId"`
	PeerID         string `json:"peerId"`
	Kind           string `json:"kind"`
	Codec          string `json:"codec"`
	ConsumerType   string `json:"consumerType"`
	ProducerPaused bool   `json:"producerPaused"`
}

// ConsumerPaused reports that a consumer stopped (its producer paused).
type ConsumerPaused struct {
	ConsumerID string `json:"consumerId"`
	PeerID     string `json:"peerId"`
	Kind       string `json:"kind"`
}

// ConsumerResumed reports that a consumer's media resumed.
type ConsumerResumed struct {
	ConsumerID string `json:"consumerId"`
	PeerID     string `json:"peerId"`
	Kind       string `json:"kind"`
}

// ConsumerClosed reports that a consumer ended.
type ConsumerClosed struct {
	ConsumerID string `json:"consumerId"`
	PeerID     string `json:"peerId"`
	Kind       string `json:"kind"`
	Reason     string `json:"reason,omitempty"`
}

// ConsumerMedia reports the first RTP packet received on a consumer.
type ConsumerMedia struct {
	ConsumerID  string `json:"consumerId"`
	PeerID      string `json:"peerId"`
	Kind        string `json:"kind"`
	AfterMillis int64  `json:"afterMs"` // since the consumer was created
}

// ConsumerLayersChanged reports the simulcast layers a consumer receives.
type ConsumerLayersChanged struct {
	ConsumerID    string `json:"consumerId"`
	SpatialLayer  *int   `json:"spatialLayer"`
	TemporalLayer *int   `json:"temporalLayer"`
}

// ActiveSpeaker reports the loudest peer (empty PeerID on silence).
type ActiveSpeaker struct {
	PeerID string  `json:"peerId"`
	Volume float64 `json:"volume"`
	// Changed is set when PeerID names another peer than the last one
	// named (silences in between do not count).
	Changed bool `json:"changed,omitempty"`
}

// TransportStateChanged reports a media transport's connection state.
type TransportStateChanged struct {
	Transport string `json:"transport"` // "send" or "recv"
	State     string `json:"state"`
}

// ErrorEvent reports a problem. Fatal errors end the call.
type ErrorEvent struct {
	Op      string `json:"op"`
	Message string `json:"message"`
	Code    int    `json:"code,omitempty"` // server error code, if any
	Fatal   bool   `json:"fatal"`
	Err     error  `json:"-"`
}

// Left is the last event of a call.
type Left struct {
	Reason string `json:"reason"`
	// Err is why the call ended when it was not a requested leave.
	Err   error  `json:"-"`
	Error string `json:"error,omitempty"`
}

// Leave reasons.
const (
	LeftRequested      = "requested"
	LeftClosedByServer = "closed_by_server"
	LeftConnectionLost = "connection_lost"
	LeftTransportFail  = "transport_failed"
)

func (ConnectionStatusChanged) Type() string { return "connection.status" }
func (Joined) Type() string                  { return "joined" }
func (ParticipantJoined) Type() string       { return "participant.joined" }
func (ParticipantLeft) Type() string         { return "participant.left" }
func (ProducerCreated) Type() string         { return "producer.created" }
func (ProducerPaused) Type() string          { return "producer.paused" }
func (ProducerResumed) Type() string         { return "producer.resumed" }
func (ProducerClosed) Type() string          { return "producer.closed" }
func (ConsumerCreated) Type() string         { return "consumer.created" }
func (ConsumerPaused) Type() string          { return "consumer.paused" }
func (ConsumerResumed) Type() string         { return "consumer.resumed" }
func (ConsumerClosed) Type() string          { return "consumer.closed" }
func (ConsumerMedia) Type() string           { return "consumer.media" }
func (ConsumerLayersChanged) Type() string   { return "consumer.layers" }
func (ActiveSpeaker) Type() string           { return "active_speaker" }
func (TransportStateChanged) Type() string   { return "transport.state" }
func (ErrorEvent) Type() string              { return "error" }
func (Left) Type() string                    { return "left" }

func (ConnectionStatusChanged) isEvent() {}
func (Joined) isEvent()                  {}
func (ParticipantJoined) isEvent()       {}
func (ParticipantLeft) isEvent()         {}
func (ProducerCreated) isEvent()         {}
func (ProducerPaused) isEvent()          {}
func (ProducerResumed) isEvent()         {}
func (ProducerClosed) isEvent()          {}
func (ConsumerCreated) isEvent()         {}
func (ConsumerPaused) isEvent()          {}
func (ConsumerResumed) isEvent()         {}
func (ConsumerClosed) isEvent()          {}
func (ConsumerMedia) isEvent()           {}
func (ConsumerLayersChanged) isEvent()   {}
func (ActiveSpeaker) isEvent()           {}
func (TransportStateChanged) isEvent()   {}
func (ErrorEvent) isEvent()              {}
func (Left) isEvent()                    {}
