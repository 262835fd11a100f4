package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketinsightspro/marketinsights/sandbox"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// TestScrapeRunAndEnqueueFollow runs `scrape` (plain HTTP fetcher, the sandbox as every
// marketplace) and asks it for a job with `scrape enqueue --follow`, which prints the job's
// statuses until SUCCEEDED; the pages are then on the search-results topic.
func TestScrapeRunAndEnqueueFollow(t *testing.T) {
	args := brokerArgs(t)
	sb, err := sandbox.Start(context.Background(), "", sandbox.Options{Config: sandbox.Config{Seed: 3},
		Clock: sandbox.NewManualClock(sandbox.DefaultEpoch.Add(10 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	kw := sb.Server.Market().Keywords()[1]
	scrapeArgs := append(append([]string{}, args...), "--scrape-fetcher", "http", "--scrape-allow-private", "--scrape-rate", "100",
		"--scrape-base-url", sb.URL, "--scrape-group", "scrape-cli-test-"+marketv1.NewEventID()[:8], "--scrape-max-product-pages", "0")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runOut, runErr bytes.Buffer
	wg.Go(func() {
		if code := run(ctx, append(scrapeArgs, "scrape", "--metrics-addr", ""), strings.NewReader(""), &runOut, &runErr); code != 0 {
			t.Errorf("scrape: exit %d: %s", code, runErr.String())
		}
	})
	defer func() { cancel(); wg.Wait() }()

	code, out, errOut := runCLI(t, "", append(args, "scrape", "enqueue", "--keyword", kw, "--pages", "2", "--priority", "high", "--follow", "--timeout", "1m")...)
	if code != 0 {
		t.Fatalf("enqueue: exit %d\n%s%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var first, last map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("not JSON: %q", lines[0])
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatalf("not JSON: %q", lines[len(lines)-1])
	}
	if first["status"] != "SCRAPE_STATUS_QUEUED" || last["status"] != "SCRAPE_STATUS_SUCCEEDED" || last["pages_done"] != float64(2) {
		t.Fatalf("statuses:\n%s", out)
	}
	job := last["job_id"].(string)
	if !strings.Contains(errOut, "requested job "+job) {
		t.Fatalf("stderr does not name the job: %s", errOut)
	}
	pages := 0
	for _, r := range tailLines(t, args, topics.SearchResults) {
		var ev struct {
			JobID string `json:"job_id"`
		}
		if err := json.Unmarshal(r.Value, &ev); err == nil && ev.JobID == job {
			pages++
		}
	}
	if pages != 2 {
		t.Fatalf("%d pages of job %s on %s, want 2", pages, job, topics.SearchResults)
	}
}

func TestScrapeUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"scrape", "enqueue", "--keyword", "x", "--marketplace", "bad|name"}, "want a domain"},
		{[]string{"scrape", "enqueue", "--keyword", "x", "--pages", "0"}, "--pages 0"},
		{[]string{"scrape", "enqueue", "--keyword", "x", "--priority", "urgent"}, "--priority"},
		{[]string{"scrape", "--no-workers"}, "nothing to run"},
		{[]string{"--scrape-weights", "1:1:0", "scrape"}, "--scrape-weights"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errOut := runCLI(t, "", tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q, want 2 and %q", code, errOut, tc.want)
			}
		})
	}
}
