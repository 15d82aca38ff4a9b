//go:build linux

package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/callctl/callctl/pkg/capture"
	"github.com/callctl/callctl/pkg/sdk"
)

// profileClients runs n sdk clients in this process, in a fresh room,
// and profiles the window. Publishers replay the clip set (each client
// its own reader, as join processes do) and consume nothing; subscribers
// receive one replaying join publisher without decoding.
func (h *harness) profileClients(ctx context.Context, role string, n int, dir string) profileResult {
	res := profileResult{Role: role, Participants: n}
	room := h.room()
	var pub, mon *proc
	var err error
	if role == "publisher" {
		mon, err = h.l.startJoin("monitor", room, "--video", "none", "--audio", "none", "--video-layer", "0", "--no-decode")
	} else {
		pub, err = h.startPublisher(ctx, room, "bench-p0", "--consume", "none")
	}
	if err != nil {
		res.Err = err.Error()
		return res
	}
	for _, p := range []*proc{pub, mon} {
		if p != nil {
			defer func() { _ = p.stop(10 * time.Second) }()
		}
	}
	// The heap baseline is taken before the clients exist.
	heap0 := liveHeap()
	clients, media, err := h.joinClients(ctx, role, room, n)
	defer leaveClients(clients)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	wctx, cancel := context.WithTimeout(ctx, h.joinTimeout(n))
	defer cancel()
	err = waitUntil(wctx, "media of every in-process "+role, func() (bool, string) {
		got := int(media.Load())
		if mon != nil {
			got = min(peersWithMedia(mon, "bench-p", "video"), peersWithMedia(mon, "bench-p", "audio"))
		}
		return got >= n, fmt.Sprintf("%d of %d", got, n)
	}, append([]*proc{}, nonNil(pub, mon)...)...)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	if err := h.profileWindow(ctx, &res, dir, heap0); err != nil {
		res.Err = err.Error()
	}
	return res
}

// profileWindow profiles this process over the benchmark's window.
func (h *harness) profileWindow(ctx context.Context, res *profileResult, dir string, heap0 uint64) error {
	if err := sleepCtx(ctx, h.cfg.Warmup); err != nil {
		return err
	}
	cpuFile := filepath.Join(dir, res.Role+".cpu.pprof")
	f, err := os.Create(cpuFile)
	if err != nil {
		return err
	}
	defer f.Close()
	ru0, t0 := rusage(), time.Now()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	err = sleepCtx(ctx, h.cfg.Window) // the measured interval
	pprof.StopCPUProfile()
	res.Cores = (rusage() - ru0).Seconds() / time.Since(t0).Seconds() / float64(res.Participants)
	if err != nil {
		return err
	}
	res.HeapMiB = float64(int64(liveHeap())-int64(heap0)) / (1 << 20) / float64(res.Participants)
	heapFile := filepath.Join(dir, res.Role+".heap.pprof")
	hf, err := os.Create(heapFile)
	if err != nil {
		return err
	}
	defer hf.Close()
	if err := pprof.Lookup("heap").WriteTo(hf, 0); err != nil {
		return err
	}
	res.CPUTop = pprofTop(cpuFile)
	res.CPUByPackage = byPackage(pprofTop(cpuFile, "-nodecount=100000"))
	res.HeapTop = pprofTop(heapFile, "-sample_index=inuse_space")
	return nil
}

