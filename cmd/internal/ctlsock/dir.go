// Package ctlsock is the local control endpoint of a running `callctl join`:
// one Unix socket per session in a directory only the user can use, and a
// newline-delimited JSON request/response protocol on it.
//
// Layout: the directory is chosen by Dir (rundir.go); it is created 0700
// and must be owned by the user and closed to others. Session S listens on
// <dir>/S.sock (0600). <dir>/.lock serializes claiming and cleaning
// sockets between processes.
package ctlsock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// MaxNameLen is the longest session name.
const MaxNameLen = 64

// maxSunPath is the longest socket path the kernel accepts (sun_path is
// 108 bytes on Linux, including the terminating NUL).
const maxSunPath = 107

const sockSuffix = ".sock"

// ValidateName checks a session name: 1 to 64 characters of
// [A-Za-z0-9._-], not starting with a dot.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("session name is empty")
	case len(name) > MaxNameLen:
		return fmt.Errorf("session name %q is longer than %d characters", name, MaxNameLen)
	case name[0] == '.':
		return fmt.Errorf("session name %q starts with a dot", name)
	}
	for _, r := range name {
		if !nameChar(r) {
			return fmt.Errorf("session name %q: only letters, digits, '.', '_' and '-' are allowed", name)
		}
	}
	return nil
}

func nameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
}

// SanitizeName turns any string into a valid session name: disallowed
// characters become '_', a leading dot becomes '_', and the result is cut
// to MaxNameLen bytes.
func SanitizeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if nameChar(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	out := b.String()
	if out == "" {
		return "session"
	}
	if out[0] == '.' {
		out = "_" + out[1:]
	}
	if len(out) > MaxNameLen {
		out = out[:MaxNameLen]
	}
	return out
}

// SocketPath is where session name listens in dir.
func SocketPath(dir, name string) (string, error) {
	if err := ValidateName(name); err != nil {
		return "", err
	}
	p := filepath.Join(dir, name+sockSuffix)
	if len(p) > maxSunPath {
		return "", fmt.Errorf("control socket path %s is %d bytes, longer than the %d the system allows: use a shorter --session or set %s to a shorter directory", p, len(p), maxSunPath, EnvDir)
	}
	return p, nil
}

// names lists the session names that have a socket file in dir.
func names(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n, ok := strings.CutSuffix(e.Name(), sockSuffix)
		if !ok || ValidateName(n) != nil || e.Type()&fs.ModeSocket == 0 {
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

// dirLock holds <dir>/.lock exclusively: claiming a name and removing a
// stale socket happen under it, so a process never removes a socket that
// another one has just created.
type dirLock struct{ f *os.File }

func lockDir(dir string) (*dirLock, error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock control socket directory: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock control socket directory: %w", err)
	}
	return &dirLock{f}, nil
}

func (l *dirLock) unlock() {
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
}
