package cmd

import "time"

// participantEnvelope is the envelope of a fleet participant's event: the
// v1 envelope plus the participant's peer id (schema v1, additive).
type participantEnvelope struct {
	V           int    `json:"v"`
	TS          string `json:"ts"`
	Seq         uint64 `json:"seq"`
	Session     string `json:"session"`
	Participant string `json:"participant"`
	Type        string `json:"type"`
	Data        any    `json:"data"`
}

// participantEvent writes one event of a fleet participant, tagged with
// its peer id. It shares the printer's sequence and rules (nothing after
// the session's "left"), except that a participant's own "left" does not
// end the stream: only the fleet's does.
func (p *printer) participantEvent(participant, typ string, data any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	if p.ended {
		return nil
	}
	p.seq++
	if data == nil {
		data = struct{}{}
	}
	env := participantEnvelope{V: SchemaVersion, TS: p.now().UTC().Format(time.RFC3339Nano), Seq: p.seq,
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
