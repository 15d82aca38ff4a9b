package mediasoupclient

import (
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/stats"
	"github.com/pion/logging"
	"github.com/pion/rtp"
	piontransport "github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
)

// This file holds what every PeerConnection of a Device is built from:
// the codecs and header extensions the client offers, pion's
// interceptors, and the ICE settings.

// videoFeedback is the RTCP feedback announced for every video codec.
var videoFeedback = []webrtc.RTCPFeedback{
	{Type: "goog-remb"}, {Type: "transport-cc"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"},
}

// localCodecs are the codecs this client can send and receive, with pion's
// default payload types. Every PeerConnection registers exactly these, and
// the device capabilities are derived from the same list.
func localCodecs() []webrtc.RTPCodecParameters {
	video := func(pt uint8, mime, fmtp string) webrtc.RTPCodecParameters {
		return webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000, SDPFmtpLine: fmtp, RTCPFeedback: videoFeedback},
			PayloadType:        webrtc.PayloadType(pt),
		}
	}
	rtx := func(pt, apt uint8) webrtc.RTPCodecParameters {
		return webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "video/rtx", ClockRate: 90000, SDPFmtpLine: fmt.Sprintf("apt=%d", apt)},
			PayloadType:        webrtc.PayloadType(pt),
		}
	}
	h264 := func(plid string) string {
		return "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + plid
	}
	return []webrtc.RTPCodecParameters{
		{
			RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
				RTCPFeedback: []webrtc.RTCPFeedback{{Type: "transport-cc"}, {Type: "nack"}},
			},
			PayloadType: 111,
		},
		video(96, webrtc.MimeTypeVP8, ""), rtx(97, 96),
		video(98, webrtc.MimeTypeVP9, "profile-id=0"), rtx(99, 98),
		video(100, webrtc.MimeTypeVP9, "profile-id=2"), rtx(101, 100),
		video(102, webrtc.MimeTypeH264, h264("42001f")), rtx(103, 102),
		video(106, webrtc.MimeTypeH264, h264("42e01f")), rtx(107, 106),
		video(127, webrtc.MimeTypeH264, h264("4d001f")), rtx(125, 127),
		video(112, webrtc.MimeTypeH264, h264("64001f")), rtx(113, 112),
	}
}

// localHeaderExtensions are registered on every PeerConnection (besides
// those pion's interceptors add: mid/rid/repaired-rid for video and
// transport-cc).
var localHeaderExtensions = []struct {
	uri  string
	kind webrtc.RTPCodecType
}{
	{uriMid, webrtc.RTPCodecTypeAudio},
	{uriMid, webrtc.RTPCodecTypeVideo},
	{uriAudioLevel, webrtc.RTPCodecTypeAudio},
	{uriTransportCC, webrtc.RTPCodecTypeAudio},
	{uriTransportCC, webrtc.RTPCodecTypeVideo},
}

// nativeCapabilities is what mediasoup-client's Device calls the native
// capabilities, derived from localCodecs.
func nativeCapabilities() RtpCapabilities {
	caps := RtpCapabilities{}
	for _, c := range localCodecs() {
		kind := strings.SplitN(c.MimeType, "/", 2)[0]
		fb := make([]RtcpFeedback, 0, len(c.RTCPFeedback))
		for _, f := range c.RTCPFeedback {
			fb = append(fb, RtcpFeedback{Type: f.Type, Parameter: f.Parameter})
		}
		caps.Codecs = append(caps.Codecs, RtpCodecCapability{
			Kind: kind, MimeType: c.MimeType, PreferredPayloadType: int(c.PayloadType), ClockRate: int(c.ClockRate),
			Channels: int(c.Channels), Parameters: parseFmtp(c.SDPFmtpLine), RtcpFeedback: fb,
		})
	}
	for i, x := range localHeaderExtensions {
		caps.HeaderExtensions = append(caps.HeaderExtensions, RtpHeaderExtension{
			Kind: x.kind.String(), URI: x.uri, PreferredID: i + 1, Direction: "sendrecv",
		})
	}
	return caps
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
	// Net, when set, is the network pion uses for its sockets (a
	// transport.Net, e.g. one that impairs or cuts traffic in tests);
	// default the operating system's.
	Net piontransport.Net
	// SendBandwidthEstimation adds pion's send-side congestion controller
	// (GCC, fed by the server's transport-wide CC feedback; estimation
	// only, no pacing) to send transports: see
	// SendTransport.BandwidthEstimate.
	SendBandwidthEstimation bool
	// RelayOnly gathers and uses relay candidates only (ICE transport
	// policy "relay"): media goes through a TURN server of
	// TransportOptions.IceServers, as for clients that must relay.
	RelayOnly bool
}

// LoopbackICE keeps every candidate pair on 127.0.0.1: what tests and a
// server on the same machine need.
func LoopbackICE() ICEConfig {
	return ICEConfig{Interfaces: []string{"lo"}, IncludeLoopback: true, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}
}

