package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

const licensesDoc = "../docs/licenses.md"

// lockfiles are the npm lockfiles whose packages docs/licenses.md lists
// (scripts/jsonapp runs on the reference server's node_modules).
var lockfiles = []string{
	"../scripts/mediasoup-server/package-lock.json",
	"../scripts/mediasoup-server/legacy/3.8.4/package-lock.json",
}

// permissive are the licences a row may name (SPDX ids, and one older
// package's own wording).
var permissive = map[string]bool{
	"MIT": true, "ISC": true, "Apache-2.0": true, "BSD-2-Clause": true, "BSD-3-Clause": true,
	"BlueOak-1.0.0": true, "Unlicense": true, "0BSD": true, "MIT-0": true, "CC0-1.0": true,
	`BSD (package.json "licenses")`: true,
}

// licenceRows reads the tables of docs/licenses.md: "name version" → licence.
func licenceRows(t *testing.T) map[string]string {
	t.Helper()
	rows := map[string]string{}
	s := bufio.NewScanner(bytes.NewReader(readFile(t, licensesDoc)))
	for s.Scan() {
		cells := strings.Split(s.Text(), "|")
		if len(cells) != 6 || !strings.HasPrefix(s.Text(), "| ") {
			continue // not a four-column table row
		}
		name, version, lic := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2]), strings.TrimSpace(cells[3])
		rows[name+" "+version] = lic
	}
	return rows
}

// goModules lists go.mod's requirements as "path version".
func goModules(t *testing.T) []string {
	t.Helper()
	var mods []string
	inBlock := false
	for _, line := range strings.Split(string(readFile(t, "../go.mod")), "\n") {
		line, _, _ = strings.Cut(line, "//")
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "require" && f[1] == "(":
			inBlock = true
		case inBlock && len(f) == 1 && f[0] == ")":
			inBlock = false
		case inBlock && len(f) == 2:
			mods = append(mods, f[0]+" "+f[1])
		case len(f) == 3 && f[0] == "require":
			mods = append(mods, f[1]+" "+f[2])
		}
	}
	if len(mods) == 0 {
		t.Fatal("go.mod: no requirements found")
	}
	return mods
}

// npmPackages lists a lockfile's packages as "name version".
func npmPackages(t *testing.T, lockfile string) []string {
	t.Helper()
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(readFile(t, lockfile), &lock); err != nil {
		t.Fatalf("%s: %v", lockfile, err)
	}
	var pkgs []string
	for key, p := range lock.Packages {
		if key == "" {
			continue // the project itself
		}
		name := key[strings.LastIndex(key, "node_modules/")+len("node_modules/"):]
		pkgs = append(pkgs, name+" "+p.Version)
	}
	if len(pkgs) == 0 {
		t.Fatalf("%s: no packages", lockfile)
	}
	return pkgs
}

func TestLicensesListEveryComponent(t *testing.T) {
	rows := licenceRows(t)
	want := goModules(t)
	for _, l := range lockfiles {
		want = append(want, npmPackages(t, l)...)
	}
	for _, w := range want {
		lic, ok := rows[w]
		switch {
		case !ok:
			t.Errorf("%s: no row for %s (run scripts/licenses.sh)", licensesDoc, w)
		case !isPermissive(lic):
			t.Errorf("%s: %s is %q: not a permissive licence", licensesDoc, w, lic)
		}
	}
}

var orAnd = regexp.MustCompile(` (OR|AND) `)

// isPermissive accepts an SPDX expression whose every AND term, and at
// least one alternative of an OR, is permissive (node-forge is
// "BSD-3-Clause OR GPL-2.0": used under BSD-3-Clause).
func isPermissive(expr string) bool {
	if permissive[expr] {
		return true
	}
	expr = strings.TrimSuffix(strings.TrimPrefix(expr, "("), ")")
	ops := orAnd.FindAllString(expr, -1)
	terms := orAnd.Split(expr, -1)
	if len(ops) == 0 {
		return false
	}
	isOr := strings.TrimSpace(ops[0]) == "OR"
	for _, op := range ops {
		if (strings.TrimSpace(op) == "OR") != isOr {
			return false // mixed expressions are left to a person
		}
	}
	for _, term := range terms {
		if permissive[term] == isOr {
			return isOr
		}
	}
	return !isOr
}

func TestIsPermissive(t *testing.T) {
	for expr, want := range map[string]bool{
		"MIT": true, "(BSD-3-Clause OR GPL-2.0)": true, "Apache-2.0 AND MIT": true,
		"GPL-2.0": false, "MIT AND GPL-3.0": false, "GPL-2.0 OR AGPL-3.0": false, "UNKNOWN": false,
	} {
		if got := isPermissive(expr); got != want {
			t.Errorf("isPermissive(%q) = %v", expr, got)
		}
	}
}

func TestLicenseFile(t *testing.T) {
	b := readFile(t, "../LICENSE")
	for _, s := range []string{"MIT License", "the callctl authors", "Permission is hereby granted, free of charge"} {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("LICENSE lacks %q", s)
		}
	}
}
