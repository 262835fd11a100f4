package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lovoo/goka"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/processors"
	"github.com/marketinsightspro/marketinsights/processors/analyses"
	"github.com/marketinsightspro/marketinsights/processors/anomalies"
	"github.com/marketinsightspro/marketinsights/processors/keywords"
	"github.com/marketinsightspro/marketinsights/processors/notifications"
	"github.com/marketinsightspro/marketinsights/processors/products"
)

// processRoles are the roles `process` runs, in the order "all" starts them.
var processRoles = []string{"products", "keywords", "anomalies", "notifications", "analyses"}

type processCmd struct {
	Roles       []string `arg:"" enum:"products,keywords,anomalies,notifications,analyses,all" help:"Processors to run: products, keywords, anomalies, notifications, analyses (the analysis saga and its router), or all."`
	GroupSuffix string   `placeholder:"SUFFIX" help:"Run products, keywords and anomalies under their group name plus SUFFIX (e.g. --group-suffix=-v2), so with new table and loopback topics: a new suffix rebuilds their state from their input topics, from the oldest record (after a change of their logic or settings). Their outputs go to the usual topics with the same event ids, which consumers deduplicate. Refused for notifications and analyses: rebuilding them would send webhooks and request scrapes again."`
	processorFlags
}

// processorFlags are the settings of the processors, shared by `process` and `demo`.
type processorFlags struct {
	MetricsAddr          string        `default:"127.0.0.1:9464" placeholder:"HOST:PORT" help:"Serve /metrics, /healthz and /readyz here (empty: off)."`
	StorageDir           string        `placeholder:"DIR" help:"goka's local table storage; default <data-dir>/goka. Deleting it is safe: tables recover from Kafka."`
	StorageCacheMB       int           `default:"8" placeholder:"MIB" help:"LevelDB block cache of each table partition's local store, in MiB. The stores take about (this + 2 x --storage-write-buffer-mb) per table partition a process opens (6 per group and per looked-up table)."`
	StorageWriteBufferMB int           `default:"4" placeholder:"MIB" help:"LevelDB memtable of each table partition's local store, in MiB (up to two are held while one is written to disk)."`
	ProductStateCache    int           `default:"2048" placeholder:"N" help:"Product tracker: decoded product states kept in memory, so the next observation of a product skips decoding its state (about 30 KB each with full histories; 0: off)."`
	AllowedLateness      time.Duration `default:"10m" help:"Keyword windows: how late an event may arrive and still update its window."`
	TickInterval         time.Duration `default:"5s" help:"Keyword windows: how often quiet keywords are checked for windows to close."`
	WebhookSecret        string        `env:"MIP_WEBHOOK_SECRET" help:"Secret that signs webhooks (X-MIP-Signature: sha256 HMAC of \"<timestamp>.<body>\"); required by the notifications role. The demo keeps one in <data-dir>/webhook-secret."`
	AllowPrivateWebhooks bool          `help:"Let webhooks reach loopback and private addresses (refused by default against SSRF)."`
	ScrapeTimeout        time.Duration `default:"2m" help:"Analyses: how long the saga waits for an analysis' scrape job to succeed."`
	WindowTimeout        time.Duration `default:"1m" help:"Analyses: how long the saga waits, after the scrape, for the keyword's window to include its pages."`

	// groupSuffix is process's --group-suffix (not a flag of demo).
	groupSuffix string
}

// checkGroupSuffix refuses a suffix that is not a valid part of a topic name, or roles whose
// state drives side effects.
func checkGroupSuffix(suffix string, roles []string) error {
	if suffix == "" {
		return nil
	}
	for _, c := range suffix {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("--group-suffix %q: only letters, digits, '.', '_' and '-' may be used in a group (and topic) name", suffix)
		}
	}
	for _, r := range roles {
		if r == "notifications" || r == "analyses" {
			return fmt.Errorf("--group-suffix with %s: rebuilding its state from its inputs would repeat its side effects (webhooks, scrape requests); run it without a suffix", r)
		}
	}
	return nil
}

