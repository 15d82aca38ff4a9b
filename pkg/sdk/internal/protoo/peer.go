package protoo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Subprotocol is the WebSocket subprotocol protoo servers require.
const Subprotocol = "protoo"

// CloseCodeFinal is the close code protoo-server uses when it ends a session
// on purpose; protoo clients must not reconnect after it.
const CloseCodeFinal websocket.StatusCode = 4000

// DefaultRequestTimeout mirrors protoo-client's base timeout (1.5 s × 15).
const DefaultRequestTimeout = 22500 * time.Millisecond

// DefaultReadLimit bounds one incoming message. mediasoup-demo fragments
// outgoing messages and accepts up to 960000 bytes; router capabilities and
// stats stay far below 4 MiB.
const DefaultReadLimit = 4 << 20

var (
	// ErrClosed is returned by calls on a peer whose connection is gone.
	ErrClosed = errors.New("protoo: connection closed")
	// ErrClosedByServer means the server closed with code 4000: final.
	ErrClosedByServer = errors.New("protoo: session closed by server")
	// ErrKeepalive means the server did not answer a ping in time.
	ErrKeepalive = errors.New("protoo: keepalive: no pong from server")
)

// Notification is a server notification.
type Notification struct {
	Method string
	Data   json.RawMessage
}

// Options configures Dial. Callbacks run on the connection's read loop and
// must not block: hand work to a queue.
type Options struct {
	HTTPClient     *http.Client
	Header         http.Header
	RequestTimeout time.Duration
	ReadLimit      int64
	// OnRequest receives server-initiated requests; each must be answered
	// with Accept or Reject (possibly later, from another goroutine).
	OnRequest func(*ServerRequest)
	// OnNotification receives server notifications.
	OnNotification func(Notification)
	// OnProtocolError receives frames that could not be understood. The
	// connection stays open: one bad frame is not fatal.
	OnProtocolError func(error)
	// OnClose is called once when the connection ends, with nil after a
	// local Close, ErrClosedByServer after code 4000, ErrKeepalive when
	// the server stopped answering pings, or the read error.
	OnClose func(error)
	// PingInterval, when positive, sends a WebSocket ping every interval:
	// a server (or path) that died without closing the TCP connection is
	// then noticed in seconds instead of at the next request's timeout.
	// Zero disables keepalive.
	PingInterval time.Duration
	// PingTimeout bounds the wait for each pong; when it passes, the
	// connection is closed and OnClose receives ErrKeepalive. Defaults to
	// PingInterval.
	PingTimeout time.Duration
}

// wsConn is the part of *websocket.Conn the peer uses; tests and the fuzz
// target substitute an in-memory connection.
type wsConn interface {
	Read(ctx context.Context) (websocket.MessageType, []byte, error)
	Write(ctx context.Context, typ websocket.MessageType, p []byte) error
	Close(code websocket.StatusCode, reason string) error
	CloseNow() error
	Ping(ctx context.Context) error
}

// Peer is one protoo client connection.
type Peer struct {
	conn    wsConn
	opts    Options
	nextID  atomic.Uint64
	done    chan struct{}
	closing atomic.Bool

	mu      sync.Mutex // guards the following
	pending map[uint64]chan *Message
	err     error
	pingErr error // set by the keepalive before it tears the connection down
}

// Dial connects to a protoo server. The URL carries roomId and peerId.
func Dial(ctx context.Context, url string, opts Options) (*Peer, error) {
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.ReadLimit <= 0 {
		opts.ReadLimit = DefaultReadLimit
	}
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		HTTPClient:   opts.HTTPClient,
		HTTPHeader:   opts.Header,
		Subprotocols: []string{Subprotocol},
	})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("websocket handshake: HTTP %d: %w", resp.StatusCode, err)
		}
		return nil, fmt.Errorf("websocket dial: %w", err)
	}
	if conn.Subprotocol() != Subprotocol {
		_ = conn.Close(websocket.StatusProtocolError, "subprotocol")
		return nil, fmt.Errorf("websocket dial: server did not accept subprotocol %q", Subprotocol)
	}
	conn.SetReadLimit(opts.ReadLimit)
	p := newPeer(conn, opts)
	p.start()
	return p, nil
}

