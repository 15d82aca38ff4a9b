// Command jsonsignaling joins a room of scripts/jsonapp, a mediasoup
// application whose signaling is plain JSON over WebSocket (not
// mediasoup-demo's protoo), using only callctl's signaling-agnostic layer
// pkg/mediasoupclient. It publishes a 3-layer VP8 test picture and a tone,
// consumes everyone else, and after -duration prints what it decoded from
// each participant as JSON on stdout.
//
//	node scripts/jsonapp/server.js --listen 127.0.0.1:4450 &
//	go run ./examples/jsonsignaling -server ws://127.0.0.1:4450 -room r -name alice &
//	go run ./examples/jsonsignaling -server ws://127.0.0.1:4450 -room r -name bob
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	msc "github.com/callctl/callctl/pkg/mediasoupclient"
)

func main() {
	server := flag.String("server", "ws://127.0.0.1:4450", "jsonapp WebSocket URL")
	room := flag.String("room", "demo", "room id")
	name := flag.String("name", "go-client", "participant name")
	duration := flag.Duration("duration", 10*time.Second, "how long to stay")
	loopback := flag.Bool("loopback", true, "gather only 127.0.0.1 candidates (server on this machine)")
	flag.Parse()
	if err := run(*server, *room, *name, *duration, *loopback); err != nil {
		fmt.Fprintln(os.Stderr, "jsonsignaling:", err)
		os.Exit(1)
	}
}

func run(server, room, name string, duration time.Duration, loopback bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := Options{URL: server, Room: room, Name: name, Log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	if loopback {
		o.ICE = msc.LoopbackICE()
	}
	joinCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	p, err := join(joinCtx, o)
	if err != nil {
		return err
	}
	defer p.close()
	select {
	case <-ctx.Done():
	case <-time.After(duration):
	}
	return json.NewEncoder(os.Stdout).Encode(p.stats())
}
