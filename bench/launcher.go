//go:build linux

package bench

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// launcher starts groups of participants with the callctl binary: as one
// `callctl fleet` process when the binary has that command, else as one
// `callctl join` process per participant (the stand-in until fleet lands).
type launcher struct {
	bin    string
	server string // ws:// URL
	// fleet: `callctl fleet --help` succeeded and lists --publishers.
	fleet bool
	// fleetRoomFlag: fleet takes --room (the room prefix); without it the
	// rooms are "fleet-<i>".
	fleetRoomFlag bool
	clips         string // directory of `callctl clips`
}

// detectFleet asks the binary whether it has the fleet command.
func detectFleet(bin string) (fleet, roomFlag bool) {
	out, err := exec.Command(bin, "fleet", "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--publishers") {
		return false, false
	}
	return true, strings.Contains(string(out), "--room ")
}

func (l *launcher) mode() string {
	if l.fleet {
		return "callctl fleet (one process)"
	}
	return "callctl join (one process per participant; stand-in for callctl fleet)"
}

// media is what a group's publishers send.
type media int

const (
	mediaReplay media = iota // the 3-layer clip set plus Opus, pre-encoded
	mediaLive                // live-encoded test picture plus tone
)

// groupSpec is one group of participants, all in one room.
type groupSpec struct {
	room                    string // with fleet: the room prefix (room <room>-0)
	prefix                  string
	publishers, subscribers int
	media                   media
	decode                  bool    // subscribers decode what they receive
	joinRate                float64 // joins per second
}

// roomName is the room the group's participants join.
func (l *launcher) roomName(s groupSpec) string {
	if l.fleet && !l.fleetRoomFlag {
		return "fleet-0"
	}
	if l.fleet {
		return s.room + "-0"
	}
	return s.room
}

// group is a running group of participants.
type group struct {
	procs []*proc
}

func (g *group) pids() []int {
	out := make([]int, len(g.procs))
	for i, p := range g.procs {
		out[i] = p.pid()
	}
	return out
}

// mediaStarted counts the (participant, kind) pairs that received a first
// RTP packet (consumer.media) of kind.
func (g *group) mediaStarted(kind string) int {
	seen := map[string]bool{}
	for _, p := range g.procs {
		for _, e := range p.find("consumer.media") {
			if e.Data["kind"] == kind {
				seen[p.name+"/"+e.Participant+"/"+fmt.Sprint(e.Data["consumerId"])] = true
			}
		}
	}
	return len(seen)
}

// stop stops every process (all signalled at once, then waited for).
func (g *group) stop() error {
	errs := make(chan error, len(g.procs))
	for _, p := range g.procs {
		go func() { errs <- p.stop(20 * time.Second) }()
	}
	var first error
	for range g.procs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (g *group) exitedEarly() error {
	for _, p := range g.procs {
		if err := p.exitedEarly(); err != nil {
			return err
		}
	}
	return nil
}

// start launches the group. Join processes are started at the join rate.
func (l *launcher) start(ctx context.Context, s groupSpec) (*group, error) {
	g := &group{}
	if l.fleet {
		p, err := startProc(s.prefix+"-fleet", l.bin, l.fleetArgs(s)...)
		if err != nil {
			return nil, err
		}
		g.procs = append(g.procs, p)
		return g, nil
	}
	pace := time.Duration(float64(time.Second) / s.joinRate)
	next := time.Now()
	add := func(name string, args []string) error {
		select { // pacing the joins, as --join-rate does in a fleet
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(next)):
		}
		next = next.Add(pace)
		p, err := startProc(name, l.bin, args...)
		if err != nil {
			return err
		}
		g.procs = append(g.procs, p)
		return nil
	}
	for i := 0; i < s.publishers; i++ {
		if err := add(fmt.Sprintf("%s-p%d", s.prefix, i), l.publisherArgs(s, i)); err != nil {
			_ = g.stop()
			return nil, err
		}
	}
	for i := 0; i < s.subscribers; i++ {
		if err := add(fmt.Sprintf("%s-s%d", s.prefix, i), l.subscriberArgs(s, i)); err != nil {
			_ = g.stop()
			return nil, err
		}
	}
	return g, nil
}

// statsInterval for measured participants: rare enough to cost nothing
// measurable, and one is always emitted at leave.
const statsInterval = "5s"

func (l *launcher) fleetArgs(s groupSpec) []string {
	args := []string{"fleet", "--server", l.server, "--rooms", "1",
		"--publishers", strconv.Itoa(s.publishers), "--subscribers", strconv.Itoa(s.subscribers),
		"--prefix", s.prefix, "--join-rate", strconv.FormatFloat(s.joinRate, 'f', -1, 64),
		"--subscribe", "all", "--stats-interval", statsInterval}
	if l.fleetRoomFlag {
		args = append(args, "--room", s.room)
	}
	if s.publishers == 0 {
		args = append(args, "--video", "none", "--audio", "none")
	} else {
		args = append(args, l.sourceArgs(s.media, true)...)
	}
	if s.decode {
		args = append(args, "--decode")
	}
	return args
}

func (l *launcher) publisherArgs(s groupSpec, i int) []string {
	args := []string{"join", "--server", l.server, "--room", s.room, "--user", fmt.Sprintf("%s-p%d", s.prefix, i),
		"--consume", "none", "--stats-interval", statsInterval, "--log-level", "warn"}
	return append(args, l.sourceArgs(s.media, false)...)
}

func (l *launcher) subscriberArgs(s groupSpec, i int) []string {
	args := []string{"join", "--server", l.server, "--room", s.room, "--user", fmt.Sprintf("%s-s%d", s.prefix, i),
		"--video", "none", "--audio", "none", "--stats-interval", statsInterval, "--log-level", "warn"}
	if !s.decode {
		args = append(args, "--no-decode")
	}
	return args
}

// sourceArgs selects what publishers send. Live video in join processes
// is H264 (openh264): each process encodes its own three layers, and
// libvpx VP8 (about 0.2 core per 360p simulcast in this mediadevices
// release) would saturate the machine at 10 publishers; a fleet encodes
// each layer once for everybody, with its default codec.
func (l *launcher) sourceArgs(m media, fleet bool) []string {
	if m == mediaLive {
		if fleet {
			return []string{"--video", "test", "--audio", "tone"}
		}
		return []string{"--video", "test", "--codec", "h264", "--audio", "tone"}
	}
	return []string{"--video", "file:" + l.clips, "--audio", "file:" + l.clips + "/callctl.ogg"}
}

// startJoin starts one helper participant outside any measured group
// (the monitor, the Chromium page's companion, the first-frame probe).
func (l *launcher) startJoin(name, room string, extra ...string) (*proc, error) {
	args := append([]string{"join", "--server", l.server, "--room", room, "--user", name, "--log-level", "warn"}, extra...)
	return startProc(name, l.bin, args...)
}
