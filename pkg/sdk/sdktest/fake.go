package sdktest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// FakeConn is one client connection to a FakeServer.
type FakeConn struct {
	Conn *websocket.Conn
	ctx  context.Context
}

// FakeRequest is a request the client sent.
type FakeRequest struct {
	ID     uint64          `json:"id"`
	Method string          `json:"method"`
	Data   json.RawMessage `json:"data"`
}

// ReadRequest returns the client's next request or notification; ok is
// false once the connection is gone.
func (c *FakeConn) ReadRequest() (req FakeRequest, ok bool) {
	_, b, err := c.Conn.Read(c.ctx)
	if err != nil {
		return req, false
	}
	_ = json.Unmarshal(b, &req)
	return req, true
}

// Respond answers a request successfully.
func (c *FakeConn) Respond(req FakeRequest, data any) {
	c.write(map[string]any{"response": true, "id": req.ID, "ok": true, "data": data})
}

// RespondError answers a request with an error, as the stock
// protoo-server does (no "ok" key).
func (c *FakeConn) RespondError(req FakeRequest, code int, reason string) {
	c.write(map[string]any{"response": true, "id": req.ID, "errorCode": code, "errorReason": reason})
}

// Notify sends a notification.
func (c *FakeConn) Notify(method string, data any) {
	c.write(map[string]any{"notification": true, "method": method, "data": data})
}

// WriteRaw sends an arbitrary text frame.
func (c *FakeConn) WriteRaw(s string) {
	_ = c.Conn.Write(c.ctx, websocket.MessageText, []byte(s))
}

// Close closes the connection with a status code (4000 = final).
func (c *FakeConn) Close(code websocket.StatusCode, reason string) {
	_ = c.Conn.Close(code, reason)
}

func (c *FakeConn) write(v any) {
	b, _ := json.Marshal(v)
	_ = c.Conn.Write(c.ctx, websocket.MessageText, b)
}

// NewFakeServer serves protoo over WebSocket on loopback and runs script
// for each connection. It returns the ws:// base URL.
func NewFakeServer(tb testing.TB, script func(c *FakeConn)) string {
	tb.Helper()
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"protoo"}})
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer conn.CloseNow()
		script(&FakeConn{Conn: conn, ctx: r.Context()})
	}))
	tb.Cleanup(func() { srv.CloseClientConnections(); srv.Close(); wg.Wait() })
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}
