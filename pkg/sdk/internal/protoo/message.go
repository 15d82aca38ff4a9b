// Package protoo implements the client side of the protoo signaling protocol
// used by mediasoup-demo: JSON requests, responses and notifications over a
// WebSocket negotiated with the "protoo" subprotocol.
package protoo

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Message is the union of the three protoo message shapes. Exactly one of
// Request, Response or Notification is true in a valid message.
type Message struct {
	Request      bool            `json:"request,omitempty"`
	Response     bool            `json:"response,omitempty"`
	Notification bool            `json:"notification,omitempty"`
	ID           *uint64         `json:"id,omitempty"`
	Method       string          `json:"method,omitempty"`
	OK           *bool           `json:"ok,omitempty"`
	Data         json.RawMessage `json:"data,omitempty"`
	ErrorCode    int             `json:"errorCode,omitempty"`
	ErrorReason  string          `json:"errorReason,omitempty"`
}

// ErrMalformed is wrapped by every error ParseMessage returns.
var ErrMalformed = errors.New("malformed protoo message")

// ParseMessage decodes and validates one protoo frame.
func ParseMessage(b []byte) (*Message, error) {
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	kinds := 0
	for _, k := range []bool{m.Request, m.Response, m.Notification} {
		if k {
			kinds++
		}
	}
	switch {
	case kinds != 1:
		return nil, fmt.Errorf("%w: not exactly one of request/response/notification", ErrMalformed)
	case (m.Request || m.Response) && m.ID == nil:
		return nil, fmt.Errorf("%w: missing numeric id", ErrMalformed)
	case (m.Request || m.Notification) && m.Method == "":
		return nil, fmt.Errorf("%w: missing method", ErrMalformed)
	}
	return &m, nil
}

// Succeeded reports whether a response is a success. Old protoo servers omit
// "ok" on error responses, so anything but ok:true is an error.
func (m *Message) Succeeded() bool { return m.OK != nil && *m.OK }

// Error is a server's error response to one of our requests.
type Error struct {
	Method string
	Code   int
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: server error %d: %s", e.Method, e.Code, e.Reason)
}

func newRequest(id uint64, method string, data any) ([]byte, error) {
	raw, err := marshalData(data)
	if err != nil {
		return nil, err
	}
	return json.Marshal(Message{Request: true, ID: &id, Method: method, Data: raw})
}

func newNotification(method string, data any) ([]byte, error) {
	raw, err := marshalData(data)
	if err != nil {
		return nil, err
	}
	return json.Marshal(Message{Notification: true, Method: method, Data: raw})
}

func newSuccess(id uint64, data any) ([]byte, error) {
	raw, err := marshalData(data)
	if err != nil {
		return nil, err
	}
	ok := true
	return json.Marshal(Message{Response: true, ID: &id, OK: &ok, Data: raw})
}

func newFailure(id uint64, code int, reason string) ([]byte, error) {
	ok := false
	return json.Marshal(Message{Response: true, ID: &id, OK: &ok, ErrorCode: code, ErrorReason: reason})
}

func marshalData(data any) (json.RawMessage, error) {
	if data == nil {
		return json.RawMessage("{}"), nil
	}
	if raw, ok := data.(json.RawMessage); ok {
		return raw, nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode data: %w", err)
	}
	return b, nil
}
