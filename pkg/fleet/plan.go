package fleet

import (
	"errors"
	"fmt"
	"strconv"
)

// Role is what a fleet participant does in its room.
type Role string

// Roles, as load testers know them.
const (
	// Publisher sends the fleet's shared audio and/or video and consumes
	// nothing.
	Publisher Role = "publisher"
	// Subscriber sends nothing and consumes what Options.Subscribe selects.
	Subscriber Role = "subscriber"
)

// Member is one planned participant: who it is and where it goes.
type Member struct {
	// Index is the participant's number within its role, offset by
	// PlanOptions.IndexOffset: unique across every process that shares
	// the prefix and plans disjoint index ranges.
	Index int    `json:"index"`
	Role  Role   `json:"role"`
	ID    string `json:"id"` // peer id: <prefix>-p<index> or <prefix>-s<index>
	Room  string `json:"room"`
}

// PlanOptions describe a fleet's participants.
type PlanOptions struct {
	// Prefix starts every peer id (default "bot").
	Prefix string
	// RoomPrefix names the rooms <RoomPrefix>-<n> (default "fleet").
	RoomPrefix string
	// Rooms is how many rooms the participants are spread over (≥ 1).
	Rooms int
	// Publishers and Subscribers are how many of each this process runs
	// (the whole fleet's, with ShardCount).
	Publishers, Subscribers int
	// IndexOffset is added to every index, so that several processes (or
	// machines) can run shards of one fleet: with 10 publishers each,
	// offsets 0 and 10 give bot-p0…bot-p9 and bot-p10…bot-p19, and the
	// rooms stay balanced because the room follows the global index.
	IndexOffset int
	// ShardCount splits the fleet over that many processes (0: not
	// sharded); this process is shard ShardIndex and plans its contiguous
	// slice of each role's indexes (ShardSlice), plus IndexOffset. Rooms
	// still follow the global index, so every shard fills the same rooms.
	ShardIndex, ShardCount int
}

// MaxParticipants bounds one process's fleet: every participant costs two
// PeerConnections, a WebSocket and a handful of goroutines.
const MaxParticipants = 2000

func (o PlanOptions) withDefaults() PlanOptions {
	if o.Prefix == "" {
		o.Prefix = "bot"
	}
	if o.RoomPrefix == "" {
		o.RoomPrefix = "fleet"
	}
	return o
}

func (o PlanOptions) validate() error {
	switch {
	case o.Rooms < 1:
		return errors.New("rooms must be at least 1")
	case o.Publishers < 0 || o.Subscribers < 0:
		return errors.New("publishers and subscribers must not be negative")
	case o.Publishers+o.Subscribers == 0:
		return errors.New("a fleet needs at least one publisher or subscriber")
	case o.IndexOffset < 0:
		return errors.New("index offset must not be negative")
	}
	if err := o.validateShard(); err != nil {
		return err
	}
	if _, pubs, _, subs := o.local(); pubs+subs > MaxParticipants {
		return fmt.Errorf("%d participants: at most %d per process (run shards with --shard-count or --index-offset)", pubs+subs, MaxParticipants)
	}
	return nil
}

// Plan lists the participants, publishers first (so subscribers find
// media when they arrive), each role by index. Participant i of a role
// (global index, offset included) goes to room i mod Rooms.
func Plan(o PlanOptions) ([]Member, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	pubStart, pubs, subStart, subs := o.local()
	members := make([]Member, 0, pubs+subs)
	add := func(role Role, tag string, start, n int) {
		for k := range n {
			i := start + k
			members = append(members, Member{
				Index: i, Role: role, ID: o.Prefix + "-" + tag + strconv.Itoa(i), Room: RoomName(o.RoomPrefix, i%o.Rooms),
			})
		}
	}
	add(Publisher, "p", pubStart, pubs)
	add(Subscriber, "s", subStart, subs)
	return members, nil
}

// RoomName is the n-th room of a fleet.
func RoomName(prefix string, n int) string { return prefix + "-" + strconv.Itoa(n) }
