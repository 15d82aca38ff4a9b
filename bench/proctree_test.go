//go:build linux

package bench

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestSampleTreesCountsChildren burns CPU in a grandchild (sh → busy
// loop) and checks that the root's tree sees it: CPU grows, the
// grandchild's memory is counted, and a sibling tree is not.
func TestSampleTreesCountsChildren(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	// sh runs a second sh (a grandchild of this test) that busy-loops.
	busy := exec.Command(sh, "-c", `sh -c 'while :; do :; done' & wait`)
	idle := exec.Command("sleep", "60")
	for _, c := range []*exec.Cmd{busy, idle} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if c == busy { // the loop is sh's child: end it first
				for _, p := range treeOf(allProcs(), []int{c.Process.Pid}) {
					_ = syscallKill(p.pid)
				}
			}
			_ = c.Process.Kill()
			_ = c.Wait()
		}()
	}
	var s0 treeSample
	deadline := time.Now().Add(10 * time.Second)
	for {
		s0 = sampleTrees(busy.Process.Pid)
		if s0.Procs == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s0.Procs != 2 {
		t.Fatalf("tree of the busy sh: %d processes, want 2 (sh and its child)", s0.Procs)
	}
	var s1 treeSample
	for {
		s1 = sampleTrees(busy.Process.Pid)
		if s1.CPU-s0.CPU >= 200*time.Millisecond || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d := s1.CPU - s0.CPU; d < 200*time.Millisecond {
		t.Errorf("busy tree used %v of CPU, want at least 200ms", d)
	}
	if s1.RSSKiB <= 0 || s1.PSSKiB <= 0 || s1.HWMKiB < s1.RSSKiB {
		t.Errorf("memory: RSS %d KiB, PSS %d KiB, HWM %d KiB", s1.RSSKiB, s1.PSSKiB, s1.HWMKiB)
	}
	both := sampleTrees(busy.Process.Pid, idle.Process.Pid)
	if both.Procs != 3 {
		t.Errorf("two trees: %d processes, want 3", both.Procs)
	}
	if idleOnly := sampleTrees(idle.Process.Pid); idleOnly.CPU > 100*time.Millisecond {
		t.Errorf("idle sleep used %v", idleOnly.CPU)
	}
	if got := sampleTrees(-1); got.Procs != 0 || got.CPU != 0 {
		t.Errorf("no such process: %+v", got)
	}
}

func syscallKill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

func TestReadStatOddCommandName(t *testing.T) {
	p, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if p.ppid != os.Getppid() {
		t.Errorf("ppid %d, want %d", p.ppid, os.Getppid())
	}
	if _, err := readStat(-5); err == nil {
		t.Error("no error for a missing process")
	}
}

func TestChildrenNamed(t *testing.T) {
	c := exec.Command("sleep", "30")
	if err := c.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { _ = c.Process.Kill(); _ = c.Wait() }()
	got := childrenNamed(os.Getpid(), "sleep")
	if len(got) != 1 || got[0] != c.Process.Pid {
		t.Errorf("childrenNamed(sleep) = %v, want [%d]", got, c.Process.Pid)
	}
	if got := childrenNamed(os.Getpid(), "no-such-thing"); len(got) != 0 {
		t.Errorf("childrenNamed(no-such-thing) = %v", got)
	}
}

func TestMachineCPU(t *testing.T) {
	a := sampleMachine()
	if a.total <= 0 || a.busy < 0 || a.busy > a.total {
		t.Fatalf("machine sample %+v", a)
	}
	b := machineCPU{busy: a.busy + 150, total: a.total + 200}
	if got := busyCores(a, b, time.Second); got != 1.5 {
		t.Errorf("busyCores = %v, want 1.5", got)
	}
	if got := busyCores(b, a, time.Second); got != 0 {
		t.Errorf("busyCores backwards = %v, want 0", got)
	}
}

func TestKibField(t *testing.T) {
	for _, tc := range []struct {
		line string
		want int64
		ok   bool
	}{
		{"VmRSS:\t   12345 kB", 12345, true},
		{"VmRSS:", 0, false},
		{"VmHWM:\t 1 kB", 0, false},
	} {
		got, ok := kibField(tc.line, "VmRSS:")
		if got != tc.want || ok != tc.ok {
			t.Errorf("kibField(%q) = %d, %v", tc.line, got, ok)
		}
	}
}
