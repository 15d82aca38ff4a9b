package demo

import (
	"encoding/json"
	"reflect"
	"testing"
)

func intp(n int) *int { return &n }

// TestDecodeNotificationBothDialects feeds the notifications each server
// generation sends (shapes from mediasoup-demo's Room.js and Room.ts) and
// checks they decode to the same typed values.
func TestDecodeNotificationBothDialects(t *testing.T) {
	cases := []struct {
		name, method, data string
		want               Notification
	}{
		{"newPeer js", "newPeer", `{"id":"bob","displayName":"Bob","device":{"flag":"chrome","name":"Chrome","version":"1"}}`,
			NewPeer{Peer: Peer{ID: "bob", DisplayName: "Bob", Device: Device{Flag: "chrome", Name: "Chrome", Version: "1"}}}},
		{"newPeer ts", "newPeer", `{"peer":{"peerId":"bob","displayName":"Bob","device":{"flag":"chrome","name":"Chrome","version":"1"},"remoteAddress":"127.0.0.1"}}`,
			NewPeer{Peer: Peer{ID: "bob", DisplayName: "Bob", Device: Device{Flag: "chrome", Name: "Chrome", Version: "1"}}}},
		{"peerClosed", "peerClosed", `{"peerId":"bob"}`, PeerClosed{PeerID: "bob"}},
		{"consumerLayersChanged js", "consumerLayersChanged", `{"consumerId":"c1","spatialLayer":2,"temporalLayer":1}`,
			ConsumerLayersChanged{ConsumerID: "c1", SpatialLayer: intp(2), TemporalLayer: intp(1)}},
		{"consumerLayersChanged ts", "consumerLayersChanged", `{"consumerId":"c1","layers":{"spatialLayer":2,"temporalLayer":1}}`,
			ConsumerLayersChanged{ConsumerID: "c1", SpatialLayer: intp(2), TemporalLayer: intp(1)}},
		{"consumerLayersChanged none", "consumerLayersChanged", `{"consumerId":"c1","spatialLayer":null,"temporalLayer":null}`,
			ConsumerLayersChanged{ConsumerID: "c1"}},
		{"activeSpeaker js", "activeSpeaker", `{"peerId":"bob","volume":-40}`, ActiveSpeaker{PeerID: "bob", Volume: -40}},
		{"activeSpeaker silence js", "activeSpeaker", `{"peerId":null}`, ActiveSpeaker{}},
		{"activeSpeaker silence ts", "activeSpeaker", `{}`, ActiveSpeaker{}},
		{"consumerScore", "consumerScore", `{"consumerId":"c1","score":{"score":9,"producerScore":10,"producerScores":[10]}}`,
			ConsumerScore{ConsumerID: "c1", Score: 9, ProducerScore: 10}},
		{"producerScore", "producerScore", `{"producerId":"p1","score":[{"encodingIdx":0,"ssrc":11,"score":10},{"encodingIdx":1,"ssrc":12,"score":7}]}`,
			ProducerScore{ProducerID: "p1", Scores: map[uint32]int{11: 10, 12: 7}}},
		{"consumerPaused", "consumerPaused", `{"consumerId":"c1"}`, ConsumerPaused{ConsumerID: "c1"}},
		{"dataConsumerClosed", "dataConsumerClosed", `{"dataConsumerId":"d1"}`, DataConsumerClosed{DataConsumerID: "d1"}},
		{"unknown", "downlinkBwe", `{"desiredBitrate":1}`, Other{Method: "downlinkBwe"}},
	}
	for _, c := range cases {
		got, err := decodeNotification(c.method, json.RawMessage(c.data))
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %#v, %v; want %#v", c.name, got, err, c.want)
		}
	}
}

func TestDecodeNotificationRejectsNamelessOrMalformed(t *testing.T) {
	for _, c := range []struct{ method, data string }{
		{"newPeer", `{"displayName":"ghost"}`},
		{"peerClosed", `{}`},
		{"consumerClosed", `{"consumerId":""}`},
		{"consumerScore", `{"consumerId":"c1","score":"high"}`},
		{"newPeer", `[1,2]`},
		{"producerScore", `{"score":[]}`},
	} {
		if n, err := decodeNotification(c.method, json.RawMessage(c.data)); err == nil {
			t.Errorf("%s %s: decoded to %#v, want an error", c.method, c.data, n)
		}
	}
}

func TestDecodeServerRequestsBothDialects(t *testing.T) {
	js := `{"peerId":"bob","producerId":"p1","id":"c1","kind":"video","rtpParameters":{"codecs":[],"encodings":[{"ssrc":5}]},"type":"simulcast","producerPaused":false,"appData":{"peerId":"bob"}}`
	ts := `{"peerId":"bob","transportId":"t","consumerId":"c1","producerId":"p1","kind":"video","rtpParameters":{"codecs":[],"encodings":[{"ssrc":5}]},"type":"simulcast","producerPaused":false,"consumerScore":{},"appData":{"peerId":"bob","source":"video"}}`
	for name, data := range map[string]string{"js": js, "ts": ts} {
		n, err := decodeNewConsumer(json.RawMessage(data))
		if err != nil || n.ID != "c1" || n.ProducerID != "p1" || n.PeerID != "bob" || n.RtpParameters.Encodings[0].SSRC != 5 {
			t.Errorf("%s newConsumer: %+v %v", name, n, err)
		}
	}
	if _, err := decodeNewConsumer(json.RawMessage(`{"producerId":"p1","kind":"video"}`)); err == nil {
		t.Error("newConsumer without ids accepted")
	}
	bot := `{"dataProducerId":"dp","dataConsumerId":"dc","sctpStreamParameters":{"streamId":3,"ordered":true},"label":"bot","protocol":"","appData":{"channel":"bot"}}`
	d, err := decodeNewDataConsumer(json.RawMessage(bot))
	if err != nil || d.ID != "dc" || d.PeerID != "" || d.SctpStreamParameters.StreamID != 3 || d.Label != "bot" {
		t.Errorf("ts bot newDataConsumer: %+v %v", d, err)
	}
	chat := `{"peerId":"bob","dataProducerId":"dp","id":"dc","sctpStreamParameters":{"streamId":1},"label":"chat","protocol":"","appData":{}}`
	if d, err := decodeNewDataConsumer(json.RawMessage(chat)); err != nil || d.PeerID != "bob" || d.ID != "dc" {
		t.Errorf("js chat newDataConsumer: %+v %v", d, err)
	}
}

func TestDetectDialect(t *testing.T) {
	caps := `{"codecs":[{"kind":"audio","mimeType":"audio/opus","clockRate":48000,"channels":2,"preferredPayloadType":100}],"headerExtensions":[]}`
	d, raw, err := detectDialect(json.RawMessage(caps))
	if err != nil || d != DialectJS || string(raw) != caps {
		t.Errorf("raw capabilities: %v %v", d, err)
	}
	d, raw, err = detectDialect(json.RawMessage(`{"routerRtpCapabilities":` + caps + `}`))
	if err != nil || d != DialectTS || string(raw) != caps {
		t.Errorf("wrapped capabilities: %v %v", d, err)
	}
	if _, _, err := detectDialect(json.RawMessage(`{"foo":1}`)); err == nil {
		t.Error("capabilities without codecs accepted")
	}
}
