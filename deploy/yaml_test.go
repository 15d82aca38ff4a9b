package deploy

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// yamlDocuments splits a multi-document YAML file at its "---" lines and
// drops documents that hold only comments.
func yamlDocuments(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		if hasContent(cur.String()) {
			docs = append(docs, bytes.Clone(cur.Bytes()))
		}
		cur.Reset()
	}
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		if strings.TrimRight(s.Text(), " ") == "---" {
			flush()
			continue
		}
		cur.WriteString(s.Text())
		cur.WriteByte('\n')
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	flush()
	return docs
}

func hasContent(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			return true
		}
	}
	return false
}

// typeOf reads a document's apiVersion and kind, leniently: the strict
// decoding into the type they name comes next.
func typeOf(t *testing.T, doc []byte) (apiVersion, kind string) {
	t.Helper()
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		t.Fatalf("document %q…: %v", firstLine(doc), err)
	}
	return tm.APIVersion, tm.Kind
}

// decodeStrict decodes doc into v; unknown or duplicate fields are errors,
// as kubectl apply --validate=strict makes them.
func decodeStrict(t *testing.T, name string, doc []byte, v any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, v); err != nil {
		t.Fatalf("%s: strict decoding: %v", name, err)
	}
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(bytes.TrimSpace(b), []byte("\n"))
	return string(line)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
