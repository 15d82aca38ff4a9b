package fleet

import (
	"github.com/callctl/callctl/pkg/sdk"
)

// validateTalk checks Options.Talk before the plan gives each publisher
// its place in the turns.
func validateTalk(t sdk.Talk) error {
	t.Index, t.Count = 0, 1
	return t.Validate()
}

// talkFor is m's talking pattern: Options.Talk with m's turn among the
// publishers of its room in this fleet (ordered by index) and its id as
// the conversation seed. Publishers of one room in other processes
// (shards) are not counted: run a room's publishers in one process to
// take turns.
func (f *Fleet) talkFor(m Member) sdk.Talk {
	t := f.opts.Talk
	t.Seed = m.ID
	t.Index, t.Count = 0, 0
	for _, p := range f.parts {
		if p.Role != Publisher || p.Room != m.Room {
			continue
		}
		if p.Index < m.Index {
			t.Index++
		}
		t.Count++
	}
	return t
}

// applyTalk wraps a publisher's audio handle for its talking pattern. The
// wrapper's tracks are this publisher's own (around the shared ones), so
// each publisher's silence and audio level are stamped on its bindings
// only, while the shared source encodes once.
func (f *Fleet) applyTalk(m Member, cfg *sdk.Config) error {
	if cfg.Audio == nil {
		return nil
	}
	src := cfg.Audio
	if l, ok := f.opts.Audio.Source().(sdk.AudioLeveler); ok {
		src = leveledHandle{MediaSource: src, level: l}
	}
	out, err := sdk.WithTalk(src, f.talkFor(m))
	if err != nil {
		return err
	}
	cfg.Audio = out
	return nil
}

// leveledHandle gives a shared source's handle the source's audio level.
type leveledHandle struct {
	sdk.MediaSource
	level sdk.AudioLeveler
}

func (h leveledHandle) AudioLevel() uint8 { return h.level.AudioLevel() }

// StampInfo passes the handle's stamps on (embedding the interface
// would hide them).
func (h leveledHandle) StampInfo() (epochMs, periodMs int64) {
	return sdk.StampInfoOf(h.MediaSource)
}