func (c *processCmd) Run(e *env) error {
	roles := c.Roles
	if slices.Contains(roles, "all") {
		roles = processRoles
	}
	if err := checkGroupSuffix(c.GroupSuffix, roles); err != nil {
		return usageError{err}
	}
	c.groupSuffix = c.GroupSuffix
	reg := newRegistry()
	kcfg := withClientMetrics(e.cfg.Kafka, reg)
	run, err := startProcessors(e, kcfg, roles, c.processorFlags, reg)
	if err != nil {
		return err
	}
	stopLag, err := registerLag(e, kcfg, reg, run.groups)
	if err != nil {
		return err
	}
	defer stopLag()
	stopMetrics, err := serveMetrics(e, c.MetricsAddr, reg, run.ready)
	if err != nil {
		return err
	}
	defer stopMetrics()
	return run.wait()
}

// runningProcessors is a set of started roles.
type runningProcessors struct {
	ready  func() bool
	wait   func() error
	groups []string // the consumer groups of the roles
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// startProcessors builds and starts the roles' processors (and the webhook deliverer and the
// window ticker with them); wait blocks until they all stopped after e.ctx ends.
func startProcessors(e *env, kcfg config.Kafka, roles []string, f processorFlags, reg prometheus.Registerer) (*runningProcessors, error) {
	cfg := *e.cfg
	cfg.Kafka = kcfg
	genv := gokaenv.FromConfig(&cfg, e.log)
	if f.StorageDir != "" {
		genv.StorageDir = f.StorageDir
	}
	if f.StorageCacheMB < 0 || f.StorageWriteBufferMB < 0 {
		return nil, usageError{fmt.Errorf("--storage-cache-mb %d, --storage-write-buffer-mb %d: want at least 1 (0: LevelDB's default)", f.StorageCacheMB, f.StorageWriteBufferMB)}
	}
	genv.BlockCacheMB, genv.WriteBufferMB = f.StorageCacheMB, f.StorageWriteBufferMB
	m := processors.NewMetrics(reg)
	var procs []*goka.Processor
	var extras []func(context.Context) error
	var groups []string
	// In processRoles' order whatever the command line's: the product tracker (and so its table
	// topic) is built before the keyword windows look that table up.
	roles = slices.Clone(roles)
	slices.SortStableFunc(roles, func(a, b string) int { return slices.Index(processRoles, a) - slices.Index(processRoles, b) })
	for _, role := range roles {
		switch role {
		case "products":
			pc := products.DefaultConfig()
			pc.Group += goka.Group(f.groupSuffix)
			pc.StateCache = f.ProductStateCache
			p, err := products.New(genv, pc, m)
			if err != nil {
				return nil, fmt.Errorf("build product tracker: %w", err)
			}
			procs = append(procs, p)
		case "keywords":
			kc := keywords.DefaultConfig()
			kc.Group += goka.Group(f.groupSuffix)
			if slices.Contains(roles, "products") { // rebuilt together: read the new product table
				kc.ProductTable = goka.GroupTable(products.Group + goka.Group(f.groupSuffix))
			}
			kc.AllowedLateness = f.AllowedLateness
			kc.TickInterval = f.TickInterval
			p, err := keywords.New(genv, kc, m)
			if err != nil {
				return nil, fmt.Errorf("build keyword windows: %w", err)
			}
			procs = append(procs, p)
			ticker := keywords.NewTicker(p, kc.TickInterval, time.Now, e.log)
			extras = append(extras, func(ctx context.Context) error {
				if err := p.WaitForReadyContext(ctx); err != nil {
					return nil // stopped before ready
				}
				return ticker.Run(ctx)
			})
		case "anomalies":
			ac := anomalies.DefaultConfig()
			ac.Group += goka.Group(f.groupSuffix)
			p, err := anomalies.New(genv, ac, m)
			if err != nil {
				return nil, fmt.Errorf("build anomaly detector: %w", err)
			}
			procs = append(procs, p)
		case "notifications":
			nc := notifications.DefaultConfig()
			p, err := notifications.New(genv, nc, m)
			if err != nil {
				return nil, fmt.Errorf("build notifier: %w", err)
			}
			pa, err := notifications.NewAnalyses(genv, nc, m)
			if err != nil {
				return nil, fmt.Errorf("build analyses notifier: %w", err)
			}
			procs = append(procs, p, pa)
			dc := notifications.DefaultDeliveryConfig()
			dc.Secret = []byte(f.WebhookSecret)
			if len(dc.Secret) == 0 {
				return nil, usageError{errors.New("notifications need --webhook-secret (MIP_WEBHOOK_SECRET): receivers verify X-MIP-Signature with it")}
			}
			dc.AllowPrivateAddresses = f.AllowPrivateWebhooks
			d, err := notifications.NewDeliverer(kcfg, dc, e.log, notifications.NewDeliveryMetrics(reg))
			if err != nil {
				return nil, fmt.Errorf("build webhook deliverer: %w", err)
			}
			extras = append(extras, d.Run)
			groups = append(groups, notifications.DeliveryGroup)
		case "analyses":
			ac := analyses.DefaultConfig()
			ac.Keywords.AllowedLateness = f.AllowedLateness
			ac.Keywords.TickInterval = f.TickInterval
			ac.ScrapeTimeout, ac.AggregateTimeout = f.ScrapeTimeout, f.WindowTimeout
			if err := ac.Validate(); err != nil {
				return nil, usageError{fmt.Errorf("--scrape-timeout, --window-timeout: %w", err)}
			}
			p, err := analyses.New(genv, ac, m)
			if err != nil {
				return nil, fmt.Errorf("build analysis saga: %w", err)
			}
			r, err := analyses.NewRouter(genv, ac, m)
			if err != nil {
				return nil, fmt.Errorf("build analysis saga router: %w", err)
			}
			procs = append(procs, p, r)
			ticker := analyses.NewTicker(p, ac.TickInterval, time.Now, e.log)
			extras = append(extras, ticker.Run)
		default:
			return nil, usageError{fmt.Errorf("unknown role %q: want one of %v or all", role, processRoles)}
		}
	}

	ctx, cancel := context.WithCancel(e.ctx)
	var wg sync.WaitGroup
	errs := make(chan error, len(extras)+1)
	var ready sync.Map
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := processors.Run(ctx, e.log, procs...); err != nil {
			errs <- err
			cancel()
		}
	}()
	for _, p := range procs {
		go func() {
			if p.WaitForReadyContext(ctx) == nil {
				ready.Store(p, true)
				e.log.Info("processor ready", "group", string(p.Graph().Group()))
			}
		}()
	}
	for _, run := range extras {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errs <- err
				cancel()
			}
		}()
	}
	for _, p := range procs {
		groups = append(groups, string(p.Graph().Group()))
	}
	e.log.Info("processors starting", "roles", roles, "brokers", kcfg.BootstrapBrokers(), "storage", genv.StorageDir)
	return &runningProcessors{
		groups: groups,
		ready: func() bool {
			for _, p := range procs {
				if _, ok := ready.Load(p); !ok {
					return false
				}
			}
			return true
		},
		wait: func() error {
			wg.Wait()
			cancel()
			close(errs)
			var all []error
			for err := range errs {
				all = append(all, err)
			}
			return errors.Join(all...)
		},
	}, nil
}

// serveMetrics serves /metrics, /healthz and /readyz until the returned stop is called.
func serveMetrics(e *env, addr string, reg *prometheus.Registry, ready func() bool) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if ready == nil || ready() {
			fmt.Fprintln(w, "ready")
			return
		}
		http.Error(w, "recovering state", http.StatusServiceUnavailable)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics on %s (set --metrics-addr): %w", addr, err)
	}
	e.log.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return serveOn(e, ln, mux, "metrics server"), nil
}

// serveOn serves h on ln until the returned stop is called; stop shuts the server down (5 s
// grace) and joins its goroutine.
func serveOn(e *env, ln net.Listener, h http.Handler, what string) (stop func()) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error(what, "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}
}

// demoSecret returns the webhook secret kept in dataDir, creating a random one the first time.
func demoSecret(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "webhook-secret")
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate webhook secret: %w", err)
	}
	secret := hex.EncodeToString(buf)
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dataDir, err)
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write webhook secret: %w", err)
	}
	return secret, nil
}
