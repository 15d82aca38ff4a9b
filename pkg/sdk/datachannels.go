package sdk

import (
	"context"
	"errors"
	"sync"
	"unicode/utf8"

	"github.com/pion/webrtc/v4"

	msc "github.com/callctl/callctl/pkg/mediasoupclient"
	"github.com/callctl/callctl/pkg/sdk/internal/demo"
)

// DataChannels (Config.Data): mediasoup-demo rooms carry a "chat" data
// producer per participant, which the server lets every other participant
// consume, and a "bot" that echoes what it is sent. The client consumes
// what the server offers and produces its own chat channel.

// maxDataText bounds the text carried in a DataMessage event; longer
// messages are cut (Size tells the full length).
const maxDataText = 4096

// DataMessage reports a message received on a DataChannel.
type DataMessage struct {
	PeerID string `json:"peerId"` // empty for the server's bot
	Label  string `json:"label"`
	// Text is the message for text messages (cut at 4096 bytes).
	Text   string `json:"text,omitempty"`
	Binary bool   `json:"binary,omitempty"`
	Size   int    `json:"size"`
}

func (DataMessage) Type() string { return "data.message" }
func (DataMessage) isEvent()     {}

// dataConsumer is one DataChannel we receive on.
type dataConsumer struct {
	c      *msc.DataConsumer
	peerID string
}

// ErrNoDataChannel is returned by SendData without Config.Data or before
// the chat channel exists.
var ErrNoDataChannel = errors.New("no data channel (join with Config.Data)")

// openChat produces the chat data producer after joining.
func (cl *call) openChat(ctx context.Context) error {
	if !cl.cfg.Data || cl.sess == nil || cl.sess.send == nil {
		return nil
	}
	dp, err := cl.sess.send.ProduceData(ctx, msc.DataProducerOptions{Label: "chat", AppData: map[string]any{"channel": "chat"}})
	if err != nil {
		return &JoinError{Step: "produceData chat", Err: err}
	}
	cl.chat = newChatChannel(dp)
	return nil
}

func (cl *call) onNewDataConsumer(ctx context.Context, r *demo.ServerRequest) {
	d := r.NewDataConsumer
	if cl.sess == nil || cl.sess.recv == nil || !cl.cfg.Data {
		_ = r.Reject(ctx, 501, "no data channels on this client")
		return
	}
	dc, err := cl.sess.recv.ConsumeData(ctx, msc.DataConsumerOptions{
		ID: d.ID, DataProducerID: d.DataProducerID, SctpStreamParameters: d.SctpStreamParameters,
		Label: d.Label, Protocol: d.Protocol, AppData: d.AppData,
	})
	if err != nil {
		_ = r.Reject(ctx, 500, err.Error())
		cl.emit(errorEvent("newDataConsumer", err, false))
		return
	}
	peer, label := d.PeerID, d.Label
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		ev := DataMessage{PeerID: peer, Label: label, Size: len(m.Data), Binary: !m.IsString}
		if m.IsString {
			ev.Text = truncateUTF8(m.Data, maxDataText)
		}
		_ = cl.q.Add(func(context.Context) { cl.emit(ev) })
	})
	if err := r.Accept(ctx); err != nil {
		_ = dc.Close()
		return
	}
	cl.dataConsumers[d.ID] = &dataConsumer{c: dc, peerID: peer}
}

func (cl *call) closeDataConsumer(id string) {
	if dc := cl.dataConsumers[id]; dc != nil {
		_ = dc.c.Close()
		delete(cl.dataConsumers, id)
	}
}

func truncateUTF8(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	b = b[:n]
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return string(b)
}

// SendData sends a text message on the client's chat DataChannel
// (Config.Data): the room's other participants receive it, and so does
// mediasoup-demo's bot. It waits (bounded by ctx) for the channel to open
// after the join.
func (c *Client) SendData(ctx context.Context, text string) error {
	var ch *chatChannel
	err := c.onCall(ctx, func(_ context.Context, cl *call) error {
		ch = cl.chat
		if ch == nil {
			return ErrNoDataChannel
		}
		return nil
	})
	if err != nil {
		return err
	}
	select {
	case <-ch.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	return ch.p.SendText(text)
}

// chatChannel is our chat data producer and a channel closed when it opens.
type chatChannel struct {
	p    *msc.DataProducer
	open chan struct{}
}

func newChatChannel(p *msc.DataProducer) *chatChannel {
	ch := &chatChannel{p: p, open: make(chan struct{})}
	var once sync.Once
	opened := func() { once.Do(func() { close(ch.open) }) }
	p.DataChannel().OnOpen(opened)
	if p.DataChannel().ReadyState() == webrtc.DataChannelStateOpen {
		opened()
	}
	return ch
}
