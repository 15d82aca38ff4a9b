package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/callctl/callctl/pkg/capture"
	msc "github.com/callctl/callctl/pkg/mediasoupclient"
	"github.com/callctl/callctl/pkg/sdk"
)

// Options configure one participant.
type Options struct {
	URL, Room, Name string
	ICE             msc.ICEConfig
	Log             *slog.Logger
}

// participant is one member of a jsonapp room, built only on
// mediasoupclient: the application owns the signaling and carries the
// layer's parameters over it.
type participant struct {
	o      Options
	me     string // participant id the server gave us
	sig    *signaling
	device *msc.Device
	send   *msc.SendTransport
	recv   *msc.RecvTransport
	sink   *capture.ReceiveSink
	video  *capture.VideoSource
	audio  *capture.AudioSource

	ctx    context.Context // ends with close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	receivers []*received
}

// received is one consumed track and what the sink made of it.
type received struct {
	From, Kind string
	Receiver   sdk.TrackReceiver
}

// helloResult is the jsonapp hello reply.
type helloResult struct {
	Me         string              `json:"me"`
	RouterCaps msc.RtpCapabilities `json:"routerCaps"`
	Producers  []producerInfo      `json:"producers"`
}

type producerInfo struct {
	ProducerID    string `json:"producerId"`
	ParticipantID string `json:"participantId"`
	Kind          string `json:"kind"`
}

// join enters the room, publishes a 3-layer VP8 test picture and a tone,
// and consumes every other participant's producers, present and future.
func join(ctx context.Context, o Options) (*participant, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	sig, err := dialSignaling(ctx, o.URL)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithCancel(context.Background())
	p := &participant{o: o, sig: sig, ctx: pctx, cancel: cancel, device: msc.NewDevice(msc.DeviceOptions{ICE: o.ICE, Logger: o.Log})}
	if err := p.setup(ctx); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *participant) setup(ctx context.Context) error {
	var hello helloResult
	if err := p.sig.call(ctx, "hello", map[string]string{"room": p.o.Room, "name": p.o.Name}, &hello); err != nil {
		return err
	}
	p.me = hello.Me
	if err := p.device.Load(hello.RouterCaps); err != nil {
		return err
	}
	var err error
	if p.send, err = p.openSend(ctx); err != nil {
		return err
	}
	if p.recv, err = p.openRecv(ctx); err != nil {
		return err
	}
	if p.sink, err = capture.NewReceiveSink(capture.ReceiveOptions{}); err != nil {
		return err
	}
	if err := p.publish(ctx); err != nil {
		return err
	}
	for _, pr := range hello.Producers {
		if err := p.subscribe(ctx, pr); err != nil {
			return err
		}
	}
	p.wg.Add(1)
	go p.handlePushes()
	return nil
}

// wireTransport is jsonapp's transport description.
type wireTransport struct {
	ID  string `json:"id"`
	ICE struct {
		Ufrag string `json:"ufrag"`
		Pwd   string `json:"pwd"`
		Lite  bool   `json:"lite"`
	} `json:"ice"`
	Candidates []msc.IceCandidate `json:"candidates"`
	DTLS       msc.DtlsParameters `json:"dtls"`
}

func (p *participant) openTransport(ctx context.Context, direction string) (msc.TransportOptions, error) {
	var r struct {
		Transport wireTransport `json:"transport"`
	}
	if err := p.sig.call(ctx, "open-transport", map[string]string{"direction": direction}, &r); err != nil {
		return msc.TransportOptions{}, err
	}
	t := r.Transport
	return msc.TransportOptions{
		ID:             t.ID,
		IceParameters:  msc.IceParameters{UsernameFragment: t.ICE.Ufrag, Password: t.ICE.Pwd, IceLite: t.ICE.Lite},
		IceCandidates:  t.Candidates,
		DtlsParameters: t.DTLS,
	}, nil
}

func (p *participant) connectHook(id string) func(context.Context, msc.DtlsParameters) error {
	return func(ctx context.Context, dtls msc.DtlsParameters) error {
		return p.sig.call(ctx, "connect-transport", map[string]any{"transportId": id, "dtls": dtls}, nil)
	}
}

func (p *participant) openSend(ctx context.Context) (*msc.SendTransport, error) {
	opts, err := p.openTransport(ctx, "send")
	if err != nil {
		return nil, err
	}
	t, err := p.device.CreateSendTransport(opts)
	if err != nil {
		return nil, err
	}
	t.OnConnect(p.connectHook(t.ID()))
	t.OnProduce(func(ctx context.Context, pp msc.ProduceParameters) (string, error) {
		var r struct {
			ProducerID string `json:"producerId"`
		}
		err := p.sig.call(ctx, "publish", map[string]any{"transportId": t.ID(), "kind": pp.Kind, "rtp": pp.RtpParameters, "tag": pp.AppData}, &r)
		return r.ProducerID, err
	})
	return t, nil
}

