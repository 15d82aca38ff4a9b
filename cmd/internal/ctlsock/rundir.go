package ctlsock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// EnvDir overrides the socket directory (tests use a temporary one).
const EnvDir = "CALLCTL_RUNTIME_DIR"

// Where the sockets live, in order:
//
//  1. $CALLCTL_RUNTIME_DIR, if set: the user's explicit choice, used as is
//     or refused with an error, never replaced.
//  2. $XDG_RUNTIME_DIR/callctl, if XDG_RUNTIME_DIR is set: the system
//     gives that directory to the user alone; likewise never replaced.
//  3. $TMPDIR/callctl-<uid>. /tmp is shared, so another local user can
//     create that name first (as a directory of theirs, an open one, or a
//     symlink) and so block or spy on every session. Such a squatted
//     directory is skipped for the fallback:
//  4. <user cache dir>/callctl/run-<host> (~/.cache/callctl/run-<host>).
//     It is derived, not random, so every callctl process of the user
//     (join, sessions, the completion) finds the same one without a note
//     left anywhere; the host name keeps machines sharing a home (NFS)
//     from treating each other's sockets as stale.
//
// The fallback also wins while it still holds a socket, even after the
// squatted directory is gone: sessions that started there stay visible.

// Resolved is the outcome of choosing the socket directory.
type Resolved struct {
	// Dir is the directory to use; it exists and passed the checks.
	Dir string
	// Skipped is the squatted directory passed over for the fallback, and
	// Reason why ("" and nil when the first choice was used). Callers
	// should warn: someone else owns or opened the usual place.
	Skipped string
	Reason  error
}

// dirEnv is what the choice depends on; tests inject it.
type dirEnv struct {
	uid      int
	getenv   func(string) string
	tempDir  string
	cacheDir func() (string, error)
	hostname func() (string, error)
}

func systemDirEnv() dirEnv {
	return dirEnv{uid: os.Getuid(), getenv: os.Getenv, tempDir: os.TempDir(),
		cacheDir: os.UserCacheDir, hostname: os.Hostname}
}

// DefaultDir is the first-choice socket directory for the current
// environment, without creating or checking it. Dir may pick the fallback.
func DefaultDir() string { return systemDirEnv().primary() }

// Dir returns the socket directory, creating it (0700) when missing and
// checking that it is a real directory owned by the user and closed to
// group and others. See Resolve for the fallback.
func Dir() (string, error) {
	r, err := Resolve()
	return r.Dir, err
}

// Resolve chooses the socket directory as Dir does and reports a squatted
// directory it passed over.
func Resolve() (Resolved, error) { return systemDirEnv().resolve() }

func (e dirEnv) primary() string {
	if d := e.getenv(EnvDir); d != "" {
		return d
	}
	if d := e.getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "callctl")
	}
	return filepath.Join(e.tempDir, "callctl-"+strconv.Itoa(e.uid))
}

func (e dirEnv) fallback() (string, error) {
	cache, err := e.cacheDir()
	if err != nil {
		return "", err
	}
	host, err := e.hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return filepath.Join(cache, "callctl", "run-"+SanitizeName(host)), nil
}

func (e dirEnv) resolve() (Resolved, error) {
	primary := e.primary()
	if e.getenv(EnvDir) != "" || e.getenv("XDG_RUNTIME_DIR") != "" {
		return Resolved{Dir: primary}, ensureDir(primary, e.uid)
	}
	fb, fbErr := e.fallback()
	if fbErr == nil && e.inUse(fb) {
		return Resolved{Dir: fb}, nil
	}
	perr := ensureDir(primary, e.uid)
	if perr == nil {
		return Resolved{Dir: primary}, nil
	}
	if fbErr != nil {
		return Resolved{}, squatError(perr, fbErr)
	}
	if err := ensureDir(fb, e.uid); err != nil {
		return Resolved{}, squatError(perr, err)
	}
	return Resolved{Dir: fb, Skipped: primary, Reason: perr}, nil
}

// inUse reports whether d is a safe directory already holding a socket.
func (e dirEnv) inUse(d string) bool {
	if checkDir(d, e.uid) != nil {
		return false
	}
	n, err := names(d)
	return err == nil && len(n) > 0
}

func squatError(perr, fbErr error) error {
	return fmt.Errorf("%w; the fallback directory is unusable too (%v): set %s to a directory of yours (mkdir -m 700 DIR), or set XDG_RUNTIME_DIR", perr, fbErr, EnvDir)
}

// ensureDir creates d (0700, parents too) when missing and checks it.
func ensureDir(d string, uid int) error {
	if err := os.MkdirAll(d, 0o700); err != nil {
		return fmt.Errorf("control socket directory: %w", err)
	}
	return checkDir(d, uid)
}

// errUnsafeDir is wrapped by every refusal of checkDir.
var errUnsafeDir = errors.New("unsafe control socket directory")

// checkDir accepts only a real directory (not a symlink) owned by uid and
// closed to group and others: anyone else able to write there could plant
// sockets that impersonate sessions or remove ours.
func checkDir(d string, uid int) error {
	fi, err := os.Lstat(d)
	if err != nil {
		return fmt.Errorf("control socket directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is not a directory (a symlink?); remove it or set %s to another directory", errUnsafeDir, d, EnvDir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != uid {
		return fmt.Errorf("%w: %s belongs to uid %d, not to you (uid %d); set %s to a directory of yours", errUnsafeDir, d, st.Uid, uid, EnvDir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o: others may use it; run chmod 700 %s or set %s", errUnsafeDir, d, fi.Mode().Perm(), d, EnvDir)
	}
	return nil
}
