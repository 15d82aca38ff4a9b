package sdktest

import "syscall"

// dieWithParent makes the kernel kill the child when the test process
// exits.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
