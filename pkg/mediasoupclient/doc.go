// Package mediasoupclient is a signaling-agnostic mediasoup client for Go,
// shaped like mediasoup-client (JavaScript) and libmediasoupclient (C++),
// on pion/webrtc. The application carries parameters to and from its
// server over whatever signaling it has (WebSocket, gRPC, HTTP); this
// package turns them into pion PeerConnections that mediasoup accepts.
//
//	device := mediasoupclient.NewDevice(mediasoupclient.DeviceOptions{})
//	device.Load(routerRtpCapabilities)             // from the server
//	send, _ := device.CreateSendTransport(mediasoupclient.TransportOptions{
//		ID: id, IceParameters: ice, IceCandidates: cands, DtlsParameters: dtls, // from the server
//	})
//	send.OnConnect(func(ctx context.Context, dtls mediasoupclient.DtlsParameters) error {
//		return mySignaling.ConnectTransport(ctx, send.ID(), dtls)
//	})
//	send.OnProduce(func(ctx context.Context, p mediasoupclient.ProduceParameters) (string, error) {
//		return mySignaling.Produce(ctx, send.ID(), p.Kind, p.RtpParameters, p.AppData)
//	})
//	producer, _ := send.Produce(ctx, mediasoupclient.ProducerOptions{Tracks: []webrtc.TrackLocal{track}})
//
//	recv, _ := device.CreateRecvTransport(…)                     // OnConnect as above
//	consumer, _ := recv.Consume(ctx, mediasoupclient.ConsumerOptions{ID: …, ProducerID: …, Kind: …, RtpParameters: …})
//	mySignaling.ResumeConsumer(ctx, consumer.ID())             // after Consume returned
//	track, _ := consumer.Track(ctx)                            // pion's TrackRemote
//
// What mediasoup needs from a non-browser client stays inside: ICE-lite
// remote descriptions (so pion is ICE-controlling), the client as DTLS
// client on both transports with upper-case fingerprints, explicit SSRCs
// per encoding (pion writes no MID/RID header extensions), numeric fmtp
// values, the receive capabilities in the router's payload types and
// header-extension ids, the RTP probator receiver, and negotiated
// DataChannels with explicit stream ids.
//
// Differences from mediasoup-client, because pion is not a browser: a
// simulcast producer takes one track per encoding (the application
// encodes each layer); Producer.Pause drops RTP instead of disabling a
// MediaStreamTrack; a Consumer's track arrives with its first packet
// (Consumer.Track waits for it); ReplaceTrack works on single-encoding
// producers only.
//
// Every method is safe for concurrent use. Negotiations of one transport
// are serialised, and the application's hooks run inside them: a hook must
// not call back into the same transport.
package mediasoupclient
