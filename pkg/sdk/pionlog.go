package sdk

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// pionLoggerFactory routes pion's logs into the SDK's slog logger, so
// callers see one log stream. pion's debug and trace chatter stays at
// debug level.
type pionLoggerFactory struct{ log *slog.Logger }

func newPionLoggerFactory(l *slog.Logger) logging.LoggerFactory { return pionLoggerFactory{l} }

func (f pionLoggerFactory) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

var _ logging.LeveledLogger = pionLogger{}

func (l pionLogger) emit(level slog.Level, msg string) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, msg)
	}
}

// emitf formats only when the level is on: pion passes live internal
// structs (a new track, say) that its own goroutines are still writing,
// and formatting them would read them racily for nothing.
func (l pionLogger) emitf(level slog.Level, f string, args ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(f, args...))
	}
}

// pion's warnings are mostly benign for a client of an ICE-lite server
// (pings before candidates, late packets at close): they go to debug, and
// pion's errors to warn.
func (l pionLogger) Trace(string)                 {}
func (l pionLogger) Tracef(string, ...any)        {}
func (l pionLogger) Debug(msg string)             { l.emit(slog.LevelDebug, msg) }
func (l pionLogger) Debugf(f string, args ...any) { l.emitf(slog.LevelDebug, f, args...) }
func (l pionLogger) Info(msg string)              { l.emit(slog.LevelDebug, msg) }
func (l pionLogger) Infof(f string, args ...any)  { l.emitf(slog.LevelDebug, f, args...) }
func (l pionLogger) Warn(msg string)              { l.emit(slog.LevelDebug, msg) }
func (l pionLogger) Warnf(f string, args ...any)  { l.emitf(slog.LevelDebug, f, args...) }
func (l pionLogger) Error(msg string)             { l.emit(slog.LevelWarn, msg) }
func (l pionLogger) Errorf(f string, args ...any) { l.emitf(slog.LevelWarn, f, args...) }
