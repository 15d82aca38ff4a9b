package cmd

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/callctl/callctl/pkg/sdk"
)

// talkOptions are the talking-pattern flags of join and fleet (--talk …).
type talkOptions struct {
	mode         string
	turn         time.Duration
	index, count int  // join only: this publisher's turn among count
	fleet        bool // index and count come from the fleet's plan
}

// addFlags registers the flags; a fleet numbers its publishers itself.
func (t *talkOptions) addFlags(f *pflag.FlagSet, fleet bool) {
	t.fleet = fleet
	f.StringVar(&t.mode, "talk", sdk.TalkAlways, "when publishers speak: always, turns (round-robin slots of --talk-turn from the wall clock) or conversation (random talk spurts, mean 1.5 s, and pauses, mean 3 s); silent publishers send silence")
	f.DurationVar(&t.turn, "talk-turn", sdk.DefaultTalkTurn, "slot length of --talk turns")
	if !fleet {
		f.IntVar(&t.index, "talk-index", 0, "--talk turns: this publisher speaks in slots ≡ INDEX mod --talk-count (0-based)")
		f.IntVar(&t.count, "talk-count", 1, "--talk turns: how many publishers of the room take turns")
	}
}

// talk is the SDK pattern for the participant seed (its peer id).
func (t *talkOptions) talk(seed string) sdk.Talk {
	return sdk.Talk{Mode: t.mode, Turn: t.turn, Index: t.index, Count: t.count, Seed: seed}
}

// validate checks the flags (a fleet's index and count are its own).
func (t *talkOptions) validate() error {
	tk := t.talk("")
	if t.fleet {
		tk.Index, tk.Count = 0, 1
	}
	if err := tk.Validate(); err != nil {
		return &usageError{fmt.Errorf("--talk: %w", err)}
	}
	return nil
}

// wrap makes a join's audio source talk by the flags (and carry its
// audio level); validate has accepted them.
func (t *talkOptions) wrap(src sdk.MediaSource, seed string) sdk.MediaSource {
	out, err := sdk.WithTalk(src, t.talk(seed))
	if err != nil {
		return src // unreachable after validate
	}
	return out
}
