package metrics

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/callctl/callctl/pkg/fleet"
	"github.com/callctl/callctl/pkg/sdk"
)

// fakeFleet is a fleet of one publisher and one subscriber in room r-0,
// whose samples the test sets.
type fakeFleet struct {
	mu    sync.Mutex
	snaps []fleet.Snapshot
}

func (f *fakeFleet) Snapshots() []fleet.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.snaps)
}

var (
	pub = fleet.Member{Index: 0, Role: fleet.Publisher, ID: "bot-p0", Room: "r-0"}
	sub = fleet.Member{Index: 0, Role: fleet.Subscriber, ID: "bot-s0", Room: "r-0"}
)

func pubStats(producer string, packets uint64) sdk.CallStats {
	return sdk.CallStats{Producers: []sdk.ProducerStats{
		{ProducerID: producer, Kind: "video", Layers: []sdk.LayerStats{{PacketsSent: packets, BytesSent: packets * 1000}, {PacketsSent: packets, BytesSent: packets * 100}}},
		{ProducerID: producer + "a", Kind: "audio", Layers: []sdk.LayerStats{{PacketsSent: packets, BytesSent: packets * 50}}},
	}}
}

func subStats(consumer string, packets, frames uint64, height int) sdk.CallStats {
	return sdk.CallStats{Consumers: []sdk.ConsumerStats{
		{ConsumerID: consumer, Kind: "video", PacketsReceived: packets, BytesReceived: packets * 1000, PacketsLost: 2,
			ReceiveStats: sdk.ReceiveStats{FramesDecoded: frames, Freezes: 1, Height: height}},
		{ConsumerID: consumer + "a", Kind: "audio", PacketsReceived: packets, BytesReceived: packets * 50, PacketsLost: -1},
	}}
}

// newFake returns an exporter over a fleet whose publisher and subscriber
// joined, with one sample each observed.
func newFake(t *testing.T) (*Exporter, *fakeFleet) {
	t.Helper()
	f := &fakeFleet{}
	e := New(Options{Snapshots: f.Snapshots, Shard: &fleet.Shard{Index: 1, Count: 3}, Version: "9.9.9"})
	ps, ss := pubStats("P1", 100), subStats("C1", 90, 40, 180)
	e.ObserveStats(pub, ps)
	e.ObserveStats(sub, ss)
	f.snaps = []fleet.Snapshot{
		{Info: fleet.Info{Member: pub, State: fleet.StateJoined, JoinMillis: 300}, Stats: &ps},
		{Info: fleet.Info{Member: sub, State: fleet.StateJoined, JoinMillis: 1500, Rejoins: 1}, Stats: &ss},
	}
	return e, f
}

// gather returns callctl's families by name.
func gather(t *testing.T, e *Exporter) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := e.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// value finds the sample of family name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("%s: not gathered", name)
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("%s%v: no such sample", name, want)
	return 0
}

// docTable parses docs/metrics.md's table: name → "type|label,label".
func docTable(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(callctl_[a-z_]+)` \\| ([a-z]+) \\| ([^|]*) \\|")
	out := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		labels := strings.Fields(strings.NewReplacer("`", "", ",", " ").Replace(m[3]))
		slices.Sort(labels)
		out[m[1]] = m[2] + "|" + strings.Join(labels, ",")
	}
	return out
}

// What /metrics serves under callctl_ (names, types, label names) is
// exactly the table in docs/metrics.md.
func TestMetricsMatchTheDocs(t *testing.T) {
	e, _ := newFake(t)
	served := map[string]string{}
	for name, f := range gather(t, e) {
		if !strings.HasPrefix(name, "callctl_") {
			continue
		}
		labels := map[string]bool{}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = true
			}
		}
		names := slices.Sorted(maps.Keys(labels))
		served[name] = strings.ToLower(f.GetType().String()) + "|" + strings.Join(names, ",")
	}
	doc := docTable(t)
	if len(doc) == 0 {
		t.Fatal("docs/metrics.md: no metric table found")
	}
	for name, want := range doc {
		if served[name] != want {
			t.Errorf("%s: docs say %q, /metrics serves %q", name, want, served[name])
		}
	}
	for name, got := range served {
		if _, ok := doc[name]; !ok {
			t.Errorf("%s (%s): served but not in docs/metrics.md", name, got)
		}
	}
	fams := gather(t, e)
	for _, std := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if fams[std] == nil {
			t.Errorf("%s: the standard collectors are missing", std)
		}
	}
}

