package cmd

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/pion/stun/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
	"github.com/spf13/pflag"

	"github.com/callctl/callctl/pkg/fleet"
	"github.com/callctl/callctl/pkg/netem"
	"github.com/callctl/callctl/pkg/sdk"
)

// networkOptions are the media-path flags of join and fleet: an
// in-process impaired network for pion's sockets (--impair), STUN/TURN
// servers and the relay-only policy. Signaling never goes through them.
type networkOptions struct {
	impair                     string
	impairPub, impairSub       string // fleet only: per role, overriding --impair
	iceServers                 []string
	iceUsername, iceCredential string
	relayOnly                  bool

	// Set by validate.
	spec, pubSpec, subSpec netem.Spec
	servers                []webrtc.ICEServer
	base                   transport.Net // what impaired networks wrap
}

const impairFlagHelp = "impair the media path (pion's UDP sockets, not signaling) in process, no root needed: comma-separated loss=5%,burst=3,delay=100ms,jitter=20ms,reorder=1%,rate=500kbit,queue=200ms; " +
	`prefix a key with send. or recv. for one direction (see 'callctl help impair')`

func (n *networkOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&n.impair, "impair", "", impairFlagHelp)
	f.StringSliceVar(&n.iceServers, "ice-server", nil, "STUN/TURN server for media, repeatable: stun:HOST[:PORT], turn:HOST[:PORT][?transport=udp|tcp], turns:HOST[:PORT][?transport=tcp|udp]; TURN needs --ice-username and --ice-credential")
	f.StringVar(&n.iceUsername, "ice-username", "", "TURN username for every turn:/turns: --ice-server (or CALLCTL_ICE_USERNAME)")
	f.StringVar(&n.iceCredential, "ice-credential", "", "TURN password for every turn:/turns: --ice-server; prefer CALLCTL_ICE_CREDENTIAL, which stays out of the process list")
	f.BoolVar(&n.relayOnly, "ice-relay-only", false, "send media only through a TURN server (ICE transport policy relay), as clients behind strict firewalls must")
}

// addFleetFlags adds the per-role impairment of callctl fleet.
func (n *networkOptions) addFleetFlags(f *pflag.FlagSet) {
	n.addFlags(f)
	f.Lookup("impair").Usage = "impair every participant's media path, each on its own link (a rate limit is per participant): " +
		"loss=5%,delay=100ms,jitter=20ms,rate=500kbit,…, send./recv. prefixes (see 'callctl help impair')"
	f.StringVar(&n.impairPub, "impair-publishers", "", "impairment of publishers only, instead of --impair (same syntax)")
	f.StringVar(&n.impairSub, "impair-subscribers", "", "impairment of subscribers only, instead of --impair (same syntax)")
}

// validate parses the impairment and the ICE server URLs.
func (n *networkOptions) validate() error {
	for _, s := range []struct {
		flag, value string
		dst         *netem.Spec
	}{{"impair", n.impair, &n.spec}, {"impair-publishers", n.impairPub, &n.pubSpec}, {"impair-subscribers", n.impairSub, &n.subSpec}} {
		spec, err := netem.ParseSpec(s.value)
		if err != nil {
			return &usageError{fmt.Errorf("--%s: %w", s.flag, err)}
		}
		*s.dst = spec
	}
	if n.impairPub == "" {
		n.pubSpec = n.spec
	}
	if n.impairSub == "" {
		n.subSpec = n.spec
	}
	if err := n.parseServers(); err != nil {
		return err
	}
	if n.impaired() {
		var err error
		if n.base, err = stdnet.NewNet(); err != nil {
			return fmt.Errorf("--impair: %w", err)
		}
	}
	return nil
}

func (n *networkOptions) impaired() bool {
	return n.spec != (netem.Spec{}) || n.pubSpec != (netem.Spec{}) || n.subSpec != (netem.Spec{})
}

// parseServers turns --ice-server into pion's ICE servers, with the
// credentials on every TURN URL.
func (n *networkOptions) parseServers() error {
	n.servers = nil
	turn := false
	for _, raw := range n.iceServers {
		u, err := parseICEServer(raw)
		if err != nil {
			return &usageError{fmt.Errorf("--ice-server %q: %w", raw, err)}
		}
		s := webrtc.ICEServer{URLs: []string{raw}}
		if u.Scheme == stun.SchemeTypeTURN || u.Scheme == stun.SchemeTypeTURNS {
			if n.iceUsername == "" || n.iceCredential == "" {
				return &usageError{fmt.Errorf("--ice-server %q: TURN needs --ice-username and --ice-credential (or CALLCTL_ICE_USERNAME and CALLCTL_ICE_CREDENTIAL)", raw)}
			}
			s.Username, s.Credential = n.iceUsername, n.iceCredential
			turn = true
		}
		n.servers = append(n.servers, s)
	}
	if n.relayOnly && !turn {
		return &usageError{errors.New("--ice-relay-only needs a turn: or turns: --ice-server")}
	}
	return nil
}

