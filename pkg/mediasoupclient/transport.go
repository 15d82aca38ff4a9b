package mediasoupclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/pion/webrtc/v4"
)

// transport is what SendTransport and RecvTransport share: one pion
// PeerConnection standing for one mediasoup WebRtcTransport, the remote
// description built from the server's parameters, and the application's
// connect hook.
//
// mu serialises every negotiation of the PeerConnection (mediasoup-client
// uses an AwaitQueue for the same purpose); it is held while the
// application's hooks run, so hooks must not call back into the same
// transport.
type transport struct {
	id        string
	direction string // "send" or "recv"
	ext       extendedCaps
	pc        *webrtc.PeerConnection
	stats     *statsHolder
	log       *slog.Logger
	appData   map[string]any

	mu        sync.Mutex // serialises negotiations; guards the following
	remote    *remoteSDP
	connected bool // the connect hook succeeded
	closed    bool
	broken    bool // a negotiation failed half-way (see ErrBroken)

	hmu       sync.Mutex // guards the hooks
	onConnect func(ctx context.Context, dtls DtlsParameters) error
	onState   func(webrtc.PeerConnectionState)

	ctx     context.Context // ends with Close; owns the goroutines below
	cancel  context.CancelFunc
	gmu     sync.Mutex     // guards gclosed and wg.Add against Close's Wait
	gclosed bool           // no goroutine starts after Close
	wg      sync.WaitGroup // RTCP readers, probator drain
}

