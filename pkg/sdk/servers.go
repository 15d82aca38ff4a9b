package sdk

import (
	"crypto/sha256"
	"encoding/binary"
	"sort"
)

// Load balancing over several signaling servers (Config.ServerURLs):
// every participant of a room must land on the same server, or the room
// is split in two calls. Rendezvous (highest-random-weight) hashing gives
// each room its own order of the servers from the room name alone, so
// clients agree without talking to each other; when a server goes away
// only its rooms move, and they all move to the same next server.

// serverOrder returns the servers to try for room, best first: the
// rendezvous order when the client balances over ServerURLs, else
// ServerURL followed by the fallbacks.
func (cfg Config) serverOrder(room string) []string {
	if len(cfg.ServerURLs) > 0 {
		return rendezvous(room, cfg.ServerURLs)
	}
	return append([]string{cfg.ServerURL}, cfg.Reconnect.FallbackURLs...)
}

// rendezvous orders servers by a hash of (room, server), highest first.
func rendezvous(room string, servers []string) []string {
	type scored struct {
		url   string
		score uint64
	}
	s := make([]scored, 0, len(servers))
	seen := map[string]bool{}
	for _, u := range servers {
		if seen[u] {
			continue
		}
		seen[u] = true
		h := sha256.Sum256([]byte(room + "\x00" + u))
		s = append(s, scored{u, binary.BigEndian.Uint64(h[:8])})
	}
	sort.Slice(s, func(i, j int) bool {
		if s[i].score != s[j].score {
			return s[i].score > s[j].score
		}
		return s[i].url < s[j].url
	})
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x.url
	}
	return out
}
