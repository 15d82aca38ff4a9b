// Package sdktest helps test code that uses pkg/sdk: it starts callctl's
// reference mediasoup room server (scripts/mediasoup-server) on a free
// loopback port, and offers a scripted fake protoo server for failure
// cases that a real server will not produce on demand.
package sdktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireServerEnv, when set to 1, turns a missing reference server
// (no node, no installed node_modules or worker) into a test failure
// instead of a skip. `make test` and CI set it.
const RequireServerEnv = "CALLCTL_REQUIRE_SERVER"

// MediasoupVersionEnv selects the mediasoup version of every reference
// server a test run starts (ServerOptions.MediasoupVersion wins): empty
// means the server's default (3.27.1); "3.8.4" is the legacy leg.
// `make test` runs the core e2e tests a second time with it set to 3.8.4.
const MediasoupVersionEnv = "CALLCTL_MEDIASOUP_VERSION"

// LegacyMediasoupVersion is the 2021 mediasoup release the reference server
// keeps as its legacy leg.
const LegacyMediasoupVersion = "3.8.4"

// ServerOptions configures StartServer.
type ServerOptions struct {
	// Dialect is "js" (default) or "ts": which mediasoup-demo wire dialect
	// the server speaks.
	Dialect string
	// TLS serves wss:// with a self-signed certificate.
	TLS bool
	// Args are extra server flags.
	Args []string
	// MediasoupVersion selects the mediasoup version ("3.8.4" for the
	// legacy leg); empty means $CALLCTL_MEDIASOUP_VERSION, else the
	// server's default.
	MediasoupVersion string
}

// mediasoupVersion is the version a server started with opts runs ("" =
// the server's default).
func (opts ServerOptions) mediasoupVersion() string {
	if opts.MediasoupVersion != "" {
		return opts.MediasoupVersion
	}
	return os.Getenv(MediasoupVersionEnv)
}

// Legacy reports whether a server started with opts runs the legacy
// mediasoup (3.8.x): no WebRtcServer, no ICE consent timeout.
func (opts ServerOptions) Legacy() bool {
	return opts.mediasoupVersion() == LegacyMediasoupVersion
}

// Server is a running reference server.
type Server struct {
	// URL is the WebSocket URL from the server's ready line.
	URL string
	// MediasoupVersion is the version the server runs.
	MediasoupVersion string
	// RTCMode is "webrtcserver" (every transport of a worker shares one
	// UDP and one TCP port, WebRTCServers) or "ports" (a port per transport).
	RTCMode string
	// WebRTCServers are the ports of each worker's WebRtcServer.
	WebRTCServers []WebRTCServerPorts

	cmd    *exec.Cmd
	mu     sync.Mutex
	killed bool
	stderr bytes.Buffer
	exited chan struct{}
	err    error
}

// WebRTCServerPorts is where one WebRtcServer listens.
type WebRTCServerPorts struct {
	IP  string `json:"ip"`
	UDP int    `json:"udp"`
	TCP int    `json:"tcp"`
}

// ScriptPath finds scripts/mediasoup-server/server.js by walking up from
// the working directory (tests run in their package directory).
func ScriptPath() (string, error) {
	if p := os.Getenv("CALLCTL_SERVER_SCRIPT"); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "scripts", "mediasoup-server", "server.js")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("scripts/mediasoup-server/server.js not found above the working directory")
		}
		dir = parent
	}
}

// ErrUnavailable means the reference server is not installed here.
var ErrUnavailable = errors.New("reference server not installed (run `make server-install`)")

// StartServer starts the reference server on 127.0.0.1 with a free port
// and stops it (SIGTERM) when the test ends. It skips the test when the
// server is not installed, unless CALLCTL_REQUIRE_SERVER=1.
func StartServer(tb testing.TB, opts ServerOptions) *Server {
	tb.Helper()
	s, err := Launch(opts)
	return started(tb, "reference server", s, err)
}

// started skips (server not installed, unless CALLCTL_REQUIRE_SERVER=1)
// or fails the test on err, and otherwise stops s when the test ends.
func started(tb testing.TB, what string, s *Server, err error) *Server {
	tb.Helper()
	if errors.Is(err, ErrUnavailable) && os.Getenv(RequireServerEnv) != "1" {
		tb.Skip(err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Errorf("%s did not exit cleanly on SIGTERM: %v\nstderr:\n%s", what, err, s.Stderr())
		}
	})
	return s
}

// Launch starts the reference server on 127.0.0.1 with a free port; the
// caller stops it with Stop. Errors wrap ErrUnavailable when node, the npm
// packages or the script are missing.
func Launch(opts ServerOptions) (*Server, error) {
	script, err := ScriptPath()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: node not in PATH", ErrUnavailable)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "mediasoup")); err != nil {
		return nil, fmt.Errorf("%w: npm packages missing", ErrUnavailable)
	}
	args := []string{script, "--listen", "127.0.0.1:0", "--workers", "1", "--log-level", "warn"}
	if opts.Dialect != "" {
		args = append(args, "--dialect", opts.Dialect)
	}
	if opts.TLS {
		args = append(args, "--tls")
	}
	if v := opts.mediasoupVersion(); v != "" {
		if err := legacyInstalled(script, v); err != nil {
			return nil, err
		}
		args = append(args, "--mediasoup-version", v)
	}
	args = append(args, opts.Args...)
	return launchNode(node, args)
}

// legacyInstalled checks that the npm package of a non-default mediasoup
// version is installed (scripts/mediasoup-server/legacy/<version>), so that
// a missing one is ErrUnavailable like a missing server.
func legacyInstalled(script, version string) error {
	dir := filepath.Dir(script)
	def, err := os.ReadFile(filepath.Join(dir, "node_modules", "mediasoup", "package.json"))
	if err == nil {
		var pkg struct{ Version string }
		if json.Unmarshal(def, &pkg) == nil && pkg.Version == version {
			return nil
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "legacy", version, "node_modules", "mediasoup", "package.json")); err != nil {
		return fmt.Errorf("%w: mediasoup %s not installed (run `bash scripts/mediasoup-server/install.sh %s`)", ErrUnavailable, version, version)
	}
	return nil
}

// Stderr returns what the server logged so far.
func (s *Server) Stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// Kill crashes the server (SIGKILL): connections drop without the
// protoo close code 4000, as when a server machine dies. A later Stop is a
// no-op.
func (s *Server) Kill() {
	s.mu.Lock()
	s.killed = true
	s.mu.Unlock()
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Stop sends SIGTERM and waits (up to 10 s) for the server to exit.
func (s *Server) Stop() error {
	s.mu.Lock()
	killed := s.killed
	s.mu.Unlock()
	if killed {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return s.err
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return errors.New("killed after 10 s")
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
