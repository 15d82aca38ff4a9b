package cmd

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/callctl/callctl/cmd/internal/ctlsock"
	"github.com/callctl/callctl/pkg/sdk"
)

// minStatsInterval bounds --stats-interval from below: each sample walks
// every transport, producer and consumer, and a flood of stats lines would
// drown the events a reader is after.
const minStatsInterval = 100 * time.Millisecond

// joinOptions are the flags of callctl join, checked by validateExpect and
// validate before anything starts.
type joinOptions struct {
	servers                           []string // --server, once or more
	server, room, user, name, session string   // server: the first --server
	origin, caFile                    string
	insecure                          bool
	duration, statsInterval           time.Duration
	leaveTimeout                      time.Duration
	media                             mediaOptions
	iceLoopback                       string
	reconnectAttempts                 int
	fallbackServers                   []string
	iceInterfaces                     []string
	data                              bool     // --data: DataChannels (chat)
	consume                           string   // --consume: all, none, audio, video
	consumePeers                      []string // --consume-peer
	expect                            expectations
	expectSet                         bool // any --expect-* flag given

	network networkOptions // --impair, --ice-server, --ice-relay-only
	talk    talkOptions    // --talk …: join_talk.go
}

func (o *joinOptions) displayName() string {
	if o.name != "" {
		return o.name
	}
	return o.user
}

// validateExpect checks the --expect-* flags; changed reports whether a
// flag was given.
func (o *joinOptions) validateExpect(changed func(string) bool) error {
	bad := func(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }
	o.expectSet = changed("expect-participants") || o.expect.Video || o.expect.Audio
	if !o.expectSet {
		if changed("expect-within") || o.expect.ExitOnPass {
			return bad("--expect-within and --exit-on-pass need --expect-participants, --expect-video or --expect-audio")
		}
		return nil
	}
	if o.expect.Participants < 0 {
		return bad("--expect-participants must not be negative")
	}
	if !changed("expect-participants") {
		o.expect.Participants = 1
	}
	if o.expect.Within <= 0 {
		return bad("--expect-within must be positive")
	}
	return nil
}

func (o *joinOptions) validate() error {
	bad := func(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }
	if len(o.servers) > 0 {
		o.server = o.servers[0]
	}
	switch {
	case o.server == "":
		return bad("--server is required")
	case o.room == "":
		return bad("--room is required")
	case o.user == "":
		return bad("--user is required")
	}
	if len(o.servers) > 1 && len(o.fallbackServers) > 0 {
		return bad("--fallback-server goes with one --server; with several, failover follows their rendezvous order")
	}
	for _, srv := range append(append([]string{}, o.servers...), o.fallbackServers...) {
		u, err := url.Parse(srv)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return bad("server %q: want ws://host:port or wss://host:port", srv)
		}
	}
	if o.reconnectAttempts < 0 {
		return bad("--reconnect-attempts must not be negative")
	}
	if err := o.media.validate(); err != nil {
		return &usageError{err}
	}
	// Taking turns needs a tone that is on whenever its publisher talks:
	// the default one beeps a second on, a second off.
	o.media.continuousTone = o.talk.mode != "" && o.talk.mode != "always"
	if err := o.talk.validate(); err != nil {
		return err
	}
	switch o.consume {
	case "", "all", "none", "audio", "video":
	default:
		return bad("--consume %q: want all, none, audio or video", o.consume)
	}
	if o.consume == "none" && len(o.consumePeers) > 0 {
		return bad("--consume-peer makes no sense with --consume none")
	}
	if err := o.network.validate(); err != nil {
		return err
	}
	if o.iceLoopback != "auto" && o.iceLoopback != "on" && o.iceLoopback != "off" {
		return bad("--ice-loopback %q: want auto, on or off", o.iceLoopback)
	}
	if o.duration < 0 || o.statsInterval < 0 {
		return bad("--duration and --stats-interval must not be negative")
	}
	if o.statsInterval > 0 && o.statsInterval < minStatsInterval {
		return bad("--stats-interval %s: want 0 (only at the end) or at least %s", o.statsInterval, minStatsInterval)
	}
	if o.session == "" {
		o.session = defaultSessionName(o.room, o.user)
	} else if err := ctlsock.ValidateName(o.session); err != nil {
		return bad("--session: %v", err)
	}
	return nil
}

// iceConfig picks candidate gathering for the server's address: a server
// on loopback gets loopback-only candidates, so no pair leaves 127.0.0.1.
func (o *joinOptions) iceConfig() sdk.ICEConfig {
	u, _ := url.Parse(o.server)
	local := isLoopbackHost(u.Hostname())
	var ice sdk.ICEConfig
	if local && o.iceLoopback == "auto" && len(o.iceInterfaces) == 0 {
		ice = sdk.LoopbackICE()
	}
	if o.iceLoopback == "on" {
		ice.IncludeLoopback = true
	}
	if len(o.iceInterfaces) > 0 {
		ice.Interfaces = o.iceInterfaces
	}
	o.network.apply(&ice)
	return ice
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func (o *joinOptions) tlsConfig() (*tls.Config, error) {
	if !o.insecure && o.caFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.insecure {
		cfg.InsecureSkipVerify = true //nolint:gosec // the user asked for it with --insecure
	}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--ca: %w", err)}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &usageError{fmt.Errorf("--ca %s: no PEM certificates found", o.caFile)}
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// clientConfig is the SDK configuration the flags describe, around the
// already opened TLS settings, media sources and receive sink.
func (o *joinOptions) clientConfig(tlsCfg *tls.Config, audio, video sdk.MediaSource, sink sdk.ReceiveSink, log *slog.Logger) sdk.Config {
	return sdk.Config{
		ServerURL: o.server, ServerURLs: o.balancedServers(), Origin: o.origin, TLS: tlsCfg,
		Audio: o.talk.wrap(audio, o.user), Video: video, Sink: sink,
		VideoLayers: o.media.layers, AdaptiveLayers: o.media.adaptive,
		ICE: o.iceConfig(), Logger: log,
		Reconnect: sdk.ReconnectConfig{MaxAttempts: o.reconnectAttempts, FallbackURLs: o.fallbackServers},
		Data:      o.data, Consume: o.consumeOptions(),
	}
}

// balancedServers are the servers to balance over (none with one --server).
func (o *joinOptions) balancedServers() []string {
	if len(o.servers) < 2 {
		return nil
	}
	return o.servers
}

// consumeOptions turns --consume and --consume-peer into the SDK's
// selection.
func (o *joinOptions) consumeOptions() sdk.ConsumeOptions {
	c := sdk.ConsumeOptions{Peers: o.consumePeers}
	switch o.consume {
	case "none":
		c.None = true
	case "audio", "video":
		c.Kinds = []string{o.consume}
	}
	return c
}
