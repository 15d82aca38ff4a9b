// Package netem impairs a pion transport.Net in process, the way Linux
// netem and a token-bucket filter impair an interface, without root or
// network namespaces: random and burst loss, delay, jitter, reordering,
// a rate limit with a bounded queue, and a cut that drops everything
// both ways. Only the media path (pion's ICE sockets) is affected; a
// client's signaling, on its own TCP connection, is not.
//
//	spec, err := netem.ParseSpec("send.rate=300kbit,recv.delay=50ms")
//	…
//	n, err := netem.New(spec, netem.Options{})
//	cfg.ICE.Net = n // pkg/sdk
//	n.Cut(true)     // unplug…
//	n.Cut(false)    // …and plug back
//
// Spec strings (ParseSpec) are what a --impair flag takes.
package netem
