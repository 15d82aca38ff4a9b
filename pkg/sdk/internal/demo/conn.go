// Package demo is the signaling adapter for mediasoup-demo's room protocol
// (protoo over WebSocket), in both its JavaScript and TypeScript dialects.
// It turns the wire's requests, responses and notifications into typed Go
// values and mediasoupclient parameters; every dialect difference is
// confined here.
package demo

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/callctl/callctl/pkg/sdk/internal/protoo"
)

// Options configure Dial. The callbacks run on the connection's read loop
// and must not block: hand work to a queue.
type Options struct {
	// URL is the server's ws:// or wss:// URL without roomId/peerId.
	URL, Room, PeerID string
	// Origin is sent as the HTTP Origin header (default:
	// http(s)://<host of URL>); the TS server checks it.
	Origin         string
	TLS            *tls.Config
	RequestTimeout time.Duration
	// PingInterval > 0 sends WebSocket pings; a pong missing for as long
	// ends the connection (OnClose gets protoo.ErrKeepalive).
	PingInterval time.Duration

	OnRequest       func(*ServerRequest)
	OnNotification  func(Notification)
	OnProtocolError func(error)
	// OnClose is called once when the connection ends: nil after Close,
	// protoo.ErrClosedByServer after close code 4000, else the cause.
	OnClose func(error)
}

// Conn is one signaling connection to a room.
type Conn struct {
	peer    *protoo.Peer
	timeout time.Duration

	mu      sync.Mutex // guards the following
	dialect Dialect
	version string
}

// Dial connects to the room (the WebSocket URL carries roomId and peerId).
func Dial(ctx context.Context, o Options) (*Conn, error) {
	wsURL, err := roomURL(o.URL, o.Room, o.PeerID)
	if err != nil {
		return nil, err
	}
	header := http.Header{}
	header.Set("Origin", originFor(o.Origin, o.URL))
	var hc *http.Client
	if o.TLS != nil {
		hc = &http.Client{Transport: &http.Transport{TLSClientConfig: o.TLS}}
	}
	c := &Conn{timeout: o.RequestTimeout}
	if c.timeout <= 0 {
		c.timeout = 15 * time.Second
	}
	dialCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	peer, err := protoo.Dial(dialCtx, wsURL, protoo.Options{
		HTTPClient: hc, Header: header, RequestTimeout: c.timeout, PingInterval: o.PingInterval,
		OnRequest:       func(r *protoo.ServerRequest) { c.onRequest(o, r) },
		OnNotification:  func(n protoo.Notification) { c.onNotification(o, n) },
		OnProtocolError: o.OnProtocolError,
		OnClose:         o.OnClose,
	})
	if err != nil {
		return nil, err
	}
	c.peer = peer
	return c, nil
}

// Close ends the connection.
func (c *Conn) Close() error { return c.peer.Close() }

// Dialect is known after GetRouterRtpCapabilities.
func (c *Conn) Dialect() Dialect {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dialect
}

// MediasoupVersion is what the server announced ("" if nothing).
func (c *Conn) MediasoupVersion() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

func (c *Conn) onNotification(o Options, n protoo.Notification) {
	if n.Method == "mediasoup-version" || n.Method == "mediasoupVersion" {
		var d struct {
			Version string `json:"version"`
		}
		_ = json.Unmarshal(n.Data, &d)
		c.mu.Lock()
		c.version = d.Version
		c.mu.Unlock()
		return
	}
	typed, err := decodeNotification(n.Method, n.Data)
	if err != nil {
		if o.OnProtocolError != nil {
			o.OnProtocolError(err)
		}
		return
	}
	if o.OnNotification != nil {
		o.OnNotification(typed)
	}
}

// request sends one request, bounded by the request timeout, and decodes
// the response into out.
func (c *Conn) request(ctx context.Context, method string, data, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return asServerError(c.peer.Request(ctx, method, data, out))
}

// control sends a control method (pauseProducer, closeProducer, …): a
// request in the JS dialect, a notification in the TS one.
func (c *Conn) control(ctx context.Context, method string, data any) error {
	if c.Dialect() == DialectTS {
		ctx, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		return c.peer.Notify(ctx, method, data)
	}
	return c.request(ctx, method, data, nil)
}

// ServerError is an error response from the server.
type ServerError struct {
	Method string
	Code   int
	Reason string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("server rejected %s: %d %s", e.Method, e.Code, e.Reason)
}

func asServerError(err error) error {
	var pe *protoo.Error
	if errors.As(err, &pe) {
		return &ServerError{Method: pe.Method, Code: pe.Code, Reason: pe.Reason}
	}
	return err
}

func roomURL(base, room, peer string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("roomId", room)
	q.Set("peerId", peer)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func originFor(origin, serverURL string) string {
	if origin != "" {
		return origin
	}
	u, _ := url.Parse(serverURL)
	scheme := "https"
	if strings.EqualFold(u.Scheme, "ws") {
		scheme = "http"
	}
	return scheme + "://" + u.Host
}
