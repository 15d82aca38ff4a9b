// Package sdk is callctl's engine as a library: a participant in a
// mediasoup room reached through mediasoup-demo's protoo signaling (both
// its JavaScript and TypeScript dialects). It is built from two layers an
// application can also use on their own: pkg/mediasoupclient (Device,
// transports, producers and consumers; signaling-agnostic) and the demo
// protocol adapter (internal/demo).
//
// # Lifecycle
//
//	c, _ := sdk.NewClient(sdk.Config{ServerURL: "wss://…", Audio: a, Video: v})
//	go func() { for ev := range c.Events() { … } }() // closed after sdk.Left
//	err := c.JoinCall(ctx, room, user, displayName)   // typed errors
//	c.EnableAudio(ctx, false)                          // mute / unmute
//	c.Publish(ctx, "screen", src)                      // another source
//	c.SendData(ctx, "hello")                           // chat (Config.Data)
//	s, _ := c.Stats(ctx)                               // pion's counters + decoded media
//	c.LeaveCall(ctx)                                   // waits for every goroutine
//
// JoinCall: WebSocket (subprotocol protoo) → getRouterRtpCapabilities
// (which also tells the dialect) → Device.Load → createWebRtcTransport for
// sending and receiving → join (with the device's receive capabilities,
// unless Config.Consume.None) → produce each source (and the chat
// DataChannel with Config.Data). The server then asks us to consume every
// producer of the room, present and future (newConsumer); Config.Consume
// selects which we accept, and we answer only after the local
// renegotiation.
//
// # Engine files
//
// client.go (the public Client), call.go (one call's state and teardown),
// join.go (the join sequence and transports), producers.go, consumers.go,
// layers.go, notifications.go (participants and consumer state),
// datachannels.go, reconnect.go (driving internal/reconnect's pure policy),
// icerestart.go (media-path recovery without a rejoin), servers.go
// (rendezvous load balancing), bwe.go (send-side adaptation), stats.go,
// adaptive.go, store.go, emitter.go, events.go.
//
// # Concurrency
//
// Every signaling message, user call and pion callback runs as a task on
// one serialized queue per call (internal/queue), so transports, producers
// and consumers are never created in racing order and the call state needs
// no locks. Adding to the queue never blocks: the signaling read loop and
// pion's goroutines only enqueue. User code never runs on the queue:
// events go through an ordered, unbounded emitter to Events() (nothing is
// emitted after Left), and the Store publishes snapshots (values) to
// subscribers, skipping superseded ones for slow readers; subscriptions
// close when the call ends. Every goroutine a call starts is tracked and
// waited for by LeaveCall (and Done).
//
// # Media
//
// The SDK opens no device and runs no codec: sources implement
// MediaSource and a ReceiveSink analyses what arrives (pkg/capture
// provides both). Simulcast is a source with several tracks; the producer
// announces one explicit SSRC per encoding because pion writes no MID/RID
// header extensions.
//
// # Failures
//
// ConnectError (server unreachable), JoinError (with the failed step,
// wrapping ServerError for server error responses), ErrClosedByServer
// (close code 4000, final), ErrConnectionLost and ErrTransportFailed. With
// Config.Reconnect a lost call rejoins (see ReconnectConfig) instead of
// ending. Malformed server messages are rejected item by item (an error
// event, fatal false): a bad newConsumer costs only that consumer.
package sdk
