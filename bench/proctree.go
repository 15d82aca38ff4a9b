//go:build linux

package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/<pid>/stat.
// It is 100 on every Linux architecture Go supports (the kernel exports
// it to user space as a constant, whatever CONFIG_HZ is).
const clockTicks = 100

// treeSample is what a process tree had used and held at one moment.
type treeSample struct {
	// CPU is user+system time of every live process of the tree (all its
	// threads) plus what its reaped children used (cutime+cstime): the
	// difference of two samples is the tree's CPU over that interval,
	// whatever ran or exited in between.
	CPU time.Duration
	// RSSKiB sums VmRSS over the tree (shared pages counted once per
	// process), PSSKiB sums Pss (shared pages split between their users),
	// HWMKiB sums VmHWM (each process's peak RSS).
	RSSKiB, PSSKiB, HWMKiB int64
	// Procs is the number of live processes in the tree.
	Procs int
}

// procInfo is the part of /proc/<pid>/stat the sampler needs.
type procInfo struct {
	pid, ppid int
	cpuTicks  int64 // utime+stime+cutime+cstime
}

// readStat parses /proc/<pid>/stat. The command name is in parentheses
// and may itself hold spaces and parentheses: fields are counted after
// the last ')'.
func readStat(pid int) (procInfo, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procInfo{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procInfo{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
	if len(f) < 15 {
		return procInfo{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	p := procInfo{pid: pid}
	if p.ppid, err = strconv.Atoi(f[1]); err != nil {
		return procInfo{}, fmt.Errorf("/proc/%d/stat: ppid: %w", pid, err)
	}
	for _, s := range f[11:15] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return procInfo{}, fmt.Errorf("/proc/%d/stat: cpu times: %w", pid, err)
		}
		p.cpuTicks += n
	}
	return p, nil
}

// allProcs reads the stat line of every process; processes that exit
// while it reads are left out.
func allProcs() []procInfo {
	ents, _ := os.ReadDir("/proc")
	out := make([]procInfo, 0, len(ents))
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, err := readStat(pid); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// treeOf returns roots and all their live descendants.
func treeOf(procs []procInfo, roots []int) []procInfo {
	children := map[int][]procInfo{}
	byPID := map[int]procInfo{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p)
		byPID[p.pid] = p
	}
	var out []procInfo
	seen := map[int]bool{}
	var walk func(p procInfo)
	walk = func(p procInfo) {
		if seen[p.pid] {
			return
		}
		seen[p.pid] = true
		out = append(out, p)
		for _, c := range children[p.pid] {
			walk(c)
		}
	}
	for _, r := range roots {
		if p, ok := byPID[r]; ok {
			walk(p)
		}
	}
	return out
}

// sampleTrees samples the process trees under roots (one tree each,
// summed).
func sampleTrees(roots ...int) treeSample {
	var s treeSample
	for _, p := range treeOf(allProcs(), roots) {
		s.CPU += time.Duration(p.cpuTicks) * time.Second / clockTicks
		rss, hwm := statusKiB(p.pid)
		s.RSSKiB += rss
		s.HWMKiB += hwm
		s.PSSKiB += pssKiB(p.pid)
		s.Procs++
	}
	return s
}

// statusKiB reads VmRSS and VmHWM from /proc/<pid>/status (0 for a
// process that exited or a kernel thread).
func statusKiB(pid int) (rss, hwm int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := kibField(sc.Text(), "VmRSS:"); ok {
			rss = v
		} else if v, ok := kibField(sc.Text(), "VmHWM:"); ok {
			hwm = v
		}
	}
	return rss, hwm
}

// pssKiB reads Pss from /proc/<pid>/smaps_rollup (0 where unavailable).
func pssKiB(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := kibField(sc.Text(), "Pss:"); ok {
			return v
		}
	}
	return 0
}

// kibField parses a "Name:   1234 kB" line.
func kibField(line, name string) (int64, bool) {
	if !strings.HasPrefix(line, name) {
		return 0, false
	}
	f := strings.Fields(line[len(name):])
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseInt(f[0], 10, 64)
	return v, err == nil
}

// childrenNamed lists the live children of parent whose command line
// contains substr (how the harness finds the reference server that
// sdktest.Launch started).
func childrenNamed(parent int, substr string) []int {
	var out []int
	for _, p := range allProcs() {
		if p.ppid != parent {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.pid), "cmdline"))
		if bytes.Contains(cmdline, []byte(substr)) {
			out = append(out, p.pid)
		}
	}
	return out
}

// machineCPU is the machine's busy and total CPU time from /proc/stat
// (all CPUs): the difference of two samples tells how loaded the machine
// was, other programs included.
type machineCPU struct{ busy, total int64 }

func sampleMachine() machineCPU {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return machineCPU{}
	}
	var m machineCPU
	for i, s := range f[1:] {
		n, _ := strconv.ParseInt(s, 10, 64)
		if i >= 8 { // guest times are already in user/nice
			break
		}
		m.total += n
		if i != 3 && i != 4 { // idle, iowait
			m.busy += n
		}
	}
	return m
}

// busyCores is how many cores were busy on average between a and b.
func busyCores(a, b machineCPU, wall time.Duration) float64 {
	if b.total <= a.total || wall <= 0 {
		return 0
	}
	return float64(b.busy-a.busy) / clockTicks / wall.Seconds()
}
