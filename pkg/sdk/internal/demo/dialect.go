package demo

import (
	"encoding/json"
	"fmt"
)

// Dialect is the generation of the mediasoup-demo wire protocol a server
// speaks. Both share protoo framing but differ in field names, response
// wrapping and whether control methods are requests or notifications.
type Dialect int

const (
	// DialectUnknown is the zero value, before GetRouterRtpCapabilities.
	DialectUnknown Dialect = iota
	// DialectJS is the 2019-2024 JavaScript server (server/lib/Room.js).
	DialectJS
	// DialectTS is the TypeScript rewrite (server/src/Room.ts).
	DialectTS
)

func (d Dialect) String() string {
	switch d {
	case DialectJS:
		return "js"
	case DialectTS:
		return "ts"
	default:
		return "unknown"
	}
}

// detectDialect reads the getRouterRtpCapabilities response: the TS server
// wraps the capabilities in {routerRtpCapabilities}, the JS one returns
// them raw. It returns the capabilities JSON either way.
func detectDialect(raw json.RawMessage) (Dialect, json.RawMessage, error) {
	var probe struct {
		Wrapped json.RawMessage `json:"routerRtpCapabilities"`
		Codecs  json.RawMessage `json:"codecs"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return DialectUnknown, nil, fmt.Errorf("router capabilities: %w", err)
	}
	switch {
	case len(probe.Wrapped) > 0:
		return DialectTS, probe.Wrapped, nil
	case len(probe.Codecs) > 0:
		return DialectJS, raw, nil
	default:
		return DialectUnknown, nil, fmt.Errorf("router capabilities: neither codecs nor routerRtpCapabilities in response")
	}
}

// firstNonEmpty picks the id field each dialect uses.
func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
