// Package bench is callctl's fleet benchmark, run by `make bench`
// (TestFleetBench, enabled by CALLCTL_FLEET_BENCH=1). It measures what a
// callctl participant costs against the reference mediasoup server on
// loopback, and the same for the project's viewer page (mediasoup-client)
// in headless Chromium as the baseline of the same run, and writes
// docs/benchmarks.md and docs/benchmarks.json.
//
// Participants are started with the callctl binary ($CALLCTL_BIN, else
// built from this tree): as one `callctl fleet` process when the binary
// has that command (detected with `callctl fleet --help`), else as one
// `callctl join` process per participant. Either way the measured figure
// is the CPU time and memory of the participants' whole process tree,
// read from /proc (proctree.go), over a window after every participant's
// media was seen arriving.
//
// Files:
//
//	fleet_bench_test.go    the entry point: loopback network namespace, setup, report files
//	config.go              BENCH_* environment variables
//	runner.go              scenario order, medians, ratios against Chromium
//	scenarios.go           publishers (with a frame-counting monitor) and subscribers
//	chromium_scenarios.go  the viewer page: peer, receive-only, time to first frame
//	launcher.go            fleet or join processes for a group of participants
//	proc.go                one callctl process and its NDJSON events
//	chromium.go            headless Chromium through chromedp
//	measure.go             the measured window, frame rates, bytes received
//	proctree.go            process-tree CPU, RSS, PSS and machine load from /proc
//	profile.go             in-process SDK clients under pprof: where the cost goes
//	results.go, markdown.go  the report and its Markdown
package bench
