package ctlsock

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// shortDir is a fresh 0700 directory with a short path (sun_path is small).
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "cs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	return d
}

func TestReadLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want []string
		err  error
	}{
		{in: "a\nbb\r\n\n", max: 10, want: []string{"a", "bb", ""}, err: io.EOF},
		{in: "abc", max: 10, err: io.ErrUnexpectedEOF},
		{in: "0123456789\n", max: 10, want: []string{"0123456789"}, err: io.EOF},
		{in: "0123456789x\n", max: 10, err: ErrLineTooLong},
		{in: strings.Repeat("y", 10000) + "\n", max: 20000, want: []string{strings.Repeat("y", 10000)}, err: io.EOF},
		{in: strings.Repeat("y", 10000) + "\n", max: 9999, err: ErrLineTooLong},
	} {
		r := bufio.NewReaderSize(strings.NewReader(tc.in), 16)
		var got []string
		var err error
		for {
			var l []byte
			l, err = readLine(r, tc.max)
			if err != nil {
				break
			}
			got = append(got, string(l))
		}
		if !errors.Is(err, tc.err) || strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("readLine(%.20q, %d) = %q, %v; want %q, %v", tc.in, tc.max, got, err, tc.want, tc.err)
		}
	}
}

func TestNames(t *testing.T) {
	for _, ok := range []string{"a", "demo-bot1", "r_u.2", strings.Repeat("x", 64)} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".hidden", "a/b", "..", "a b", "ü", strings.Repeat("x", 65)} {
		if ValidateName(bad) == nil {
			t.Errorf("ValidateName(%q) accepted", bad)
		}
	}
	for in, want := range map[string]string{
		"demo-bot1":              "demo-bot1",
		"room/1-user 2":          "room_1-user_2",
		".x-y":                   "_x-y",
		"":                       "session",
		"ümlaut-u":               "_mlaut-u",
		strings.Repeat("r", 100): strings.Repeat("r", 64),
	} {
		got := SanitizeName(in)
		if got != want || ValidateName(got) != nil {
			t.Errorf("SanitizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSocketPathTooLong(t *testing.T) {
	dir := "/" + strings.Repeat("d", 70)
	if _, err := SocketPath(dir, strings.Repeat("n", 40)); err == nil || !strings.Contains(err.Error(), "shorter") {
		t.Errorf("want a clear error for a long path, got %v", err)
	}
	if p, err := SocketPath("/run/user/1000/callctl", "demo-bot1"); err != nil || p != "/run/user/1000/callctl/demo-bot1.sock" {
		t.Errorf("SocketPath = %q, %v", p, err)
	}
}

func TestDirCreatesAndChecks(t *testing.T) {
	base := shortDir(t)
	d := filepath.Join(base, "rt")
	t.Setenv(EnvDir, d)
	got, err := Dir()
	if err != nil || got != d {
		t.Fatalf("Dir() = %q, %v", got, err)
	}
	fi, _ := os.Stat(d)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("created with mode %o", fi.Mode().Perm())
	}
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Dir(); err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Errorf("open directory accepted: %v", err)
	}
	link := filepath.Join(base, "link")
	_ = os.Chmod(d, 0o700)
	if err := os.Symlink(d, link); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvDir, link)
	if _, err := Dir(); err == nil {
		t.Error("symlinked directory accepted")
	}

	t.Setenv(EnvDir, "")
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/42")
	if got := DefaultDir(); got != "/run/user/42/callctl" {
		t.Errorf("DefaultDir with XDG_RUNTIME_DIR = %q", got)
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	if got := DefaultDir(); !strings.HasPrefix(filepath.Base(got), "callctl-") {
		t.Errorf("DefaultDir without XDG_RUNTIME_DIR = %q", got)
	}
}

