package deploy

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	dockerfilePath = "../Dockerfile"
	depsPath       = "../scripts/deps.txt"
	installDeps    = "../scripts/install-deps.sh"
	// debianRelease is the Dockerfile's base: deps.txt's runtime package
	// names are this release's.
	debianRelease = "bookworm"
)

// dep is one line of scripts/deps.txt.
type dep struct {
	pkg     string
	build   bool
	test    bool
	runtime string // the package of the shared library the binary links
}

func readDeps(t *testing.T) []dep {
	t.Helper()
	var deps []dep
	s := bufio.NewScanner(bytes.NewReader(readFile(t, depsPath)))
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		d := dep{pkg: f[0]}
		for _, tag := range f[1:] {
			switch rt, isRuntime := strings.CutPrefix(tag, "runtime="); {
			case tag == "build":
				d.build = true
			case tag == "test":
				d.test = true
			case isRuntime && rt != "":
				d.runtime = rt
			default:
				t.Fatalf("%s: %s: unknown tag %q", depsPath, d.pkg, tag)
			}
		}
		if d.build == d.test {
			t.Fatalf("%s: %s: want exactly one of build and test", depsPath, d.pkg)
		}
		deps = append(deps, d)
	}
	if len(deps) == 0 {
		t.Fatalf("%s lists no package", depsPath)
	}
	return deps
}

// dockerfile is the Dockerfile's ARG defaults before the first FROM and
// its stages.
type dockerfile struct {
	args   map[string]string
	stages []dockerStage
}

type dockerStage struct {
	from, name   string
	instructions [][2]string // instruction, rest of the line
}

// parseDockerfile reads the subset of the Dockerfile syntax it uses:
// comments, line continuations, global ARGs with defaults, FROM … AS.
func parseDockerfile(t *testing.T) dockerfile {
	t.Helper()
	df := dockerfile{args: map[string]string{}}
	for _, line := range logicalLines(readFile(t, dockerfilePath)) {
		instr, rest, _ := strings.Cut(line, " ")
		instr, rest = strings.ToUpper(instr), strings.TrimSpace(rest)
		switch {
		case instr == "ARG" && len(df.stages) == 0:
			name, def, _ := strings.Cut(rest, "=")
			df.args[name] = def
		case instr == "FROM":
			f := strings.Fields(os.Expand(rest, func(k string) string { return df.args[k] }))
			st := dockerStage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			df.stages = append(df.stages, st)
		case len(df.stages) == 0:
			t.Fatalf("%s: %s before the first FROM", dockerfilePath, instr)
		default:
			st := &df.stages[len(df.stages)-1]
			st.instructions = append(st.instructions, [2]string{instr, rest})
		}
	}
	if len(df.stages) < 2 {
		t.Fatalf("%s: %d stages, want a build and a runtime stage", dockerfilePath, len(df.stages))
	}
	return df
}

