package protoo

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// A hostile or buggy server answering every request three times must not
// wedge the read loop: the extra answers are reported and dropped, and
// Close returns promptly (goleak in TestMain checks nothing is left).
func TestDuplicateAnswersAreDroppedAndCloseReturns(t *testing.T) {
	const requests = 20
	url := fakeServer(t, func(ctx context.Context, c *websocket.Conn) {
		for {
			m := readMsg(ctx, t, c)
			if m == nil {
				return
			}
			resp, _ := json.Marshal(map[string]any{"response": true, "id": *m.ID, "ok": true})
			for i := 0; i < 3; i++ {
				if c.Write(ctx, websocket.MessageText, resp) != nil {
					return
				}
			}
		}
	})
	var protoErrs atomic.Int64
	p, err := Dial(context.Background(), url, Options{
		OnProtocolError: func(err error) {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("protocol error %v does not wrap ErrMalformed", err)
			}
			protoErrs.Add(1)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < requests; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := p.Request(ctx, "ping", nil, nil)
		cancel()
		if err != nil {
			t.Errorf("request %d: %v", i, err)
			break
		}
	}
	// The last request's duplicates may still be in flight: poll.
	want := int64(2 * requests)
	deadline := time.Now().Add(5 * time.Second)
	for protoErrs.Load() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := protoErrs.Load(); got != want {
		t.Errorf("want %d duplicate answers reported, got %d", want, got)
	}
	closed := make(chan struct{})
	go func() { _ = p.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return: the read loop is blocked")
	}
}

// A late answer (after the request timed out) is reported, not delivered.
func TestLateAnswerAfterTimeoutIsReported(t *testing.T) {
	release := make(chan struct{})
	url := fakeServer(t, func(ctx context.Context, c *websocket.Conn) {
		m := readMsg(ctx, t, c)
		if m == nil {
			return
		}
		select {
		case <-release:
		case <-ctx.Done():
			return
		}
		write(ctx, c, `{"response":true,"ok":true,"id":`+jsonNum(*m.ID)+`}`)
		_, _, _ = c.Read(ctx)
	})
	reported := make(chan error, 1)
	p, err := Dial(context.Background(), url, Options{
		RequestTimeout:  50 * time.Millisecond,
		OnProtocolError: func(err error) { reported <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Request(context.Background(), "slow", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	close(release)
	select {
	case err := <-reported:
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("late answer not reported")
	}
}

func jsonNum(n uint64) string { b, _ := json.Marshal(n); return string(b) }