func newTransport(d *Device, ext extendedCaps, o TransportOptions, direction string) (*transport, error) {
	api, st, err := newAPI(d.opts.ICE, d.opts.LoggerFactory, direction == "send")
	if err != nil {
		return nil, err
	}
	policy := o.IceTransportPolicy
	if d.opts.ICE.RelayOnly {
		policy = webrtc.ICETransportPolicyRelay
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{
		ICEServers:         o.IceServers,
		ICETransportPolicy: policy,
		BundlePolicy:       webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy:      webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	setup := "passive" // our answer: the server is DTLS server, pion client
	if direction == "recv" {
		setup = "actpass" // the server's offer; pion answers active
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &transport{
		id: o.ID, direction: direction, ext: ext, pc: pc, stats: st, appData: o.AppData,
		log: d.opts.Logger.With("transport", o.ID, "direction", direction),
		remote: &remoteSDP{
			ICE: o.IceParameters, Candidates: o.IceCandidates, DTLS: o.DtlsParameters, Setup: setup, SCTP: o.SctpParameters,
		},
		ctx: ctx, cancel: cancel,
	}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		t.hmu.Lock()
		f := t.onState
		t.hmu.Unlock()
		if f != nil {
			f(s)
		}
	})
	return t, nil
}

// ID is the server's transport id.
func (t *transport) ID() string { return t.id }

// Direction is "send" or "recv".
func (t *transport) Direction() string { return t.direction }

// AppData is what TransportOptions.AppData carried.
func (t *transport) AppData() map[string]any { return t.appData }

// OnConnect sets the hook called once, on the first Produce, Consume,
// ProduceData or ConsumeData, with the local DTLS parameters: the
// application sends them to the server (mediasoup's
// webRtcTransport.connect) and returns its error, if any.
func (t *transport) OnConnect(f func(ctx context.Context, dtlsParameters DtlsParameters) error) {
	t.hmu.Lock()
	t.onConnect = f
	t.hmu.Unlock()
}

// OnConnectionStateChange sets the hook for the PeerConnection's state
// changes (new, connecting, connected, disconnected, failed, closed). It is
// called on pion's goroutine and must not block.
func (t *transport) OnConnectionStateChange(f func(webrtc.PeerConnectionState)) {
	t.hmu.Lock()
	t.onState = f
	t.hmu.Unlock()
}

// ConnectionState is the PeerConnection's state.
func (t *transport) ConnectionState() webrtc.PeerConnectionState { return t.pc.ConnectionState() }

// GetStats returns pion's statistics of the whole PeerConnection.
func (t *transport) GetStats() webrtc.StatsReport {
	if t.Closed() {
		return webrtc.StatsReport{}
	}
	return t.pc.GetStats()
}

// PeerConnection exposes the underlying pion PeerConnection for what this
// package does not wrap. Renegotiating it behind the transport's back
// breaks the transport.
func (t *transport) PeerConnection() *webrtc.PeerConnection { return t.pc }

// Closed reports whether Close was called.
func (t *transport) Closed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// Close closes the PeerConnection (which ends every producer and consumer
// of the transport) and waits for the transport's goroutines. The server
// side is the application's to close. Close is idempotent.
func (t *transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	t.cancel()
	err := t.pc.Close()
	t.gmu.Lock()
	t.gclosed = true
	t.gmu.Unlock()
	t.wg.Wait()
	return err
}

// connect runs the application's connect hook once, before the first
// negotiation touches the PeerConnection (so a failing hook leaves it as
// it was). Like mediasoup-client, the client is the DTLS client on both
// transports; the fingerprint is the PeerConnection's certificate's,
// upper-case as mediasoup compares it. Called with mu held.
func (t *transport) connect(ctx context.Context) error {
	if t.connected {
		return nil
	}
	t.hmu.Lock()
	f := t.onConnect
	t.hmu.Unlock()
	if f == nil {
		return fmt.Errorf("%w: OnConnect", ErrNoHandler)
	}
	fp, err := t.localFingerprint()
	if err != nil {
		return err
	}
	if err := f(ctx, DtlsParameters{Role: "client", Fingerprints: []DtlsFingerprint{fp}}); err != nil {
		return fmt.Errorf("connect %s transport: %w", t.direction, err)
	}
	t.connected = true
	return nil
}

func (t *transport) localFingerprint() (DtlsFingerprint, error) {
	for _, c := range t.pc.GetConfiguration().Certificates {
		fps, err := c.GetFingerprints()
		if err != nil {
			return DtlsFingerprint{}, err
		}
		for _, f := range fps {
			return DtlsFingerprint{Algorithm: strings.ToLower(f.Algorithm), Value: strings.ToUpper(f.Value)}, nil
		}
	}
	return DtlsFingerprint{}, errors.New("peer connection has no certificate")
}

// lockOpen takes mu, failing on a closed transport.
func (t *transport) lockOpen() error {
	t.mu.Lock()
	if t.closed || t.broken {
		t.mu.Unlock()
		if t.broken {
			return ErrBroken
		}
		return ErrClosed
	}
	return nil
}

// goTracked runs f as one of the transport's goroutines (waited for by
// Close). After Close it runs nothing.
func (t *transport) goTracked(f func()) {
	t.gmu.Lock()
	defer t.gmu.Unlock()
	if t.gclosed {
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		f()
	}()
}

// RestartIce applies new ICE parameters from the server (mediasoup's
// webRtcTransport.restartIce) and restarts ICE on the PeerConnection.
// Before the transport connected the parameters are only stored.
func (t *transport) RestartIce(ctx context.Context, iceParameters IceParameters) error {
	if iceParameters.UsernameFragment == "" || iceParameters.Password == "" {
		return fmt.Errorf("%w: ICE parameters lack ufrag or password", ErrInvalidParameters)
	}
	if err := validateIceParameters(iceParameters); err != nil {
		return err
	}
	if err := t.lockOpen(); err != nil {
		return err
	}
	defer t.mu.Unlock()
	t.remote.ICE = iceParameters
	if !t.connected || t.pc.CurrentRemoteDescription() == nil {
		return nil
	}
	if t.direction == "send" {
		return t.renegotiateAsOfferer(&webrtc.OfferOptions{ICERestart: true})
	}
	return t.renegotiateAsAnswerer(ctx)
}

// renegotiateAsOfferer runs one offer/answer round on a send transport.
// Called with mu held and the transport connected.
func (t *transport) renegotiateAsOfferer(opts *webrtc.OfferOptions) error {
	offer, err := t.pc.CreateOffer(opts)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	if err := t.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local offer: %w", err)
	}
	if err := t.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: t.remote.String()}); err != nil {
		return fmt.Errorf("set remote answer: %w", err)
	}
	return nil
}

// renegotiateAsAnswerer applies the current remote offer on a recv
// transport and answers it. pion cannot roll an applied offer back, so
// the caller validates what goes into the offer, and a failure after the
// offer was applied marks the transport broken. Called with mu held.
func (t *transport) renegotiateAsAnswerer(context.Context) error {
	if err := t.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: t.remote.String()}); err != nil {
		return fmt.Errorf("set remote offer: %w", err)
	}
	answer, err := t.pc.CreateAnswer(nil)
	if err == nil {
		err = t.pc.SetLocalDescription(answer)
	}
	if err != nil {
		t.broken = true
		return fmt.Errorf("%w: answer: %v", ErrBroken, err)
	}
	return nil
}
