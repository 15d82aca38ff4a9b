package cmd

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/callctl/callctl/cmd/internal/ctlsock"
)

// sessionHashLen is how many hex digits of the original name's hash a
// rewritten default session name carries.
const sessionHashLen = 8

// defaultSessionName is join's session name without --session:
// ROOM-USER when that is already a valid name. Otherwise the readable
// ASCII part is kept (other characters become '_') and a short hash of the
// original is appended, so names that differ only in replaced characters
// ("José" and "Josè" in one room) stay distinct and can run side by side.
func defaultSessionName(room, user string) string {
	orig := room + "-" + user
	clean := ctlsock.SanitizeName(orig)
	if clean == orig {
		return clean
	}
	sum := sha256.Sum256([]byte(orig))
	suffix := "-" + hex.EncodeToString(sum[:])[:sessionHashLen]
	if max := ctlsock.MaxNameLen - len(suffix); len(clean) > max {
		clean = clean[:max]
	}
	return clean + suffix
}
