package config

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/goccy/go-yaml"
)

// YAMLLoader reads a configuration file for kong.Configuration. Sections (log, kafka, clickhouse,
// redis) hold the keys of their flags with underscores, e.g. kafka.embedded_addr for
// --kafka-embedded-addr; top-level keys are the other flags (data_dir). A setting given by flag
// or by its MIP_* variable wins over the file. Unknown keys are an error.
func YAMLLoader(r io.Reader) (kong.Resolver, error) {
	raw := map[string]any{}
	if err := yaml.NewDecoder(r).Decode(&raw); err != nil && err != io.EOF {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	values := map[string]string{}
	if err := flatten("", raw, values); err != nil {
		return nil, err
	}
	return &fileResolver{values: values}, nil
}

type fileResolver struct {
	values map[string]string // by file key, e.g. "kafka.brokers"
}

func (f *fileResolver) Validate(app *kong.Application) error {
	known := map[string]bool{}
	for _, fl := range app.Flags {
		known[FileKey(fl.Name)] = true
	}
	var unknown []string
	for k := range f.values {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	keys := make([]string, 0, len(known))
	for k := range known {
		if k != "config" && k != "help" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return fmt.Errorf("configuration file: unknown key(s) %s; known keys: %s",
		strings.Join(unknown, ", "), strings.Join(keys, ", "))
}

func (f *fileResolver) Resolve(_ *kong.Context, _ *kong.Path, flag *kong.Flag) (any, error) {
	for _, env := range flag.Envs {
		if _, ok := os.LookupEnv(env); ok {
			return nil, nil // the variable wins over the file
		}
	}
	v, ok := f.values[FileKey(flag.Name)]
	if !ok {
		return nil, nil
	}
	return v, nil
}

func flatten(prefix string, in map[string]any, out map[string]string) error {
	for k, v := range in {
		key := strings.ReplaceAll(k, "-", "_")
		if prefix != "" {
			key = prefix + "." + key
		}
		switch v := v.(type) {
		case map[string]any:
			if prefix != "" {
				return fmt.Errorf("configuration file: key %s: sections do not nest", key)
			}
			if err := flatten(key, v, out); err != nil {
				return err
			}
		case []any:
			items := make([]string, len(v))
			for i, it := range v {
				items[i] = fmt.Sprint(it)
			}
			out[key] = strings.Join(items, ",")
		case nil:
			out[key] = ""
		default:
			out[key] = fmt.Sprint(v)
		}
	}
	return nil
}
