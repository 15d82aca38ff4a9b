package deploy

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"

	"github.com/callctl/callctl/cmd"
)

// shardingFlags are the fleet flags of issue 12's sharding and metrics
// work. A callctl without any of them (that work not merged yet) gets their
// values checked here but not parsed: see parseCallctl.
var shardingFlags = []string{"shard-count", "shard-index", "start-at", "metrics-addr", "metrics-push"}

// parsedArgs is a container's command line as callctl parsed it.
type parsedArgs struct {
	command  string
	flags    *pflag.FlagSet
	unparsed map[string]string // sharding flags this callctl lacks
}

// value is a flag's value, default included.
func (p parsedArgs) value(t *testing.T, name string) string {
	t.Helper()
	if v, ok := p.unparsed[name]; ok {
		return v
	}
	f := p.flags.Lookup(name)
	if f == nil {
		t.Fatalf("callctl %s has no --%s", p.command, name)
	}
	return f.Value.String()
}

// given reports whether the command line sets the flag.
func (p parsedArgs) given(name string) bool {
	if _, ok := p.unparsed[name]; ok {
		return true
	}
	f := p.flags.Lookup(name)
	return f != nil && f.Changed
}

// parseCallctl parses args with callctl's own command tree, as Main would
// before running the command: unknown commands and flags, malformed values
// and stray arguments are errors. The commands' own semantic checks (such
// as fleet's validate) run only inside their RunE, which this cannot call
// without running the command.
func parseCallctl(args []string) (parsedArgs, error) {
	root := cmd.NewRootCmd(cmd.IO{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	c, rest, err := root.Find(args)
	if err != nil {
		return parsedArgs{}, err
	}
	if c == root {
		return parsedArgs{}, fmt.Errorf("no callctl command in %q", args)
	}
	var unparsed map[string]string
	if c.Name() == "fleet" && !hasShardingFlags(c) {
		rest, unparsed = withoutFlags(rest, shardingFlags)
	}
	if err := c.ParseFlags(rest); err != nil {
		return parsedArgs{}, fmt.Errorf("callctl %s: %w", c.Name(), err)
	}
	if err := c.ValidateArgs(c.Flags().Args()); err != nil {
		return parsedArgs{}, fmt.Errorf("callctl %s: %w", c.Name(), err)
	}
	if err := c.ValidateRequiredFlags(); err != nil {
		return parsedArgs{}, fmt.Errorf("callctl %s: %w", c.Name(), err)
	}
	if err := c.ValidateFlagGroups(); err != nil {
		return parsedArgs{}, fmt.Errorf("callctl %s: %w", c.Name(), err)
	}
	return parsedArgs{command: c.Name(), flags: c.Flags(), unparsed: unparsed}, nil
}

// hasShardingFlags reports whether fleet has any flag of the sharding and
// metrics family. Only when it has none are shardingFlags set aside: a
// callctl that has some of them but spells one differently must fail.
func hasShardingFlags(c *cobra.Command) bool {
	found := false
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if strings.HasPrefix(f.Name, "shard") || strings.HasPrefix(f.Name, "metrics") || f.Name == "start-at" {
			found = true
		}
	})
	return found
}

// withoutFlags removes the named flags (--name=value or --name value) from
// args and returns them separately.
func withoutFlags(args, names []string) (rest []string, removed map[string]string) {
	removed = map[string]string{}
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(args[i], "--"), "=")
		if !strings.HasPrefix(args[i], "--") || !contains(names, name) {
			rest = append(rest, args[i])
			continue
		}
		if !hasValue && i+1 < len(args) {
			i++
			value = args[i]
		}
		removed[name] = value
	}
	return rest, removed
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

var envRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expandArgs returns a container's args as the kubelet passes them:
// $(VAR) replaced by the container's env value. A reference to a variable
// the container does not set would reach callctl literally: an error.
func expandArgs(t *testing.T, c corev1.Container) []string {
	t.Helper()
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			env[e.Name] = "value-from-" + e.Name
			continue
		}
		env[e.Name] = e.Value
	}
	out := make([]string, len(c.Args))
	for i, a := range c.Args {
		out[i] = envRef.ReplaceAllStringFunc(a, func(ref string) string {
			name := envRef.FindStringSubmatch(ref)[1]
			v, ok := env[name]
			if !ok {
				t.Errorf("container %s: %q references $(%s), which its env does not set", c.Name, a, name)
			}
			return v
		})
	}
	return out
}

// TestParseCallctlRejects shows that the parsing the manifest checks rely
// on can fail.
func TestParseCallctlRejects(t *testing.T) {
	for _, args := range [][]string{
		{"fleet", "--no-such-flag"},
		{"fleet", "--rooms=three"},
		{"fleet", "stray-argument"},
		{"no-such-command"},
		{"--log-level=debug"},
	} {
		if _, err := parseCallctl(args); err == nil {
			t.Errorf("%q parsed", args)
		}
	}
	if p, err := parseCallctl([]string{"fleet", "--rooms=2", "--log-format=json"}); err != nil || p.value(t, "rooms") != "2" || !p.given("log-format") || p.given("publishers") {
		t.Errorf("a valid fleet command line: %v", err)
	}
}
