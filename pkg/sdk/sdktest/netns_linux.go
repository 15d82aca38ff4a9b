package sdktest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// netnsChildEnv marks the test process that RerunInLoopbackNetns started.
const netnsChildEnv = "CALLCTL_LOOPBACK_NETNS_CHILD"

// RerunInLoopbackNetns keeps a test's network traffic on 127.0.0.1 even
// where a program picks among all interfaces (a browser's ICE agent pairs
// every local address with the server's 127.0.0.1 candidate).
//
// When this network namespace has an interface other than loopback that is
// up with an address, it runs the calling test again, alone, in a new
// network namespace whose only interface is lo (so every process the test
// starts there, servers included, sees nothing but loopback), passes the
// child's verdict and output on, and returns true: the caller then returns
// at once. Otherwise (already loopback-only, or inside that child) it
// returns false and the caller runs the test itself.
//
// A new network namespace needs root (CAP_SYS_ADMIN) or unprivileged user
// namespaces; without either the test is skipped, or fails when
// requireEnv is set to 1 in the environment.
func RerunInLoopbackNetns(t *testing.T, requireEnv string) bool {
	t.Helper()
	if os.Getenv(netnsChildEnv) == "1" {
		if err := loopbackUp(); err != nil {
			t.Fatalf("bring lo up in the test's network namespace: %v", err)
		}
		return false
	}
	ifs := nonLoopbackInterfaces()
	if len(ifs) == 0 {
		return false
	}
	t.Logf("interfaces %v are up: running %s again in a network namespace with only lo", ifs, t.Name())

	var pattern []string
	for _, part := range strings.Split(t.Name(), "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	timeout := 5 * time.Minute
	if d, ok := t.Deadline(); ok {
		timeout = max(time.Until(d)-5*time.Second, 10*time.Second)
	}
	cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(pattern, "/"), "-test.v", "-test.count=1",
		fmt.Sprintf("-test.timeout=%s", timeout))
	cmd.Env = append(os.Environ(), netnsChildEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() != 0 {
		// A user namespace too, in which the test is root: bringing lo up
		// needs CAP_NET_ADMIN there, which execve keeps only for uid 0.
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWUSER
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
	}
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil { // did not start: no namespace for us
		msg := fmt.Sprintf("cannot create a loopback-only network namespace for this test: %v", err)
		if os.Getenv(requireEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Logf("in the loopback-only network namespace:\n%s", indent(string(out)))
	switch {
	case err != nil:
		t.Fatalf("%s failed in the loopback-only network namespace: %v", t.Name(), err)
	case strings.Contains(string(out), "--- SKIP: "+t.Name()+" ("):
		t.Skip("skipped in the loopback-only network namespace (see above)")
	case !strings.Contains(string(out), "--- PASS: "+t.Name()+" ("):
		t.Fatalf("%s did not run in the loopback-only network namespace", t.Name())
	}
	return true
}

// nonLoopbackInterfaces lists the interfaces other than loopback that are
// up and have an address.
func nonLoopbackInterfaces() []string {
	ifs, err := net.Interfaces()
	if err != nil {
		return []string{"(unknown: " + err.Error() + ")"}
	}
	var names []string
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		if addrs, err := ifc.Addrs(); err == nil && len(addrs) > 0 {
			names = append(names, ifc.Name)
		}
	}
	return names
}

// loopbackUp sets the IFF_UP flag of lo (a new network namespace has lo down).
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var req struct {
		name  [syscall.IFNAMSIZ]byte
		flags uint16
		_     [22]byte
	}
	copy(req.name[:], "lo")
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&req))); e != 0 {
		return e
	}
	req.flags |= syscall.IFF_UP
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&req))); e != 0 {
		return e
	}
	return nil
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n\t")
}
