package sdktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// ServerTransport is one WebRtcTransport of a peer, as the reference
// server's /status reports it.
type ServerTransport struct {
	PeerID    string
	Direction string `json:"direction"`
	IceState  string `json:"iceState"`
	Protocol  string `json:"protocol"`  // of the selected ICE tuple
	LocalPort int    `json:"localPort"` // the server's side of it
}

// RoomTransports reads /status and returns the transports of room's
// peers.
func (s *Server) RoomTransports(room string) ([]ServerTransport, error) {
	// No keep-alive: an idle connection would outlive the test (goleak).
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http" + strings.TrimPrefix(s.URL, "ws") + "/status")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var status struct {
		RoomDetails []struct {
			RoomID string `json:"roomId"`
			Peers  []struct {
				PeerID     string            `json:"peerId"`
				Transports []ServerTransport `json:"transports"`
			} `json:"peers"`
		} `json:"roomDetails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&status); err != nil {
		return nil, fmt.Errorf("decoding /status: %w", err)
	}
	var out []ServerTransport
	for _, r := range status.RoomDetails {
		if r.RoomID != room {
			continue
		}
		for _, p := range r.Peers {
			for _, tr := range p.Transports {
				tr.PeerID = p.PeerID
				out = append(out, tr)
			}
		}
	}
	return out, nil
}
