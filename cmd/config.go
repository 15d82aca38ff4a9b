package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix prefixes the environment variable of every flag:
// --log-level is CALLCTL_LOG_LEVEL, join's --server is CALLCTL_SERVER.
const EnvPrefix = "CALLCTL_"

// configFile is the YAML configuration: global flags at the top level,
// each command's flags under its name (see configs/callctl.yaml).
type configFile = map[string]any

// defaultConfigPath is $XDG_CONFIG_HOME/callctl/callctl.yaml (or
// ~/.config/…), used when it exists and neither --config nor
// CALLCTL_CONFIG names a file.
func defaultConfigPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "callctl", "callctl.yaml")
}

func loadConfig(path string, explicit bool) (configFile, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return nil, nil
	}
	if err != nil {
		return nil, &usageError{fmt.Errorf("config: %w", err)}
	}
	var cfg configFile
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return nil, &usageError{fmt.Errorf("config %s: %w", path, err)}
	}
	return cfg, nil
}

// applyConfig fills every flag of cmd that was not given on the command
// line: first from CALLCTL_* environment variables, then from the config
// file. Precedence: flag > environment > file > default.
func applyConfig(cmd *cobra.Command, cfg configFile) error {
	section, _ := cfg[cmd.Name()].(map[string]any)
	var errs []error
	apply := func(f *pflag.Flag) {
		if f.Changed || f.Name == "config" || f.Name == "help" {
			return
		}
		env := EnvPrefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
			return
		}
		v, ok := section[f.Name]
		where := cmd.Name() + "." + f.Name
		if !ok {
			v, ok = cfg[f.Name]
			where = f.Name
		}
		if !ok || v == nil {
			return
		}
		if err := f.Value.Set(configValue(v)); err != nil {
			errs = append(errs, fmt.Errorf("config key %s: %w", where, err))
		}
	}
	cmd.Flags().VisitAll(apply)
	cmd.InheritedFlags().VisitAll(apply)
	if err := unknownKeys(cmd, cfg, section); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return &usageError{errors.Join(errs...)}
	}
	return nil
}

// configValue renders a YAML scalar or list the way the flag parses it.
func configValue(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ",")
	default:
		return fmt.Sprint(x)
	}
}

// unknownKeys rejects misspelled keys in the command's section and at the
// top level, so a typo does not silently do nothing.
func unknownKeys(cmd *cobra.Command, cfg configFile, section map[string]any) error {
	var bad []string
	for k := range section {
		if cmd.Flags().Lookup(k) == nil && cmd.InheritedFlags().Lookup(k) == nil {
			bad = append(bad, cmd.Name()+"."+k)
		}
	}
	root := cmd.Root()
	for k, v := range cfg {
		if _, isSection := v.(map[string]any); isSection {
			if c, _, err := root.Find([]string{k}); err != nil || c == root {
				bad = append(bad, k)
			}
			continue
		}
		if root.PersistentFlags().Lookup(k) == nil {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("config: unknown keys %s", strings.Join(bad, ", "))
}
