package ctlsock

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Version is the protocol version carried in every message ("v").
const Version = 1

// MaxLine caps one request line (the newline excluded).
const MaxLine = 64 << 10

// MaxResponse caps one response line: a stats sample of a large call is
// bigger than a request.
const MaxResponse = 16 << 20

// Request is one line from a client:
//
//	{"v":1,"id":1,"cmd":"mute","args":{"kind":"audio"}}
type Request struct {
	V    int             `json:"v"`
	ID   uint64          `json:"id"`
	Cmd  string          `json:"cmd"`
	Args json.RawMessage `json:"args,omitempty"`
}

// Response answers the request with the same id:
//
//	{"v":1,"id":1,"ok":true,"result":{...}}
//	{"v":1,"id":1,"ok":false,"error":{"code":"not_published","message":"..."}}
type Response struct {
	V      int             `json:"v"`
	ID     uint64          `json:"id"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// Error is a failed request. Code is a stable identifier; Message is for
// people.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Protocol-level error codes. Commands add their own.
const (
	CodeBadRequest     = "bad_request"     // not JSON, wrong version, missing cmd, bad args
	CodeUnknownCommand = "unknown_command" // cmd is not served
	CodeTooLarge       = "too_large"       // the line exceeds MaxLine; the connection is closed
	CodeInternal       = "internal"        // the handler failed unexpectedly
)

// Errorf builds an *Error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrLineTooLong is returned by readLine for a line over the cap.
var ErrLineTooLong = errors.New("control message too long")

// readLine reads one '\n'-terminated line of at most max bytes (without
// the newline; a trailing '\r' is dropped). At EOF after a partial line
// it returns io.ErrUnexpectedEOF.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > max+1 { // +1: the newline itself
			return nil, ErrLineTooLong
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			line = line[:len(line)-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// writeLine writes v as one compact JSON line.
func writeLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