// parseICEServer checks one URL with pion's parser (what the
// PeerConnection will use) and says which part is wrong.
func parseICEServer(raw string) (*stun.URI, error) {
	scheme, rest, _ := strings.Cut(raw, ":")
	switch {
	case stun.NewSchemeType(scheme) == stun.SchemeTypeUnknown:
		return nil, fmt.Errorf("scheme %q: want stun, stuns, turn or turns", scheme)
	case strings.HasPrefix(rest, "//"):
		return nil, fmt.Errorf(`write %s:HOST[:PORT], without "//"`, scheme)
	case strings.Contains(rest, "@"):
		return nil, errors.New("credentials do not go in the URL: use --ice-username and --ice-credential")
	}
	u, err := stun.ParseURI(raw)
	switch {
	case errors.Is(err, stun.ErrSchemeType):
		return nil, fmt.Errorf("scheme %q: want stun, stuns, turn or turns", scheme)
	case errors.Is(err, stun.ErrHost):
		return nil, errors.New("the host is missing")
	case errors.Is(err, stun.ErrPort):
		return nil, errors.New("the port is not a number")
	case errors.Is(err, stun.ErrSTUNQuery):
		return nil, fmt.Errorf("%s: URLs take no ?query", scheme)
	case errors.Is(err, stun.ErrInvalidQuery), errors.Is(err, stun.ErrProtoType):
		return nil, errors.New("the query: want ?transport=udp or ?transport=tcp")
	case err != nil:
		return nil, fmt.Errorf("want %s:HOST[:PORT][?transport=udp|tcp]: %w", scheme, err)
	case u.Port < 1 || u.Port > 65535:
		return nil, fmt.Errorf("port %d: want 1 to 65535", u.Port)
	}
	return u, nil
}

// apply adds the servers, the relay policy and (for a join) the impaired
// network to ice.
func (n *networkOptions) apply(ice *sdk.ICEConfig) {
	ice.Servers = append(ice.Servers, n.servers...)
	ice.RelayOnly = n.relayOnly
	if nn := n.newNet(n.spec, 1); nn != nil {
		ice.Net = nn
	}
}

// fleetNet is fleet.Options.NewNet: every participant its own impaired
// link (seeded by its id, so runs repeat), or nil for none.
func (n *networkOptions) fleetNet(m fleet.Member) transport.Net {
	spec := n.subSpec
	if m.Role == fleet.Publisher {
		spec = n.pubSpec
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(m.ID))
	return n.newNet(spec, h.Sum64()|1)
}

// newNet returns an impaired network, or nil (not a nil *netem.Net) for
// no impairment.
func (n *networkOptions) newNet(spec netem.Spec, seed uint64) transport.Net {
	if spec == (netem.Spec{}) || n.base == nil {
		return nil
	}
	// netem.New fails only when it has to open the default network
	// itself; validate opened it.
	nn, err := netem.New(spec, netem.Options{Base: n.base, Seed: seed})
	if err != nil {
		return nil
	}
	return nn
}

const impairHelp = `Impairing the media path: --impair (callctl join, callctl fleet)

--impair SPEC puts pion's media sockets (ICE over UDP, TURN over UDP)
behind an impairing network inside callctl, like Linux netem and a
token-bucket filter, without root or namespaces. Signaling (the
WebSocket) is not impaired, nor ICE-TCP or TURN over TCP/TLS.

SPEC is a comma-separated list of key=value:

  loss=5%        share of packets lost at random (0-100, % optional)
  burst=3        mean length of a loss burst, in packets (Gilbert-Elliott;
                 the overall loss stays at loss=)
  delay=100ms    added to every packet (Go duration)
  jitter=20ms    delay varies by up to ±jitter; packets keep their order
  reorder=1%     share of packets sent without the delay (they overtake)
  rate=500kbit   rate limit in bit/s (bit, kbit, mbit, gbit; kbit = 1000)
  queue=200ms    the rate limiter's queue, in time (tail drop beyond it)

A key alone sets both directions; send.KEY (what leaves, the uplink) or
recv.KEY (what arrives, the downlink) sets one. A later key overrides an
earlier one; "none" or "" impairs nothing. Examples:

  --impair delay=100ms,jitter=20ms,loss=5%
  --impair send.rate=300kbit,recv.loss=2%,burst=4

callctl fleet gives every participant its own link (a rate limit is per
participant), and --impair-publishers / --impair-subscribers impair one
role instead of --impair.

Related: --ice-server turn:HOST:PORT[?transport=udp|tcp] (repeatable;
credentials from --ice-username/--ice-credential or, better, the
CALLCTL_ICE_USERNAME/CALLCTL_ICE_CREDENTIAL environment) and
--ice-relay-only test clients that must relay through TURN.
`
