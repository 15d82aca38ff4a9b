package mediasoupclient

import (
	"errors"
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

// fingerprint returns the local DTLS fingerprint, upper-case as mediasoup
// compares it.
func (l *localSDP) fingerprint() (DtlsFingerprint, error) {
	find := func(attrs []psdp.Attribute) (DtlsFingerprint, bool) {
		for _, a := range attrs {
			if a.Key == "fingerprint" {
				alg, val, ok := strings.Cut(a.Value, " ")
				if ok {
					return DtlsFingerprint{Algorithm: strings.ToLower(alg), Value: strings.ToUpper(val)}, true
				}
			}
		}
		return DtlsFingerprint{}, false
	}
	if fp, ok := find(l.sd.Attributes); ok {
		return fp, nil
	}
	for _, m := range l.sd.MediaDescriptions {
		if fp, ok := find(m.Attributes); ok {
			return fp, nil
		}
	}
	return DtlsFingerprint{}, errors.New("local description has no DTLS fingerprint")
}

// dtlsRole is the DTLS role the local description takes: "client" for
// a=setup:active, "server" for passive. Offers (actpass) become client
// because our answers always say passive.
func (l *localSDP) dtlsRole() string {
	for _, m := range l.sd.MediaDescriptions {
		if v, ok := m.Attribute("setup"); ok {
			if v == "passive" {
				return "server"
			}
			return "client"
		}
	}
	return "client"
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
