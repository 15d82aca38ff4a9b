// Package fleet runs many participants of mediasoup calls in one process,
// for load tests and CI rooms: publishers that send one shared media
// source, and subscribers that consume (and optionally decode) what their
// room sends. Each participant is an sdk.Client.
//
//	audio := fleet.NewSharedSource(fileAudio) // any sdk.MediaSource, opened once
//	video := fleet.NewSharedSource(fileVideo)
//	f, _ := fleet.New(fleet.Options{
//		ServerURL: "ws://127.0.0.1:4443", ICE: sdk.LoopbackICE(),
//		Plan:      fleet.PlanOptions{Rooms: 2, Publishers: 20, Subscribers: 5},
//		JoinRate:  10, Audio: audio, Video: video,
//		NewSink:   func(fleet.Member) (sdk.ReceiveSink, error) { return capture.NewReceiveSink(capture.ReceiveOptions{}) },
//		OnEvent:   func(ev fleet.Event) { … }, // every participant's events, tagged
//	})
//	f.Start(ctx)
//	st := f.Sample(ctx)           // aggregate: states, join times, media per kind, rooms
//	f.Mute(ctx, "bot-p3", "video", true)
//	f.LeaveParticipant(ctx, "bot-p3")
//	f.Leave(ctx); f.Wait()        // everyone leaves; every goroutine has ended
//
// # Identity and placement
//
// Plan derives ids from a prefix, a role and an index (bot-p0, bot-s0):
// participant i of a role goes to room i mod Rooms, and IndexOffset lets
// several processes or machines run disjoint shards of one fleet. With
// ShardCount, Publishers and Subscribers are the whole fleet's and shard
// ShardIndex plans its contiguous slice of each role (ShardSlice), so
// every process can run the same command line (a Kubernetes Indexed Job).
// Options.OnStats hands every statistics sample to an exporter
// (pkg/metrics keeps monotonic Prometheus counters out of them).
// Publishers join first, then subscribers, at Options.JoinRate.
//
// # Shared media
//
// A SharedSource starts its source once and hands every publisher a
// handle whose Tracks are the same pion tracks: pion's static tracks write
// each packet to all their bindings (one per PeerConnection, each with its
// own SSRC and payload type), so each layer is encoded or read from a clip
// once for the whole fleet. A handle's SetPaused does nothing (one
// participant's mute is its producer's pause, which gates only its RTP);
// RequestKeyFrame forwards, so one subscriber's PLI gives every receiver
// of that layer a key frame.
//
// # Bounded buffers
//
// Per participant, the fleet holds:
//   - an event queue of Options.EventBuffer events (DefaultEventBuffer,
//     256) between the SDK and the output; when the output is slower the
//     participant's further events are dropped and counted
//     (Info.EventsDropped, Stats.EventsDropped), never piled up. The SDK's
//     own event channel is read at once, so it does not grow either;
//   - its latest statistics sample (one sdk.CallStats), its join time and
//     counters.
//
// Statistics are sampled 8 participants at a time, 2 s at most each.
// Below the fleet, per call: pion keeps, per received SSRC, an SRTP read
// buffer of at most 1 MB (pion/srtp); each sent stream keeps the headers
// of its last 256 packets for retransmission, and their payloads are held
// once per process for all the publishers that sent them
// (pkg/mediasoupclient's retransmitter); the capture sink's frame
// assembly holds at most 1024 packets per video track.
//
// # Expectations
//
// With Options.Expect, each subscriber passes once it decodes video from
// every publisher of its room (this fleet's publishers there that have not
// left or failed, and any other peer it consumes video from), or fails
// when Within has passed since its join started; the aggregate passes
// once SubscribersDecodingPercent of the subscribers passed and fails
// once too many failed (Verdict, and a fleet.expect event).
package fleet
