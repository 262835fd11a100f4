package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/goccy/go-yaml"

	"github.com/marketinsightspro/marketinsights/internal/config"
)

// runCLI runs the binary's entry point in-process.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpOfEveryCommand(t *testing.T) {
	var c cli
	p, err := kong.New(&c, config.KongOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	var walk func(n *kong.Node)
	var paths [][]string
	walk = func(n *kong.Node) {
		if n.Type == kong.CommandNode && len(n.Children) == 0 {
			paths = append(paths, strings.Fields(n.FullPath()))
		}
		for _, ch := range n.Children {
			walk(ch)
		}
	}
	walk(p.Model.Node)
	if len(paths) < 8 {
		t.Fatalf("found %d commands, want every subcommand: %v", len(paths), paths)
	}
	for _, path := range paths {
		args := append(path[1:], "--help")
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !strings.Contains(out, "Usage: marketinsights "+strings.Join(path[1:], " ")) || !strings.Contains(out, "--kafka-brokers") {
				t.Fatalf("help lacks usage or shared settings:\n%s", out)
			}
		})
	}
}

func TestBadSettingsExitTwoNamingTheSetting(t *testing.T) {
	code, _, errOut := runCLI(t, "", "--redis-addr", "localhost", "topics", "list")
	if code != 2 || !strings.Contains(errOut, "--redis-addr") || !strings.Contains(errOut, "MIP_REDIS_ADDR") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "tail")
	if code != 2 || !strings.Contains(errOut, "<topic>") {
		t.Fatalf("missing argument: exit %d, stderr %q", code, errOut)
	}
}

func TestTopicsListShowsCatalog(t *testing.T) {
	code, out, errOut := runCLI(t, "", "topics", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"market.analysis-events.v1", "market.scrape-status.v1", "market.notifications.v1",
		"market.dead-letters.v1", "product-tracker-table", "compacted", "raw bytes"} {
		if !strings.Contains(out, want) {
			t.Errorf("topics list lacks %q", want)
		}
	}
}

// TestREADMEConfigurationTable keeps the README's table true to the flags.
func TestREADMEConfigurationTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string][]string{} // flag -> variable, file key, default
	for _, line := range strings.Split(string(readme), "\n") {
		if !strings.HasPrefix(line, "| `--") {
			continue
		}
		cells := strings.Split(line, "|")
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
		}
		documented[strings.TrimPrefix(cells[1], "--")] = cells[2:5]
	}
	var c cli
	p, err := kong.New(&c, config.KongOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Model.Flags {
		if f.Name == "help" {
			continue
		}
		doc, ok := documented[f.Name]
		if !ok {
			t.Errorf("README's configuration table lacks --%s", f.Name)
			continue
		}
		if len(f.Envs) != 1 || doc[0] != f.Envs[0] {
			t.Errorf("--%s: README says %s, flag reads %v", f.Name, doc[0], f.Envs)
		}
		if f.Name != "config" && doc[1] != config.FileKey(f.Name) {
			t.Errorf("--%s: README says file key %q, want %q", f.Name, doc[1], config.FileKey(f.Name))
		}
		if strings.TrimSpace(doc[2]) != f.Default {
			t.Errorf("--%s: README says default %q, flag has %q", f.Name, strings.TrimSpace(doc[2]), f.Default)
		}
		delete(documented, f.Name)
	}
	for name := range documented {
		t.Errorf("README documents --%s, which does not exist", name)
	}
}

// TestConfigPrintsEverySetting keeps `marketinsights config` true to the flags: every shared
// setting (except --config itself) appears under its file key.
func TestConfigPrintsEverySetting(t *testing.T) {
	code, out, errOut := runCLI(t, "", "config")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("config output is not YAML: %v\n%s", err, out)
	}
	var c cli
	p, err := kong.New(&c, config.KongOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Model.Flags {
		if f.Name == "help" || f.Name == "config" {
			continue
		}
		section, key, nested := strings.Cut(config.FileKey(f.Name), ".")
		_, ok := doc[section]
		if nested {
			m, _ := doc[section].(map[string]any)
			_, ok = m[key]
		}
		if !ok {
			t.Errorf("config does not print --%s (file key %s)", f.Name, config.FileKey(f.Name))
		}
	}
}
