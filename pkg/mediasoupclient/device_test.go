package mediasoupclient

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"
)

// These tests run the layer against the parameters a mediasoup server
// would return, without a server: negotiation is local, so the hooks, the
// parameters they carry and the failure handling are checked offline. The
// e2e tests of pkg/sdk and examples/ run it against the real server.

func serverTransport(id string) TransportOptions {
	return TransportOptions{
		ID:            id,
		IceParameters: IceParameters{UsernameFragment: "ufrag" + id, Password: "pwd0123456789012345678901234", IceLite: true},
		IceCandidates: []IceCandidate{{Foundation: "udpcandidate", Priority: 1076302079, Address: "127.0.0.1", Protocol: "udp", Port: 9, Type: "host"}},
		DtlsParameters: DtlsParameters{Role: "auto", Fingerprints: []DtlsFingerprint{{
			Algorithm: "sha-256", Value: "82:5A:68:3D:36:C3:0A:DE:AF:E7:32:43:D2:88:83:57:AC:2D:65:E5:80:C4:B6:FB:AF:1A:A0:21:9F:6D:0C:AD",
		}}},
		SctpParameters: &SctpParameters{Port: 5000, OS: 1024, MIS: 1024, MaxMessageSize: 262144},
	}
}

func loadedDevice(t *testing.T) *Device {
	t.Helper()
	d := NewDevice(DeviceOptions{ICE: LoopbackICE()})
	if err := d.Load(loadRouterCaps(t)); err != nil {
		t.Fatal(err)
	}
	return d
}

