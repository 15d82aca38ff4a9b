package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/callctl/callctl/cmd/internal/ctlsock"
	"github.com/callctl/callctl/pkg/sdk"
)

// Control protocol commands served by `callctl join` (see ctlsock for the
// framing): info, mute, unmute, stats, leave.

// Error codes of control commands, in ctlsock.Error.Code and in the
// "error" of a command's JSON result.
const (
	codeNoSession        = "no_session"        // no such running session (exit 6)
	codeAmbiguousSession = "ambiguous_session" // several run, --session omitted (exit 6)
	codeSessionEnded     = "session_ended"     // it exited before answering (exit 6)
	codeNotPublished     = "not_published"     // mute/unmute of a kind the session does not send (exit 8)
	codeNotJoined        = "not_joined"        // not in the call (yet, or any more) (exit 8)
	codeNoDataChannel    = "no_data_channel"   // send to a session joined without --data (exit 8)
	codeServerError      = "server_error"      // the signaling server rejected the request (exit 8)
	codeFailed           = "failed"            // the session could not carry the command out (exit 8)
	codeTimeout          = "timeout"           // no answer within --timeout (exit 1)
	codeError            = "error"             // anything else (exit 1)
)

// sessionInfo answers "info": what `callctl sessions` lists.
type sessionInfo struct {
	Name         string         `json:"name"`
	Room         string         `json:"room"`
	User         string         `json:"user"`
	DisplayName  string         `json:"displayName"`
	Server       string         `json:"server"`
	PID          int            `json:"pid"`
	Started      time.Time      `json:"started"`
	Status       string         `json:"status"`
	Participants int            `json:"participants"`
	Producers    []producerInfo `json:"producers"`
}

type producerInfo struct {
	Kind       string `json:"kind"`
	ProducerID string `json:"producerId"`
	Paused     bool   `json:"paused"`
}

// muteArgs are the arguments of "mute" and "unmute".
type muteArgs struct {
	Kind string `json:"kind"`
}

// muteResult answers "mute" and "unmute".
type muteResult struct {
	Kind       string `json:"kind"`
	ProducerID string `json:"producerId"`
	Muted      bool   `json:"muted"`
	// Changed is false when the producer already was in that state.
	Changed bool `json:"changed"`
}

// sendArgs are the arguments of "send".
type sendArgs struct {
	Text string `json:"text"`
}

// sendResult answers "send".
type sendResult struct {
	Label string `json:"label"`
	Bytes int    `json:"bytes"`
}

// leaveResult answers "leave".
type leaveResult struct {
	Leaving bool `json:"leaving"`
}

// resultHeader starts every JSON result of a control command.
type resultHeader struct {
	V       int          `json:"v"`
	OK      bool         `json:"ok"`
	Cmd     string       `json:"cmd"`
	Session string       `json:"session,omitempty"`
	Error   *resultError `json:"error,omitempty"`
}

type resultError struct {
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	ExitCode int      `json:"exitCode"`
	Sessions []string `json:"sessions,omitempty"`
}

func okHeader(cmd, session string) resultHeader {
	return resultHeader{V: SchemaVersion, OK: true, Cmd: cmd, Session: session}
}

// controlError is a failed control command: it becomes an ok:false
// result on stdout, a message on stderr and an exit code.
type controlError struct {
	code     string
	msg      string
	exit     int
	sessions []string
}

func (e *controlError) Error() string { return e.msg }

// classify maps whatever a control command ran into to its code.
func classify(err error) *controlError {
	var ce *controlError
	var ns *ctlsock.NoSessionError
	var pe *ctlsock.Error
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.As(err, &ns):
		return &controlError{code: codeNoSession, msg: err.Error(), exit: ExitNoSession}
	case errors.Is(err, ctlsock.ErrSessionEnded):
		return &controlError{code: codeSessionEnded, msg: err.Error(), exit: ExitNoSession}
	case errors.As(err, &pe) && pe.Code == codeNoParticipant:
		return &controlError{code: pe.Code, msg: pe.Message, exit: ExitNoSession}
	case errors.Is(err, context.DeadlineExceeded):
		return &controlError{code: codeTimeout, msg: "no answer from the session in time (see --timeout)", exit: ExitError}
	case errors.As(err, &pe):
		switch pe.Code {
		case codeNotPublished, codeNotJoined, codeNoDataChannel, codeServerError, codeFailed:
			return &controlError{code: pe.Code, msg: pe.Message, exit: ExitRefused}
		}
		return &controlError{code: pe.Code, msg: pe.Message, exit: ExitError}
	default:
		return &controlError{code: codeError, msg: err.Error(), exit: ExitError}
	}
}