// statsHolder receives the stats interceptor's Getter (and the
// bandwidth estimator, if any) for the one PeerConnection built from an
// API.
type statsHolder struct {
	mu     sync.Mutex
	getter stats.Getter
	bwe    cc.BandwidthEstimator
}

func (h *statsHolder) estimator() cc.BandwidthEstimator {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.bwe
}

// targetBitrate is the estimator's target in bits/s, 0 without one.
func (h *statsHolder) targetBitrate() int {
	if e := h.estimator(); e != nil {
		return e.GetTargetBitrate()
	}
	return 0
}

func (h *statsHolder) get(ssrc uint32) *stats.Stats {
	h.mu.Lock()
	g := h.getter
	h.mu.Unlock()
	if g == nil {
		return nil
	}
	return g.Get(ssrc)
}

// newAPI builds a pion API for one PeerConnection: a MediaEngine must not
// be shared between PeerConnections. The interceptors are pion's defaults
// (NACK, RTCP reports, simulcast header extensions, TWCC feedback) plus a
// stats interceptor whose per-SSRC counters GetStats reads.
func newAPI(ic ICEConfig, logs logging.LoggerFactory, sending bool) (*webrtc.API, *statsHolder, error) {
	me, err := newMediaEngine()
	if err != nil {
		return nil, nil, err
	}
	ir := &interceptor.Registry{}
	holder := &statsHolder{}
	si, err := stats.NewInterceptor()
	if err != nil {
		return nil, nil, fmt.Errorf("stats interceptor: %w", err)
	}
	si.OnNewPeerConnection(func(_ string, g stats.Getter) {
		holder.mu.Lock()
		holder.getter = g
		holder.mu.Unlock()
	})
	ir.Add(si)
	// Before the others: the estimator must see packets after the TWCC
	// header extension sender numbered them (the last added runs first).
	if sending && ic.SendBandwidthEstimation {
		if err := addBandwidthEstimator(ir, holder, logs); err != nil {
			return nil, nil, err
		}
	}
	if err := configureInterceptors(me, ir, sending, holder); err != nil {
		return nil, nil, err
	}
	se, err := settingEngine(ic, logs)
	if err != nil {
		return nil, nil, err
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), holder, nil
}

func newMediaEngine() (*webrtc.MediaEngine, error) {
	me := &webrtc.MediaEngine{}
	for _, codec := range localCodecs() {
		typ := webrtc.RTPCodecTypeVideo
		if strings.HasPrefix(codec.MimeType, "audio/") {
			typ = webrtc.RTPCodecTypeAudio
		}
		if err := me.RegisterCodec(codec, typ); err != nil {
			return nil, fmt.Errorf("register codec %s: %w", codec.MimeType, err)
		}
	}
	for _, x := range localHeaderExtensions {
		if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: x.uri}, x.kind); err != nil {
			return nil, fmt.Errorf("register header extension: %w", err)
		}
	}
	return me, nil
}

// nackHistory bounds the NACK generator's state per received stream: it
// tracks this many sequence numbers. Sent streams keep retransmitHistory
// packets (see retransmitter).
const nackHistory = 256

func configureInterceptors(me *webrtc.MediaEngine, ir *interceptor.Registry, sending bool, holder *statsHolder) error {
	steps := []func() error{
		func() error { return configureNack(me, ir, sending, holder) },
		func() error { return webrtc.ConfigureRTCPReports(ir) },
		func() error { return webrtc.ConfigureSimulcastExtensionHeaders(me) },
	}
	if sending {
		// A send transport receives no media: it numbers its packets for
		// the server's transport-wide feedback but generates none.
		steps = append(steps, func() error { registerTransportCCFeedback(me); return nil },
			func() error { return webrtc.ConfigureTWCCHeaderExtensionSender(me, ir) })
	} else {
		steps = append(steps, func() error { return webrtc.ConfigureTWCCSender(me, ir) })
	}
	for _, configure := range steps {
		if err := configure(); err != nil {
			return fmt.Errorf("interceptors: %w", err)
		}
	}
	return nil
}

// configureNack negotiates NACK and PLI for video. A receive transport
// generates NACKs for what it receives; a send transport answers them
// with the retransmitter (paced by the bandwidth estimate, when there is
// one).
func configureNack(me *webrtc.MediaEngine, ir *interceptor.Registry, sending bool, holder *statsHolder) error {
	me.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeVideo)
	me.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack", Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	if sending {
		ir.Add(newRetransmitterFactory(sharedPayloads, holder.targetBitrate))
		return nil
	}
	generator, err := nack.NewGeneratorInterceptor(nack.GeneratorSize(nackHistory))
	if err != nil {
		return err
	}
	ir.Add(generator)
	return nil
}

