package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	"github.com/marketinsightspro/marketinsights/topics"
)

type topicsCmd struct {
	List  topicsListCmd  `cmd:"" help:"Show every topic of the catalog: partitions, retention, cleanup policy, key and value type."`
	Apply topicsApplyCmd `cmd:"" help:"Create missing topics and report existing ones whose settings drifted from the catalog (idempotent)."`
}

type topicsListCmd struct {
	JSON bool `help:"Print JSON lines instead of a table."`
}

func (c *topicsListCmd) Run(e *env) error {
	if c.JSON {
		enc := json.NewEncoder(e.stdout)
		for _, t := range topics.All() {
			if err := enc.Encode(map[string]any{
				"name": t.Name, "kind": t.Kind, "partitions": t.Partitions, "retention_ms": retentionMS(t),
				"cleanup_policy": t.Cleanup, "key": t.Key, "value": t.Schema(), "summary": t.Summary,
			}); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tKIND\tPARTITIONS\tRETENTION\tCLEANUP\tKEY\tVALUE")
	for _, t := range topics.All() {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", t.Name, t.Kind, t.Partitions, topics.RetentionText(t), t.Cleanup, t.Key, orRaw(t.Schema()))
	}
	return tw.Flush()
}

func retentionMS(t topics.Topic) any {
	if t.Cleanup != topics.CleanupDelete {
		return nil
	}
	if t.Retention < 0 {
		return -1
	}
	return t.Retention.Milliseconds()
}

func orRaw(schema string) string {
	if schema == "" {
		return "raw bytes"
	}
	return schema
}

type topicsApplyCmd struct {
	FixConfigs bool          `help:"Set drifted retention and cleanup policies back to the catalog's (partition counts are never changed)."`
	Timeout    time.Duration `default:"30s" help:"Give up after this long."`
}

func (c *topicsApplyCmd) Run(e *env) error {
	opts := topics.ApplyOptions{Replication: e.cfg.Kafka.Replication, FixConfigs: c.FixConfigs}
	ctx, cancel := context.WithTimeout(e.ctx, c.Timeout)
	defer cancel()
	return applyTopics(ctx, e, e.cfg.Kafka, opts, true)
}

// applyTopics applies the catalog and prints one line per topic (verbose) or a summary.
func applyTopics(ctx context.Context, e *env, kcfg config.Kafka, opts topics.ApplyOptions, verbose bool) error {
	adm, err := kafkaclient.NewAdmin(kcfg, nil)
	if err != nil {
		return err
	}
	defer adm.Close()
	results, err := topics.Apply(ctx, adm, topics.All(), opts)
	counts := map[topics.Action]int{}
	for _, r := range results {
		counts[r.Action]++
		if !verbose && r.Action != topics.ActionDrift && r.Action != topics.ActionFailed {
			continue
		}
		line := fmt.Sprintf("%-10s %s", r.Action, r.Topic)
		if len(r.Drift) > 0 {
			line += ": " + strings.Join(r.Drift, "; ")
		}
		if r.Err != nil {
			line += ": " + r.Err.Error()
		}
		fmt.Fprintln(e.stdout, line)
	}
	if results == nil && err != nil {
		return fmt.Errorf("apply topics on %v: %w", kcfg.BootstrapBrokers(), err)
	}
	fmt.Fprintf(e.stdout, "topics on %s: %d created, %d unchanged, %d drifted, %d fixed, %d failed\n",
		strings.Join(kcfg.BootstrapBrokers(), ","), counts[topics.ActionCreated], counts[topics.ActionUnchanged],
		counts[topics.ActionDrift], counts[topics.ActionFixed], counts[topics.ActionFailed])
	if err != nil {
		return fmt.Errorf("apply topics: %w", err)
	}
	return nil
}
