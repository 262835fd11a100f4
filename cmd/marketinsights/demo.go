package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/scraper/fetch"

	"github.com/marketinsightspro/marketinsights/internal/broker"
	"github.com/marketinsightspro/marketinsights/sandbox"
	"github.com/marketinsightspro/marketinsights/topics"
)

type demoCmd struct {
	InMemory     bool          `help:"Keep the embedded broker's data in memory instead of <data-dir>/broker."`
	NoReadModels bool          `help:"Do not run the projectors (no ClickHouse or Redis needed)."`
	SandboxAddr  string        `default:"127.0.0.1:18080" placeholder:"HOST:PORT" help:"Address of the sandbox marketplace the demo runs (empty: none)."`
	Scrape       bool          `default:"true" negatable:"" help:"Run scrape workers against the sandbox and track every sandbox keyword (--no-scrape: none)."`
	TrackEvery   time.Duration `default:"5m" help:"Period of the tracked sandbox keywords' scrapes (five simulated hours at the sandbox's pace)."`
	TrackPages   int           `default:"3" help:"Search pages of a tracked keyword's job."`
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
	var sb *sandbox.Running
	if c.SandboxAddr != "" {
		var err error
		// The sandbox outlives e.ctx (closed by the deferred Close) so running scrape jobs can finish.
		sb, err = sandbox.Start(context.WithoutCancel(e.ctx), c.SandboxAddr, sandbox.Options{Config: sandbox.Config{Seed: 1}, Acceleration: 60, Logger: e.log})
		if err != nil {
			return fmt.Errorf("start the sandbox marketplace on %s (set --sandbox-addr): %w", c.SandboxAddr, err)
		}
		defer sb.Close()
		sandboxURL = sb.URL + "/s?k=portable+charger"
	}
	reg := newRegistry()
	kcfg = withClientMetrics(kcfg, reg)
	procs, err := startProcessors(e, kcfg, processRoles, c.processorFlags, reg)
	if err != nil {
		return err
	}
	scraping := "off (--no-scrape, or no sandbox)"
	var scraper *runningScraper
	if c.Scrape && sb != nil {
		sc, tf := demoScrape(e.cfg.Scrape, sb, c.TrackEvery, c.TrackPages)
		scraper, err = startScraper(e, kcfg, sc, tf, true, reg)
		if errors.Is(err, fetch.ErrNoChromium) {
			e.log.Warn("no Chromium: the demo scrapes with the plain HTTP fetcher (deploy/local/services up chromium installs it)")
			sc.Fetcher = "http"
			scraper, err = startScraper(e, kcfg, sc, tf, true, reg)
		}
		if err != nil {
			return errors.Join(err, procs.wait())
		}
		scraping = fmt.Sprintf("%s fetcher, %d keywords every %v (try: marketinsights scrape enqueue --keyword 'portable charger' --priority high --follow)",
			sc.Fetcher, len(tf.Track), tf.Every)
	}
	groups := procs.groups
	models := "off (--no-read-models)"
	waitProjectors := func() error { return nil }
	if !c.NoReadModels {
		projs, err := startProjectors(e, kcfg, readModels, projectorFlags{BatchRows: 5000, FlushInterval: 200 * time.Millisecond, KeywordRetention: 24 * time.Hour, AnomalyCap: 1000}, reg)
		if err != nil {
			return fmt.Errorf("start the projectors (is ClickHouse up? `deploy/local/services up`; or --no-read-models): %w", err)
		}
		defer projs.close()
		waitProjectors = projs.wait
		groups = append(groups, projs.groups...)
		models = fmt.Sprintf("ClickHouse database %s at %s (try: clickhouse-client --port %s -d %s -q 'SELECT count() FROM observations')\n  Redis:    %s, keys under %s<generation>: (docs/redis.md)",
			e.cfg.ClickHouse.Database, e.cfg.ClickHouse.Addr, portOf(e.cfg.ClickHouse.Addr), e.cfg.ClickHouse.Database, e.cfg.Redis.Addr, e.cfg.Redis.Prefix)
	}
	if scraper != nil {
		groups = append(groups, scraper.groups...)
	}
	stopLag, err := registerLag(e, kcfg, reg, groups)
	if err != nil {
		return err
	}
	defer stopLag()
	stopMetrics, err := serveMetrics(e, c.MetricsAddr, reg, procs.ready)
	if err != nil {
		return err
	}
	defer stopMetrics()
	fmt.Fprintf(e.stdout, `
Market Insights Pro demo is running.
  Kafka:    %s (%d topics; try: marketinsights tail %s --from earliest)
  Metrics:  http://%s/metrics (readiness: /readyz); every role's, scraped by the local
            Prometheus at http://127.0.0.1:19090 (deploy/prometheus/prometheus.yml, alerts.yml)
  Grafana:  dashboards in %s (not installed here, Debian has no
            package: import them into a Grafana, or run docker compose; docs/operations.md)
  Sandbox:  %s (simulated marketplace, an hour per minute; truth at /_truth)
  SQL:      %s
  Scraping: %s
  Running:  embedded broker, topic catalog, processors (products, keywords, anomalies,
            notifications with webhook delivery, the analysis saga), sandbox marketplace,
            scrape workers and the schedule of the sandbox's keywords, ClickHouse and Redis
            projectors.
  Not yet:  API and report page; they join the demo as their issue lands.
Ctrl-C stops it.
`, kcfg.BootstrapBrokers()[0], len(topics.All()), topics.SearchResults, c.MetricsAddr, dashboardsHint(), sandboxURL, models, scraping)
	err = errors.Join(procs.wait(), waitProjectors())
	if scraper != nil {
		err = errors.Join(err, scraper.wait())
	}
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

// demoScrape is the scraper configuration of the demo: the configured one, pointed at the
// sandbox (private addresses allowed, every marketplace fetched from it, at least 20 requests a
// second), tracking every sandbox keyword.
func demoScrape(sc config.Scrape, sb *sandbox.Running, every time.Duration, pages int) (config.Scrape, trackFlags) {
	sc.AllowPrivate = true
	if sc.BaseURL == "" {
		sc.BaseURL = sb.URL
	}
	sc.Rate = max(sc.Rate, 20)
	tf := trackFlags{Track: sb.Server.Market().Keywords(), Every: every, Jitter: every / 2, TrackPages: pages, Marketplace: "amazon.com"}
	return sc, tf
}