// controlOptions are the flags every control command shares.
type controlOptions struct {
	session string
	timeout time.Duration
	// participant targets one participant of a fleet session (stats,
	// mute, unmute, leave); empty means the whole session.
	participant string
}

// addParticipantFlag adds --participant (commands a fleet serves per
// participant).
func (o *controlOptions) addParticipantFlag(c *cobra.Command) {
	c.Flags().StringVar(&o.participant, "participant", "", participantFlagHelp)
}

// connectTarget connects like connect and, with --participant, checks
// that the session is a fleet.
func (o *controlOptions) connectTarget(ctx context.Context) (*ctlsock.Client, string, error) {
	cl, name, err := o.connect()
	if err != nil || o.participant == "" {
		return cl, name, err
	}
	if err := requireFleet(ctx, cl, name); err != nil {
		cl.Close()
		return nil, name, err
	}
	return cl, name, nil
}

func (o *controlOptions) addFlags(c *cobra.Command) {
	c.Flags().StringVar(&o.session, "session", "", "session to control (default: the only running one; see callctl sessions)")
	c.Flags().DurationVar(&o.timeout, "timeout", 20*time.Second, "give up waiting for the session after this long")
}

// resolveSession picks the session to talk to: the named one, else the
// only live one.
func resolveSession(flag string, live []string) (string, error) {
	if flag != "" {
		if err := ctlsock.ValidateName(flag); err != nil {
			return "", &usageError{fmt.Errorf("--session: %w", err)}
		}
		return flag, nil
	}
	switch len(live) {
	case 0:
		return "", &controlError{code: codeNoSession, exit: ExitNoSession,
			msg: "no running session (start one with callctl join)"}
	case 1:
		return live[0], nil
	default:
		return "", &controlError{code: codeAmbiguousSession, exit: ExitNoSession, sessions: live,
			msg: fmt.Sprintf("%d sessions are running (%s): pick one with --session", len(live), strings.Join(live, ", "))}
	}
}

// connect resolves and dials the session.
func (o *controlOptions) connect() (*ctlsock.Client, string, error) {
	dir, err := ctlsock.Dir()
	if err != nil {
		return nil, o.session, err
	}
	var live []string
	if o.session == "" {
		if live, err = ctlsock.List(dir); err != nil {
			return nil, "", err
		}
	}
	name, err := resolveSession(o.session, live)
	if err != nil {
		return nil, o.session, err
	}
	c, err := ctlsock.Dial(dir, name)
	return c, name, err
}

// failResult prints err as the command's ok:false result and returns
// the error that carries the exit code (and the stderr message). Usage
// errors print nothing on stdout.
func failResult(io IO, cmd, session string, err error) error {
	var ue *usageError
	if errors.As(err, &ue) {
		return err
	}
	ce := classify(err)
	h := resultHeader{V: SchemaVersion, Cmd: cmd, Session: session, Error: &resultError{
		Code: ce.code, Message: ce.msg, ExitCode: ce.exit, Sessions: ce.sessions,
	}}
	_ = writeResult(io.Out, h)
	return withCode(ce.exit, ce)
}

// errorCode maps an SDK error met while serving a command to a protocol
// error.
func errorCode(cmd string, err error) *ctlsock.Error {
	var se *sdk.ServerError
	switch {
	case errors.Is(err, sdk.ErrNotJoined):
		return ctlsock.Errorf(codeNotJoined, "%s: the session is not in the call", cmd)
	case errors.Is(err, sdk.ErrNoDataChannel):
		return ctlsock.Errorf(codeNoDataChannel, "%s: the session has no data channel (join with --data)", cmd)
	case errors.As(err, &se):
		return ctlsock.Errorf(codeServerError, "%s: %v", cmd, err)
	default:
		return ctlsock.Errorf(codeFailed, "%s: %v", cmd, err)
	}
}
