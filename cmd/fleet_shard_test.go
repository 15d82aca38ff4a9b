package cmd

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/fleet"
)

// The same command line in every pod: the index comes from
// JOB_COMPLETION_INDEX, the totals are split, the session names the shard.
func TestFleetShardFlags(t *testing.T) {
	t.Setenv(jobIndexEnv, "2")
	code, o, stderr := runFleetRecorded(t, "--server", "ws://127.0.0.1:4443", "--rooms", "2", "--publishers", "6", "--subscribers", "3",
		"--shard-count", "3", "--metrics-addr", "127.0.0.1:0", "--metrics-push", "http://127.0.0.1:9091", "--start-at", "2030-01-02T03:04:05Z")
	if code != 0 || o == nil {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if o.session != "fleet-bot-shard2" || *o.fleetShard() != (fleet.Shard{Index: 2, Count: 3}) {
		t.Errorf("session %q, shard %+v", o.session, o.fleetShard())
	}
	if !o.shard.at.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("start at %v", o.shard.at)
	}
	ms, err := fleet.Plan(o.planOptions())
	if err != nil || len(ms) != 3 || ms[0].ID != "bot-p4" || ms[1].ID != "bot-p5" || ms[2].ID != "bot-s2" || ms[2].Room != "fleet-0" {
		t.Errorf("plan %v %v", ms, err)
	}
	if got := pushInstance(o.session, o.fleetShard()); got != "fleet-bot-shard2" {
		t.Errorf("push instance %q", got)
	}
	if got := pushInstance("load", o.fleetShard()); got != "load-shard2" {
		t.Errorf("push instance of --session load: %q", got)
	}

	// --shard-index wins over the environment; without --shard-count the
	// environment is ignored.
	if _, o, _ := runFleetRecorded(t, "--server", "ws://127.0.0.1:1", "--publishers", "6", "--shard-count", "3", "--shard-index", "0"); o == nil || o.shard.index != 0 {
		t.Errorf("--shard-index 0 with %s=2: %+v", jobIndexEnv, o)
	}
	if _, o, _ := runFleetRecorded(t, "--server", "ws://127.0.0.1:1", "--publishers", "6"); o == nil || o.fleetShard() != nil || o.session != "fleet-bot" {
		t.Errorf("unsharded with %s set: %+v", jobIndexEnv, o)
	}
}

func TestFleetBadShardFlags(t *testing.T) {
	for _, tc := range []struct {
		env  string
		args []string
	}{
		{"", []string{"--shard-count", "3", "--shard-index", "3"}},
		{"", []string{"--shard-count", "3", "--shard-index", "-1"}},
		{"", []string{"--shard-count", "0"}},
		{"", []string{"--shard-index", "1"}}, // no --shard-count
		{"x1", []string{"--shard-count", "3"}},
		{"5", []string{"--shard-count", "3"}},
		{"", []string{"--shard-count", "7"}}, // shard 0 of 7 of 6 publishers is empty
		{"", []string{"--start-at", "tomorrow"}},
		{"", []string{"--metrics-addr", "9464"}},
		{"", []string{"--metrics-addr", "127.0.0.1:http"}},
		{"", []string{"--metrics-push", "pushgateway:9091"}},
	} {
		t.Run(tc.env+" "+tc.args[0], func(t *testing.T) {
			if tc.env != "" {
				t.Setenv(jobIndexEnv, tc.env)
			}
			args := append([]string{"--server", "ws://127.0.0.1:1", "--publishers", "6"}, tc.args...)
			if code, o, stderr := runFleetRecorded(t, args...); code != ExitUsage || o != nil || stderr == "" {
				t.Errorf("%v (%s=%q): exit %d, ran %v, stderr %q", args, jobIndexEnv, tc.env, code, o != nil, stderr)
			}
		})
	}
}

// fleet.started is in the schema, the reference and the help, like the
// fleet's other events (TestFleetEventTypesDocumented).
func TestFleetStartedDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "events.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !schemaDefines(t, "fleet.started") || !strings.Contains(string(doc), "`fleet.started`") || !strings.Contains(eventsHelp, "fleet.started") {
		t.Error("fleet.started: not in docs/schema/events.v1.json, docs/events.md or callctl help events")
	}
	line := `{"v":1,"ts":"2026-01-02T03:04:05Z","seq":1,"session":"fleet-bot-shard1","type":"fleet.started",` +
		`"data":{"participants":3,"publishers":2,"subscribers":1,"rooms":2,"shard":{"index":1,"count":3},"metricsAddr":"127.0.0.1:9464","startAt":"2026-01-02T03:04:10Z"}}`
	validateLine(t, "event", []byte(line))
}

// A signal while waiting for --start-at leaves at once: nobody joined,
// exit 0, the stream ends with the fleet's left naming the shard, and the
// final metrics are pushed to the Pushgateway as the shard's instance.
func TestFleetStartAtInterrupted(t *testing.T) {
	pushed := make(chan string, 4)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "callctl_shard_info") {
			pushed <- r.Method + " " + r.URL.Path
		}
	}))
	defer gw.Close()
	at := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	f := start(t, "fleet", "--server", "ws://127.0.0.1:1", "--publishers", "2", "--subscribers", "1", "--video", "none",
		"--shard-count", "2", "--shard-index", "1", "--start-at", at, "--metrics-addr", "127.0.0.1:0", "--metrics-push", gw.URL)
	waitFleet(t, f, 20*time.Second, "fleet.started", func() bool { return len(fleetEvents(f, "", "fleet.started")) > 0 })
	if ev := fleetEvents(f, "", "fleet.started")[0]; ev["startAt"] != at || ev["participants"] != float64(2) {
		t.Errorf("fleet.started %v", ev)
	}
	_ = f.cmd.Process.Signal(syscall.SIGINT)
	if code := f.wait(20 * time.Second); code != ExitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, f.stderr.String())
	}
	f.checkStream("fleet-bot-shard1", ExitOK)
	left := fleetEvents(f, "", "left")[0]
	fl, _ := left["fleet"].(map[string]any)
	if sh, _ := fl["shard"].(map[string]any); left["trigger"] != "signal" || fl["everJoined"] != float64(0) || sh["index"] != float64(1) {
		t.Errorf("left %v", left)
	}
	select {
	case p := <-pushed:
		if p != "PUT /metrics/job/callctl/instance/fleet-bot-shard1" {
			t.Errorf("pushed %s", p)
		}
	default:
		t.Errorf("no final push to the Pushgateway\nstderr:\n%s", f.stderr.String())
	}
}
