package sdk

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"time"

	"github.com/pion/logging"
)

// Config configures a Client. The zero value of every optional field is a
// working default.
type Config struct {
	// ServerURL is the signaling server's WebSocket URL (ws:// or wss://),
	// without roomId/peerId: JoinCall adds them.
	ServerURL string
	// Origin is sent as the HTTP Origin header. The newer mediasoup-demo
	// server checks it; default: https://<host of ServerURL>.
	Origin string
	// TLS configures wss:// (certificate verification is on by default).
	TLS *tls.Config

	// Audio and Video are published at join when set. Pass nil to join
	// receive-only for that kind.
	Audio MediaSource
	Video MediaSource

	// Sink, when set, receives every consumer's RTP for analysis or
	// recording; its per-track stats appear in Stats.
	Sink ReceiveSink

	// VideoLayers, when set, are requested for every video consumer
	// (setConsumerPreferredLayers) as soon as it is created.
	VideoLayers *Layers

	// AdaptiveLayers lets the client lower a simulcast consumer's
	// preferred spatial layer when its stream loses packets or its decoder
	// (the Sink) freezes, and raise it again after 10 s of calm. An
	// explicit SetPreferredLayers/SetVideoLayers/VideoLayers choice turns
	// it off for that consumer.
	AdaptiveLayers bool

	// ICE controls candidate gathering.
	ICE ICEConfig

	// Reconnect enables automatic reconnection and multi-server failover
	// (zero value: a lost call ends).
	Reconnect ReconnectConfig

	// RequestTimeout bounds each signaling request (default 15 s).
	RequestTimeout time.Duration
	// Device is announced to the server in join.
	Device DeviceInfo

	// Logger receives the SDK's diagnostics (default: discarded).
	Logger *slog.Logger

	pionLogs logging.LoggerFactory
	dialer   *http.Client
}

// DeviceInfo describes this client in the join request.
type DeviceInfo struct {
	Flag    string `json:"flag"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

func (c *Config) withDefaults() Config {
	cfg := *c
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 15 * time.Second
	}
	if cfg.Device.Name == "" {
		cfg.Device = DeviceInfo{Flag: "callctl", Name: "callctl", Version: Version}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.pionLogs == nil {
		cfg.pionLogs = newPionLoggerFactory(cfg.Logger)
	}
	return cfg
}

// Version is the SDK version reported to servers.
const Version = "0.1.0"
