package cmd

import (
	"bufio"
	"encoding/json"
	"io"
	"sync"
	"time"
)

// SchemaVersion is the major version of the NDJSON event and result
// schema (docs/events.md). It changes only by adding fields and types.
const SchemaVersion = 1

// envelope wraps every event on stdout.
type envelope struct {
	V       int    `json:"v"`
	TS      string `json:"ts"`
	Seq     uint64 `json:"seq"`
	Session string `json:"session"`
	// Participant tags the events of one participant of a fleet (schema
	// v1, additive); absent for join and for the fleet's own events.
	Participant string `json:"participant,omitempty"`
	Type        string `json:"type"`
	Data        any    `json:"data"`
}

// printer is the only writer of stdout: one compact JSON object per line,
// flushed per line.
type printer struct {
	mu      sync.Mutex
	w       *bufio.Writer
	enc     *json.Encoder
	seq     uint64
	session string
	now     func() time.Time
	err     error
	ended   bool          // "left" was written: it stays the last line
	broken  chan struct{} // closed on the first write error (reader gone)
}

func newPrinter(w io.Writer, session string) *printer {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &printer{w: bw, enc: enc, session: session, now: time.Now, broken: make(chan struct{})}
}

// Broken is closed once stdout can no longer be written (e.g. the reader
// of a pipe exited): join then leaves gracefully.
func (p *printer) Broken() <-chan struct{} { return p.broken }

func (p *printer) fail(err error) {
	if p.err == nil {
		p.err = err
		close(p.broken)
	}
}

// event writes one event line. A write error (reader gone) is remembered
// and returned by every later call. Nothing is written after "left".
func (p *printer) event(typ string, data any) error { return p.write("", typ, data) }

// write writes one event line, tagged with participant when not empty. A
// participant's own "left" does not end the stream: only the session's
// does.
func (p *printer) write(participant, typ string, data any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	if p.ended {
		return nil
	}
	p.ended = typ == "left" && participant == ""
	p.seq++
	if data == nil {
		data = struct{}{}
	}
	env := envelope{V: SchemaVersion, TS: p.now().UTC().Format(time.RFC3339Nano), Seq: p.seq,
		Session: p.session, Participant: participant, Type: typ, Data: data}
	if err := p.enc.Encode(env); err != nil {
		p.fail(err)
		return err
	}
	if err := p.w.Flush(); err != nil {
		p.fail(err)
	}
	return p.err
}

// result writes one JSON result object (control commands).
func writeResult(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
