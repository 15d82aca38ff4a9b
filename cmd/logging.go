package cmd

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/charmbracelet/log"
)

// newLogger builds the stderr logger: charmbracelet/log behind slog, so
// the SDK and pion log through the same sink.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	lvl, err := log.ParseLevel(level)
	if err != nil {
		return nil, &usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", level)}
	}
	opts := log.Options{Level: lvl, ReportTimestamp: true, TimeFormat: time.RFC3339Nano}
	switch format {
	case "text", "":
		opts.Formatter = log.TextFormatter
	case "json":
		opts.Formatter = log.JSONFormatter
	case "logfmt":
		opts.Formatter = log.LogfmtFormatter
	default:
		return nil, &usageError{fmt.Errorf("--log-format %q: want text, json or logfmt", format)}
	}
	return slog.New(log.NewWithOptions(w, opts)), nil
}
