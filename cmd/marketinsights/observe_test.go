package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/dashboards"
	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/testenv"
	"github.com/marketinsightspro/marketinsights/sandbox"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/scraper/jobs"
	"github.com/marketinsightspro/marketinsights/scraper/worker"
	"github.com/marketinsightspro/marketinsights/topics"
)

// describing is a Registerer that remembers the name of every metric registered through it, so
// that a metric exists before its first sample.
type describing struct {
	prometheus.Registerer
	mu    sync.Mutex
	names map[string]bool
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (d *describing) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(ch); close(ch) }()
	d.mu.Lock()
	for desc := range ch {
		if m := fqName.FindStringSubmatch(desc.String()); m != nil {
			d.names[m[1]] = true
		}
	}
	d.mu.Unlock()
	return d.Registerer.Register(c)
}

func (d *describing) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := d.Register(c); err != nil {
			panic(err)
		}
	}
}

func (d *describing) has(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.names[name]
}

// TestDashboardsAndAlertsOnRunningPipeline runs the demo's roles (every processor, the
// ClickHouse and Redis projectors, scrape workers with the plain HTTP fetcher against the sandbox,
// the API, the lag collector and client metrics, one registry served on /metrics) on the test
// broker, feeds them (records, one scrape job, API requests), and has a private Prometheus
// (Debian's) scrape them with the alert rules loaded. Every PromQL expression of the dashboards must parse, name only metrics the
// roles register, and return data; every metric the alert rules name must exist or be listed in
// dashboards.Pending, and no pending metric may exist.
func TestDashboardsAndAlertsOnRunningPipeline(t *testing.T) {
	if _, err := exec.LookPath("prometheus"); err != nil {
		t.Fatalf("prometheus not found (%v): install it with `deploy/local/services up prometheus` (Debian: apt-get install prometheus)", err)
	}
	brokerArgs(t) // the catalog's topics on the test broker
	k := testenv.Kafka(t)
	ch := testenv.ClickHouse(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rd := testenv.Redis(t)
	sb, err := sandbox.Start(ctx, "", sandbox.Options{Config: sandbox.Config{Seed: 3},
		Clock: sandbox.NewManualClock(sandbox.DefaultEpoch.Add(10 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	cfg := &config.Config{DataDir: t.TempDir(), Kafka: k.Config(),
		ClickHouse: config.ClickHouse{Addr: ch.Addr, Database: ch.Database, Username: "default"},
		Redis:      config.Redis{Addr: rd.Client.Options().Addr, Prefix: rd.Prefix},
		API:        config.API{Addr: freeAddr(t)},
	}
	e := &env{ctx: ctx, cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil)), stdout: io.Discard, stderr: io.Discard}

	reg := newRegistry()
	rec := &describing{Registerer: reg, names: map[string]bool{}}
	kcfg := withClientMetrics(cfg.Kafka, rec)
	procs, err := startProcessors(e, kcfg, processRoles, processorFlags{AllowedLateness: 10 * time.Minute, TickInterval: time.Second,
		WebhookSecret: "test", AllowPrivateWebhooks: true, ScrapeTimeout: 2 * time.Minute, WindowTimeout: time.Minute,
		StorageDir: filepath.Join(cfg.DataDir, "goka")}, rec)
	if err != nil {
		t.Fatal(err)
	}
	projs, err := startProjectors(e, kcfg, []string{"clickhouse", "redis"}, projectorFlags{BatchRows: 100, FlushInterval: 200 * time.Millisecond}, rec)
	if err != nil {
		t.Fatal(err)
	}
	// Scrape workers with the plain HTTP fetcher, every marketplace served by the sandbox.
	scr, err := startScraper(e, kcfg, config.Scrape{Fetcher: "http", AllowPrivate: true, Rate: 100, BaseURL: sb.URL,
		Group: "observe-scrape-" + marketv1.NewEventID()[:8], Concurrency: 2, Weights: "6:3:1", Attempts: 1,
		Backoff: time.Second, MaxBackoff: time.Second, MaxProductPages: 2}, trackFlags{}, true, rec)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := startServer(e, kcfg, "observe-test-key", true, reg)
	if err != nil {
		t.Fatal(err)
	}
	stopLag, err := registerLag(e, kcfg, rec, slices.Concat(procs.groups, projs.groups, scr.groups))
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	stopMetrics, err := serveMetrics(e, addr, reg, procs.ready)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		stopMetrics()
		stopLag()
		if err := srv.close(); err != nil {
			t.Error(err)
		}
		cancel()
		if err := scr.wait(); err != nil {
			t.Error(err)
		}
		if err := procs.wait(); err != nil {
			t.Error(err)
		}
		if err := projs.wait(); err != nil {
			t.Error(err)
		}
		projs.close()
	}()
	for deadline := time.Now().Add(90 * time.Second); !procs.ready(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("processors not ready in 90 s")
		}
	}
	prom := startPrometheus(t, addr)
	feedPipeline(t)
	enqueueScrape(t, sb.Server.Market().Keywords()[1])
	callAPI(t, srv.url) // the API's metric vectors get their series

	exprs := map[string]string{}
	for _, d := range dashboards.All() {
		for _, p := range d.Panels {
			for i, q := range p.Queries {
				if p.Datasource == dashboards.Prometheus {
					exprs[fmt.Sprintf("%s/%s/%d", d.Title, p.Title, i)] = q.Expr
				}
			}
		}
	}
	if len(exprs) < 30 {
		t.Fatalf("%d PromQL expressions in the dashboards; want at least 30", len(exprs))
	}
	// A metric exists when a role registered it through rec, or, for those registered on reg
	// directly (the API's), when reg gathers it.
	registered := func(name string) bool {
		if rec.has(name) {
			return true
		}
		mfs, _ := reg.Gather()
		return slices.ContainsFunc(mfs, func(mf *dto.MetricFamily) bool { return mf.GetName() == name })
	}
	exists := func(name string) bool {
		if name == "up" || registered(name) {
			return true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && registered(base) {
				return true
			}
		}
		return false
	}
	for name, expr := range exprs {
		names, err := metricNames(expr)
		if err != nil {
			t.Errorf("%s: %v\n%s", name, err, expr)
			continue
		}
		for _, n := range names {
			if !exists(n) {
				t.Errorf("%s names %s, which no running role registers", name, n)
			}
		}
	}
	for name := range dashboards.Pending {
		if exists(name) {
			t.Errorf("%s is registered now: remove it from dashboards.Pending and give it a panel", name)
		}
	}
	for alert, expr := range alertExprs(t) {
		names, err := metricNames(expr)
		if err != nil {
			t.Errorf("alert %s: %v", alert, err)
			continue
		}
		for _, n := range names {
			if _, pending := dashboards.Pending[n]; !exists(n) && !pending {
				t.Errorf("alert %s names %s, which no running role registers and dashboards.Pending does not list", alert, n)
			}
		}
	}

	// Every expression returns data once Prometheus has scraped the fed pipeline a few times.
	empty := map[string]string{}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(2 * time.Second) {
		callAPI(t, srv.url) // requests and cache lookups keep coming, so their rates are not zero
		clear(empty)
		for name, expr := range exprs {
			n, err := prom.query(expr)
			if err != nil {
				t.Fatalf("%s: Prometheus refuses %s: %v", name, expr, err)
			}
			if n == 0 {
				empty[name] = expr
			}
		}
		if len(empty) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for name, expr := range empty {
		t.Errorf("%s returns no data from the running pipeline: %s", name, expr)
	}
	// The roles did the work the panels show: the enqueued job succeeded with its pages, the
	// sandbox's host has a closed breaker, and the repeated report came from the L1 cache.
	wantSeen := []struct {
		name   string
		labels map[string]string
	}{
		{"marketinsights_scrape_jobs_total", map[string]string{"status": "succeeded"}},
		{"marketinsights_scrape_pages_total", map[string]string{"kind": "search", "result": "ok"}},
		{"marketinsights_scrape_pages_total", map[string]string{"kind": "product", "result": "ok"}},
		{"marketinsights_api_cache_requests_total", map[string]string{"cache": "report", "layer": "l1", "result": "hit"}},
		{"marketinsights_api_cache_requests_total", map[string]string{"cache": "report", "layer": "redis", "result": "hit"}},
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		var missing []string
		for _, c := range wantSeen {
			if v, _ := sampleSum(reg, c.name, c.labels); v < 1 {
				missing = append(missing, fmt.Sprintf("%s%v is %v, want at least 1", c.name, c.labels, v))
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(strings.Join(missing, "\n"))
		}
		callAPI(t, srv.url)
	}
	if v, n := sampleSum(reg, "marketinsights_scrape_breaker_state", map[string]string{"host": "127.0.0.1"}); n != 1 || v != 0 {
		t.Errorf("%d breaker states of the sandbox's host, value %v; want one, 0 (closed)", n, v)
	}
	if n, err := prom.query(`count(ALERTS)`); err != nil {
		t.Errorf("alerts not loaded: %v", err)
	} else {
		t.Logf("%d alert series active in the test's Prometheus", n)
	}
}

// sampleSum gathers reg and returns the sum and the number of the counter or gauge samples of
// name whose labels include labels.
func sampleSum(reg prometheus.Gatherer, name string, labels map[string]string) (float64, int) {
	mfs, _ := reg.Gather()
	sum, n := 0.0, 0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			match := true
			for k, v := range labels {
				match = match && have[k] == v
			}
			if match {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
				n++
			}
		}
	}
	return sum, n
}

// metricNames parses expr and returns the metric names of its selectors.
func metricNames(expr string) ([]string, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			name := vs.Name
			for _, m := range vs.LabelMatchers {
				if m.Name == "__name__" {
					name = m.Value
				}
			}
			if name == "" {
				err = fmt.Errorf("selector %s names no metric", vs)
			}
			names = append(names, name)
		}
		return nil
	})
	return names, err
}

