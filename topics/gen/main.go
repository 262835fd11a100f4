// Command gen writes the topic reference (topics.md) and the AsyncAPI document (asyncapi.yaml) of the
// topic catalog: `go run ./topics/gen -out docs`.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/marketinsightspro/marketinsights/topics"
)

func main() {
	out := flag.String("out", "docs", "directory to write topics.md and asyncapi.yaml into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	docs := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"topics.md", topics.WriteMarkdown},
		{"asyncapi.yaml", topics.WriteAsyncAPI},
	}
	for _, d := range docs {
		var b bytes.Buffer
		if err := d.write(&b); err != nil {
			return fmt.Errorf("render %s: %w", d.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, d.name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