// staleSocket leaves a socket file nobody listens on, as a killed process does.
func staleSocket(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name+".sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	_ = ln.Close()
	if _, err := os.Lstat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func echo(ctx context.Context, req Request) Reply {
	switch req.Cmd {
	case "echo":
		return Reply{Result: req.Args}
	case "refuse":
		return Reply{Err: Errorf("nope", "refused")}
	case "plain":
		return Reply{Err: errors.New("plain failure")}
	case "panic":
		panic("boom")
	case "block":
		<-ctx.Done()
		return Reply{Err: ctx.Err()}
	}
	return Reply{Err: Errorf(CodeUnknownCommand, "unknown %q", req.Cmd)}
}

func TestClaimServeDial(t *testing.T) {
	dir := shortDir(t)
	ln, err := Claim(dir, "s1")
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(ln.Path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %o, want 600", fi.Mode().Perm())
	}
	srv := Serve(ln, echo)

	// A second claim of a live session fails.
	if _, err := Claim(dir, "s1"); !errors.As(err, new(*InUseError)) {
		t.Errorf("second Claim: %v, want InUseError", err)
	}

	live, err := List(dir)
	if err != nil || len(live) != 1 || live[0] != "s1" {
		t.Errorf("List = %v, %v", live, err)
	}

	ctx := context.Background()
	// Concurrent clients.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Dial(dir, "s1")
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			for j := range 20 {
				var got map[string]int
				if err := c.Call(ctx, "echo", map[string]int{"i": i, "j": j}, &got); err != nil || got["i"] != i || got["j"] != j {
					t.Errorf("echo %d/%d: %v %v", i, j, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()

	c, err := Dial(dir, "s1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var pe *Error
	if err := c.Call(ctx, "refuse", nil, nil); !errors.As(err, &pe) || pe.Code != "nope" {
		t.Errorf("refuse: %v", err)
	}
	if err := c.Call(ctx, "plain", nil, nil); !errors.As(err, &pe) || pe.Code != CodeInternal || pe.Message != "plain failure" {
		t.Errorf("plain: %v", err)
	}
	if err := c.Call(ctx, "panic", nil, nil); !errors.As(err, &pe) || pe.Code != CodeInternal {
		t.Errorf("panic: %v", err)
	}
	if err := c.Call(ctx, "what", nil, nil); !errors.As(err, &pe) || pe.Code != CodeUnknownCommand {
		t.Errorf("unknown: %v", err)
	}
	// The connection survives refused requests.
	var s string
	if err := c.Call(ctx, "echo", "still here", &s); err != nil || s != "still here" {
		t.Errorf("echo after errors: %q %v", s, err)
	}

	// A request blocked in the handler ends when the server closes; the
	// client sees the session end.
	blocked := make(chan error, 1)
	c2, err := Dial(dir, "s1")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	go func() { blocked <- c2.Call(ctx, "block", nil, nil) }()
	time.Sleep(50 * time.Millisecond)

	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-blocked; err == nil {
		t.Error("blocked call succeeded after Close")
	}
	if _, err := os.Lstat(ln.Path); !os.IsNotExist(err) {
		t.Errorf("socket not removed on Close: %v", err)
	}
	if err := c.Call(ctx, "echo", 1, nil); !errors.Is(err, ErrSessionEnded) {
		t.Errorf("call after Close: %v, want ErrSessionEnded", err)
	}
	if _, err := Dial(dir, "s1"); !errors.As(err, new(*NoSessionError)) {
		t.Errorf("Dial after Close: %v", err)
	}
	_ = srv.Close() // idempotent
}

func TestRawProtocol(t *testing.T) {
	dir := shortDir(t)
	ln, err := Claim(dir, "raw")
	if err != nil {
		t.Fatal(err)
	}
	srv := Serve(ln, echo)
	defer srv.Close()
	conn, err := net.Dial("unix", ln.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	roundTrip := func(line string) Response {
		t.Helper()
		if _, err := io.WriteString(conn, line+"\n"); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		l, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		var resp Response
		if err := json.Unmarshal(l, &resp); err != nil {
			t.Fatalf("%s: response %q: %v", line, l, err)
		}
		return resp
	}
	if resp := roundTrip(`{"v":1,"id":7,"cmd":"echo","args":{"kind":"audio"}}`); !resp.OK || resp.ID != 7 || resp.V != 1 || string(resp.Result) != `{"kind":"audio"}` {
		t.Errorf("echo: %+v", resp)
	}
	if resp := roundTrip(`{"id":8,"cmd":"echo","args":1}`); !resp.OK || resp.ID != 8 {
		t.Errorf("request without v (socat users): %+v", resp)
	}
	if resp := roundTrip(`not json`); resp.OK || resp.Error == nil || resp.Error.Code != CodeBadRequest {
		t.Errorf("not json: %+v", resp)
	}
	if resp := roundTrip(`{"v":2,"id":9,"cmd":"echo"}`); resp.OK || resp.ID != 9 || resp.Error.Code != CodeBadRequest {
		t.Errorf("v2: %+v", resp)
	}
	if resp := roundTrip(`{"v":1,"id":10}`); resp.OK || resp.Error.Code != CodeBadRequest {
		t.Errorf("no cmd: %+v", resp)
	}
	// An oversized line gets too_large, then the connection closes.
	if resp := roundTrip(`{"v":1,"id":11,"cmd":"echo","args":"` + strings.Repeat("x", MaxLine) + `"}`); resp.Error == nil || resp.Error.Code != CodeTooLarge {
		t.Errorf("too large: %+v", resp)
	}
	if _, err := r.ReadBytes('\n'); !errors.Is(err, io.EOF) {
		t.Errorf("connection still open after too_large: %v", err)
	}
}

func TestStaleSocketCleanup(t *testing.T) {
	dir := shortDir(t)
	p := staleSocket(t, dir, "dead")
	staleSocket(t, dir, "dead2")

	// Dial removes a stale socket and reports no session.
	var ns *NoSessionError
	if _, err := Dial(dir, "dead"); !errors.As(err, &ns) || !ns.Stale {
		t.Errorf("Dial stale: %v", err)
	}
	if _, err := os.Lstat(p); !os.IsNotExist(err) {
		t.Error("stale socket not removed by Dial")
	}
	// List removes stale sockets and lists live ones.
	ln, err := Claim(dir, "alive")
	if err != nil {
		t.Fatal(err)
	}
	srv := Serve(ln, echo)
	defer srv.Close()
	if err := os.WriteFile(filepath.Join(dir, "notasocket.sock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	live, err := List(dir)
	if err != nil || strings.Join(live, ",") != "alive" {
		t.Errorf("List = %v, %v", live, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "dead2.sock")); !os.IsNotExist(err) {
		t.Error("stale socket not removed by List")
	}
	// Claim takes over a stale socket.
	staleSocket(t, dir, "reuse")
	ln2, err := Claim(dir, "reuse")
	if err != nil {
		t.Fatalf("Claim over a stale socket: %v", err)
	}
	_ = ln2.Close()
	// Claim refuses to replace a file that is not a socket.
	if _, err := Claim(dir, "notasocket"); err == nil {
		t.Error("Claim replaced a regular file")
	}
	// Nothing to list in a directory that does not exist.
	if live, err := List(filepath.Join(dir, "nope")); err != nil || len(live) != 0 {
		t.Errorf("List(missing dir) = %v, %v", live, err)
	}
}

func TestCloseKeepsReplacedSocket(t *testing.T) {
	dir := shortDir(t)
	ln, err := Claim(dir, "s")
	if err != nil {
		t.Fatal(err)
	}
	// Someone removes our socket and another process claims the name.
	_ = os.Remove(ln.Path)
	ln2, err := Claim(dir, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	_ = ln.Close()
	if _, err := os.Lstat(ln2.Path); err != nil {
		t.Errorf("closing the old listener removed the new socket: %v", err)
	}
}

func TestCallTimeout(t *testing.T) {
	dir := shortDir(t)
	ln, err := Claim(dir, "slow")
	if err != nil {
		t.Fatal(err)
	}
	srv := Serve(ln, echo)
	defer srv.Close()
	c, err := Dial(dir, "slow")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Call(ctx, "block", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("blocked call: %v, want DeadlineExceeded", err)
	}
}
