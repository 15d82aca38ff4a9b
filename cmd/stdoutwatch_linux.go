package cmd

import (
	"context"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// watchStdout reports (by failing the printer) when the reader of a
// stdout pipe goes away, even while join has nothing to write: poll
// signals POLLERR on a pipe whose read end is closed.
func watchStdout(ctx context.Context, w io.Writer, out *printer) {
	f, ok := w.(*os.File)
	if !ok {
		return
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		return
	}
	fd := int(f.Fd())
	go func() {
		for ctx.Err() == nil {
			fds := []unix.PollFd{{Fd: int32(fd), Events: 0}}
			n, err := unix.Poll(fds, 500)
			if err != nil && err != unix.EINTR {
				return
			}
			if n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0 {
				out.mu.Lock()
				out.fail(syscall.EPIPE)
				out.mu.Unlock()
				return
			}
		}
	}()
}
