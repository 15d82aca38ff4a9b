package sdk

// speakerChanges follows the server's active speaker notifications. The
// JS dialect repeats the loudest peer every observer interval (800 ms on
// the reference server) and reports silence in between; a change is a
// different peer named than the last one named, so neither the
// repetitions nor a silence between two spurts of one peer count.
type speakerChanges struct {
	last    string
	changes int
}

// observe records a notification naming peerID ("" on silence) and
// reports whether it changed the active speaker.
func (s *speakerChanges) observe(peerID string) bool {
	if peerID == "" || peerID == s.last {
		return false
	}
	first := s.last == ""
	s.last = peerID
	if first {
		return true // the first speaker is a change from nobody
	}
	s.changes++
	return true
}
