package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/coder/websocket"
)

// signaling speaks scripts/jsonapp's protocol: {"op","tx","body"} out,
// {"tx","result"|"error"} replies and {"event","body"} pushes in. It knows
// nothing of mediasoup: the participant turns its results into
// mediasoupclient parameters.
type signaling struct {
	conn   *websocket.Conn
	pushes chan push

	mu      sync.Mutex
	next    int
	pending map[string]chan reply
	err     error // set when the read loop ended
	done    chan struct{}
}

type push struct {
	Event string          `json:"event"`
	Body  json.RawMessage `json:"body"`
}

type reply struct {
	TX     *string         `json:"tx"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Event string          `json:"event"`
	Body  json.RawMessage `json:"body"`
}

func dialSignaling(ctx context.Context, url string) (*signaling, error) {
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	s := &signaling{conn: conn, pushes: make(chan push, 64), pending: map[string]chan reply{}, done: make(chan struct{})}
	go s.readLoop()
	return s, nil
}

func (s *signaling) readLoop() {
	defer close(s.done)
	defer close(s.pushes)
	for {
		_, data, err := s.conn.Read(context.Background())
		if err != nil {
			s.fail(err)
			return
		}
		var r reply
		if err := json.Unmarshal(data, &r); err != nil {
			continue // the server never sends this; nothing to answer
		}
		if r.Event != "" {
			s.pushes <- push{Event: r.Event, Body: r.Body}
			continue
		}
		if r.TX == nil {
			continue
		}
		s.mu.Lock()
		ch := s.pending[*r.TX]
		delete(s.pending, *r.TX)
		s.mu.Unlock()
		if ch != nil {
			ch <- r // buffered: never blocks
		}
	}
}

func (s *signaling) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
	for tx, ch := range s.pending {
		close(ch)
		delete(s.pending, tx)
	}
}

// call sends one op and decodes its result into out.
func (s *signaling) call(ctx context.Context, op string, body, out any) error {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return s.err
	}
	s.next++
	tx := strconv.Itoa(s.next)
	ch := make(chan reply, 1)
	s.pending[tx] = ch
	s.mu.Unlock()
	msg, err := json.Marshal(map[string]any{"op": op, "tx": tx, "body": body})
	if err != nil {
		return err
	}
	if err := s.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		return err
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return errors.New("signaling closed")
		}
		if r.Error != nil {
			return fmt.Errorf("%s: %s: %s", op, r.Error.Code, r.Error.Message)
		}
		if out == nil {
			return nil
		}
		return json.Unmarshal(r.Result, out)
	case <-ctx.Done():
		s.mu.Lock()
		delete(s.pending, tx)
		s.mu.Unlock()
		return ctx.Err()
	}
}

func (s *signaling) close() {
	_ = s.conn.Close(websocket.StatusNormalClosure, "bye")
	<-s.done
}
