// Package metrics exports a fleet's state and media counters to
// Prometheus: participants by state, joins, join failures and rejoins, a
// join-duration histogram, packets, bytes and loss per kind, frames
// decoded, freezes and the decoded frame height, plus the shard and the
// build. docs/metrics.md lists every metric.
//
// Labels are bounded: role, room and kind (and the shard on
// callctl_shard_info), never a participant, consumer or packet, so the
// number of series grows with the rooms, not with the participants.
//
// The exporter reads the fleet's state when it is scraped and keeps
// running totals of the statistics samples the fleet takes (wire
// fleet.Options.OnStats to Exporter.ObserveStats): the totals only grow,
// also when a participant rejoins (its counters then restart with new
// producers and consumers) or a stream closes.
//
//	e := metrics.New(metrics.Options{Snapshots: func() []fleet.Snapshot { return fl.Snapshots() }})
//	opts.OnStats = e.ObserveStats // before fleet.New
//	srv, _ := e.Listen("127.0.0.1:9464")
//	defer srv.Close(ctx)
package metrics