func TestMetricValues(t *testing.T) {
	e, _ := newFake(t)
	fams := gather(t, e)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"callctl_participants", map[string]string{"role": "subscriber", "room": "r-0", "state": "joined"}, 1},
		{"callctl_participants", map[string]string{"role": "subscriber", "room": "r-0", "state": "failed"}, 0},
		{"callctl_joins_total", map[string]string{"role": "publisher"}, 1},
		{"callctl_rejoins_total", map[string]string{"role": "subscriber"}, 1},
		{"callctl_join_duration_seconds", map[string]string{"role": "subscriber"}, 1},
		{"callctl_sent_packets_total", map[string]string{"kind": "video"}, 200}, // two layers
		{"callctl_sent_bytes_total", map[string]string{"kind": "audio"}, 5000},
		{"callctl_received_packets_total", map[string]string{"kind": "video"}, 90},
		{"callctl_received_packets_lost_total", map[string]string{"kind": "video"}, 2},
		{"callctl_received_packets_lost_total", map[string]string{"kind": "audio"}, 0}, // negative loss (duplicates) counts as none
		{"callctl_frames_decoded_total", map[string]string{"room": "r-0"}, 40},
		{"callctl_freezes_total", map[string]string{"room": "r-0"}, 1},
		{"callctl_decoded_frame_height_pixels", map[string]string{"room": "r-0"}, 180},
		{"callctl_shard_info", map[string]string{"shard_index": "1", "shard_count": "3"}, 1},
		{"callctl_build_info", map[string]string{"version": "9.9.9"}, 1},
	} {
		if got := value(t, fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	h := fams["callctl_join_duration_seconds"].GetMetric()
	for _, m := range h {
		for _, b := range m.GetHistogram().GetBucket() {
			role := m.GetLabel()[0].GetValue()
			inside := (role == "publisher" && b.GetUpperBound() >= 0.5) || (role == "subscriber" && b.GetUpperBound() >= 2)
			if (b.GetCumulativeCount() == 1) != inside {
				t.Errorf("%s join bucket le=%v: %d", role, b.GetUpperBound(), b.GetCumulativeCount())
			}
		}
	}
}

// A rejoin restarts a participant's counters with new consumers; a
// stream's counter that goes backwards is ignored: the exported totals
// never shrink.
func TestCountersStayMonotonic(t *testing.T) {
	e, _ := newFake(t)
	recv := func() float64 {
		return value(t, gather(t, e), "callctl_received_packets_total", map[string]string{"kind": "video"})
	}
	frames := func() float64 {
		return value(t, gather(t, e), "callctl_frames_decoded_total", map[string]string{"room": "r-0"})
	}
	e.ObserveStats(sub, subStats("C1", 120, 50, 180)) // grows
	if got := recv(); got != 120 {
		t.Fatalf("after growth: %v", got)
	}
	e.ObserveStats(sub, subStats("C1", 30, 10, 180)) // a counter that went back
	if got := recv(); got != 120 {
		t.Errorf("after a restarted stream counter: %v, want 120", got)
	}
	e.ObserveStats(sub, subStats("C2", 7, 3, 180)) // rejoined: new consumers
	if got, f := recv(), frames(); got != 127 || f != 53 {
		t.Errorf("after a rejoin: packets %v frames %v, want 127 and 53", got, f)
	}
	e.ObserveStats(sub, sdk.CallStats{}) // every stream closed
	if got := recv(); got != 127 {
		t.Errorf("after the streams closed: %v, want 127", got)
	}
	if n := len(e.c.totals.streams[sub.ID]); n != 0 {
		t.Errorf("closed streams still held: %d", n)
	}
}

func TestServeMetrics(t *testing.T) {
	e, _ := newFake(t)
	srv, err := e.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	resp, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `callctl_shard_info{shard_count="3",shard_index="1"} 1`) {
		t.Errorf("GET /metrics: %d\n%s", resp.StatusCode, body)
	}
	if resp, err := http.Get("http://" + srv.Addr() + "/"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// Push replaces the group job/instance on the Pushgateway (HTTP PUT).
func TestPush(t *testing.T) {
	type req struct{ method, path, body string }
	got := make(chan req, 1)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- req{r.Method, r.URL.Path, string(b)}
		w.WriteHeader(http.StatusOK)
	}))
	defer gw.Close()
	e, _ := newFake(t)
	if err := e.Push(context.Background(), gw.URL, "callctl", map[string]string{"instance": "fleet-bot-shard1"}); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.method != http.MethodPut || r.path != "/metrics/job/callctl/instance/fleet-bot-shard1" || !strings.Contains(r.body, "callctl_build_info") {
		t.Errorf("push: %s %s (%d bytes)", r.method, r.path, len(r.body))
	}
	gw.Close()
	if err := e.Push(context.Background(), gw.URL, "callctl", nil); err == nil {
		t.Error("a push to a closed Pushgateway succeeded")
	}
}
