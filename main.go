// Command callctl is a headless softphone for mediasoup calls.
package main

import (
	"os"

	"github.com/callctl/callctl/cmd"
)

func main() {
	os.Exit(cmd.Main())
}