func newPeer(conn wsConn, opts Options) *Peer {
	if opts.PingInterval > 0 && opts.PingTimeout <= 0 {
		opts.PingTimeout = opts.PingInterval
	}
	p := &Peer{conn: conn, opts: opts, done: make(chan struct{}), pending: map[uint64]chan *Message{}}
	p.nextID.Store(uint64(time.Now().UnixNano()%1e6) * 10) // any numbers do; avoid 0
	return p
}

// start runs the read loop and, if configured, the keepalive. The read
// loop owns the keepalive's lifetime: it stops and waits for it before
// closing done, so Close never returns with a pinger still running.
func (p *Peer) start() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if p.opts.PingInterval > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.keepalive(ctx)
		}()
	}
	go p.readLoop(func() { cancel(); wg.Wait() })
}

// Done is closed when the connection has ended and the read loop returned.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Err reports why the connection ended (nil while open or after Close).
func (p *Peer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Request sends a request and waits for its response, decoding the
// response data into out (which may be nil). A server error response is
// returned as *Error.
func (p *Peer) Request(ctx context.Context, method string, data any, out any) error {
	id := p.nextID.Add(1)
	frame, err := newRequest(id, method, data)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	ch := make(chan *Message, 1)
	p.mu.Lock()
	if p.isDone() {
		err := p.err
		p.mu.Unlock()
		if err == nil {
			err = ErrClosed
		}
		return fmt.Errorf("%s: %w", method, err)
	}
	p.pending[id] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.pending, id)
		p.mu.Unlock()
	}()

	ctx, cancel := context.WithTimeout(ctx, p.opts.RequestTimeout)
	defer cancel()
	if err := p.conn.Write(ctx, websocket.MessageText, frame); err != nil {
		return fmt.Errorf("%s: send: %w", method, p.closedErr(err))
	}
	select {
	case m := <-ch:
		if !m.Succeeded() {
			return &Error{Method: method, Code: m.ErrorCode, Reason: m.ErrorReason}
		}
		if out != nil && len(m.Data) > 0 {
			if err := json.Unmarshal(m.Data, out); err != nil {
				return fmt.Errorf("%s: decode response: %w", method, err)
			}
		}
		return nil
	case <-p.done:
		return fmt.Errorf("%s: %w", method, p.closedErr(nil))
	case <-ctx.Done():
		return fmt.Errorf("%s: no response: %w", method, ctx.Err())
	}
}

// Notify sends a notification.
func (p *Peer) Notify(ctx context.Context, method string, data any) error {
	frame, err := newNotification(method, data)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if err := p.conn.Write(ctx, websocket.MessageText, frame); err != nil {
		return fmt.Errorf("%s: send: %w", method, p.closedErr(err))
	}
	return nil
}

// Close ends the connection with a normal closure and waits for the read
// loop to finish. It is safe to call more than once.
func (p *Peer) Close() error {
	if p.closing.CompareAndSwap(false, true) {
		// CloseNow after a bounded handshake: Close waits up to 5 s for the
		// server's close frame; that is too long for a leave.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		go func() {
			<-ctx.Done()
			_ = p.conn.CloseNow()
		}()
		_ = p.conn.Close(websocket.StatusNormalClosure, "bye")
		cancel()
	}
	<-p.done
	return nil
}

func (p *Peer) isDone() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *Peer) closedErr(cause error) error {
	if err := p.Err(); err != nil {
		return err
	}
	if cause != nil {
		return fmt.Errorf("%w: %v", ErrClosed, cause)
	}
	return ErrClosed
}

func (p *Peer) readLoop(stopKeepalive func()) {
	var final error
	defer func() {
		stopKeepalive()
		p.mu.Lock()
		if p.pingErr != nil {
			final = p.pingErr
		}
		if !p.closing.Load() {
			p.err = final
		}
		p.mu.Unlock()
		close(p.done)
		if p.opts.OnClose != nil {
			if p.closing.Load() {
				final = nil
			}
			p.opts.OnClose(final)
		}
	}()
	ctx := context.Background()
	for {
		typ, b, err := p.conn.Read(ctx)
		if err != nil {
			final = classifyReadError(err)
			return
		}
		p.handleFrame(typ, b)
	}
}