// alertExprs returns the expression of every rule of deploy/prometheus/alerts.yml.
func alertExprs(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			out[r.Alert] = r.Expr
		}
	}
	if len(out) < 9 {
		t.Fatalf("alerts.yml has %d rules", len(out))
	}
	return out
}

// feedPipeline produces what makes every panel move: search pages and observations of two
// keywords, a late page, an undecodable observation (dead-lettered by the product tracker and
// the observations projector), and scrape requests of every priority.
func feedPipeline(t *testing.T) {
	t.Helper()
	now := time.Now().UTC()
	var recs []*kgo.Record
	add := func(topic, key string, m proto.Message) {
		r, err := topics.NewRecord(topics.MustLookup(topic), key, m)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	envAt := func(at time.Time) *marketv1.Envelope {
		return &marketv1.Envelope{EventId: marketv1.NewEventID(), EventTime: timestamppb.New(at), Producer: "observe-test", SchemaVersion: 1}
	}
	price := func(minor int64) *marketv1.Money { return &marketv1.Money{AmountMinor: minor, Currency: "USD"} }
	for i := range 20 {
		at := now.Add(time.Duration(i-20) * time.Second)
		for _, kw := range []string{"obs usb c cable", "obs earbuds"} {
			var ls []*marketv1.Listing
			for j := range 4 {
				asin := fmt.Sprintf("B0OBS%05d", j+10*len(kw))
				attrs := &marketv1.ProductAttributes{Title: proto.String("Item " + asin), Brand: proto.String(fmt.Sprintf("Brand%d", j)), Price: price(int64(1000 + 100*j + i))}
				ls = append(ls, &marketv1.Listing{Asin: asin, Position: int32(j + 1), Attributes: attrs})
				add(topics.ProductObservations, asin, &marketv1.ProductObserved{Envelope: envAt(at), Asin: asin, Marketplace: "amazon.com", Keyword: kw,
					Source: marketv1.ObservationSource_OBSERVATION_SOURCE_SEARCH_PAGE, Attributes: attrs})
			}
			add(topics.SearchResults, kw, &marketv1.SearchResultsObserved{Envelope: envAt(at), Keyword: kw, Marketplace: "amazon.com", Page: 1, Listings: ls})
		}
	}
	add(topics.SearchResults, "obs usb c cable", &marketv1.SearchResultsObserved{Envelope: envAt(now.Add(-48 * time.Hour)), Keyword: "obs usb c cable", Marketplace: "amazon.com", Page: 2,
		Listings: []*marketv1.Listing{{Asin: "B0OBSLATE1", Position: 1}}})
	for _, q := range []struct {
		topic string
		p     marketv1.Priority
	}{{topics.ScrapeRequestsHigh, marketv1.Priority_PRIORITY_HIGH}, {topics.ScrapeRequestsNormal, marketv1.Priority_PRIORITY_NORMAL}, {topics.ScrapeRequestsLow, marketv1.Priority_PRIORITY_LOW}} {
		job := marketv1.NewEventID()
		add(q.topic, job, &marketv1.ScrapeRequested{Envelope: envAt(now), JobId: job, Kind: marketv1.ScrapeKind_SCRAPE_KIND_SEARCH, Marketplace: "amazon.com",
			Keyword: "obs usb c cable", Pages: 1, Priority: q.p})
	}
	recs = append(recs, &kgo.Record{Topic: topics.ProductObservations, Key: []byte("B0OBSPOISN"), Value: []byte("not a protobuf \xff\xff\xff")})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := testenv.Kafka(t).Client(t).ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// enqueueScrape requests a one-page search job of keyword, which the scrape workers fetch from
// the sandbox with its product pages.
func enqueueScrape(t *testing.T, keyword string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := worker.NewRequest(worker.Request{Keyword: keyword, Pages: 1, Queue: jobs.High, RequestedBy: "observe-test", Producer: "observe-test"}, time.Now())
	if err := worker.Enqueue(ctx, testenv.Kafka(t).Client(t), worker.DefaultTopics(), req); err != nil {
		t.Fatal(err)
	}
}

// callAPI reads what the report page reads, through the API at base: the keyword list, a
// keyword's report (twice, so that the second comes from the in-process cache), its windows and
// their history (ClickHouse), a product and the anomalies.
func callAPI(t *testing.T, base string) {
	t.Helper()
	kw := url.PathEscape("obs usb c cable")
	for _, path := range []string{"/api/v1/keywords", "/api/v1/keywords/" + kw + "/report", "/api/v1/keywords/" + kw + "/report",
		"/api/v1/keywords/" + kw + "/windows", "/api/v1/keywords/" + kw + "/windows/history", "/api/v1/products/B0OBS00150", "/api/v1/anomalies"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("GET %s: HTTP %d", path, resp.StatusCode)
		}
	}
}

// promServer is a private Prometheus of one test.
type promServer struct{ url string }

// startPrometheus runs Debian's prometheus on a free port with its data in the test's temporary
// directory, scraping target every second with deploy/prometheus/alerts.yml loaded, and stops it
// when the test ends.
func startPrometheus(t *testing.T, target string) *promServer {
	t.Helper()
	dir := t.TempDir()
	rules, err := filepath.Abs("../../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: marketinsights-test
    static_configs:
      - targets: [%q]
`, rules, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	log, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("prometheus", "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); log.Close(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	p := &promServer{url: "http://" + addr}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get(p.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-done:
			b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Fatalf("prometheus exited:\n%s", b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus at %s not ready in 60 s", addr)
		}
	}
}

// query runs an instant query and returns the number of series or samples in its result.
func (p *promServer) query(expr string) (int, error) {
	resp, err := http.Get(p.url + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string            `json:"resultType"`
			Result     []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("decode answer (HTTP %d): %w", resp.StatusCode, err)
	}
	if body.Status != "success" {
		return 0, fmt.Errorf("%s", body.Error)
	}
	if body.Data.ResultType == "scalar" {
		return 1, nil
	}
	return len(body.Data.Result), nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
