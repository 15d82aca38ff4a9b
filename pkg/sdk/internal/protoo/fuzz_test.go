package protoo

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// maxFuzzFrame caps fuzz inputs near DefaultReadLimit's order of magnitude
// divided down: larger inputs only slow the fuzzer without new paths.
const maxFuzzFrame = 64 << 10

var protooSeeds = []string{
	`{"request":true,"id":1,"method":"getRouterRtpCapabilities","data":{}}`,
	`{"response":true,"id":11,"ok":true,"data":{"a":[1,2,3]}}`,
	`{"response":true,"id":11,"errorCode":500,"errorReason":"boom"}`,
	`{"response":true,"id":12,"ok":false}`,
	`{"notification":true,"method":"newPeer","data":{"id":"x","displayName":"y"}}`,
	`{"request":true,"id":7,"method":"newConsumer","data":{"id":"c1","kind":"video"}}`,
	`{"request":true,"response":true,"id":1,"method":"x"}`,
	`{"response":true,"id":-1,"ok":true}`,
	`{"response":true,"id":18446744073709551615,"ok":true}`,
	`{"notification":true,"method":"","data":null}`,
	`{not json`, `[]`, `null`, `""`, `{"id":1e400}`,
}

func FuzzParseMessage(f *testing.F) {
	for _, s := range protooSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzFrame {
			return
		}
		m, err := ParseMessage(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		// Invariants a valid message keeps: exactly one kind, ids where
		// the dispatcher dereferences them, methods where it routes on them.
		kinds := 0
		for _, k := range []bool{m.Request, m.Response, m.Notification} {
			if k {
				kinds++
			}
		}
		if kinds != 1 || ((m.Request || m.Response) && m.ID == nil) || (!m.Response && m.Method == "") {
			t.Fatalf("accepted invalid message %+v from %q", m, b)
		}
	})
}

// memConn is an in-memory wsConn: writes are recorded, reads never happen
// (the fuzz target calls handleFrame directly).
type memConn struct {
	mu     sync.Mutex
	writes int
}

func (c *memConn) Read(ctx context.Context) (websocket.MessageType, []byte, error) {
	<-ctx.Done()
	return 0, nil, ctx.Err()
}

func (c *memConn) Write(context.Context, websocket.MessageType, []byte) error {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return nil
}
func (c *memConn) Close(websocket.StatusCode, string) error { return nil }
func (c *memConn) CloseNow() error                          { return nil }
func (c *memConn) Ping(context.Context) error               { return nil }

// FuzzHandleFrame feeds one frame (text or binary) to the read loop's
// parse and dispatch step, with a few requests pending whose ids the
// corpus uses. The step must never panic or block, whatever the frame,
// and everything it does not deliver must be reported.
func FuzzHandleFrame(f *testing.F) {
	for _, s := range protooSeeds {
		f.Add(true, []byte(s))
	}
	f.Add(false, []byte(`{"response":true,"id":11,"ok":true}`))
	f.Fuzz(func(t *testing.T, text bool, b []byte) {
		if len(b) > maxFuzzFrame {
			return
		}
		conn := &memConn{}
		var reported, requests, notes int
		p := newPeer(conn, Options{
			OnProtocolError: func(error) { reported++ },
			OnRequest:       func(r *ServerRequest) { requests++; _ = r.Accept(context.Background(), nil) },
			OnNotification:  func(Notification) { notes++ },
		})
		chans := map[uint64]chan *Message{}
		for _, id := range []uint64{1, 7, 11, 12} {
			chans[id] = make(chan *Message, 1)
			p.pending[id] = chans[id]
		}
		typ := websocket.MessageBinary
		if text {
			typ = websocket.MessageText
		}
		// Twice: the second copy of a response must be reported, not block.
		p.handleFrame(typ, b)
		p.handleFrame(typ, b)
		delivered := 0
		for _, ch := range chans {
			delivered += len(ch)
		}
		if handled := reported + requests + notes + delivered; handled != 2 {
			t.Fatalf("2 frames, %d handled (reported %d, requests %d, notifications %d, delivered %d)",
				handled, reported, requests, notes, delivered)
		}
		if delivered > 1 {
			t.Fatalf("one response id delivered %d times", delivered)
		}
	})
}
