package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	chproj "github.com/marketinsightspro/marketinsights/projections/clickhouse"
	redisproj "github.com/marketinsightspro/marketinsights/projections/redis"
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
	Check        bool          `help:"Run the system for --duration on fresh, private state (in-memory broker, new ClickHouse database and Redis prefix, free ports), then check every layer against the sandbox's truth, print what was checked and exit non-zero on any miss."`
	Duration     time.Duration `default:"90s" help:"With --check: how long the system runs before the checks."`
	processorFlags
}

// Run starts what exists of the system. Later roles (processors, projectors, scraper, sandbox,
// API) join here as they land.
func (c *demoCmd) Run(e *env) error {
	if c.Check {
		return c.runCheck(e)
	}
	return c.run(e, nil)
}

// run runs the demo until e.ctx ends; a non-nil ready is called once everything started.
func (c *demoCmd) run(e *env, ready func(demoHandles)) error {
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
	page, apiURL := "off (--no-read-models)", ""
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
		apiURL = srv.url
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
  Metrics:  http://%s/metrics (readiness: /readyz); every role's, scraped by the local
            Prometheus at http://127.0.0.1:19090 (deploy/prometheus/prometheus.yml, alerts.yml)
  Grafana:  dashboards in %s (not installed here, Debian has no
            package: import them into a Grafana, or run docker compose; docs/operations.md)
  Report:   %s
  Sandbox:  %s (simulated marketplace, an hour per minute; truth at /_truth)
  SQL:      %s
  Scraping: %s
  Running:  embedded broker, topic catalog, processors (products, keywords, anomalies,
            notifications with webhook delivery, the analysis saga), sandbox marketplace,
            scrape workers and the schedule of the sandbox's keywords, ClickHouse and Redis
            projectors, the API and the report page.
Ctrl-C stops it.
`, kcfg.BootstrapBrokers()[0], len(topics.All()), topics.SearchResults, c.MetricsAddr, dashboardsHint(), page, sandboxURL, models, scraping)
	if ready != nil {
		h := demoHandles{kafka: kcfg, apiURL: apiURL}
		if sb != nil {
			h.sandboxURL = sb.URL
			h.keywords = sb.Server.Market().Keywords()
		}
		go ready(h)
	}
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

// demoHandles is what the self-check needs of a running demo.
type demoHandles struct {
	kafka      config.Kafka
	apiURL     string
	sandboxURL string
	keywords   []string
}

// runCheck runs the demo on private state for c.Duration, checks every layer, prints the table
// and returns an error when a check missed.
func (c *demoCmd) runCheck(e *env) error {
	started := time.Now()
	dir, err := os.MkdirTemp("", "mip-demo-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	stamp := strconv.FormatInt(time.Now().Unix(), 36)
	cfg := *e.cfg
	cfg.DataDir = dir
	cfg.ClickHouse.Database = cfg.ClickHouse.Database + "_check_" + stamp
	cfg.Redis.Prefix = cfg.Redis.Prefix + "check" + stamp + ":"
	if cfg.Kafka.Embedded() {
		cfg.Kafka.EmbeddedAddr = "127.0.0.1:0"
	}
	c.InMemory, c.NoReadModels, c.Scrape = true, false, true
	c.SandboxAddr, c.MetricsAddr, cfg.API.Addr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	c.TrackEvery = min(c.TrackEvery, max(c.Duration/4, 10*time.Second))
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	ce := *e
	ce.ctx, ce.cfg, ce.stdout = ctx, &cfg, io.Discard
	defer dropCheckState(e, cfg)

	var failed int
	var checkErr error
	runErr := c.run(&ce, func(h demoHandles) {
		defer cancel()
		select {
		case <-ctx.Done():
			return
		case <-time.After(c.Duration):
		}
		results, err := collectChecks(e.ctx, cfg, h)
		if err != nil {
			checkErr = err
			return
		}
		failed = printChecks(e.stdout, results, time.Since(started))
	})
	if e.ctx.Err() != nil {
		return e.ctx.Err()
	}
	if err := errors.Join(runErr, checkErr); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d checks missed", failed)
	}
	return nil
}

// collectChecks connects to the check's state and runs every check.
func collectChecks(ctx context.Context, cfg config.Config, h demoHandles) ([]checkResult, error) {
	adm, err := kafkaclient.NewAdmin(h.kafka, nil)
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	ch, err := chproj.Open(ctx, cfg.ClickHouse, "")
	if err != nil {
		return nil, err
	}
	defer ch.Close()
	rdb, err := redisproj.Open(ctx, cfg.Redis)
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	ck := &checker{adm: adm, ch: ch, rdb: rdb, redisPfx: cfg.Redis.Prefix, sandboxURL: h.sandboxURL, apiURL: h.apiURL, keywords: h.keywords,
		http: &http.Client{Timeout: 30 * time.Second}}
	return ck.run(ctx), nil
}

// dropCheckState deletes the check's ClickHouse database and Redis keys.
func dropCheckState(e *env, cfg config.Config) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 30*time.Second)
	defer cancel()
	if conn, err := chproj.Open(ctx, cfg.ClickHouse, "default"); err == nil {
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+cfg.ClickHouse.Database); err != nil {
			e.log.Warn("drop the check's database", "database", cfg.ClickHouse.Database, "err", err)
		}
		conn.Close()
	}
	if rdb, err := redisproj.Open(ctx, cfg.Redis); err == nil {
		var cursor uint64
		for {
			keys, next, err := rdb.Scan(ctx, cursor, cfg.Redis.Prefix+"*", 1000).Result()
			if err != nil {
				break
			}
			if len(keys) > 0 {
				rdb.Unlink(ctx, keys...)
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		rdb.Close()
	}
}
