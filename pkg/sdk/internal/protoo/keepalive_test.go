package protoo

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// A server that stops reading (hung process, dead path that still holds
// the TCP connection) never answers pings: the keepalive must end the
// connection with ErrKeepalive, seen through OnClose, Err and a pending
// request, within a few ping periods.
func TestKeepaliveDetectsDeadServer(t *testing.T) {
	hang, serving := make(chan struct{}), make(chan struct{})
	url := fakeServer(t, func(ctx context.Context, c *websocket.Conn) {
		close(serving)
		<-hang // never reads, so never pongs
	})
	t.Cleanup(func() { close(hang) }) // runs before fakeServer's cleanup
	closed := make(chan error, 1)
	start := time.Now()
	p, err := Dial(context.Background(), url, Options{
		PingInterval: 50 * time.Millisecond,
		PingTimeout:  100 * time.Millisecond,
		OnClose:      func(err error) { closed <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	<-serving // the server counts its connection before the test may end
	reqErr := p.Request(context.Background(), "join", nil, nil)
	select {
	case err := <-closed:
		if !errors.Is(err, ErrKeepalive) {
			t.Fatalf("OnClose: %v, want ErrKeepalive", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("dead server not detected")
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("detection took %v", el)
	}
	if !errors.Is(reqErr, ErrKeepalive) {
		t.Errorf("pending request: %v", reqErr)
	}
	if !errors.Is(p.Err(), ErrKeepalive) {
		t.Errorf("Err: %v", p.Err())
	}
}

// A live server answers pings; the keepalive must leave the connection
// alone and requests keep working.
func TestKeepaliveKeepsLiveConnection(t *testing.T) {
	var pings atomic.Int64
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			Subprotocols:   []string{"protoo"},
			OnPingReceived: func(context.Context, []byte) bool { pings.Add(1); return true },
		})
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer c.CloseNow()
		for {
			m := readMsg(r.Context(), t, c)
			if m == nil {
				return
			}
			write(r.Context(), c, `{"response":true,"ok":true,"id":`+jsonNum(*m.ID)+`}`)
		}
	}))
	t.Cleanup(func() { srv.Close(); wg.Wait() })
	closed := make(chan error, 1)
	p, err := Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), Options{
		PingInterval: 20 * time.Millisecond,
		OnClose:      func(err error) { closed <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for pings.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := pings.Load(); n < 5 {
		t.Fatalf("server saw %d pings", n)
	}
	if err := p.Request(context.Background(), "still-there", nil, nil); err != nil {
		t.Fatalf("request after pings: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Errorf("OnClose after local Close: %v", err)
	}
}
