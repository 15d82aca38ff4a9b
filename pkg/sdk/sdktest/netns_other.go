//go:build !linux

package sdktest

import "testing"

// RerunInLoopbackNetns needs Linux network namespaces; elsewhere the
// caller runs the test as it is.
func RerunInLoopbackNetns(t *testing.T, requireEnv string) bool {
	return false
}