// registerTransportCCFeedback announces transport-wide congestion control
// feedback for every codec, as webrtc.ConfigureTWCCSender does, without
// its feedback generator.
func registerTransportCCFeedback(me *webrtc.MediaEngine) {
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		me.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, kind)
	}
}

// Initial and floor values of the send-side estimate, in bits/s. GCC
// starts from its initial value and adapts from the feedback; pion's
// default of 10 kbit/s would take many seconds to ramp up to what a
// video already sends.
const (
	bweInitialBitrate = 2_000_000
	bweMinBitrate     = 30_000
)

// addBandwidthEstimator registers pion's cc interceptor with a GCC
// estimator that does not pace (the encoders set the rate; a pacer
// at the estimate would only delay or drop their packets).
func addBandwidthEstimator(ir *interceptor.Registry, holder *statsHolder, logs logging.LoggerFactory) error {
	f, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		opts := []gcc.Option{
			gcc.SendSideBWEInitialBitrate(bweInitialBitrate), gcc.SendSideBWEMinBitrate(bweMinBitrate),
			gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
		}
		if logs != nil {
			opts = append(opts, gcc.WithLoggerFactory(logs))
		}
		e, err := gcc.NewSendSideBWE(opts...)
		if err != nil {
			return nil, err
		}
		return rtxBypass{e}, nil
	})
	if err != nil {
		return fmt.Errorf("bandwidth estimator: %w", err)
	}
	f.OnNewPeerConnection(func(_ string, e cc.BandwidthEstimator) {
		holder.mu.Lock()
		holder.bwe = e
		holder.mu.Unlock()
	})
	ir.Add(f)
	return nil
}

// rtxBypass lets retransmissions bypass the estimator: pion's NACK
// responder writes them, with the RTX SSRC, through the primary stream's
// writer, and GCC's pacer knows only primary SSRCs (it would refuse
// them). They carry the original packet's transport sequence number, so
// counting them would only confuse the estimate anyway.
type rtxBypass struct{ *gcc.SendSideBWE }

func (e rtxBypass) AddStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	paced := e.SendSideBWE.AddStream(info, w)
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if h.SSRC != info.SSRC {
			return w.Write(h, payload, a)
		}
		return paced.Write(h, payload, a)
	})
}

// BandwidthEstimate is the send-side estimate of the uplink (GCC).
type BandwidthEstimate struct {
	TargetBps int     // what the estimator allows: the lower of the two below
	DelayBps  int     // delay-based estimate
	LossBps   int     // loss-based estimate
	Loss      float64 // average loss ratio the feedback reported, 0-1
	Usage     string  // the delay detector: normal, over or under
	State     string  // the rate controller: increase, decrease or hold
}

// BandwidthEstimate returns the send-side bandwidth estimate; false
// unless the Device's ICEConfig.SendBandwidthEstimation is set.
func (t *SendTransport) BandwidthEstimate() (BandwidthEstimate, bool) {
	e := t.stats.estimator()
	if e == nil {
		return BandwidthEstimate{}, false
	}
	st := e.GetStats()
	out := BandwidthEstimate{TargetBps: e.GetTargetBitrate()}
	out.DelayBps, _ = st["delayTargetBitrate"].(int)
	out.LossBps, _ = st["lossTargetBitrate"].(int)
	out.Loss, _ = st["averageLoss"].(float64)
	out.Usage, _ = st["usage"].(string)
	out.State, _ = st["state"].(string)
	return out, true
}

func settingEngine(ic ICEConfig, logs logging.LoggerFactory) (webrtc.SettingEngine, error) {
	se := webrtc.SettingEngine{}
	if len(ic.Interfaces) > 0 {
		allowed := map[string]bool{}
		for _, n := range ic.Interfaces {
			allowed[n] = true
		}
		se.SetInterfaceFilter(func(name string) bool { return allowed[name] })
	}
	if len(ic.IPs) > 0 {
		ips := append([]net.IP(nil), ic.IPs...)
		se.SetIPFilter(func(ip net.IP) bool {
			for _, a := range ips {
				if a.Equal(ip) {
					return true
				}
			}
			return false
		})
	}
	se.SetIncludeLoopbackCandidate(ic.IncludeLoopback)
	if ic.Net != nil {
		se.SetNet(ic.Net)
	}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if ic.TCP {
		types = append(types, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	se.SetNetworkTypes(types)
	if ic.PortMin != 0 || ic.PortMax != 0 {
		if err := se.SetEphemeralUDPPortRange(ic.PortMin, ic.PortMax); err != nil {
			return se, fmt.Errorf("port range: %w", err)
		}
	}
	// mediasoup-client's choice: the client is the DTLS client on both
	// transports (send: our answer says passive; recv: pion answers active).
	if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleClient); err != nil {
		return se, err
	}
	if logs != nil {
		se.LoggerFactory = logs
	}
	return se, nil
}