// joinClients joins n clients of role; media counts the clients that got
// a first video packet.
func (h *harness) joinClients(ctx context.Context, role, room string, n int) ([]*sdk.Client, *atomic.Int64, error) {
	var clients []*sdk.Client
	media := &atomic.Int64{}
	pace := time.Duration(float64(time.Second) / h.cfg.JoinRate)
	for i := 0; i < n; i++ {
		cfg := sdk.Config{ServerURL: h.l.server, ICE: sdk.ICEConfig{IncludeLoopback: true}}
		user := fmt.Sprintf("bench-s%d", i)
		if role == "publisher" {
			user = fmt.Sprintf("bench-p%d", i)
			v, err := capture.NewFileVideo(capture.FileOptions{Path: h.l.clips})
			if err != nil {
				return clients, media, err
			}
			a, err := capture.NewFileAudio(capture.AudioFileOptions{Path: filepath.Join(h.l.clips, "callctl.ogg")})
			if err != nil {
				return clients, media, err
			}
			cfg.Video, cfg.Audio, cfg.Consume = v, a, sdk.ConsumeOptions{None: true}
		} else {
			sink, err := capture.NewReceiveSink(capture.ReceiveOptions{NoDecode: true})
			if err != nil {
				return clients, media, err
			}
			cfg.Sink = sink
		}
		c, err := sdk.NewClient(cfg)
		if err != nil {
			return clients, media, err
		}
		go drainEvents(c, media)
		jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = c.JoinCall(jctx, room, user, user)
		cancel()
		clients = append(clients, c)
		if err != nil {
			return clients, media, fmt.Errorf("%s: join: %w", user, err)
		}
		if err := sleepCtx(ctx, pace); err != nil { // join pacing
			return clients, media, err
		}
	}
	return clients, media, nil
}

func drainEvents(c *sdk.Client, media *atomic.Int64) {
	for ev := range c.Events() {
		if m, ok := ev.(sdk.ConsumerMedia); ok && m.Kind == "video" {
			media.Add(1)
		}
	}
}

func leaveClients(clients []*sdk.Client) {
	for _, c := range clients {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = c.LeaveCall(ctx)
		cancel()
	}
}

func nonNil(ps ...*proc) []*proc {
	var out []*proc
	for _, p := range ps {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// liveHeap is the bytes of live heap objects: after two collections, so
// that what sync.Pools held and the previous clients left is gone.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// rusage is this process's CPU time so far (user + system).
func rusage() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pprofTop is `go tool pprof -top` of a profile, the first lines.
func pprofTop(file string, args ...string) string {
	args = append(append([]string{"tool", "pprof", "-top", "-nodecount=12"}, args...), file) // a later -nodecount wins
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) || len(out) > 0 {
			return "go tool pprof failed: " + lastLines(string(out), 3)
		}
		return "go tool pprof: " + err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	// From "Showing nodes accounting for …" on: the file, type and time
	// lines before it name temporary files.
	for i, l := range lines {
		if strings.HasPrefix(l, "Showing nodes") {
			return strings.Join(lines[i:], "\n")
		}
	}
	return strings.Join(lines, "\n")
}

// byPackage sums the flat column of a pprof -top listing by Go package
// (syscalls and the runtime grouped apart), largest first, as
// "share% package" lines: where the CPU goes at a glance.
func byPackage(top string) string {
	sums := map[string]float64{}
	var total float64
	for _, line := range strings.Split(top, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") {
			continue
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		if err != nil {
			continue
		}
		sums[packageOf(strings.Join(f[5:], " "))] += pct
		total += pct
	}
	type kv struct {
		pkg string
		pct float64
	}
	var list []kv
	for k, v := range sums {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].pct > list[j].pct })
	var b strings.Builder
	for i, e := range list {
		if i == 12 || e.pct < 0.5 {
			break
		}
		fmt.Fprintf(&b, "%5.1f%%  %s\n", e.pct, e.pkg)
	}
	return strings.TrimRight(b.String(), "\n")
}

// packageOf is the package of a pprof function name
// ("github.com/pion/srtp/v3.(*SessionSRTP).writeRTP" →
// "github.com/pion/srtp/v3"); system calls, cgo and the runtime get
// their own groups.
func packageOf(fn string) string {
	slash := strings.LastIndex(fn, "/")
	dot := strings.Index(fn[slash+1:], ".")
	pkg := fn
	if dot >= 0 {
		pkg = fn[:slash+1+dot]
	}
	switch {
	case strings.Contains(pkg, "syscall") || pkg == "runtime/internal/syscall":
		return "system calls (sendmsg/recvmsg, futex, …)"
	case strings.HasPrefix(pkg, "runtime") || strings.HasPrefix(pkg, "internal/runtime"):
		return "Go runtime (scheduler, GC, timers, memmove)"
	case strings.HasPrefix(fn, "_cgo") || strings.HasPrefix(fn, "C."):
		return "cgo"
	}
	return pkg
}
