package protoo

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeServer runs script on each accepted protoo connection.
func fakeServer(t *testing.T, script func(ctx context.Context, c *websocket.Conn)) string {
	t.Helper()
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"protoo"}})
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer c.CloseNow()
		script(r.Context(), c)
	}))
	t.Cleanup(func() { srv.Close(); wg.Wait() })
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/?roomId=r&peerId=p"
}

func readMsg(ctx context.Context, t *testing.T, c *websocket.Conn) *Message {
	_, b, err := c.Read(ctx)
	if err != nil {
		return nil
	}
	m, err := ParseMessage(b)
	if err != nil {
		t.Errorf("client sent malformed frame %s: %v", b, err)
		return nil
	}
	return m
}

func write(ctx context.Context, c *websocket.Conn, s string) {
	_ = c.Write(ctx, websocket.MessageText, []byte(s))
}

func TestRequestsCorrelateOutOfOrder(t *testing.T) {
	url := fakeServer(t, func(ctx context.Context, c *websocket.Conn) {
		a, b := readMsg(ctx, t, c), readMsg(ctx, t, c)
		if a == nil || b == nil {
			return
		}
		// Answer the second first; echo the method back.
		for _, m := range []*Message{b, a} {
			resp, _ := json.Marshal(map[string]any{"response": true, "id": *m.ID, "ok": true, "data": map[string]string{"method": m.Method}})
			_ = c.Write(ctx, websocket.MessageText, resp)
		}
		_, _, _ = c.Read(ctx)
	})
	p, err := Dial(context.Background(), url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var wg sync.WaitGroup
	for _, method := range []string{"first", "second"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out struct{ Method string }
			if err := p.Request(context.Background(), method, nil, &out); err != nil || out.Method != method {
				t.Errorf("%s: got %q, %v", method, out.Method, err)
			}
		}()
		time.Sleep(10 * time.Millisecond) // fix the send order
	}
	wg.Wait()
}

func TestErrorResponseWithoutOK(t *testing.T) {
	url := fakeServer(t, func(ctx context.Context, c *websocket.Conn) {
		m := readMsg(ctx, t, c)
		if m == nil {
			return
		}
		// The stock protoo-server omits "ok" on errors.
		resp, _ := json.Marshal(map[string]any{"response": true, "id": *m.ID, "errorCode": 500, "errorReason": "boom"})
		_ = c.Write(ctx, websocket.MessageText, resp)
		_, _, _ = c.Read(ctx)
	})
	p, err := Dial(context.Background(), url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	err = p.Request(context.Background(), "join", nil, nil)
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != 500 || pe.Reason != "boom" || pe.Method != "join" {
		t.Fatalf("got %v", err)
	}
}

func TestServerRequestsNotificationsAndMalformedFrames(t *testing.T) {
	answered := make(chan *Message, 2)
	url := fakeServer(t, func(ctx context.Context, c *websocket.Conn) {
		write(ctx, c, `{"notification":true,"method":"newPeer","data":{"id":"x"}}`)
		write(ctx, c, `{not json`)
		write(ctx, c, `{"response":true,"id":424242,"ok":true}`) // unknown id
		write(ctx, c, `{"request":true,"method":"noId"}`)
		write(ctx, c, `{"request":true,"id":7,"method":"newConsumer","data":{"id":"c1"}}`)
		write(ctx, c, `{"request":true,"id":8,"method":"newDataConsumer","data":{}}`)
		for i := 0; i < 2; i++ {
			if m := readMsg(ctx, t, c); m != nil {
				answered <- m
			}
		}
		_, _, _ = c.Read(ctx)
	})
	var mu sync.Mutex
	var notes []string
	var protoErrs []error
	p, err := Dial(context.Background(), url, Options{
		OnNotification:  func(n Notification) { mu.Lock(); notes = append(notes, n.Method); mu.Unlock() },
		OnProtocolError: func(err error) { mu.Lock(); protoErrs = append(protoErrs, err); mu.Unlock() },
		OnRequest: func(r *ServerRequest) {
			go func() {
				if r.Method == "newConsumer" {
					_ = r.Accept(context.Background(), nil)
				} else {
					_ = r.Reject(context.Background(), 501, "no")
				}
				if err := r.Accept(context.Background(), nil); err == nil {
					t.Error("a request must be answered once")
				}
			}()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	got := map[uint64]*Message{}
	for i := 0; i < 2; i++ {
		select {
		case m := <-answered:
			got[*m.ID] = m
		case <-time.After(5 * time.Second):
			t.Fatal("server requests not answered")
		}
	}
	if !got[7].Succeeded() || got[8].Succeeded() || got[8].ErrorCode != 501 {
		t.Errorf("answers: %+v %+v", got[7], got[8])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notes) != 1 || notes[0] != "newPeer" {
		t.Errorf("notifications %v", notes)
	}
	if len(protoErrs) != 3 {
		t.Errorf("want 3 protocol errors (bad JSON, unknown id, missing id), got %v", protoErrs)
	}
	for _, e := range protoErrs {
		if !errors.Is(e, ErrMalformed) {
			t.Errorf("%v does not wrap ErrMalformed", e)
		}
	}
}

func TestCloseCode4000IsFinalAndFailsPending(t *testing.T) {
	url := fakeServer(t, func(ctx context.Context, c *websocket.Conn) {
		readMsg(ctx, t, c)
		_ = c.Close(CloseCodeFinal, "closed by protoo-server")
	})
	closed := make(chan error, 1)
	p, err := Dial(context.Background(), url, Options{OnClose: func(err error) { closed <- err }})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	err = p.Request(context.Background(), "join", nil, nil)
	if !errors.Is(err, ErrClosedByServer) {
		t.Fatalf("pending request: %v", err)
	}
	if err := <-closed; !errors.Is(err, ErrClosedByServer) {
		t.Fatalf("OnClose: %v", err)
	}
	if err := p.Request(context.Background(), "again", nil, nil); !errors.Is(err, ErrClosedByServer) {
		t.Fatalf("request after close: %v", err)
	}
}

func TestRequestTimeout(t *testing.T) {
	url := fakeServer(t, func(ctx context.Context, c *websocket.Conn) { _, _, _ = c.Read(ctx); _, _, _ = c.Read(ctx) })
	p, err := Dial(context.Background(), url, Options{RequestTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Request(context.Background(), "slow", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestDialRequiresSubprotocol(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil) // does not select "protoo"
		if err == nil {
			_ = c.CloseNow()
		}
	}))
	defer srv.Close()
	_, err := Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), Options{})
	if err == nil || !strings.Contains(err.Error(), "subprotocol") {
		t.Fatalf("got %v", err)
	}
}

func TestDialHTTPError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "missing roomId", http.StatusBadRequest)
	}))
	defer srv.Close()
	_, err := Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), Options{})
	if err == nil || !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("got %v", err)
	}
}

func TestParseMessage(t *testing.T) {
	for _, bad := range []string{
		`[]`, `{}`, `{"request":true,"response":true,"id":1,"method":"x"}`,
		`{"request":true,"id":"1","method":"x"}`, `{"notification":true}`, `{"response":true}`,
	} {
		if _, err := ParseMessage([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v", bad, err)
		}
	}
	m, err := ParseMessage([]byte(`{"response":true,"id":3,"ok":true,"data":{"a":1}}`))
	if err != nil || !m.Succeeded() || *m.ID != 3 {
		t.Fatalf("%+v %v", m, err)
	}
}
