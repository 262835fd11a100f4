package main

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/marketinsightspro/marketinsights/internal/broker"
	"github.com/marketinsightspro/marketinsights/sandbox"
	"github.com/marketinsightspro/marketinsights/topics"
)

type demoCmd struct {
	InMemory     bool   `help:"Keep the embedded broker's data in memory instead of <data-dir>/broker."`
	NoReadModels bool   `help:"Do not run the projectors (no ClickHouse or Redis needed)."`
	SandboxAddr  string `default:"127.0.0.1:18080" placeholder:"HOST:PORT" help:"Address of the sandbox marketplace the demo runs (empty: none)."`
	processorFlags
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
	c.AllowPrivateWebhooks = true // the demo's webhooks go to local receivers
	if c.WebhookSecret == "" {
		secret, err := demoSecret(e.cfg.DataDir)
		if err != nil {
			return err
		}
		c.WebhookSecret = secret
	}
	sandboxURL := "(off)"
	if c.SandboxAddr != "" {
		sb, err := sandbox.Start(e.ctx, c.SandboxAddr, sandbox.Options{Config: sandbox.Config{Seed: 1}, Acceleration: 60, Logger: e.log})
		if err != nil {
			return fmt.Errorf("start the sandbox marketplace on %s (set --sandbox-addr): %w", c.SandboxAddr, err)
		}
		defer sb.Close()
		sandboxURL = sb.URL + "/s?k=portable+charger"
	}
	reg := newRegistry()
	procs, err := startProcessors(e, kcfg, processRoles, c.processorFlags, reg)
	if err != nil {
		return err
	}
	readModels := "off (--no-read-models)"
	waitProjectors := func() error { return nil }
	if !c.NoReadModels {
		projs, err := startProjectors(e, kcfg, []string{"clickhouse"}, projectorFlags{BatchRows: 5000, FlushInterval: 500 * time.Millisecond}, reg)
		if err != nil {
			return fmt.Errorf("start the projectors (is ClickHouse up? `deploy/local/services up`; or --no-read-models): %w", err)
		}
		defer projs.close()
		waitProjectors = projs.wait
		readModels = fmt.Sprintf("ClickHouse database %s at %s (try: clickhouse-client --port %s -d %s -q 'SELECT count() FROM observations')",
			e.cfg.ClickHouse.Database, e.cfg.ClickHouse.Addr, portOf(e.cfg.ClickHouse.Addr), e.cfg.ClickHouse.Database)
	}
	page := "off (--no-read-models)"
	if !c.NoReadModels {
		key := e.cfg.API.Key
		if key == "" {
			if key, err = demoAPIKey(e.cfg.DataDir); err != nil {
				return err
			}
		}
		srv, err := startServer(e, kcfg, key, true, reg)
		if err != nil {
			return fmt.Errorf("start the API and report page: %w", err)
		}
		defer func() { _ = srv.close() }()
		page = srv.url + "/#key=" + key + " (the link hands the page the API key for analyses)"
	}
	stopMetrics, err := serveMetrics(e, c.MetricsAddr, reg, procs.ready)
	if err != nil {
		return err
	}
	defer stopMetrics()
	fmt.Fprintf(e.stdout, `
Market Insights Pro demo is running.
  Kafka:    %s (%d topics; try: marketinsights tail %s --from earliest)
  Metrics:  http://%s/metrics (readiness: /readyz)
  Report:   %s
  Sandbox:  %s (simulated marketplace, an hour per minute; truth at /_truth)
  SQL:      %s
  Running:  embedded broker, topic catalog, processors (products, keywords, anomalies,
            notifications with webhook delivery, the analysis saga), sandbox marketplace,
            ClickHouse projectors, API and report page.
  Not yet:  scraper workers, Redis projection; they join the demo as
            their issues land. Meanwhile feed the processors with 'marketinsights produce'
            ('marketinsights analyze KEYWORD --follow' waits for a scrape worker).
Ctrl-C stops it.
`, kcfg.BootstrapBrokers()[0], len(topics.All()), topics.SearchResults, c.MetricsAddr, page, sandboxURL, readModels)
	err = errors.Join(procs.wait(), waitProjectors())
	e.log.Info("demo stopped")
	return err
}

// portOf returns the port of a host:port address.
func portOf(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return port
}
