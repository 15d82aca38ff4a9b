package cmd

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callctl/callctl/pkg/fleet"
)

// runFleetRecorded runs `callctl fleet` in-process with a runner that
// only records the parsed options.
func runFleetRecorded(t *testing.T, args ...string) (int, *fleetOptions, string) {
	t.Helper()
	t.Setenv(EnvPrefix+"CONFIG", "")
	var got *fleetOptions
	r := defaultRunners()
	r.fleet = func(_ context.Context, _ IO, _ *slog.Logger, o *fleetOptions) error {
		got = o
		return nil
	}
	var out, errOut bytes.Buffer
	code := runWith(context.Background(), append([]string{"fleet"}, args...), IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, r)
	if out.Len() > 0 {
		t.Errorf("%v: wrote to stdout: %q", args, out.String())
	}
	return code, got, errOut.String()
}

func TestFleetFlags(t *testing.T) {
	code, o, stderr := runFleetRecorded(t, "--server", "ws://127.0.0.1:4443", "--rooms", "3", "--publishers", "4", "--subscribers", "2",
		"--prefix", "lt", "--index-offset", "10", "--join-rate", "2.5", "--subscribe", "video", "--subscribe-peer", "lt-p10",
		"--decode", "--expect-subscribers-decoding", "95", "--expect-within", "20s", "--video", "none")
	if code != 0 || o == nil {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if o.session != "fleet-lt-10" || o.joinRate != 2.5 || !o.decode {
		t.Errorf("session %q, join rate %v, decode %v", o.session, o.joinRate, o.decode)
	}
	ms, err := fleet.Plan(o.planOptions())
	if err != nil || len(ms) != 6 || ms[0].ID != "lt-p10" || ms[0].Room != "fleet-1" || ms[5].ID != "lt-s11" || ms[5].Room != "fleet-2" {
		t.Errorf("plan %v %v", ms, err)
	}
	if c := o.subscribeOptions(); len(c.Kinds) != 1 || c.Kinds[0] != "video" || len(c.Peers) != 1 {
		t.Errorf("subscribe %+v", c)
	}
	if e := o.expectations(); e == nil || e.SubscribersDecodingPercent != 95 || e.Within.Seconds() != 20 {
		t.Errorf("expectations %+v", e)
	}
}

func TestFleetBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--publishers", "1"}, // no --server
		{"--server", "ws://127.0.0.1:1"},
		{"--server", "ws://127.0.0.1:1", "--publishers", "1", "--rooms", "0"},
		{"--server", "ws://127.0.0.1:1", "--publishers", "-1", "--subscribers", "2"},
		{"--server", "ws://127.0.0.1:1", "--publishers", "1", "--index-offset", "-1"},
		{"--server", "ws://127.0.0.1:1", "--publishers", "1", "--join-rate", "-1"},
		{"--server", "ws://127.0.0.1:1", "--subscribers", "1", "--subscribe", "screen"},
		{"--server", "ws://127.0.0.1:1", "--subscribers", "1", "--expect-subscribers-decoding", "95"},              // no --decode
		{"--server", "ws://127.0.0.1:1", "--subscribers", "1", "--decode", "--expect-subscribers-decoding", "101"}, // not a percentage
		{"--server", "ws://127.0.0.1:1", "--subscribers", "1", "--decode", "--expect-subscribers-decoding", "90", "--subscribe", "audio"},
		{"--server", "ws://127.0.0.1:1", "--publishers", "1", "--decode", "--expect-subscribers-decoding", "90"}, // no subscribers
		{"--server", "ws://127.0.0.1:1", "--subscribers", "1", "--expect-within", "5s"},
		{"--server", "ws://127.0.0.1:1", "--publishers", "1", "--stats-interval", "10ms"},
		{"--server", "ws://127.0.0.1:1", "--publishers", "1", "--video", "blue"},
		{"--server", "ws://127.0.0.1:1", "--publishers", "1", "--video", "none", "--audio", "none"},
		{"--server", "ws://127.0.0.1:1", "--publishers", "1", "--prefix", "a b"},
		{"--server", "ws://127.0.0.1:1", "--publishers", "1", "--session", "no/slash"},
	} {
		if code, o, stderr := runFleetRecorded(t, args...); code != ExitUsage || o != nil || stderr == "" {
			t.Errorf("%v: exit %d, ran %v, stderr %q", args, code, o != nil, stderr)
		}
	}
}

// The fleet's own event types are in the schema, the reference and the
// help, like join's (TestEventTypesDocumented).
func TestFleetEventTypesDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "events.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"fleet.stats", "fleet.expect"} {
		if !schemaDefines(t, typ) {
			t.Errorf("%s: not in docs/schema/events.v1.json", typ)
		}
		if !strings.Contains(string(doc), "`"+typ+"`") || !strings.Contains(eventsHelp, typ) {
			t.Errorf("%s: not in docs/events.md or callctl help events", typ)
		}
	}
}
