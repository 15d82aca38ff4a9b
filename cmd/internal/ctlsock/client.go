package ctlsock

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"slices"
	"syscall"
	"time"
)

// NoSessionError means no process serves the session. Stale is set when
// a socket was left behind by a dead process (it has been removed).
type NoSessionError struct {
	Name  string
	Stale bool
}

func (e *NoSessionError) Error() string {
	if e.Stale {
		return fmt.Sprintf("no running session %q (removed the stale socket its process left behind)", e.Name)
	}
	return fmt.Sprintf("no running session %q", e.Name)
}

// ErrSessionEnded means the session closed the connection before it
// answered.
var ErrSessionEnded = errors.New("the session ended before it answered")

// Client is a connection to one session.
type Client struct {
	Name string
	c    net.Conn
	r    *bufio.Reader
	id   uint64
}

// Dial connects to session name in dir.
func Dial(dir, name string) (*Client, error) {
	path, err := SocketPath(dir, name)
	if err != nil {
		return nil, err
	}
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	switch {
	case err == nil:
		return &Client{Name: name, c: c, r: bufio.NewReaderSize(c, 64<<10)}, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, &NoSessionError{Name: name}
	case errors.Is(err, syscall.ECONNREFUSED):
		gone, rerr := removeIfStale(dir, name)
		if rerr != nil {
			return nil, rerr
		}
		if !gone { // it came alive meanwhile
			return Dial(dir, name)
		}
		return nil, &NoSessionError{Name: name, Stale: true}
	default:
		return nil, fmt.Errorf("session %q: %w", name, err)
	}
}

// Close closes the connection.
func (c *Client) Close() error { return c.c.Close() }

// Call sends cmd with args and decodes the result into result (unless
// nil). A refused request returns its *Error; a connection the session
// closed returns ErrSessionEnded; ctx bounds the whole exchange.
func (c *Client) Call(ctx context.Context, cmd string, args, result any) error {
	stop := c.bind(ctx)
	defer stop()
	c.id++
	req := Request{V: Version, ID: c.id, Cmd: cmd}
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return err
		}
		req.Args = b
	}
	if err := writeLine(c.c, req); err != nil {
		return c.ioErr(ctx, err)
	}
	for {
		line, err := readLine(c.r, MaxResponse)
		if err != nil {
			return c.ioErr(ctx, err)
		}
		var resp Response
		if err := json.Unmarshal(line, &resp); err != nil {
			return fmt.Errorf("session %q sent a malformed response: %w", c.Name, err)
		}
		if resp.ID != req.ID && !(resp.ID == 0 && resp.Error != nil) {
			continue // not ours (never happens with one request at a time)
		}
		if !resp.OK {
			if resp.Error == nil {
				return Errorf(CodeInternal, "session %q refused %s without a reason", c.Name, cmd)
			}
			return resp.Error
		}
		if result != nil {
			if err := json.Unmarshal(resp.Result, result); err != nil {
				return fmt.Errorf("session %q: decode %s result: %w", c.Name, cmd, err)
			}
		}
		return nil
	}
}

// WaitClosed waits until the session closes the connection (it exits).
func (c *Client) WaitClosed(ctx context.Context) error {
	stop := c.bind(ctx)
	defer stop()
	_, err := io.Copy(io.Discard, c.r)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, syscall.ECONNRESET) {
		return err
	}
	return nil
}

// bind makes ctx's end interrupt blocked reads and writes.
func (c *Client) bind(ctx context.Context) (stop func()) {
	_ = c.c.SetDeadline(time.Time{})
	if d, ok := ctx.Deadline(); ok {
		_ = c.c.SetDeadline(d)
	}
	unbind := context.AfterFunc(ctx, func() { _ = c.c.SetDeadline(time.Now()) })
	return func() { unbind() }
}

func (c *Client) ioErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return context.DeadlineExceeded
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return ErrSessionEnded
	}
	return err
}

// List returns the names of the live sessions in dir, sorted. Sockets
// left behind by dead processes are removed and not listed.
func List(dir string) ([]string, error) {
	all, err := names(dir)
	if err != nil {
		return nil, err
	}
	var live []string
	for _, n := range all {
		gone, err := removeIfStale(dir, n)
		if err != nil {
			return nil, err
		}
		if !gone {
			live = append(live, n)
		}
	}
	slices.Sort(live)
	return live, nil
}