func vp8Track(t *testing.T, rid string) *webrtc.TrackLocalStaticSample {
	t.Helper()
	opts := []func(*webrtc.TrackLocalStaticRTP){}
	if rid != "" {
		opts = append(opts, webrtc.WithRTPStreamID(rid))
	}
	tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "stream", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// hookLog records the hooks' calls in order.
type hookLog struct {
	mu    sync.Mutex
	calls []string
	dtls  []DtlsParameters
	prod  []ProduceParameters
	data  []ProduceDataParameters
}

func (h *hookLog) add(s string) {
	h.mu.Lock()
	h.calls = append(h.calls, s)
	h.mu.Unlock()
}

func wireSend(t *SendTransport, h *hookLog) {
	t.OnConnect(func(_ context.Context, d DtlsParameters) error {
		h.add("connect")
		h.dtls = append(h.dtls, d)
		return nil
	})
	t.OnProduce(func(_ context.Context, p ProduceParameters) (string, error) {
		h.add("produce:" + p.Kind)
		h.prod = append(h.prod, p)
		return "producer-" + p.Kind, nil
	})
	t.OnProduceData(func(_ context.Context, p ProduceDataParameters) (string, error) {
		h.add("producedata:" + p.Label)
		h.data = append(h.data, p)
		return "dataproducer-" + p.Label, nil
	})
}

func TestSendTransportHooksInOrder(t *testing.T) {
	defer goleak.VerifyNone(t)
	d := loadedDevice(t)
	send, err := d.CreateSendTransport(serverTransport("s1"))
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	h := &hookLog{}
	wireSend(send, h)
	ctx := context.Background()
	p, err := send.Produce(ctx, ProducerOptions{
		Tracks:    []webrtc.TrackLocal{vp8Track(t, "r0"), vp8Track(t, "r1"), vp8Track(t, "r2")},
		Encodings: []RtpEncodingParameters{{MaxBitrate: 100000}, {MaxBitrate: 300000}, {MaxBitrate: 900000}},
		AppData:   map[string]any{"source": "video"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := send.ProduceData(ctx, DataProducerOptions{Label: "chat"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(h.calls, ","); got != "connect,produce:video,producedata:chat" {
		t.Fatalf("hooks called %s", got)
	}
	if dt := h.dtls[0]; dt.Role != "client" || len(dt.Fingerprints) != 1 || dt.Fingerprints[0].Value != strings.ToUpper(dt.Fingerprints[0].Value) {
		t.Errorf("connect DTLS parameters %+v: want role client and an upper-case fingerprint", dt)
	}
	checkProduceParameters(t, h.prod[0])
	if p.ID() != "producer-video" || p.RtpParameters().MID == "" {
		t.Errorf("producer id %q mid %q", p.ID(), p.RtpParameters().MID)
	}
	if sp := h.data[0].SctpStreamParameters; sp.StreamID != 0 || sp.Ordered == nil || !*sp.Ordered {
		t.Errorf("data producer stream parameters %+v", sp)
	}
}

func checkProduceParameters(t *testing.T, p ProduceParameters) {
	t.Helper()
	rp := p.RtpParameters
	if len(rp.Encodings) != 3 {
		t.Fatalf("%d encodings, want 3", len(rp.Encodings))
	}
	seen := map[uint32]bool{}
	for i, e := range rp.Encodings {
		if e.SSRC == 0 || e.RID != "" || seen[e.SSRC] {
			t.Errorf("encoding %d: %+v (want a distinct explicit SSRC and no rid)", i, e)
		}
		seen[e.SSRC] = true
	}
	if rp.Encodings[2].MaxBitrate != 900000 {
		t.Errorf("maxBitrate not carried: %+v", rp.Encodings[2])
	}
	if rp.Codecs[0].MimeType != "video/VP8" || rp.Codecs[0].PayloadType != 96 {
		t.Errorf("codec %+v: want pion's local VP8 payload type 96", rp.Codecs[0])
	}
	if rp.Rtcp.CNAME == "" || p.AppData["source"] != "video" {
		t.Errorf("cname %q appData %v", rp.Rtcp.CNAME, p.AppData)
	}
}

// consumerParams is a consumer as mediasoup 3.8.4 describes one.
func consumerParams(mid string, ssrc uint32) ConsumerOptions {
	return ConsumerOptions{
		ID: "consumer-" + mid, ProducerID: "producer-" + mid, Kind: "video", StreamID: "peer one",
		RtpParameters: RtpParameters{
			MID: mid,
			Codecs: []RtpCodecParameters{
				{MimeType: "video/VP8", PayloadType: 101, ClockRate: 90000, Parameters: Parameters{}, RtcpFeedback: []RtcpFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}},
				{MimeType: "video/rtx", PayloadType: 102, ClockRate: 90000, Parameters: Parameters{"apt": float64(101)}, RtcpFeedback: []RtcpFeedback{}},
			},
			HeaderExtensions: []RtpHeaderExtensionParameters{{URI: uriMid, ID: 1}},
			Encodings:        []RtpEncodingParameters{{SSRC: ssrc, RTX: &RtxParameters{SSRC: ssrc + 1}}},
			Rtcp:             RtcpParameters{CNAME: "cname" + mid, ReducedSize: true},
		},
	}
}

func TestRecvTransportRejectsBadConsumersAndKeepsWorking(t *testing.T) {
	defer goleak.VerifyNone(t)
	d := loadedDevice(t)
	recv, err := d.CreateRecvTransport(serverTransport("r1"))
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	connects := 0
	recv.OnConnect(func(context.Context, DtlsParameters) error {
		connects++
		if connects == 1 {
			return errors.New("transient connectWebRtcTransport error")
		}
		return nil
	})
	ctx := context.Background()
	bad := []func(*ConsumerOptions){
		func(o *ConsumerOptions) { o.RtpParameters.Codecs[0].PayloadType = 9999 },
		func(o *ConsumerOptions) { o.RtpParameters.Codecs[0].PayloadType = -1 },
		func(o *ConsumerOptions) { o.RtpParameters.Codecs[0].ClockRate = -90000 },
		func(o *ConsumerOptions) {
			for i := 0; i < 20000; i++ {
				o.RtpParameters.HeaderExtensions = append(o.RtpParameters.HeaderExtensions, RtpHeaderExtensionParameters{URI: "urn:x", ID: 2})
			}
		},
		func(o *ConsumerOptions) { o.RtpParameters.MID = "9\r\nm=video 9 UDP/TLS/RTP/SAVPF 101" },
		func(o *ConsumerOptions) { o.RtpParameters.Rtcp.CNAME = "x\r\na=ssrc:1 cname:y" },
		func(o *ConsumerOptions) { o.RtpParameters.Codecs[0].Parameters["x"] = "1\r\na=inactive" },
	}
	for i, mutate := range bad {
		o := consumerParams("b", 5000)
		mutate(&o)
		if _, err := recv.Consume(ctx, o); !errors.Is(err, ErrInvalidParameters) {
			t.Errorf("bad consumer %d accepted or wrong error: %v", i, err)
		}
	}
	// The transient connect failure costs one consumer; the next ones work.
	if _, err := recv.Consume(ctx, consumerParams("0", 1000)); err == nil {
		t.Fatal("consume with a failing connect hook succeeded")
	}
	for i, mid := range []string{"1", "2"} {
		c, err := recv.Consume(ctx, consumerParams(mid, uint32(2000+10*i)))
		if err != nil {
			t.Fatalf("consumer %s after failures: %v", mid, err)
		}
		if c.SSRC() != uint32(2000+10*i) {
			t.Errorf("ssrc %d", c.SSRC())
		}
	}
	if connects != 2 {
		t.Errorf("connect hook called %d times, want 2 (one failure, one success)", connects)
	}
	if st := recv.PeerConnection().SignalingState(); st != webrtc.SignalingStateStable {
		t.Errorf("signaling state %s after the failures", st)
	}
}

func TestConsumerCloseAndTransportClose(t *testing.T) {
	defer goleak.VerifyNone(t)
	d := loadedDevice(t)
	recv, err := d.CreateRecvTransport(serverTransport("r2"))
	if err != nil {
		t.Fatal(err)
	}
	recv.OnConnect(func(context.Context, DtlsParameters) error { return nil })
	ctx := context.Background()
	c, err := recv.Consume(ctx, consumerParams("0", 1000))
	if err != nil {
		t.Fatal(err)
	}
	dc, err := recv.ConsumeData(ctx, DataConsumerOptions{ID: "dc1", DataProducerID: "dp1", Label: "chat", SctpStreamParameters: SctpStreamParameters{StreamID: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if dc.DataChannel().ID() == nil || *dc.DataChannel().ID() != 3 {
		t.Errorf("data channel id %v, want the server's stream id 3", dc.DataChannel().ID())
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.Track(wctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Track after Close: %v", err)
	}
	if _, err := recv.Consume(ctx, consumerParams("1", 3000)); err != nil {
		t.Fatalf("consume after a close: %v", err)
	}
	if err := recv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := recv.Consume(ctx, consumerParams("2", 4000)); !errors.Is(err, ErrClosed) {
		t.Errorf("consume on a closed transport: %v", err)
	}
}

func TestDeviceLoad(t *testing.T) {
	d := NewDevice(DeviceOptions{})
	if _, err := d.CreateSendTransport(serverTransport("x")); !errors.Is(err, ErrNotLoaded) {
		t.Errorf("transport before Load: %v", err)
	}
	if err := d.Load(RtpCapabilities{Codecs: []RtpCodecCapability{{Kind: "audio", MimeType: "audio/PCMU", ClockRate: 8000}}}); !errors.Is(err, ErrInvalidParameters) {
		t.Errorf("Load without a usable codec: %v", err)
	}
	d = loadedDevice(t)
	if !d.CanProduce("audio") || !d.CanProduce("video") || d.CanProduce("text") {
		t.Error("CanProduce")
	}
	if err := d.Load(loadRouterCaps(t)); !errors.Is(err, ErrAlreadyLoaded) {
		t.Errorf("second Load: %v", err)
	}
	if n := d.SctpCapabilities().NumStreams; n.OS != 1024 || n.MIS != 1024 {
		t.Errorf("sctp capabilities %+v", n)
	}
	bad := serverTransport("y")
	bad.IceCandidates[0].Address = "127.0.0.1\r\na=candidate:evil"
	if _, err := d.CreateRecvTransport(bad); !errors.Is(err, ErrInvalidParameters) {
		t.Errorf("CR/LF in a candidate: %v", err)
	}
}
