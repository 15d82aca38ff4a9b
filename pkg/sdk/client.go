package sdk

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/callctl/callctl/pkg/sdk/internal/queue"
)

// Client is one participant in one call (a Client joins once; create
// another for the next call).
//
// Concurrency: every signaling message, user call and pion callback runs as
// a task on one serialized queue, so transports, producers and consumers
// are never created in racing order. Events are delivered in order on
// Events(); the call state is observable through State().
type Client struct {
	cfg   Config
	store *Store

	evOnce sync.Once
	ev     *emitter

	mu   sync.Mutex // guards the following
	used bool       // a Client joins once
	cur  *call
	done chan struct{} // closed when the current call has fully ended
	err  error         // why the last call ended (nil for a requested leave)
}

// NewClient validates cfg and returns a client.
func NewClient(cfg Config) (*Client, error) {
	urls := cfg.ServerURLs
	if len(urls) == 0 {
		urls = append([]string{cfg.ServerURL}, cfg.Reconnect.FallbackURLs...)
	}
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return nil, fmt.Errorf("server URL %q: want ws://host[:port] or wss://host[:port]", s)
		}
	}
	return &Client{cfg: cfg.withDefaults(), store: newStore(), ev: newLazyEmitter()}, nil
}

// Events returns the ordered event stream. The channel is closed after the
// Left event of the call. Read it until it closes: events are buffered
// without bound while nobody reads.
func (c *Client) Events() <-chan Event {
	c.evOnce.Do(c.ev.start)
	return c.ev.out
}

// State returns the observable call-state store. Its subscriptions end
// when the call has ended.
func (c *Client) State() *Store { return c.store }

// Done is closed when the current call has ended and every goroutine it
// started has returned. Before JoinCall it returns nil.
func (c *Client) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}

// Err reports why the call ended: nil after a requested leave.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// JoinCall connects to the server, joins room as peer user, publishes the
// configured sources and consumes the other participants (Config.Consume
// selects which). It returns once joined (or with the reason the join
// failed); the call then runs until LeaveCall, or until the server or
// network ends it (see Done). A Client joins once.
func (c *Client) JoinCall(ctx context.Context, room, user, displayName string) error {
	if room == "" || user == "" {
		return errors.New("join: room and user must not be empty")
	}
	c.mu.Lock()
	if c.used {
		c.mu.Unlock()
		return ErrAlreadyJoined
	}
	c.used = true
	cl := newCall(c.cfg, c.store, c.ev, room, user, displayName, c.finished)
	c.cur, c.done, c.err = cl, cl.done, nil
	c.mu.Unlock()

	err := cl.q.Run(ctx, cl.join)
	if err != nil {
		_ = cl.q.Add(func(context.Context) {
			cl.emit(errorEvent("join", err, true))
			cl.end(joinFailureReason(err), err)
		})
		<-cl.done
		return err
	}
	return nil
}

// finished is called by a call once everything it started has ended.
func (c *Client) finished(cause error) {
	c.mu.Lock()
	c.cur, c.err = nil, cause
	c.mu.Unlock()
}

// LeaveCall leaves gracefully and waits until the call's goroutines have
// ended. It is a no-op when not in a call.
func (c *Client) LeaveCall(ctx context.Context) error {
	c.mu.Lock()
	cl := c.cur
	c.mu.Unlock()
	if cl == nil {
		return nil
	}
	if err := cl.q.Add(func(context.Context) { cl.end(LeftRequested, nil) }); err != nil && !errors.Is(err, queue.ErrClosed) {
		return err
	}
	select {
	case <-cl.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// EnableAudio publishes (on=true) or mutes (on=false) the audio source.
// Muting pauses the producer on the server and stops sending RTP.
func (c *Client) EnableAudio(ctx context.Context, on bool) error {
	return c.onCall(ctx, func(ctx context.Context, cl *call) error { return cl.setEnabled(ctx, "audio", on) })
}

// EnableVideo publishes or mutes the video source.
func (c *Client) EnableVideo(ctx context.Context, on bool) error {
	return c.onCall(ctx, func(ctx context.Context, cl *call) error { return cl.setEnabled(ctx, "video", on) })
}

// onCall runs f on the current call's queue.
func (c *Client) onCall(ctx context.Context, f func(ctx context.Context, cl *call) error) error {
	c.mu.Lock()
	cl := c.cur
	c.mu.Unlock()
	if cl == nil {
		return ErrNotJoined
	}
	err := cl.q.Run(ctx, func(ctx context.Context) error {
		if cl.ended {
			return ErrNotJoined
		}
		return f(ctx, cl)
	})
	if errors.Is(err, queue.ErrClosed) {
		return ErrNotJoined
	}
	return err
}
