package ctlsock

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// probeTimeout bounds the dial that tells a live socket from a stale one.
const probeTimeout = time.Second

// writeTimeout bounds writing one response to a client that does not read.
const writeTimeout = 5 * time.Second

// InUseError means a live process already serves the session.
type InUseError struct{ Name, Path string }

func (e *InUseError) Error() string {
	return fmt.Sprintf("session %q is already in use by a running callctl join (%s): pick another --session", e.Name, e.Path)
}

// Listener is a claimed session socket.
type Listener struct {
	Name, Path string
	dir        string
	ln         *net.UnixListener
	fi         os.FileInfo // the socket file we created
	closeOnce  sync.Once
}

// Claim creates the socket of session name in dir. A socket left behind
// by a dead process (connection refused) is removed first; a live one
// makes Claim fail with *InUseError.
func Claim(dir, name string) (*Listener, error) {
	path, err := SocketPath(dir, name)
	if err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer lock.unlock()
	switch fi, err := os.Lstat(path); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	case fi.Mode()&fs.ModeSocket == 0:
		return nil, fmt.Errorf("%s exists and is not a socket: remove it or pick another --session", path)
	default:
		live, err := probe(path)
		if err != nil {
			return nil, fmt.Errorf("control socket %s: %w", path, err)
		}
		if live {
			return nil, &InUseError{Name: name, Path: path}
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove stale control socket: %w", err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ln.SetUnlinkOnClose(false) // Close removes the file only if it is still ours
	if err := os.Chmod(path, 0o600); err != nil {
		_ = ln.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("control socket: %w", err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return &Listener{Name: name, Path: path, dir: dir, ln: ln, fi: fi}, nil
}

// Close stops listening and removes the socket file, unless another
// process has replaced it meanwhile. It is idempotent.
func (l *Listener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		err = l.ln.Close()
		lock, lerr := lockDir(l.dir)
		if lerr == nil {
			defer lock.unlock()
		}
		if fi, serr := os.Lstat(l.Path); serr == nil && os.SameFile(fi, l.fi) {
			if rerr := os.Remove(l.Path); rerr != nil && err == nil {
				err = rerr
			}
		}
	})
	return err
}

// probe reports whether a process accepts connections on the socket at
// path: false when the connection is refused (nobody listens: stale).
func probe(path string) (bool, error) {
	c, err := net.DialTimeout("unix", path, probeTimeout)
	if err == nil {
		_ = c.Close()
		return true, nil
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return false, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, err
}

// removeIfStale removes session name's socket when nobody listens on it.
// It reports whether the socket is gone.
func removeIfStale(dir, name string) (bool, error) {
	path, err := SocketPath(dir, name)
	if err != nil {
		return false, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return false, err
	}
	defer lock.unlock()
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil || fi.Mode()&fs.ModeSocket == 0 {
		return false, err
	}
	live, err := probe(path)
	if err != nil || live {
		return false, err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, nil
}

// Handler answers one request. It runs on the connection's goroutine;
// connections are served concurrently. ctx ends when the server closes.
type Handler func(ctx context.Context, req Request) Reply

// Reply is a handler's answer. Err, when set, is sent as the error
// (an *Error keeps its code; others become "internal"); otherwise Result
// is sent. Then, when set, runs after the response was written.
type Reply struct {
	Result any
	Err    error
	Then   func()
}

// Server serves a claimed socket.
type Server struct {
	l      *Listener
	h      Handler
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex // guards conns and closed
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

// Serve starts answering requests on l with h. Close stops it.
func Serve(l *Listener, h Handler) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{l: l, h: h, ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	return s
}

// Path is the socket path.
func (s *Server) Path() string { return s.l.Path }

// Close stops accepting, closes every connection, waits for every
// goroutine of the server and removes the socket. It is idempotent.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.cancel()
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.err = s.l.Close()
		s.wg.Wait()
	})
	return s.err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.ctx.Err() != nil {
				return
			}
			// Transient (e.g. EMFILE): back off a little.
			select {
			case <-time.After(50 * time.Millisecond):
				continue
			case <-s.ctx.Done():
				return
			}
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		_ = c.Close()
	}()
	r := bufio.NewReaderSize(c, 4096)
	for {
		line, err := readLine(r, MaxLine)
		if errors.Is(err, ErrLineTooLong) {
			s.write(c, Response{V: Version, Error: Errorf(CodeTooLarge, "request longer than %d bytes", MaxLine)})
			return
		}
		if err != nil {
			return
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var req Request
		if err := json.Unmarshal(line, &req); err != nil {
			if !s.write(c, Response{V: Version, Error: Errorf(CodeBadRequest, "request is not a JSON object: %v", err)}) {
				return
			}
			continue
		}
		var rep Reply
		switch {
		case req.V != 0 && req.V != Version:
			rep.Err = Errorf(CodeBadRequest, "protocol version %d is not supported (this callctl speaks %d)", req.V, Version)
		case req.Cmd == "":
			rep.Err = Errorf(CodeBadRequest, `request has no "cmd"`)
		default:
			rep = s.call(req)
		}
		if !s.write(c, response(req.ID, rep)) {
			return
		}
		if rep.Then != nil {
			rep.Then()
		}
	}
}

// call runs the handler, turning a panic into an internal error.
func (s *Server) call(req Request) (rep Reply) {
	defer func() {
		if p := recover(); p != nil {
			rep = Reply{Err: Errorf(CodeInternal, "%s: internal error: %v", req.Cmd, p)}
		}
	}()
	return s.h(s.ctx, req)
}

func response(id uint64, rep Reply) Response {
	resp := Response{V: Version, ID: id}
	if rep.Err != nil {
		var e *Error
		if !errors.As(rep.Err, &e) {
			e = &Error{Code: CodeInternal, Message: rep.Err.Error()}
		}
		resp.Error = e
		return resp
	}
	b, err := json.Marshal(rep.Result)
	if err != nil {
		resp.Error = Errorf(CodeInternal, "encode result: %v", err)
		return resp
	}
	resp.OK, resp.Result = true, b
	return resp
}

func (s *Server) write(c net.Conn, resp Response) bool {
	_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
	return writeLine(c, resp) == nil
}
