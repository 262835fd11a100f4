package main

import (
	"fmt"
	"path/filepath"

	"github.com/marketinsightspro/marketinsights/internal/broker"
	"github.com/marketinsightspro/marketinsights/topics"
)

type demoCmd struct {
	InMemory bool `help:"Keep the embedded broker's data in memory instead of <data-dir>/broker."`
}

// Run starts what exists of the system. Later roles (processors, projectors, scraper, sandbox,
// API) join here as they land.
func (c *demoCmd) Run(e *env) error {
	kcfg := e.cfg.Kafka
	if kcfg.Embedded() {
		opts := broker.Options{Addr: kcfg.EmbeddedAddr, DataDir: filepath.Join(e.cfg.DataDir, "broker"), Logger: e.log}
		if c.InMemory {
			opts.DataDir = ""
		}
		b, err := broker.Start(opts)
		if err != nil {
			return fmt.Errorf("start the embedded broker (is another 'marketinsights broker' or demo running? set --kafka-brokers to use it): %w", err)
		}
		defer b.Close()
		kcfg.Brokers = []string{b.Addr()}
		e.log.Info("embedded broker up", "addr", b.Addr(), "data_dir", orNone(opts.DataDir))
	}
	if err := applyTopics(e.ctx, e, kcfg, topics.ApplyOptions{Replication: kcfg.Replication}, false); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, `
Market Insights Pro demo is running.
  Kafka:   %s (%d topics; try: marketinsights tail %s --from earliest)
  Running: embedded broker, topic catalog.
  Not yet: processors, projectors, scraper, sandbox marketplace, API and report page;
           they join the demo as their issues land.
Ctrl-C stops it.
`, kcfg.BootstrapBrokers()[0], len(topics.All()), topics.SearchResults)
	<-e.ctx.Done()
	e.log.Info("demo stopping")
	return nil
}
