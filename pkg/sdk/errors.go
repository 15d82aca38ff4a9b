package sdk

import (
	"errors"
	"fmt"

	"github.com/callctl/callctl/pkg/sdk/internal/demo"
	"github.com/callctl/callctl/pkg/sdk/internal/protoo"
)

var (
	// ErrNotJoined is returned by calls that need a joined call.
	ErrNotJoined = errors.New("not in a call")
	// ErrAlreadyJoined is returned by JoinCall on a client already in a call.
	ErrAlreadyJoined = errors.New("client already joined a call (a Client joins once)")
	// ErrClosedByServer means the server ended the session for good
	// (protoo close code 4000).
	ErrClosedByServer = protoo.ErrClosedByServer
	// ErrConnectionLost means the signaling connection dropped.
	ErrConnectionLost = protoo.ErrClosed
	// ErrTransportFailed means a media transport's ICE or DTLS failed.
	ErrTransportFailed = errors.New("media transport failed")
	// ErrNoSource means EnableAudio/EnableVideo(true) was called without a
	// configured source for that kind.
	ErrNoSource = errors.New("no media source configured")
)

// ServerError is an error response from the signaling server: the
// request's Method, the server's error Code and Reason.
type ServerError = demo.ServerError

// ConnectError means the signaling server could not be reached.
type ConnectError struct {
	URL string
	Err error
}

func (e *ConnectError) Error() string { return fmt.Sprintf("connect to %s: %v", e.URL, e.Err) }
func (e *ConnectError) Unwrap() error { return e.Err }

// JoinError means the server or the media negotiation refused the join.
type JoinError struct {
	Step string
	Err  error
}

func (e *JoinError) Error() string { return fmt.Sprintf("join: %s: %v", e.Step, e.Err) }
func (e *JoinError) Unwrap() error { return e.Err }
