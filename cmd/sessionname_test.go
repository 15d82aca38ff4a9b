package cmd

import (
	"strings"
	"testing"

	"github.com/callctl/callctl/cmd/internal/ctlsock"
)

func TestDefaultSessionName(t *testing.T) {
	for _, tc := range []struct{ room, user, want string }{
		{"demo", "bot1", "demo-bot1"},
		{"a.b", "c_d-e", "a.b-c_d-e"},
		{"r", "José", "r-Jos_-c0e5b75f"},
		{"r", "Josè", "r-Jos_-a5d97947"},
		{"r", "Jos_", "r-Jos_"},
	} {
		if got := defaultSessionName(tc.room, tc.user); got != tc.want {
			t.Errorf("%q %q: %q, want %q", tc.room, tc.user, got, tc.want)
		}
	}
	// Every default name is valid and fits, however long or odd the input.
	long := strings.Repeat("x", 100)
	names := map[string]string{}
	for _, in := range [][2]string{
		{".hidden", "u"}, {long, "u1"}, {long, "u2"}, {long + "é", "u"}, {"日本", "ユーザー"}, {"", ""}, {"r", "a b"}, {"r", "a/b"},
	} {
		got := defaultSessionName(in[0], in[1])
		if err := ctlsock.ValidateName(got); err != nil {
			t.Errorf("%q %q: %v", in[0], in[1], err)
		}
		if prev, dup := names[got]; dup {
			t.Errorf("%q and %q both map to %q", prev, in, got)
		}
		names[got] = in[0] + "-" + in[1]
	}
}
