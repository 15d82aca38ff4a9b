package mediasoupclient

import (
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// localSDP is a parsed local description with the few facts a mediasoup
// client needs from it.
type localSDP struct{ sd psdp.SessionDescription }

func parseLocalSDP(s string) (*localSDP, error) {
	var l localSDP
	if err := l.sd.UnmarshalString(s); err != nil {
		return nil, err
	}
	return &l, nil
}

func (l *localSDP) media(mid string) *psdp.MediaDescription {
	for _, m := range l.sd.MediaDescriptions {
		if v, ok := m.Attribute("mid"); ok && v == mid {
			return m
		}
	}
	return nil
}

// extensionIDs maps header-extension URIs to the ids of section mid.
func (l *localSDP) extensionIDs(mid string) map[string]int {
	ids := map[string]int{}
	m := l.media(mid)
	if m == nil {
		return ids
	}
	for _, a := range m.Attributes {
		if a.Key != "extmap" {
			continue
		}
		f := strings.Fields(a.Value)
		if len(f) < 2 {
			continue
		}
		idStr, _, _ := strings.Cut(f[0], "/")
		if id, err := strconv.Atoi(idStr); err == nil {
			ids[f[1]] = id
		}
	}
	return ids
}

// cname returns the CNAME of the first a=ssrc line in section mid.
func (l *localSDP) cname(mid string) string {
	m := l.media(mid)
	if m == nil {
		return ""
	}
	for _, a := range m.Attributes {
		if a.Key == "ssrc" {
			if _, rest, ok := strings.Cut(a.Value, " cname:"); ok {
				return rest
			}
		}
	}
	return ""
}

// applicationMid returns the mid of the m=application section, if any.
func (l *localSDP) applicationMid() string {
	for _, m := range l.sd.MediaDescriptions {
		if m.MediaName.Media == "application" {
			if v, ok := m.Attribute("mid"); ok {
				return v
			}
		}
	}
	return ""
}