func (p *participant) openRecv(ctx context.Context) (*msc.RecvTransport, error) {
	opts, err := p.openTransport(ctx, "recv")
	if err != nil {
		return nil, err
	}
	t, err := p.device.CreateRecvTransport(opts)
	if err != nil {
		return nil, err
	}
	t.OnConnect(p.connectHook(t.ID()))
	return t, nil
}

// publish sends a 3-layer simulcast test picture and a tone.
func (p *participant) publish(ctx context.Context) error {
	var err error
	if p.video, err = capture.NewSyntheticVideo(capture.VideoOptions{Width: 640, Height: 360, FPS: 15, Layers: 3}); err != nil {
		return err
	}
	if p.audio, err = capture.NewToneAudio(capture.AudioOptions{Continuous: true}); err != nil {
		return err
	}
	for _, src := range []sdk.MediaSource{p.audio, p.video} {
		codec := src.Codec()
		_, err := p.send.Produce(ctx, msc.ProducerOptions{
			Tracks: src.Tracks(), Codec: &codec, AppData: map[string]any{"source": src.Kind().String()},
			OnKeyFrameRequest: src.RequestKeyFrame,
		})
		if err != nil {
			return fmt.Errorf("produce %s: %w", src.Kind(), err)
		}
		if err := src.Start(p.ctx); err != nil {
			return err
		}
	}
	return nil
}

// subscribe consumes one producer: the server creates the consumer paused,
// the layer negotiates it, and only then is it unpaused.
func (p *participant) subscribe(ctx context.Context, pr producerInfo) error {
	var r struct {
		ConsumerID    string            `json:"consumerId"`
		ProducerID    string            `json:"producerId"`
		ParticipantID string            `json:"participantId"`
		Kind          string            `json:"kind"`
		RTP           msc.RtpParameters `json:"rtp"`
	}
	caps := p.device.RtpCapabilities()
	if err := p.sig.call(ctx, "subscribe", map[string]any{"transportId": p.recv.ID(), "producerId": pr.ProducerID, "caps": caps}, &r); err != nil {
		return err
	}
	c, err := p.recv.Consume(ctx, msc.ConsumerOptions{
		ID: r.ConsumerID, ProducerID: r.ProducerID, Kind: r.Kind, RtpParameters: r.RTP, StreamID: r.ParticipantID,
	})
	if err != nil {
		return err
	}
	if err := p.sig.call(ctx, "unpause", map[string]string{"consumerId": c.ID()}, nil); err != nil {
		return err
	}
	p.wg.Add(1)
	go p.read(c, r.ParticipantID)
	return nil
}

// read feeds a consumer's RTP to the decoding sink.
func (p *participant) read(c *msc.Consumer, from string) {
	defer p.wg.Done()
	track, err := c.Track(p.ctx)
	if err != nil {
		return
	}
	codec := track.Codec()
	tr := p.sink.OpenTrack(sdk.TrackInfo{
		ConsumerID: c.ID(), ProducerID: c.ProducerID(), PeerID: from, Kind: c.Kind(),
		MimeType: codec.MimeType, ClockRate: codec.ClockRate, Channels: codec.Channels,
		RequestKeyFrame: func() { _ = c.RequestKeyFrame() },
		ReportError:     func(err error) { p.o.Log.Warn("receiver", "err", err) },
	})
	p.mu.Lock()
	p.receivers = append(p.receivers, &received{From: from, Kind: c.Kind(), Receiver: tr})
	p.mu.Unlock()
	defer func() { _ = tr.Close() }()
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		tr.WriteRTP(pkt)
	}
}

// handlePushes subscribes to producers that appear later.
func (p *participant) handlePushes() {
	defer p.wg.Done()
	for ev := range p.sig.pushes {
		if ev.Event != "producer-added" {
			continue
		}
		var pr producerInfo
		if json.Unmarshal(ev.Body, &pr) != nil {
			continue
		}
		if err := p.subscribe(p.ctx, pr); err != nil && !errors.Is(err, context.Canceled) {
			p.o.Log.Warn("subscribe", "producer", pr.ProducerID, "err", err)
		}
	}
}

// stats reports what arrived from each other participant, by kind.
func (p *participant) stats() []receivedStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]receivedStats, 0, len(p.receivers))
	for _, r := range p.receivers {
		out = append(out, receivedStats{From: r.From, Kind: r.Kind, ReceiveStats: r.Receiver.Stats()})
	}
	return out
}

type receivedStats struct {
	From string `json:"from"`
	Kind string `json:"kind"`
	sdk.ReceiveStats
}

// close leaves: the transports, the sources and the signaling end, and
// every goroutine is waited for.
func (p *participant) close() {
	p.cancel()
	if p.send != nil {
		_ = p.send.Close()
	}
	if p.recv != nil {
		_ = p.recv.Close()
	}
	if p.video != nil {
		_ = p.video.Close()
	}
	if p.audio != nil {
		_ = p.audio.Close()
	}
	p.sig.close()
	p.wg.Wait()
}
