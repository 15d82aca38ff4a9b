// Command callctl is a headless softphone for mediasoup calls: see README.md.
package main

import (
	"os"

	"github.com/callctl/callctl/cmd"
)

func main() {
	os.Exit(cmd.Main())
}
