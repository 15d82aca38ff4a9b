package sdk

import (
	"crypto/tls"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"

	"github.com/callctl/callctl/pkg/mediasoupclient"
)

// Config configures a Client. The zero value of every optional field is a
// working default.
type Config struct {
	// ServerURL is the signaling server's WebSocket URL (ws:// or wss://),
	// without roomId/peerId: JoinCall adds them.
	ServerURL string
	// ServerURLs balances rooms over several servers instead (ServerURL is
	// then ignored): every client orders them by rendezvous hashing of the
	// room, joins the first that accepts the connection, and fails over in
	// the same order, so all participants of a room meet on one server.
	ServerURLs []string
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

	// Consume selects what the client receives (zero value: everything).
	Consume ConsumeOptions

	// Data opens DataChannels: the transports are created with SCTP, the
	// client consumes the room's chat data producers (their messages
	// become DataMessage events) and produces its own "chat" channel
	// (Client.SendData).
	Data bool

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

	// SendAdaptation estimates the uplink's bandwidth from the server's
	// transport-wide congestion control feedback (pion's GCC) and, when the
	// estimate cannot carry a simulcast video's encodings, stops its top
	// layers, restoring them once it can (producer.adapted events).
	SendAdaptation bool

	// Reconnect enables automatic reconnection and multi-server failover
	// (zero value: a lost call ends).
	Reconnect ReconnectConfig

	// RequestTimeout bounds each signaling request (default 15 s).
	RequestTimeout time.Duration
	// KeepaliveInterval sends a WebSocket ping this often; a server that
	// does not answer within the same time counts as lost, so a dead
	// server or a silently dropped connection is noticed within two
	// intervals (default 5 s; negative disables).
	KeepaliveInterval time.Duration
	// Device is announced to the server in join.
	Device DeviceInfo

	// Logger receives the SDK's diagnostics (default: discarded).
	Logger *slog.Logger

	pionLogs logging.LoggerFactory
}

// ConsumeOptions select what a client receives.
type ConsumeOptions struct {
	// None joins without receive capabilities: the server creates no
	// consumers (a publish-only bot).
	None bool
	// Kinds limits consumption to these kinds ("audio", "video"); empty
	// means both.
	Kinds []string
	// Peers limits consumption to these participants' producers; empty
	// means everyone.
	Peers []string
}

// wants reports whether a producer of kind from peer is to be consumed.
func (o ConsumeOptions) wants(kind, peer string) bool {
	if o.None {
		return false
	}
	return (len(o.Kinds) == 0 || slices.Contains(o.Kinds, kind)) && (len(o.Peers) == 0 || slices.Contains(o.Peers, peer))
}

// ICEConfig controls candidate gathering.
type ICEConfig struct {
	// Interfaces limits gathering to these network interfaces (e.g. "lo").
	// Empty means all.
	Interfaces []string
	// IncludeLoopback gathers 127.0.0.1/::1 candidates, which pion skips by
	// default. Needed for a server on the same machine.
	IncludeLoopback bool
	// IPs limits gathering to these local addresses. Empty means all.
	IPs []net.IP
	// TCP enables ICE-TCP (mediasoup offers passive TCP candidates).
	TCP bool
	// PortMin/PortMax bound local UDP ports (0 = any).
	PortMin, PortMax uint16
	// Servers are STUN/TURN servers; mediasoup itself needs none.
	Servers []webrtc.ICEServer
	// Net, when set, is the network pion's sockets use (a transport.Net
	// that impairs traffic, say); default the operating system's.
	Net transport.Net
	// RelayOnly uses relay candidates only (ICE transport policy
	// "relay"): media must go through a TURN server of Servers.
	RelayOnly bool

	sendBWE bool // Config.SendAdaptation: estimate the uplink's bandwidth
}

// LoopbackICE keeps every candidate pair on 127.0.0.1: what tests and a
// local reference server need.
func LoopbackICE() ICEConfig {
	l := mediasoupclient.LoopbackICE()
	return ICEConfig{Interfaces: l.Interfaces, IncludeLoopback: l.IncludeLoopback, IPs: l.IPs}
}

func (c ICEConfig) layer() mediasoupclient.ICEConfig {
	return mediasoupclient.ICEConfig{
		Interfaces: c.Interfaces, IncludeLoopback: c.IncludeLoopback, IPs: c.IPs, TCP: c.TCP, PortMin: c.PortMin, PortMax: c.PortMax,
		Net: c.Net, SendBandwidthEstimation: c.sendBWE, RelayOnly: c.RelayOnly,
	}
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
	if cfg.KeepaliveInterval == 0 {
		cfg.KeepaliveInterval = 5 * time.Second
	}
	if cfg.Device.Name == "" {
		cfg.Device = DeviceInfo{Flag: "callctl", Name: "callctl", Version: Version}
	}
	cfg.ICE.sendBWE = cfg.SendAdaptation
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
