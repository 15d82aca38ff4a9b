package sdktest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// launchNode starts a node script that prints one JSON ready line
// ({"event":"ready","url":…}) on stdout and logs on stderr, and waits for
// that line.
func launchNode(node string, args []string) (*Server, error) {
	s := &Server{cmd: exec.Command(node, args...), exited: make(chan struct{})}
	// A test binary that panics or is killed skips its cleanups: the
	// server must not outlive it (holding its ports, and any lock file
	// descriptor the test was started with).
	s.cmd.SysProcAttr = dieWithParent()
	s.cmd.Stderr = lockedWriter{&s.mu, &s.stderr}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", filepath.Base(args[0]), err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if !sc.Scan() {
			ready <- errors.New("server exited before its ready line")
			return
		}
		var line struct {
			Event, URL, MediasoupVersion, RTCMode string
			WebRTCServers                         []WebRTCServerPorts `json:"webRtcServers"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Event != "ready" || line.URL == "" {
			ready <- fmt.Errorf("unexpected first line %q", sc.Text())
			return
		}
		s.URL, s.MediasoupVersion = line.URL, line.MediasoupVersion
		s.RTCMode, s.WebRTCServers = line.RTCMode, line.WebRTCServers
		ready <- nil
		for sc.Scan() { // stdout must carry nothing else, but drain it
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			_ = s.Stop()
			return nil, fmt.Errorf("%s: %w\nstderr:\n%s", filepath.Base(args[0]), err, s.Stderr())
		}
	case <-time.After(30 * time.Second):
		_ = s.Stop()
		return nil, fmt.Errorf("%s: no ready line within 30 s\nstderr:\n%s", filepath.Base(args[0]), s.Stderr())
	}
	return s, nil
}

// StartJSONApp starts scripts/jsonapp (a mediasoup application with
// plain-JSON signaling, on the reference server's installation) on
// 127.0.0.1 with a free port, and stops it when the test ends. It skips
// like StartServer when the reference server is not installed.
func StartJSONApp(tb testing.TB) *Server {
	tb.Helper()
	s, err := launchJSONApp()
	return started(tb, "jsonapp", s, err)
}

func launchJSONApp() (*Server, error) {
	ref, err := ScriptPath()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: node not in PATH", ErrUnavailable)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(ref), "node_modules", "mediasoup")); err != nil {
		return nil, fmt.Errorf("%w: npm packages missing", ErrUnavailable)
	}
	script := filepath.Join(filepath.Dir(filepath.Dir(ref)), "jsonapp", "server.js")
	return launchNode(node, []string{script, "--listen", "127.0.0.1:0", "--log-level", "warn"})
}
