package fleet

import (
	"context"
	"fmt"

	"github.com/callctl/callctl/pkg/sdk"
)

// MuteResult is what muting (or unmuting) one participant did.
type MuteResult struct {
	Participant string `json:"participant"`
	ProducerID  string `json:"producerId"`
	Muted       bool   `json:"muted"`
	Changed     bool   `json:"changed"`
	// Err is why it could not be done (Error is its message).
	Err   error  `json:"-"`
	Error string `json:"error,omitempty"`
}

// ErrNotPublished is returned when muting a kind a participant does not
// send.
var ErrNotPublished = fmt.Errorf("fleet: kind not published")

// Mute pauses (mute=true) or resumes the kind ("audio" or "video") of one
// participant (id), or of every publisher in a call (id ""). The
// participants' own results come back in plan order; the error is set
// only when id names no participant.
func (f *Fleet) Mute(ctx context.Context, id, kind string, mute bool) ([]MuteResult, error) {
	parts := f.parts
	if id != "" {
		p := f.byID[id]
		if p == nil {
			return nil, fmt.Errorf("%w: %q", ErrNoParticipant, id)
		}
		parts = []*participant{p}
	}
	var out []MuteResult
	for _, p := range parts {
		if id == "" && (p.Role != Publisher || !p.getState().inCall()) {
			continue
		}
		out = append(out, p.mute(ctx, kind, mute))
	}
	return out, nil
}

func (p *participant) mute(ctx context.Context, kind string, mute bool) MuteResult {
	res := MuteResult{Participant: p.ID}
	fail := func(err error) MuteResult {
		res.Err, res.Error = err, err.Error()
		return res
	}
	c := p.getClient()
	if c == nil {
		return fail(sdk.ErrNotJoined)
	}
	before, ok := producerOf(c.State().Snapshot(), kind)
	if !ok {
		return fail(fmt.Errorf("%w: %s does not publish %s", ErrNotPublished, p.ID, kind))
	}
	enable := c.EnableAudio
	if kind == "video" {
		enable = c.EnableVideo
	}
	if err := enable(ctx, !mute); err != nil {
		return fail(err)
	}
	after, ok := producerOf(c.State().Snapshot(), kind)
	if !ok {
		return fail(sdk.ErrNotJoined)
	}
	res.ProducerID, res.Muted, res.Changed = after.ID, after.Paused, before.Paused != after.Paused
	return res
}

func producerOf(st sdk.CallState, kind string) (sdk.ProducerState, bool) {
	for _, p := range st.Producers {
		if p.Kind == kind {
			return p, true
		}
	}
	return sdk.ProducerState{}, false
}
