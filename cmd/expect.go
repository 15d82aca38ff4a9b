package cmd

import (
	"fmt"
	"slices"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
)

// expectations are join's --expect-* flags: the call is a check that
// passes once Participants other participants are present and, from
// Participants of them, video is decodable and audio audible.
type expectations struct {
	Participants int
	Video, Audio bool
	Within       time.Duration
	ExitOnPass   bool
}

// audibleDbfs is the audio level above which received audio counts as
// audible (-127 dBFS is digital silence).
const audibleDbfs = -50

// expectOutcome is one evaluation of the expectations.
type expectOutcome struct {
	// Missing names what does not hold yet, for people:
	// "2 participants (have 1)", "video from bob", "audio from bob".
	// Empty means every expectation holds.
	Missing []string
	// Met are the participants from whom everything expected arrives
	// (every present participant when no media is expected), by id.
	Met []sdk.Participant
	// Present are all other participants, by id.
	Present []sdk.Participant
}

// evaluateExpectations checks e against the other participants and a
// stats sample. Video from a participant is decodable when one of its
// video consumers decoded frames; audio is audible when one of its audio
// consumers decoded samples at a level above -50 dBFS. A consumer whose
// producer is paused counts as neither.
func evaluateExpectations(e expectations, participants map[string]sdk.Participant, stats sdk.CallStats) expectOutcome {
	var out expectOutcome
	ids := make([]string, 0, len(participants))
	for id := range participants {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var lacking []string
	for _, id := range ids {
		p := participants[id]
		if p.ID == "" {
			p.ID = id
		}
		out.Present = append(out.Present, p)
		var miss []string
		if e.Video && !receives(stats, id, decodableVideo) {
			miss = append(miss, "video from "+id)
		}
		if e.Audio && !receives(stats, id, audibleAudio) {
			miss = append(miss, "audio from "+id)
		}
		if len(miss) == 0 {
			out.Met = append(out.Met, p)
		}
		lacking = append(lacking, miss...)
	}
	if len(ids) < e.Participants {
		out.Missing = append(out.Missing, plural(e.Participants, "participant")+fmt.Sprintf(" (have %d)", len(ids)))
	}
	if len(out.Met) < e.Participants {
		out.Missing = append(out.Missing, lacking...)
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func receives(s sdk.CallStats, peer string, ok func(sdk.ConsumerStats) bool) bool {
	for _, c := range s.Consumers {
		if c.PeerID == peer && !c.ProducerPaused && ok(c) {
			return true
		}
	}
	return false
}

func decodableVideo(c sdk.ConsumerStats) bool {
	return c.Kind == "video" && c.FramesDecoded > 0
}

func audibleAudio(c sdk.ConsumerStats) bool {
	return c.Kind == "audio" && c.SamplesDecoded > 0 && c.AudioLevel > audibleDbfs
}

// expectVerdict is what one check of the expectations decided.
type expectVerdict int

const (
	expectPending expectVerdict = iota // not (yet) met, deadline not reached; or already decided
	expectPassed                       // met for the first time: emit expect.passed
	expectFailed                       // deadline reached unmet: emit expect.failed, exit 7
)

// expectResult is the outcome of expectChecker.Check.
type expectResult struct {
	Verdict expectVerdict
	Missing []string          // what does not hold (pending, failed)
	Passed  *expectPassedData // set with expectPassed
	Failed  *expectFailedData // set with expectFailed
}

// expectChecker is the state of join's --expect-* check: it passes or
// fails once, measured from the session's start.
type expectChecker struct {
	e       expectations
	started time.Time
	decided bool
}

func newExpectChecker(e expectations, started time.Time) *expectChecker {
	return &expectChecker{e: e, started: started}
}

// Deadline is when unmet expectations fail.
func (c *expectChecker) Deadline() time.Time { return c.started.Add(c.e.Within) }

// Decided reports whether the check has passed or failed already.
func (c *expectChecker) Decided() bool { return c.decided }

// Check evaluates the expectations at now against the other participants
// and a stats sample (statsErr when none could be taken: then statistics
// are missing). After it has passed or failed once, it stays pending.
func (c *expectChecker) Check(now time.Time, participants map[string]sdk.Participant, stats sdk.CallStats, statsErr error) expectResult {
	if c.decided {
		return expectResult{Verdict: expectPending}
	}
	var res expectOutcome
	if statsErr != nil {
		res.Missing = []string{"statistics (" + statsErr.Error() + ")"}
	} else {
		res = evaluateExpectations(c.e, participants, stats)
	}
	elapsed := now.Sub(c.started).Milliseconds()
	switch {
	case len(res.Missing) == 0:
		c.decided = true
		return expectResult{Verdict: expectPassed, Passed: &expectPassedData{ElapsedMillis: elapsed, Participants: orEmpty(res.Met)}}
	case !now.Before(c.Deadline()):
		c.decided = true
		return expectResult{Verdict: expectFailed, Missing: res.Missing, Failed: &expectFailedData{
			ElapsedMillis: elapsed, WithinMillis: c.e.Within.Milliseconds(), Missing: res.Missing, Participants: orEmpty(res.Present),
		}}
	default:
		return expectResult{Verdict: expectPending, Missing: res.Missing}
	}
}

// expectPassedData is the data of an expect.passed event.
type expectPassedData struct {
	ElapsedMillis int64             `json:"elapsedMs"`
	Participants  []sdk.Participant `json:"participants"`
}

// expectFailedData is the data of an expect.failed event.
type expectFailedData struct {
	ElapsedMillis int64             `json:"elapsedMs"`
	WithinMillis  int64             `json:"withinMs"`
	Missing       []string          `json:"missing"`
	Participants  []sdk.Participant `json:"participants"`
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
