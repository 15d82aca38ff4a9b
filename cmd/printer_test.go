package cmd

import (
	"bytes"
	"strings"
	"testing"
)

func TestPrinterLeftIsLast(t *testing.T) {
	var b bytes.Buffer
	p := newPrinter(&b, "s")
	_ = p.event("joined", nil)
	_ = p.event("left", leftData{Reason: "requested"})
	_ = p.event("control", controlData{Cmd: "mute"}) // a late control command
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], `"type":"left"`) {
		t.Errorf("events after left were written:\n%s", b.String())
	}
}
