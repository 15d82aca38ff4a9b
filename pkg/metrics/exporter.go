package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/callctl/callctl/pkg/fleet"
	"github.com/callctl/callctl/pkg/sdk"
)

// DefaultPort is the port the documentation and the deployment use for
// /metrics (--metrics-addr :9464).
const DefaultPort = 9464

// Options configure an Exporter.
type Options struct {
	// Snapshots returns the fleet's participants (fleet.Fleet.Snapshots);
	// nil or returning nil: no participant metrics yet.
	Snapshots func() []fleet.Snapshot
	// Shard is the fleet's shard (nil: not sharded, exported as shard 0
	// of 1).
	Shard *fleet.Shard
	// Version is callctl_build_info's version (default sdk.Version).
	Version string
}

// Exporter is one fleet's Prometheus registry: the Go and process
// collectors plus callctl's.
type Exporter struct {
	reg *prometheus.Registry
	c   *collector
}

// New builds the exporter and its registry.
func New(o Options) *Exporter {
	c := &collector{snapshots: o.Snapshots, shard: fleet.Shard{Index: 0, Count: 1}, version: o.Version, totals: newTotals()}
	if c.snapshots == nil {
		c.snapshots = func() []fleet.Snapshot { return nil }
	}
	if o.Shard != nil {
		c.shard = *o.Shard
	}
	if c.version == "" {
		c.version = sdk.Version
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		c,
	)
	return &Exporter{reg: reg, c: c}
}

// ObserveStats folds one statistics sample of a participant into the
// running totals; it is fleet.Options.OnStats. Safe for concurrent use.
func (e *Exporter) ObserveStats(m fleet.Member, st sdk.CallStats) { e.c.observe(m, st) }

// Gatherer is the registry, for tests and other exposition.
func (e *Exporter) Gatherer() prometheus.Gatherer { return e.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (e *Exporter) Handler() http.Handler {
	return promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{})
}

// Push replaces the metrics of job and grouping (e.g. instance) on the
// Pushgateway at url with the registry's (HTTP PUT).
func (e *Exporter) Push(ctx context.Context, url, job string, grouping map[string]string) error {
	p := push.New(url, job).Gatherer(e.reg)
	for k, v := range grouping {
		p = p.Grouping(k, v)
	}
	if err := p.PushContext(ctx); err != nil {
		return fmt.Errorf("push to %s: %w", url, err)
	}
	return nil
}

// Server serves /metrics until Close.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// Listen serves the registry on addr (HOST:PORT; port 0 picks a free one)
// at /metrics.
func (e *Exporter) Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", e.Handler())
	s := &Server{
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		ln:  ln, done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the bound address, HOST:PORT.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops serving: scrapes in progress may finish until ctx is done.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close() // ctx ended first: drop the scrapes still open
	}
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
