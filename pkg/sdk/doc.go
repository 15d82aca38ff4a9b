// Package sdk is callctl's engine as a library: a participant in a
// mediasoup room reached through mediasoup-demo's protoo signaling (both
// its JavaScript and TypeScript dialects), with pion/webrtc transports.
//
// # Lifecycle
//
//	c, _ := sdk.NewClient(sdk.Config{ServerURL: "wss://…", Audio: a, Video: v})
//	go func() { for ev := range c.Events() { … } }() // closed after sdk.Left
//	err := c.JoinCall(ctx, room, user, displayName)   // typed errors
//	c.EnableAudio(ctx, false)                          // mute / unmute
//	s, _ := c.Stats(ctx)                               // pion's counters + decoded media
//	c.LeaveCall(ctx)                                   // waits for every goroutine
//
// JoinCall: WebSocket (subprotocol protoo) → getRouterRtpCapabilities
// (which also tells the dialect) → createWebRtcTransport for sending and
// receiving → join (with receive capabilities in the router's payload
// types and header-extension ids) → produce each source. The server then
// asks us to consume every producer of the room, present and future
// (newConsumer), and we answer only after the local renegotiation.
//
// # Concurrency
//
// Every signaling message, user call and pion callback runs as a task on
// one serialized queue per call (internal/queue), so transports, producers
// and consumers are never created in racing order and the call state needs
// no locks. Adding to the queue never blocks: the signaling read loop and
// pion's goroutines only enqueue. User code never runs on the queue:
// events go through an ordered, unbounded emitter to Events(), and the
// Store publishes snapshots (values) to subscribers, skipping superseded
// ones for slow readers. Every goroutine a call starts is tracked and
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
// ending.
package sdk
