//go:build linux

package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

const (
	// benchEnv enables TestFleetBench (make bench sets it): it takes
	// minutes, so plain `go test ./...` skips it.
	benchEnv = "CALLCTL_FLEET_BENCH"
	// progressEnv names the file the benchmark appends its progress to;
	// the test process that started it prints the file as it grows (the
	// loopback namespace rerun only shows its output when it ends).
	progressEnv = "CALLCTL_FLEET_BENCH_PROGRESS"
	// requireBrowserEnv=1 turns a missing Chromium into a failure.
	requireBrowserEnv = "CALLCTL_REQUIRE_BROWSER"
)

// TestFleetBench is the fleet benchmark of `make bench`: callctl
// participants (publishers replaying clips or encoding live, subscribers
// decoding or not) at several fleet sizes, the largest sustained fleet,
// and the same measurements for the viewer page in headless Chromium as
// the baseline, all against the reference server on loopback. It writes
// docs/benchmarks.md and docs/benchmarks.json (BENCH_OUT). It reports; it
// asserts nothing about the figures (it fails only when it cannot run).
func TestFleetBench(t *testing.T) {
	if os.Getenv(benchEnv) != "1" {
		t.Skipf("the fleet benchmark runs with %s=1 (make bench)", benchEnv)
	}
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv(progressEnv) == "" {
		path := filepath.Join(t.TempDir(), "progress.log")
		t.Setenv(progressEnv, path)
		stop := tailFile(path, os.Stdout)
		defer stop()
	}
	if sdktest.RerunInLoopbackNetns(t, requireBrowserEnv) {
		return
	}
	progress := progressLogger(t, os.Getenv(progressEnv))
	start := time.Now()
	h, rep := setup(t, cfg, progress)
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel func()
		ctx, cancel = context.WithDeadline(ctx, d.Add(-time.Minute))
		defer cancel()
	}
	load0 := loadAverage()
	h.run(ctx, rep)
	rep.Notes = append(rep.Notes, fmt.Sprintf("Load average (1/5/15 min, /proc/loadavg) when the benchmark started: %s; when it ended: %s. "+
		"It counts every runnable process on the machine, the benchmark's own included; machine busy cores near the core count mean the participants competed for CPU with each other and with anything else running.", load0, loadAverage()))
	rep.DurationSeconds = time.Since(start).Seconds()
	if err := writeReport(cfg.Out, rep); err != nil {
		t.Fatal(err)
	}
	progress("wrote %s and %s in %.0f s", filepath.Join(cfg.Out, "benchmarks.md"), filepath.Join(cfg.Out, "benchmarks.json"), rep.DurationSeconds)
}

// TestRenderBenchmarks rewrites benchmarks.md from benchmarks.json
// (BENCH_OUT, default docs/) with CALLCTL_BENCH_RENDER=1: after a change
// to the Markdown, without measuring again.
func TestRenderBenchmarks(t *testing.T) {
	if os.Getenv("CALLCTL_BENCH_RENDER") != "1" {
		t.Skip("renders docs/benchmarks.md from docs/benchmarks.json with CALLCTL_BENCH_RENDER=1")
	}
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(cfg.Out, "benchmarks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if err := writeReport(cfg.Out, &rep); err != nil {
		t.Fatal(err)
	}
}

// setup builds (or finds) callctl, writes the clip set, starts the
// reference server and finds Chromium.
func setup(t *testing.T, cfg config, progress func(string, ...any)) (*harness, *report) {
	bin := callctlBinary(t)
	clips := filepath.Join(t.TempDir(), "clips")
	if out, err := exec.Command(bin, "clips", "--out", clips).CombinedOutput(); err != nil {
		t.Fatalf("callctl clips: %v\n%s", err, out)
	}
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	pids := childrenNamed(os.Getpid(), "server.js")
	if len(pids) != 1 {
		t.Fatalf("cannot find the reference server's process (children running server.js: %v)", pids)
	}
	l := &launcher{bin: bin, server: srv.URL, clips: clips}
	l.fleet, l.fleetRoomFlag = detectFleet(bin)
	h := &harness{cfg: cfg, l: l, serverPID: pids[0], progress: progress}
	rep := &report{
		Generated: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Mode: l.mode(),
		Host: hostInfo(), MediasoupVersion: srv.MediasoupVersion, Config: cfg,
	}
	if p, err := chromiumPath(); err == nil {
		h.chromium = p
	} else if os.Getenv(requireBrowserEnv) == "1" {
		t.Fatal(err)
	} else {
		rep.Notes = append(rep.Notes, err.Error()+": no Chromium baseline")
	}
	progress("mode: %s; server %s (pid %d); chromium %q; config %+v", l.mode(), srv.URL, h.serverPID, h.chromium, cfg)
	return h, rep
}

// callctlBinary is $CALLCTL_BIN, or callctl built from this tree.
func callctlBinary(t *testing.T) string {
	if p := os.Getenv("CALLCTL_BIN"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	bin := filepath.Join(t.TempDir(), "callctl")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build callctl: %v\n%s", err, out)
	}
	return bin
}

func writeReport(dir string, rep *report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	j, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "benchmarks.json"), append(j, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "benchmarks.md"), []byte(rep.markdown()), 0o644)
}

// hostInfo describes the machine: CPU model, cores, kernel.
func hostInfo() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%d × %s, Linux %s, %s", runtime.NumCPU(), model, strings.TrimSpace(string(kernel)), runtime.Version())
}

// progressLogger logs to the test and appends to path.
func progressLogger(t *testing.T, path string) func(string, ...any) {
	var mu sync.Mutex
	return func(format string, args ...any) {
		line := time.Now().Format("15:04:05 ") + fmt.Sprintf(format, args...)
		t.Log(line)
		mu.Lock()
		defer mu.Unlock()
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintln(f, line)
			_ = f.Close()
		}
	}
}

// tailFile copies the lines appended to path to w until stop is called
// (stop returns after the last lines were copied).
func tailFile(path string, w io.Writer) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		var off int64
		copyNew := func() {
			f, err := os.Open(path)
			if err != nil {
				return
			}
			defer f.Close()
			if _, err := f.Seek(off, io.SeekStart); err != nil {
				return
			}
			r := bufio.NewReader(f)
			for {
				line, err := r.ReadString('\n')
				if err != nil { // an incomplete line waits for the next round
					return
				}
				off += int64(len(line))
				fmt.Fprint(w, "fleetbench: "+line)
			}
		}
		for {
			select {
			case <-done:
				copyNew()
				return
			case <-time.After(500 * time.Millisecond):
				copyNew()
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
