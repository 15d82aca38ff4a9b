package cmd

// participantEvent writes one event of a fleet participant, tagged with
// its peer id. It shares the printer's sequence and rules (nothing after
// the session's "left"), except that a participant's own "left" does not
// end the stream: only the fleet's does.
func (p *printer) participantEvent(participant, typ string, data any) error {
	return p.write(participant, typ, data)
}
