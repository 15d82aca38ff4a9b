package cmd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/callctl/callctl/pkg/sdk"
)

// The published schemas (docs/schema) are checked against every stdout
// line the e2e tests read: join's events (in start) and the control
// commands' results (in ctl).
var schemas struct {
	once            sync.Once
	events, results *jsonschema.Schema
	err             error
}

func loadSchemas() (events, results *jsonschema.Schema, err error) {
	schemas.once.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		for _, name := range []string{"events.v1.json", "results.v1.json"} {
			f, err := os.Open(filepath.Join("..", "docs", "schema", name))
			if err != nil {
				schemas.err = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(f)
			f.Close()
			if err != nil {
				schemas.err = err
				return
			}
			if err := c.AddResource("https://callctl.dev/schema/"+name, doc); err != nil {
				schemas.err = err
				return
			}
		}
		if schemas.events, schemas.err = c.Compile("https://callctl.dev/schema/events.v1.json"); schemas.err != nil {
			return
		}
		schemas.results, schemas.err = c.Compile("https://callctl.dev/schema/results.v1.json")
	})
	return schemas.events, schemas.results, schemas.err
}

func validateLine(t *testing.T, which string, line []byte) {
	t.Helper()
	events, results, err := loadSchemas()
	if err != nil {
		t.Fatalf("schemas: %v", err)
	}
	s := events
	if which == "result" {
		s = results
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		t.Errorf("%s is not JSON: %v: %s", which, err, line)
		return
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("%s does not match docs/schema: %v\n%s", which, err, line)
	}
	if which == "event" {
		var env struct{ Type string }
		_ = json.Unmarshal(line, &env)
		if !schemaDefines(t, env.Type) {
			t.Errorf("event type %q has no schema in docs/schema/events.v1.json", env.Type)
		}
	}
}

func schemaDefines(t *testing.T, typ string) bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "schema", "events.v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	_ = json.Unmarshal(b, &s)
	_, ok := s.Defs["data."+typ]
	return ok
}

// Every SDK event type and every event the command writes itself is
// defined in the schema and documented in docs/events.md and
// `callctl help events`.
func TestEventTypesDocumented(t *testing.T) {
	types := []string{"stats", "control", "expect.passed", "expect.failed", "left"}
	for _, ev := range []sdk.Event{
		sdk.ConnectionStatusChanged{}, sdk.Joined{}, sdk.ParticipantJoined{}, sdk.ParticipantLeft{},
		sdk.ProducerCreated{}, sdk.ProducerPaused{}, sdk.ProducerResumed{}, sdk.ProducerClosed{},
		sdk.ConsumerCreated{}, sdk.ConsumerPaused{}, sdk.ConsumerResumed{}, sdk.ConsumerClosed{},
		sdk.ConsumerMedia{}, sdk.ConsumerLayersChanged{}, sdk.ActiveSpeaker{}, sdk.TransportStateChanged{},
		sdk.ErrorEvent{}, sdk.Reconnected{}, sdk.ConsumerAdapted{}, sdk.DataMessage{}, sdk.TransportRecovered{}, sdk.ProducerAdapted{},
	} {
		types = append(types, ev.Type())
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "events.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range types {
		if !schemaDefines(t, typ) {
			t.Errorf("%s: not in docs/schema/events.v1.json", typ)
		}
		if !regexp.MustCompile("`" + regexp.QuoteMeta(typ) + "`").Match(doc) {
			t.Errorf("%s: not in docs/events.md", typ)
		}
		if !strings.Contains(eventsHelp, typ) {
			t.Errorf("%s: not in `callctl help events`", typ)
		}
	}
}
