package cmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// promServer is a real Prometheus (Debian's package) scraping the test's
// targets on loopback every second.
type promServer struct {
	url    string
	cmd    *exec.Cmd
	stderr syncBuffer
	exited chan struct{}
}

// prometheusBinary finds Prometheus: skipped without it, unless
// CALLCTL_REQUIRE_SERVER=1 (then the test fails).
func prometheusBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv(sdktest.RequireServerEnv) == "1" {
			t.Fatalf("prometheus not installed (scripts/install-deps.sh installs it) and %s=1", sdktest.RequireServerEnv)
		}
		t.Skip("prometheus not installed: scripts/install-deps.sh installs Debian's package")
	}
	return bin
}

// startPrometheus writes a scrape config for targets (HOST:PORT) and
// starts Prometheus on a free loopback port, until the test ends.
func startPrometheus(t *testing.T, bin string, targets []string) *promServer {
	t.Helper()
	dir := t.TempDir()
	quoted := make([]string, len(targets))
	for i, tg := range targets {
		quoted[i] = strconv.Quote(tg)
	}
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"+
		"  - job_name: callctl\n    static_configs:\n      - targets: [%s]\n", strings.Join(quoted, ", "))
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeLoopbackAddr(t)
	p := &promServer{url: "http://" + addr, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "--config.file", cfgPath, "--storage.tsdb.path", filepath.Join(dir, "data"), "--web.listen-address", addr)
	p.cmd.Stdout, p.cmd.Stderr = &p.stderr, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(20 * time.Second):
			t.Errorf("prometheus did not stop on SIGTERM")
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	p.poll(t, 60*time.Second, "prometheus ready", func() bool {
		resp, err := http.Get(p.url + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// freeLoopbackAddr picks a free TCP port on 127.0.0.1 (for Prometheus,
// which does not report a port it picked itself).
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// poll checks cond every 250 ms until it holds or d passes.
func (p *promServer) poll(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		select {
		case <-p.exited:
			t.Fatalf("%s: prometheus exited\n%s", what, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// promSample is one series of an instant query's result.
type promSample struct {
	labels map[string]string
	value  float64
}

// query evaluates PromQL at the current time through the HTTP API.
func (p *promServer) query(t *testing.T, q string) []promSample {
	t.Helper()
	resp, err := http.Get(p.url + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Status != "success" {
		t.Fatalf("query %s: %v %s %s", q, err, body.Status, body.Error)
	}
	out := make([]promSample, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("query %s: value %v", q, r.Value)
		}
		out = append(out, promSample{labels: r.Metric, value: v})
	}
	return out
}

// scrapeSum reads a target's /metrics directly and sums the samples of
// metric name whose label text contains every one of match.
func scrapeSum(t *testing.T, addr, name string, match ...string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return sumSamples(t, resp.Body, name, match...)
}

func sumSamples(t *testing.T, r io.Reader, name string, match ...string) float64 {
	t.Helper()
	var sum float64
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l := sc.Text()
		series, val, ok := strings.Cut(l, " ")
		if strings.HasPrefix(l, "#") || !ok {
			continue
		}
		metric, labels, _ := strings.Cut(series, "{")
		if metric != name {
			continue
		}
		matched := true
		for _, m := range match {
			matched = matched && strings.Contains(labels, m)
		}
		if !matched {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(val)[0], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", l, err)
		}
		sum += v
	}
	return sum
}

// Three shards of one fleet (same command line, JOB_COMPLETION_INDEX 0, 1,
// 2) fill two rooms; a real Prometheus scrapes the three /metrics. Its
// aggregate sees every participant joined and every shard decoding, and
// equals the sum of what the shards serve; every shard's subscriber
// decodes video from the publishers of both other shards.
func TestMetricsShardedFleetsInPrometheus(t *testing.T) {
	bin := prometheusBinary(t)
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	video, audio := fleetClips(t)
	shards, addrs := startShards(t, srv.URL, video, audio)
	prom := startPrometheus(t, bin, addrs)

	prom.poll(t, 90*time.Second, "9 participants joined (PromQL)", func() bool {
		r := prom.query(t, `sum(callctl_participants{state="joined"})`)
		return len(r) == 1 && r[0].value == 9
	})
	checkShardInfo(t, prom, addrs)
	// --stats-interval 0: only `callctl stats` samples move the media
	// counters, so the test decides when they stop moving.
	prom.poll(t, 90*time.Second, "every shard's subscriber decodes (PromQL)", func() bool {
		sampleShards(t)
		r := prom.query(t, `sum by (instance) (callctl_frames_decoded_total)`)
		decoding := 0
		for _, s := range r {
			if s.value > 0 {
				decoding++
			}
		}
		return decoding == 3
	})
	checkCrossShardDecoding(t, shards)
	checkAggregateEqualsShards(t, prom, addrs)

	for i, f := range shards {
		_ = f.cmd.Process.Signal(syscall.SIGINT)
		if code := f.wait(60 * time.Second); code != ExitOK {
			t.Fatalf("shard %d: exit %d\nstderr:\n%s", i, code, f.stderr.String())
		}
		f.checkStream(fmt.Sprintf("fleet-bot-shard%d", i), ExitOK)
		left := fleetEvents(f, "", "left")
		if sh, _ := left[len(left)-1]["fleet"].(map[string]any)["shard"].(map[string]any); sh["index"] != float64(i) || sh["count"] != float64(3) {
			t.Errorf("shard %d: left names shard %v", i, sh)
		}
	}
}

// startShards starts the three shards, each serving /metrics on a port it
// picks and names in fleet.started, and all beginning to join at one
// --start-at instant.
func startShards(t *testing.T, server, video, audio string) ([]*proc, []string) {
	t.Helper()
	startAt := time.Now().Add(3 * time.Second).UTC().Format(time.RFC3339)
	args := []string{"fleet", "--server", server, "--rooms", "2", "--publishers", "6", "--subscribers", "3", "--shard-count", "3",
		"--video", video, "--audio", audio, "--decode", "--join-rate", "10", "--duration", "5m", "--stats-interval", "0",
		"--metrics-addr", "127.0.0.1:0", "--start-at", startAt}
	shards := make([]*proc, 3)
	for i := range shards {
		t.Setenv(jobIndexEnv, strconv.Itoa(i)) // read by the child's environment at start
		shards[i] = start(t, args...)
	}
	addrs := make([]string, 3)
	for i, f := range shards {
		waitFleet(t, f, 30*time.Second, "fleet.started", func() bool { return len(fleetEvents(f, "", "fleet.started")) > 0 })
		ev := fleetEvents(f, "", "fleet.started")[0]
		sh, _ := ev["shard"].(map[string]any)
		addrs[i], _ = ev["metricsAddr"].(string)
		if sh["index"] != float64(i) || sh["count"] != float64(3) || ev["participants"] != float64(3) || addrs[i] == "" {
			t.Fatalf("shard %d: fleet.started %v", i, ev)
		}
	}
	return shards, addrs
}

// sampleShards makes every shard sample its participants' statistics.
func sampleShards(t *testing.T) {
	t.Helper()
	for i := range 3 {
		ctlOK(t, "stats", "--session", fmt.Sprintf("fleet-bot-shard%d", i))
	}
}

// checkShardInfo: Prometheus sees each target as the shard it is.
func checkShardInfo(t *testing.T, prom *promServer, addrs []string) {
	t.Helper()
	r := prom.query(t, `callctl_shard_info`)
	if len(r) != 3 {
		t.Fatalf("callctl_shard_info: %v", r)
	}
	for _, s := range r {
		i, _ := strconv.Atoi(s.labels["shard_index"])
		if s.labels["shard_count"] != "3" || i < 0 || i >= 3 || s.labels["instance"] != addrs[i] || s.value != 1 {
			t.Errorf("callctl_shard_info: %v", s)
		}
	}
}

// checkCrossShardDecoding: each shard's subscriber decodes video from a
// publisher of every other shard, by its consumers' peer ids (the
// publishers each shard's stream names).
func checkCrossShardDecoding(t *testing.T, shards []*proc) {
	t.Helper()
	shardOf := map[string]int{}
	for i, f := range shards {
		for _, id := range fleetParticipantIDs(f) {
			if strings.HasPrefix(id, "bot-p") {
				shardOf[id] = i
			}
		}
	}
	if len(shardOf) != 6 {
		t.Fatalf("publishers in the shards' streams: %v", shardOf)
	}
	for i := range shards {
		sub := fmt.Sprintf("bot-s%d", i) // 3 subscribers over 3 shards: one each
		st := ctlOK(t, "stats", "--session", fmt.Sprintf("fleet-bot-shard%d", i), "--participant", sub)
		from := map[int]bool{}
		cs, _ := st["consumers"].([]any)
		for _, c := range cs {
			m, _ := c.(map[string]any)
			peer, _ := m["peerId"].(string)
			frames, _ := m["framesDecoded"].(float64)
			if j, ok := shardOf[peer]; ok && m["kind"] == "video" && frames > 0 {
				from[j] = true
			}
		}
		for j := range shards {
			if j != i && !from[j] {
				t.Errorf("shard %d's %s decodes no video from shard %d's publishers (decodes from shards %v)", i, sub, j, from)
			}
		}
	}
}

// fleetParticipantIDs lists the participant ids in a fleet's stream.
func fleetParticipantIDs(p *proc) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := map[string]bool{}
	var ids []string
	for _, r := range p.raw {
		var l fleetLine
		if json.Unmarshal(r, &l) == nil && l.Participant != "" && !seen[l.Participant] {
			seen[l.Participant] = true
			ids = append(ids, l.Participant)
		}
	}
	return ids
}

// checkAggregateEqualsShards: with the counters still (no sampling from
// here on), Prometheus' sum over the shards equals the sum of what each
// shard's /metrics serves, once it has scraped them all again.
func checkAggregateEqualsShards(t *testing.T, prom *promServer, addrs []string) {
	t.Helper()
	for _, m := range []struct{ query, name, match string }{
		{`sum(callctl_participants{state="joined"})`, "callctl_participants", `state="joined"`},
		{`sum(callctl_joins_total)`, "callctl_joins_total", ""},
		{`sum(callctl_frames_decoded_total)`, "callctl_frames_decoded_total", ""},
		{`sum(callctl_received_packets_total{kind="video"})`, "callctl_received_packets_total", `kind="video"`},
		{`sum(callctl_received_bytes_total)`, "callctl_received_bytes_total", ""},
		{`sum(callctl_sent_packets_total)`, "callctl_sent_packets_total", ""},
		{`sum(callctl_sent_bytes_total{kind="audio"})`, "callctl_sent_bytes_total", `kind="audio"`},
	} {
		var direct float64
		for _, a := range addrs {
			direct += scrapeSum(t, a, m.name, m.match)
		}
		if direct <= 0 {
			t.Errorf("%s: the shards serve %v", m.query, direct)
			continue
		}
		var last []promSample
		prom.poll(t, 20*time.Second, fmt.Sprintf("%s == %v (the shards' sum)", m.query, direct), func() bool {
			last = prom.query(t, m.query)
			return len(last) == 1 && last[0].value == direct
		})
		t.Logf("%s = %v (the shards' /metrics sum to %v)", m.query, last[0].value, direct)
	}
}
