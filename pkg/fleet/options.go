package fleet

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"github.com/pion/transport/v5"

	"github.com/callctl/callctl/pkg/sdk"
)

// Buffer sizes. Everything a participant holds is bounded by these (plus
// what the SDK and pion hold per call, see the package documentation).
const (
	// DefaultEventBuffer is how many events of one participant wait for
	// the output (Options.OnEvent) before further ones are dropped and
	// counted (Info.EventsDropped, Stats.EventsDropped).
	DefaultEventBuffer = 256
	// statsParallelism bounds how many participants are asked for
	// statistics at once.
	statsParallelism = 8
	// statsTimeout bounds one participant's statistics sample.
	statsTimeout = 2 * time.Second
)

// Options configure a Fleet.
type Options struct {
	// ServerURL, Origin and TLS reach the signaling server (sdk.Config).
	ServerURL string
	Origin    string
	TLS       *tls.Config

	// Plan places the participants.
	Plan PlanOptions
	// JoinRate paces the joins: at most this many start per second (0: all
	// at once).
	JoinRate float64

	// Audio and Video are what every publisher sends (nil: that kind is
	// not sent). The fleet takes the owner's reference: Wait releases it.
	Audio, Video *SharedSource
	// Talk is when publishers speak (zero value: always). Each publisher
	// gets its own Index and Count among its room's publishers in this
	// fleet, and its id as Seed (see talk.go).
	Talk sdk.Talk

	// Subscribe selects what subscribers consume (zero value: everything).
	// Publishers consume nothing.
	Subscribe sdk.ConsumeOptions
	// NewSink returns a subscriber's receive sink (nil: none; the SDK
	// still reads and counts every packet).
	NewSink func(m Member) (sdk.ReceiveSink, error)
	// Expect, when set, is checked for every subscriber and in aggregate.
	Expect *Expectations

	// ICE, Reconnect, RequestTimeout and Logger go to every participant's
	// sdk.Config.
	ICE            sdk.ICEConfig
	Reconnect      sdk.ReconnectConfig
	RequestTimeout time.Duration
	Logger         *slog.Logger
	// NewNet, when set, returns a participant's own network for its media
	// (its ICE.Net), so that each one is impaired on its own link (see
	// pkg/netem); nil keeps ICE.Net.
	NewNet func(m Member) transport.Net

	// LeaveTimeout bounds a participant's graceful leave (default 5 s).
	LeaveTimeout time.Duration
	// EventBuffer is the per-participant event queue (default
	// DefaultEventBuffer).
	EventBuffer int

	// OnEvent receives the fleet's output, in order per participant. It
	// is called from several goroutines at once and may block (the
	// participant's queue then fills, and its later events are dropped).
	OnEvent func(Event)
	// OnStats, when set, receives every statistics sample the fleet takes
	// of a participant (each fleet.stats interval, ParticipantStats, the
	// final one before leaving), from several goroutines at once: an
	// exporter that keeps its own running totals sees every sample, also
	// the last one before a rejoin restarts the participant's counters.
	OnStats func(Member, sdk.CallStats)

	// Clock is the time source for pacing and deadlines (default: the
	// wall clock).
	Clock Clock
}

// Expectations are the fleet's checks.
type Expectations struct {
	// SubscribersDecodingPercent of the subscribers must decode video
	// from every publisher of their room (0 < p ≤ 100), each within
	// Within of starting to join.
	SubscribersDecodingPercent float64
	Within                     time.Duration
}

// Event is one line of the fleet's output.
type Event struct {
	// Participant is the peer id of the participant it concerns; empty
	// for fleet-wide events (fleet.stats, fleet.expect).
	Participant string
	// Type is the event type: an SDK event's Type(), "stats", "left"
	// (Data is the sdk.Left), "expect.passed", "expect.failed",
	// "fleet.stats", "fleet.expect".
	Type string
	Data any
}

func (o *Options) withDefaults() {
	if o.EventBuffer <= 0 {
		o.EventBuffer = DefaultEventBuffer
	}
	if o.LeaveTimeout <= 0 {
		o.LeaveTimeout = 5 * time.Second
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.OnEvent == nil {
		o.OnEvent = func(Event) {}
	}
	o.Plan = o.Plan.withDefaults()
}

func (o *Options) validate() error {
	u, err := url.Parse(o.ServerURL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return fmt.Errorf("server URL %q: want ws://host[:port] or wss://host[:port]", o.ServerURL)
	}
	if o.JoinRate < 0 {
		return errors.New("join rate must not be negative")
	}
	for _, k := range o.Subscribe.Kinds {
		if k != "audio" && k != "video" {
			return fmt.Errorf("subscribe kind %q: want audio or video", k)
		}
	}
	if e := o.Expect; e != nil {
		switch {
		case e.SubscribersDecodingPercent <= 0 || e.SubscribersDecodingPercent > 100:
			return fmt.Errorf("expected percentage of decoding subscribers %v: want 0 < p ≤ 100", e.SubscribersDecodingPercent)
		case e.Within <= 0:
			return errors.New("expectation deadline must be positive")
		case o.Plan.Subscribers == 0:
			return errors.New("expecting decoding subscribers needs subscribers")
		case o.Subscribe.None || (len(o.Subscribe.Kinds) > 0 && !slices.Contains(o.Subscribe.Kinds, "video")):
			return errors.New("expecting decoding subscribers needs subscribers that consume video")
		case o.NewSink == nil:
			return errors.New("expecting decoding subscribers needs a decoding sink")
		}
	}
	if err := validateTalk(o.Talk); err != nil {
		return err
	}
	return o.Plan.validate()
}
