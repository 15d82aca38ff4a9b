package cmd

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"

	"github.com/callctl/callctl/pkg/fleet"
	"github.com/callctl/callctl/pkg/metrics"
	"github.com/callctl/callctl/pkg/sdk"
)

// pushTimeout bounds one push to the Pushgateway.
const pushTimeout = 10 * time.Second

// metricsOptions are the fleet's Prometheus flags.
type metricsOptions struct {
	addr, push string
}

func (o *fleetOptions) addMetricsFlags(f *pflag.FlagSet) {
	f.StringVar(&o.metrics.addr, "metrics-addr", "", fmt.Sprintf("serve Prometheus metrics at http://HOST:PORT/metrics (e.g. :%d; port 0 picks a free one, see fleet.started)", metrics.DefaultPort))
	f.StringVar(&o.metrics.push, "metrics-push", "", "push the metrics to this Pushgateway URL every --stats-interval and at the end (job callctl, instance SESSION-shardI)")
}

func (o *fleetOptions) validateMetrics() error {
	bad := func(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }
	if a := o.metrics.addr; a != "" {
		_, port, err := net.SplitHostPort(a)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
			return bad("--metrics-addr %q: want HOST:PORT or :PORT (e.g. :%d)", a, metrics.DefaultPort)
		}
	}
	if p := o.metrics.push; p != "" {
		u, err := url.Parse(p)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("--metrics-push %q: want an http:// or https:// Pushgateway URL", p)
		}
	}
	return nil
}

// fleetMetrics is the fleet's exporter, its /metrics server and its
// pushes. A nil *fleetMetrics (neither flag given) does nothing.
type fleetMetrics struct {
	exp      *metrics.Exporter
	srv      *metrics.Server // nil without --metrics-addr
	pushURL  string
	instance string
	log      *slog.Logger
	pushing  atomic.Bool // a periodic push is in flight
	wg       sync.WaitGroup
	// fl is the fleet, once planned: a scrape may come before it is.
	fl atomic.Pointer[fleet.Fleet]
}

// startMetrics builds the exporter and serves it; the fleet, planned
// after (it needs the exporter's OnStats), is attached then.
func (s *fleetSession) startMetrics() (*fleetMetrics, error) {
	mo := s.o.metrics
	if mo.addr == "" && mo.push == "" {
		return nil, nil
	}
	shard := s.o.fleetShard()
	m := &fleetMetrics{pushURL: mo.push, instance: pushInstance(s.o.session, shard), log: s.log}
	m.exp = metrics.New(metrics.Options{Shard: shard, Snapshots: func() []fleet.Snapshot {
		if fl := m.fl.Load(); fl != nil {
			return fl.Snapshots()
		}
		return nil
	}})
	if mo.addr != "" {
		srv, err := m.exp.Listen(mo.addr)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--metrics-addr: %w", err)}
		}
		m.srv = srv
		s.log.Info("serving Prometheus metrics", "url", "http://"+srv.Addr()+"/metrics")
	}
	return m, nil
}

// pushInstance is the Pushgateway's instance label: the session, which
// for a shard ends in -shard<index> (the default session does already).
func pushInstance(session string, shard *fleet.Shard) string {
	if shard == nil {
		return session
	}
	suffix := fmt.Sprintf("-shard%d", shard.Index)
	if strings.HasSuffix(session, suffix) {
		return session
	}
	return session + suffix
}

// attach makes the planned fleet's participants visible to scrapes.
func (m *fleetMetrics) attach(fl *fleet.Fleet) {
	if m != nil {
		m.fl.Store(fl)
	}
}

// onStats is fleet.Options.OnStats: nil without metrics.
func (m *fleetMetrics) onStats() func(fleet.Member, sdk.CallStats) {
	if m == nil {
		return nil
	}
	return m.exp.ObserveStats
}

// addr is the bound /metrics address, "" without one.
func (m *fleetMetrics) addr() string {
	if m == nil || m.srv == nil {
		return ""
	}
	return m.srv.Addr()
}

// pushAsync pushes in the background, skipped while the previous push is
// still in flight (a slow Pushgateway must not hold up the fleet).
func (m *fleetMetrics) pushAsync() {
	if m == nil || m.pushURL == "" || !m.pushing.CompareAndSwap(false, true) {
		return
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer m.pushing.Store(false)
		m.push(context.Background())
	}()
}

// pushFinal pushes the final values, after any push in flight.
func (m *fleetMetrics) pushFinal(ctx context.Context) {
	if m == nil || m.pushURL == "" {
		return
	}
	m.wg.Wait()
	m.push(ctx)
}

func (m *fleetMetrics) push(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	if err := m.exp.Push(ctx, m.pushURL, "callctl", map[string]string{"instance": m.instance}); err != nil {
		m.log.Warn("pushing metrics failed", "err", err)
	}
}

// close stops the /metrics server and waits for pushes in flight.
func (m *fleetMetrics) close() {
	if m == nil {
		return
	}
	m.wg.Wait()
	if m.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := m.srv.Close(ctx); err != nil {
			m.log.Warn("stopping the metrics server", "err", err)
		}
	}
}

// fleetStartedData is the data of fleet.started: what this process runs,
// and where its metrics are.
type fleetStartedData struct {
	Participants int          `json:"participants"`
	Publishers   int          `json:"publishers"`
	Subscribers  int          `json:"subscribers"`
	Rooms        int          `json:"rooms"`
	Shard        *fleet.Shard `json:"shard,omitempty"`
	MetricsAddr  string       `json:"metricsAddr,omitempty"`
	StartAt      *time.Time   `json:"startAt,omitempty"`
}

func (s *fleetSession) startedData() fleetStartedData {
	d := fleetStartedData{Rooms: s.o.rooms, Shard: s.o.fleetShard(), MetricsAddr: s.metrics.addr()}
	for _, m := range s.fl.Members() {
		d.Participants++
		if m.Role == fleet.Publisher {
			d.Publishers++
		} else {
			d.Subscribers++
		}
	}
	if at := s.o.shard.at; !at.IsZero() {
		utc := at.UTC()
		d.StartAt = &utc
	}
	return d
}
