package ctlsock

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// testEnv is a dirEnv without CALLCTL_RUNTIME_DIR and XDG_RUNTIME_DIR, a
// private "/tmp" and home cache under base.
func testEnv(t *testing.T, base string, uid int) dirEnv {
	t.Helper()
	tmp, cache := filepath.Join(base, "tmp"), filepath.Join(base, "home", ".cache")
	if err := os.MkdirAll(tmp, 0o1777); err != nil {
		t.Fatal(err)
	}
	return dirEnv{uid: uid, getenv: func(string) string { return "" }, tempDir: tmp,
		cacheDir: func() (string, error) { return cache, nil },
		hostname: func() (string, error) { return "h1", nil }}
}

func TestResolveUsesTmpWhenFree(t *testing.T) {
	e := testEnv(t, shortDir(t), os.Getuid())
	r, err := e.resolve()
	want := filepath.Join(e.tempDir, "callctl-"+strconv.Itoa(os.Getuid()))
	if err != nil || r.Dir != want || r.Skipped != "" {
		t.Fatalf("got %+v, %v; want %s", r, err, want)
	}
	if fi, err := os.Lstat(want); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("created %v, %v", fi.Mode(), err)
	}
}

// A squatted $TMPDIR/callctl-<uid> (open mode, or a symlink to a directory
// the squatter controls) is skipped for the home fallback, which every
// later call finds again, and sessions there stay listed.
func TestResolveSkipsSquattedTmpDir(t *testing.T) {
	for _, squat := range []string{"mode", "symlink"} {
		t.Run(squat, func(t *testing.T) {
			base := shortDir(t)
			e := testEnv(t, base, os.Getuid())
			primary := e.primary()
			switch squat {
			case "mode":
				if err := os.Mkdir(primary, 0o700); err != nil {
					t.Fatal(err)
				}
				_ = os.Chmod(primary, 0o777) // Mkdir applies the umask
			case "symlink":
				target := filepath.Join(base, "attacker")
				if err := os.Mkdir(target, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(target, primary); err != nil {
					t.Fatal(err)
				}
			}
			r, err := e.resolve()
			if err != nil {
				t.Fatal(err)
			}
			fb, _ := e.fallback()
			if r.Dir != fb || r.Skipped != primary || !errors.Is(r.Reason, errUnsafeDir) {
				t.Fatalf("got %+v; want fallback %s skipping %s", r, fb, primary)
			}
			if !strings.HasPrefix(fb, filepath.Join(base, "home")) || filepath.Base(fb) != "run-h1" {
				t.Errorf("fallback %s", fb)
			}
			// A session in the fallback: still found after the squatter
			// gave the usual name back.
			ln, err := Claim(r.Dir, "s1")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			if err := os.Remove(primary); err != nil {
				t.Fatal(err)
			}
			r2, err := e.resolve()
			if err != nil || r2.Dir != fb {
				t.Fatalf("after the squat ended: %+v, %v", r2, err)
			}
			if live, err := List(r2.Dir); err != nil || len(live) != 1 || live[0] != "s1" {
				t.Errorf("List: %v, %v", live, err)
			}
		})
	}
}

// A directory owned by someone else. As root the test can chown one; the
// injected uid covers the check without root, where the fallback (owned
// by the real uid) fails as well and the error must say what to do.
func TestResolveForeignOwner(t *testing.T) {
	if os.Getuid() == 0 {
		base := shortDir(t)
		e := testEnv(t, base, 0)
		if err := os.Mkdir(e.primary(), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(e.primary(), 4242, 4242); err != nil {
			t.Fatal(err)
		}
		r, err := e.resolve()
		if err != nil || r.Skipped != e.primary() || !strings.Contains(r.Reason.Error(), "belongs to uid 4242") {
			t.Errorf("root: %+v, %v", r, err)
		}
	}
	e := testEnv(t, shortDir(t), os.Getuid()+1)
	_, err := e.resolve()
	if !errors.Is(err, errUnsafeDir) || !strings.Contains(err.Error(), "belongs to uid") || !strings.Contains(err.Error(), "set "+EnvDir) {
		t.Fatalf("got %v", err)
	}
}

// An explicit CALLCTL_RUNTIME_DIR or XDG_RUNTIME_DIR is never replaced.
func TestResolveExplicitDirIsNotReplaced(t *testing.T) {
	base := shortDir(t)
	e := testEnv(t, base, os.Getuid())
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(open, 0o755)
	for _, env := range []string{EnvDir, "XDG_RUNTIME_DIR"} {
		e.getenv = func(k string) string {
			if k == env {
				return open
			}
			return ""
		}
		if env == "XDG_RUNTIME_DIR" {
			_ = os.Mkdir(filepath.Join(open, "callctl"), 0o700)
			_ = os.Chmod(filepath.Join(open, "callctl"), 0o755)
		}
		if _, err := e.resolve(); !errors.Is(err, errUnsafeDir) || !strings.Contains(err.Error(), "chmod 700") {
			t.Errorf("%s: got %v", env, err)
		}
	}
}
