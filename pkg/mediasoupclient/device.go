package mediasoupclient

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// DeviceOptions configure a Device and every transport it creates.
type DeviceOptions struct {
	// ICE controls local candidate gathering.
	ICE ICEConfig
	// LoggerFactory receives pion's logs (default: pion's own, to stderr
	// at warning level).
	LoggerFactory logging.LoggerFactory
	// Logger receives this package's diagnostics (default: discarded).
	Logger *slog.Logger
}

// Device is the entry point, as in mediasoup-client: it learns the
// router's RTP capabilities (Load), tells what this client can send and
// receive, and creates transports from the parameters the server returned
// for its WebRtcTransports. How those parameters travel is the
// application's business (its own signaling).
//
// A Device is safe for concurrent use.
type Device struct {
	opts DeviceOptions

	mu         sync.Mutex
	loaded     bool
	routerCaps RtpCapabilities
	ext        extendedCaps
}

// NewDevice returns an unloaded Device.
func NewDevice(opts DeviceOptions) *Device {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Device{opts: opts}
}

// Load matches the router's RTP capabilities (what the server returns for
// router.rtpCapabilities) against this client's codecs. It fails when no
// codec at all can be used.
func (d *Device) Load(routerRtpCapabilities RtpCapabilities) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loaded {
		return ErrAlreadyLoaded
	}
	ext := extendCapabilities(nativeCapabilities(), routerRtpCapabilities)
	if len(ext.Codecs) == 0 {
		return fmt.Errorf("%w: no codec of the router is supported by this client", ErrInvalidParameters)
	}
	d.loaded, d.routerCaps, d.ext = true, routerRtpCapabilities, ext
	return nil
}

// Loaded reports whether Load succeeded.
func (d *Device) Loaded() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.loaded
}

// RtpCapabilities are the capabilities to send to the server (for example
// in a join request) so that it creates consumers this client can
// receive: the router's payload types and header-extension ids with this
// client's codec parameters. Empty before Load.
func (d *Device) RtpCapabilities() RtpCapabilities {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.loaded {
		return RtpCapabilities{Codecs: []RtpCodecCapability{}, HeaderExtensions: []RtpHeaderExtension{}}
	}
	return d.ext.RecvCapabilities()
}

// SctpCapabilities are the DataChannel capabilities to send to the server
// when creating transports that carry DataChannels.
func (d *Device) SctpCapabilities() SctpCapabilities {
	return SctpCapabilities{NumStreams: NumSctpStreams{OS: 1024, MIS: 1024}}
}

// CanProduce reports whether media of kind ("audio" or "video") can be
// sent to the router.
func (d *Device) CanProduce(kind string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.loaded && d.ext.CanProduce(kind)
}

// TransportOptions are the server's WebRtcTransport parameters, as
// mediasoup's transport.id, iceParameters, iceCandidates, dtlsParameters
// and sctpParameters, plus local ICE settings.
type TransportOptions struct {
	ID             string
	IceParameters  IceParameters
	IceCandidates  []IceCandidate
	DtlsParameters DtlsParameters
	// SctpParameters enable DataChannels (nil: the server created the
	// transport without SCTP).
	SctpParameters *SctpParameters
	// IceServers are STUN/TURN servers (mediasoup itself needs none).
	IceServers []webrtc.ICEServer
	// IceTransportPolicy "relay" forces TURN.
	IceTransportPolicy webrtc.ICETransportPolicy
	// AppData is the application's, returned by Transport.AppData.
	AppData map[string]any
}

func (o TransportOptions) validate() error {
	switch {
	case o.ID == "":
		return fmt.Errorf("%w: transport id is empty", ErrInvalidParameters)
	case o.IceParameters.UsernameFragment == "" || o.IceParameters.Password == "":
		return fmt.Errorf("%w: ICE parameters lack ufrag or password", ErrInvalidParameters)
	case len(o.DtlsParameters.Fingerprints) == 0:
		return fmt.Errorf("%w: DTLS parameters have no fingerprint", ErrInvalidParameters)
	}
	return validateTransportStrings(o)
}

// CreateSendTransport creates the local side of a producing
// WebRtcTransport.
func (d *Device) CreateSendTransport(o TransportOptions) (*SendTransport, error) {
	t, err := d.newTransport(o, "send")
	if err != nil {
		return nil, err
	}
	return &SendTransport{transport: t}, nil
}

// CreateRecvTransport creates the local side of a consuming
// WebRtcTransport.
func (d *Device) CreateRecvTransport(o TransportOptions) (*RecvTransport, error) {
	t, err := d.newTransport(o, "recv")
	if err != nil {
		return nil, err
	}
	r := &RecvTransport{transport: t, tracks: map[string]*trackSlot{}}
	t.pc.OnTrack(r.onTrack)
	return r, nil
}

func (d *Device) newTransport(o TransportOptions, direction string) (*transport, error) {
	d.mu.Lock()
	loaded, ext := d.loaded, d.ext
	d.mu.Unlock()
	if !loaded {
		return nil, ErrNotLoaded
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	return newTransport(d, ext, o, direction)
}