// handleFrame parses and dispatches one received frame. It never blocks on
// a caller: every channel send is non-blocking and callbacks must not block.
func (p *Peer) handleFrame(typ websocket.MessageType, b []byte) {
	if typ != websocket.MessageText {
		p.protocolError(fmt.Errorf("%w: binary frame ignored", ErrMalformed))
		return
	}
	m, err := ParseMessage(b)
	if err != nil {
		p.protocolError(err)
		return
	}
	p.dispatch(m)
}

func classifyReadError(err error) error {
	switch websocket.CloseStatus(err) {
	case CloseCodeFinal:
		return ErrClosedByServer
	case websocket.StatusNormalClosure, websocket.StatusGoingAway:
		return fmt.Errorf("%w: server closed the connection", ErrClosed)
	case -1:
		return fmt.Errorf("%w: %v", ErrClosed, err)
	default:
		return fmt.Errorf("%w: close status %d", ErrClosed, websocket.CloseStatus(err))
	}
}

func (p *Peer) dispatch(m *Message) {
	switch {
	case m.Response:
		p.deliver(m)
	case m.Request:
		req := &ServerRequest{Method: m.Method, Data: m.Data, id: *m.ID, peer: p}
		if p.opts.OnRequest == nil {
			_ = req.Reject(context.Background(), 500, "not handled")
			return
		}
		p.opts.OnRequest(req)
	case m.Notification:
		if p.opts.OnNotification != nil {
			p.opts.OnNotification(Notification{Method: m.Method, Data: m.Data})
		}
	}
}

// deliver hands a response to the request waiting for it. The pending entry
// is removed under the lock in the same step, so a second answer to the
// same id (a duplicate, or one arriving after the request gave up) finds no
// entry and is reported instead of blocking the read loop on a channel
// nobody reads any more.
func (p *Peer) deliver(m *Message) {
	p.mu.Lock()
	ch, ok := p.pending[*m.ID]
	delete(p.pending, *m.ID)
	p.mu.Unlock()
	if !ok {
		p.protocolError(fmt.Errorf("%w: response to unknown or already answered request id %d", ErrMalformed, *m.ID))
		return
	}
	select {
	case ch <- m: // buffered with one slot and this is the only send: never blocks
	default:
		p.protocolError(fmt.Errorf("%w: duplicate response to request id %d", ErrMalformed, *m.ID))
	}
}

// keepalive pings every PingInterval. A ping that gets no pong within
// PingTimeout records ErrKeepalive and closes the connection at once, which
// ends the read loop with that error (reported through OnClose and Err).
// coder/websocket needs the concurrent Read of the read loop to see pongs.
func (p *Peer) keepalive(ctx context.Context) {
	t := time.NewTicker(p.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, p.opts.PingTimeout)
		err := p.conn.Ping(pctx)
		timedOut := errors.Is(pctx.Err(), context.DeadlineExceeded)
		cancel()
		if err == nil {
			continue
		}
		if !timedOut || ctx.Err() != nil {
			// The connection broke some other way (or we are closing):
			// the read loop sees that too and reports the real cause.
			return
		}
		p.mu.Lock()
		p.pingErr = fmt.Errorf("%w within %v", ErrKeepalive, p.opts.PingTimeout)
		p.mu.Unlock()
		_ = p.conn.CloseNow()
		return
	}
}

func (p *Peer) protocolError(err error) {
	if p.opts.OnProtocolError != nil {
		p.opts.OnProtocolError(err)
	}
}

// ServerRequest is a request from the server that the client must answer.
type ServerRequest struct {
	Method string
	Data   json.RawMessage

	id       uint64
	peer     *Peer
	answered atomic.Bool
}

// Accept answers the request successfully.
func (r *ServerRequest) Accept(ctx context.Context, data any) error {
	if !r.answered.CompareAndSwap(false, true) {
		return fmt.Errorf("%s: already answered", r.Method)
	}
	frame, err := newSuccess(r.id, data)
	if err != nil {
		return err
	}
	return r.peer.conn.Write(ctx, websocket.MessageText, frame)
}

// Reject answers the request with an error.
func (r *ServerRequest) Reject(ctx context.Context, code int, reason string) error {
	if !r.answered.CompareAndSwap(false, true) {
		return fmt.Errorf("%s: already answered", r.Method)
	}
	frame, err := newFailure(r.id, code, reason)
	if err != nil {
		return err
	}
	return r.peer.conn.Write(ctx, websocket.MessageText, frame)
}