// logicalLines joins continued lines and drops comments and blank lines
// (the parser directive on the first line is a comment too).
func logicalLines(b []byte) []string {
	var out []string
	var cur strings.Builder
	for _, raw := range strings.Split(string(b), "\n") {
		l := strings.TrimSpace(raw)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(l, "\\"); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(l)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

func (s dockerStage) all(instr string) []string {
	var out []string
	for _, in := range s.instructions {
		if in[0] == instr {
			out = append(out, in[1])
		}
	}
	return out
}

var shellSeparator = regexp.MustCompile(`&&|\|\||;|\|`)

// aptPackages lists what the stage's RUN lines apt-get install.
func (s dockerStage) aptPackages() []string {
	var pkgs []string
	for _, run := range s.all("RUN") {
		for _, cmd := range shellSeparator.Split(run, -1) {
			f := strings.Fields(cmd)
			i := slices.Index(f, "apt-get")
			if i < 0 || i+1 >= len(f) || f[i+1] != "install" {
				continue
			}
			for _, a := range f[i+2:] {
				if !strings.HasPrefix(a, "-") {
					pkgs = append(pkgs, a)
				}
			}
		}
	}
	slices.Sort(pkgs)
	return pkgs
}

func goModVersion(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(readFile(t, "../go.mod"))
	if m == nil {
		t.Fatal("go.mod: no go line")
	}
	return string(m[1])
}

func TestDockerfileBuildStage(t *testing.T) {
	df := parseDockerfile(t)
	build := df.stages[0]
	if want := "golang:" + goModVersion(t) + "-" + debianRelease; build.from != want {
		t.Errorf("build stage FROM %s, want %s (go.mod's Go on %s)", build.from, want, debianRelease)
	}
	have := build.aptPackages()
	for _, d := range readDeps(t) {
		if d.build && !slices.Contains(have, d.pkg) {
			t.Errorf("build stage does not install %s (scripts/deps.txt: build)", d.pkg)
		}
	}
	if !slices.ContainsFunc(build.all("RUN"), func(r string) bool {
		return strings.Contains(r, "CGO_ENABLED=1") && strings.Contains(r, "go build")
	}) {
		t.Error("build stage: no RUN with CGO_ENABLED=1 go build")
	}
}

func TestDockerfileRuntimeStage(t *testing.T) {
	df := parseDockerfile(t)
	rt := df.stages[len(df.stages)-1]
	if want := "debian:" + debianRelease + "-slim"; rt.from != want {
		t.Errorf("runtime stage FROM %s, want %s", rt.from, want)
	}
	want := []string{"ca-certificates"} // for wss:// servers
	for _, d := range readDeps(t) {
		if d.runtime != "" {
			want = append(want, d.runtime)
		}
	}
	slices.Sort(want)
	if have := rt.aptPackages(); !slices.Equal(have, want) {
		t.Errorf("runtime stage installs %v, want exactly %v (scripts/deps.txt runtime=, and ca-certificates)", have, want)
	}
	if ep := rt.all("ENTRYPOINT"); len(ep) != 1 || ep[0] != `["callctl"]` {
		t.Errorf("ENTRYPOINT %q, want [\"callctl\"]", ep)
	}
	copyFrom := "--from=" + df.stages[0].name + " "
	if !slices.ContainsFunc(rt.all("COPY"), func(c string) bool {
		return strings.HasPrefix(c, copyFrom) && strings.HasSuffix(c, " /usr/local/bin/callctl")
	}) {
		t.Errorf("runtime stage: no COPY %s… /usr/local/bin/callctl", copyFrom)
	}
	dockerfileUID(t)
}

// dockerfileUID is the final USER's numeric uid: Kubernetes' runAsNonRoot
// can only verify a numeric one.
func dockerfileUID(t *testing.T) string {
	t.Helper()
	df := parseDockerfile(t)
	users := df.stages[len(df.stages)-1].all("USER")
	if len(users) == 0 {
		t.Fatal("runtime stage: no USER (it would run as root)")
	}
	uid, _, _ := strings.Cut(users[len(users)-1], ":")
	if uid == "0" || strings.Trim(uid, "0123456789") != "" {
		t.Fatalf("runtime USER %q: want a numeric non-root uid", uid)
	}
	return uid
}

// TestDepsListMatchesInstallScript keeps scripts/deps.txt the list
// install-deps.sh installs: either the script reads it, or its package
// loop names the same packages.
func TestDepsListMatchesInstallScript(t *testing.T) {
	script := readFile(t, installDeps)
	if bytes.Contains(script, []byte("scripts/deps.txt")) {
		return
	}
	m := regexp.MustCompile(`(?m)^for p in ([^;]*); do$`).FindSubmatch(script)
	if m == nil {
		t.Fatalf("%s neither reads scripts/deps.txt nor has a `for p in …; do` package loop", installDeps)
	}
	have := strings.Fields(string(m[1]))
	var want []string
	for _, d := range readDeps(t) {
		want = append(want, d.pkg)
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		t.Errorf("%s installs %v, scripts/deps.txt lists %v", installDeps, have, want)
	}
}

// TestRuntimePackagesShipTheLinkedLibraries checks deps.txt's runtime=
// names on a Debian of the image's release: the library the -dev
// package's linker symlink points to belongs to the runtime package.
func TestRuntimePackagesShipTheLinkedLibraries(t *testing.T) {
	if !isDebianRelease(debianRelease) {
		t.Skipf("not Debian %s: its package names are what deps.txt records", debianRelease)
	}
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("no dpkg-query")
	}
	for _, d := range readDeps(t) {
		if d.runtime == "" {
			continue
		}
		t.Run(d.pkg, func(t *testing.T) {
			files, err := exec.Command("dpkg-query", "-L", d.pkg).Output()
			if err != nil {
				t.Fatalf("dpkg-query -L %s: %v (make deps installs it)", d.pkg, err)
			}
			var found bool
			for _, f := range strings.Fields(string(files)) {
				if !strings.HasSuffix(f, ".so") || !strings.Contains(filepath.Base(f), "lib") {
					continue
				}
				found = true
				checkLibraryOwner(t, f, d.runtime)
			}
			if !found {
				t.Errorf("%s ships no lib*.so", d.pkg)
			}
		})
	}
}

func checkLibraryOwner(t *testing.T, so, want string) {
	t.Helper()
	real, err := filepath.EvalSymlinks(so)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("dpkg-query", "-S", real).Output()
	if err != nil {
		t.Fatalf("dpkg-query -S %s: %v", real, err)
	}
	owner, _, _ := strings.Cut(string(out), ":")
	if owner != want {
		t.Errorf("%s → %s belongs to %s, deps.txt says %s", so, real, owner, want)
	}
}

func isDebianRelease(codename string) bool {
	b, err := os.ReadFile("/etc/os-release")
	return err == nil && regexp.MustCompile(`(?m)^VERSION_CODENAME=`+codename+`$`).Match(b)
}

// TestDockerignoreKeepsTheSources: the build needs go.mod, go.sum and
// the Go packages of the binary.
func TestDockerignoreKeepsTheSources(t *testing.T) {
	for _, p := range strings.Split(string(readFile(t, "../.dockerignore")), "\n") {
		p = strings.TrimSpace(p)
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		for _, keep := range []string{"go.mod", "go.sum", "main.go", "cmd", "pkg", "cmd/root.go", "pkg/sdk"} {
			if ok, _ := filepath.Match(p, keep); ok || strings.HasPrefix(keep, strings.TrimSuffix(p, "/")+"/") {
				t.Errorf(".dockerignore pattern %q excludes %s", p, keep)
			}
		}
	}
}

// baseImagePackages are in every Debian image, debian:bookworm-slim too.
var baseImagePackages = []string{"libc6", "libgcc-s1"}

// TestRuntimeStageCoversTheLinkedLibraries builds callctl as the image's
// build stage does and checks that every shared library it links comes
// from a package the runtime stage installs (or one of their direct
// dependencies, which apt installs with them, or the base image).
func TestRuntimeStageCoversTheLinkedLibraries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds callctl")
	}
	if !isDebianRelease(debianRelease) {
		t.Skipf("not Debian %s: its package names are what the Dockerfile installs", debianRelease)
	}
	for _, tool := range []string{"ldd", "dpkg-query", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	bin := filepath.Join(t.TempDir(), "callctl")
	build := exec.Command("go", "build", "-o", bin, "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	allowed := append([]string{}, baseImagePackages...)
	df := parseDockerfile(t)
	for _, p := range df.stages[len(df.stages)-1].aptPackages() {
		allowed = append(allowed, p)
		allowed = append(allowed, packageDepends(t, p)...)
	}
	for _, lib := range linkedLibraries(t, bin) {
		owner := packageOwning(t, lib)
		if owner == "" {
			t.Errorf("%s belongs to no package", lib)
		} else if !slices.Contains(allowed, owner) {
			t.Errorf("callctl links %s from %s, which the runtime stage does not install", lib, owner)
		}
	}
}

// packageOwning names the package that installed lib ("" for none). With
// Debian's merged /usr, dpkg may have recorded the file under /lib or
// /usr/lib, behind a symlink or not: every spelling is asked.
func packageOwning(t *testing.T, lib string) string {
	t.Helper()
	real, err := filepath.EvalSymlinks(lib)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{lib, real, strings.TrimPrefix(lib, "/usr"), strings.TrimPrefix(real, "/usr"), "/usr" + lib, "/usr" + real} {
		if out, err := exec.Command("dpkg-query", "-S", p).Output(); err == nil {
			owner, _, _ := strings.Cut(string(out), ":")
			return owner
		}
	}
	return ""
}

// linkedLibraries are the paths ldd resolves for bin's shared libraries.
func linkedLibraries(t *testing.T, bin string) []string {
	t.Helper()
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		t.Fatalf("ldd: %v", err)
	}
	var libs []string
	for _, line := range strings.Split(string(out), "\n") {
		if _, rest, ok := strings.Cut(line, "=> "); ok {
			if f := strings.Fields(rest); len(f) > 0 && strings.HasPrefix(f[0], "/") {
				libs = append(libs, f[0])
			}
		}
	}
	if len(libs) == 0 {
		t.Fatalf("ldd lists no shared library:\n%s", out)
	}
	return libs
}

// packageDepends lists an installed package's direct dependencies.
func packageDepends(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("dpkg-query", "-W", "-f=${Depends}", pkg).Output()
	if err != nil {
		return nil // not installed here (ca-certificates may not be)
	}
	var deps []string
	for _, d := range strings.Split(string(out), ",") {
		if f := strings.Fields(strings.Split(d, "|")[0]); len(f) > 0 {
			name, _, _ := strings.Cut(f[0], ":")
			deps = append(deps, name)
		}
	}
	return deps
}
