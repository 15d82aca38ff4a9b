//go:build linux

package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// event is one NDJSON line of a callctl process, as the harness keeps it.
type event struct {
	Type string
	// Participant is the fleet's participant tag (envelope or data field
	// "participant"); empty for a join process.
	Participant string
	At          time.Time // when the harness read the line
	Data        map[string]any
}

// keptTypes are the event types a proc stores; the rest (per-packet
// chatter of big fleets) is counted and dropped.
var keptTypes = map[string]bool{
	"joined": true, "producer.created": true, "consumer.media": true, "stats": true,
	"fleet.stats": true, "error": true, "left": true, "expect.passed": true, "expect.failed": true,
}

// maxStderr bounds the stderr a proc keeps (the tail, for error messages).
const maxStderr = 16 << 10

// proc is one callctl process whose stdout is NDJSON.
type proc struct {
	name    string
	cmd     *exec.Cmd
	started time.Time
	exited  chan struct{}

	mu      sync.Mutex
	events  []event
	lines   int
	stderr  []byte
	waitErr error
}

// startProc starts bin with args and reads its stdout in the background.
func startProc(name, bin string, args ...string) (*proc, error) {
	p := &proc{name: name, cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	// Not the harness's process group: a Ctrl-C on make bench reaches the
	// harness, which stops its processes itself.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p.cmd.Stderr = stderrWriter{p}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20) // fleet.stats lines can be long
		for sc.Scan() {
			p.add(sc.Bytes())
		}
	}()
	go func() {
		<-read // Wait closes the pipe: read it to the end first
		err := p.cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(p.exited)
	}()
	return p, nil
}

type stderrWriter struct{ p *proc }

func (w stderrWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	w.p.stderr = append(w.p.stderr, b...)
	if n := len(w.p.stderr); n > maxStderr {
		w.p.stderr = append([]byte(nil), w.p.stderr[n-maxStderr:]...)
	}
	return len(b), nil
}

func (p *proc) add(line []byte) {
	var env struct {
		Type        string         `json:"type"`
		Participant string         `json:"participant"`
		Data        map[string]any `json:"data"`
	}
	now := time.Now()
	if err := json.Unmarshal(line, &env); err != nil {
		return
	}
	if env.Participant == "" {
		env.Participant, _ = env.Data["participant"].(string)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines++
	if keptTypes[env.Type] {
		p.events = append(p.events, event{Type: env.Type, Participant: env.Participant, At: now, Data: env.Data})
	}
}

// find returns the kept events of type typ (all of them for "").
func (p *proc) find(typ string) []event {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []event
	for _, e := range p.events {
		if typ == "" || e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) stderrTail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.TrimSpace(string(p.stderr))
}

// exitedEarly reports an error when the process has already ended.
func (p *proc) exitedEarly() error {
	select {
	case <-p.exited:
		p.mu.Lock()
		defer p.mu.Unlock()
		why := lastLines(string(p.stderr), 5)
		for _, typ := range []string{"left", "error"} { // the error first
			for i := len(p.events) - 1; i >= 0; i-- {
				if e := p.events[i]; e.Type == typ {
					j, _ := json.Marshal(e.Data)
					why = typ + " " + string(j) + "; " + why
					break
				}
			}
		}
		return fmt.Errorf("%s exited (%v): %s", p.name, p.waitErr, why)
	default:
		return nil
	}
}

// stop asks the process to leave (SIGINT: a graceful leave for join and
// fleet) and waits for it, killing it after grace.
func (p *proc) stop(grace time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s: killed, no exit %s after SIGINT", p.name, grace)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var ee *exec.ExitError
	if p.waitErr != nil && !errors.As(p.waitErr, &ee) {
		return p.waitErr
	}
	return nil
}

// waitUntil polls cond every 50 ms until it holds, ctx ends (error with
// what and cond's last detail) or one of procs exits.
func waitUntil(ctx context.Context, what string, cond func() (bool, string), procs ...*proc) error {
	for {
		ok, detail := cond()
		if ok {
			return nil
		}
		for _, p := range procs {
			if err := p.exitedEarly(); err != nil {
				return fmt.Errorf("waiting for %s: %w", what, err)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for %s (%s)", what, detail)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
