package cmd

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

// muteCmdResult is the JSON result of `callctl mute` and `callctl unmute`.
type muteCmdResult struct {
	resultHeader
	muteResult
	// Participants are a whole fleet's per-participant results.
	Participants json.RawMessage `json:"participants,omitempty"`
}

// muteRunner runs mute or unmute of kind: runMute, or a test's recorder.
type muteRunner func(ctx context.Context, io IO, verb, kind string, o *controlOptions) error

func newMuteCmds(io IO, run muteRunner) []*cobra.Command {
	return []*cobra.Command{newMuteCmd(io, "mute", run), newMuteCmd(io, "unmute", run)}
}

func newMuteCmd(io IO, verb string, run muteRunner) *cobra.Command {
	o := &controlOptions{}
	short, long := "Stop sending audio or video in a running callctl join",
		`Mute a kind in a running 'callctl join': the producer is paused on the server
(pauseProducer) and no RTP of that kind is sent until unmute. Other
participants see consumer.paused. Muting twice is harmless ("changed":false).`
	if verb == "unmute" {
		short, long = "Resume sending audio or video in a running callctl join",
			`Unmute a kind in a running 'callctl join': the producer is resumed on the
server (resumeProducer) and RTP flows again. Other participants see
consumer.resumed.`
	}
	c := &cobra.Command{
		Use:   verb + " audio|video [--session S]",
		Short: short,
		Long: long + `

Result: {"v":1,"ok":true,"cmd":"` + verb + `","session":"demo-bot1","kind":"audio",
         "producerId":"…","muted":` + fmt.Sprint(verb == "mute") + `,"changed":true}
A kind the session does not publish fails with code "not_published" (exit 8).`,
		Example: "  callctl " + verb + " audio --session demo-bot1",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 || (args[0] != "audio" && args[0] != "video") {
				return &usageError{fmt.Errorf("%s: want exactly one argument, audio or video", verb)}
			}
			return nil
		},
		ValidArgs: []string{"audio", "video"},
		RunE: func(c *cobra.Command, args []string) error {
			return run(c.Context(), io, verb, args[0], o)
		},
	}
	o.addFlags(c)
	o.addParticipantFlag(c)
	return c
}

// runMute asks the session to mute or unmute kind and prints the result.
func runMute(ctx context.Context, io IO, verb, kind string, o *controlOptions) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	cl, name, err := o.connectTarget(ctx)
	if err != nil {
		return failResult(io, verb, name, err)
	}
	defer cl.Close()
	var res struct {
		muteResult
		Participants json.RawMessage `json:"participants,omitempty"`
	}
	if err := cl.Call(ctx, verb, participantArgs(o.participant, kind), &res); err != nil {
		return failResult(io, verb, name, err)
	}
	return writeResult(io.Out, muteCmdResult{resultHeader: okHeader(verb, name), muteResult: res.muteResult, Participants: res.Participants})
}
