package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/testenv"
	"github.com/marketinsightspro/marketinsights/sandbox"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/scraper/fetch"
	"github.com/marketinsightspro/marketinsights/scraper/jobs"
	"github.com/marketinsightspro/marketinsights/topics"
)

// chrome is one headless Chromium shared by the tests of this package (each test wraps it in a
// Polite of its own, so breakers and rate limits are the test's).
var (
	chromeOnce sync.Once
	chrome     *fetch.ChromeFetcher
	chromeErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if chrome != nil {
		chrome.Close()
	}
	os.Exit(code)
}

func sharedChrome(t testing.TB) *fetch.ChromeFetcher {
	t.Helper()
	chromeOnce.Do(func() {
		chrome, chromeErr = fetch.NewChromeFetcher(context.Background(), fetch.ChromeConfig{Tabs: 4, Guard: &fetch.Guard{AllowPrivate: true}})
	})
	if chromeErr != nil {
		t.Fatalf("chrome fetcher: %v", chromeErr) // says: install chromium: deploy/local/services up chromium
	}
	return chrome
}

// startSandbox runs a sandbox on a manual clock, so its truth does not move during a test.
func startSandbox(t testing.TB, seed uint64) *sandbox.Running {
	t.Helper()
	r, err := sandbox.Start(context.Background(), "", sandbox.Options{Config: sandbox.Config{Seed: seed},
		Clock: sandbox.NewManualClock(sandbox.DefaultEpoch.Add(30 * time.Hour))})
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// rig is a worker's topics on the test Kafka, a sandbox and a client to read and write them.
type rig struct {
	k      *testenv.KafkaEnv
	topics Topics
	sb     *sandbox.Running
	cl     *kgo.Client
}

func newRig(t testing.TB, seed uint64) *rig {
	t.Helper()
	k := testenv.Kafka(t)
	r := &rig{k: k, sb: startSandbox(t, seed)}
	def := DefaultTopics()
	for q := range jobs.NumQueues {
		r.topics.Requests[q] = k.TopicName(t, def.Requests[q])
	}
	r.topics.Status = k.TopicName(t, def.Status)
	r.topics.SearchResults = k.TopicName(t, def.SearchResults)
	r.topics.Products = k.TopicName(t, def.Products)
	r.topics.DeadLetters = k.TopicName(t, def.DeadLetters)
	for q := range jobs.NumQueues {
		k.CreateTopic(t, r.topics.Requests[q], topics.MustLookup(def.Requests[q]).Partitions)
	}
	k.CreateTopic(t, r.topics.Status, topics.MustLookup(def.Status).Partitions)
	k.CreateTopic(t, r.topics.SearchResults, topics.MustLookup(def.SearchResults).Partitions)
	k.CreateTopic(t, r.topics.Products, topics.MustLookup(def.Products).Partitions)
	k.CreateTopic(t, r.topics.DeadLetters, topics.MustLookup(def.DeadLetters).Partitions)
	r.cl = k.Client(t)
	return r
}

// fetcher is a Polite around the shared Chromium (or an HTTP fetcher) allowing the sandbox.
func (r *rig) fetcher(t testing.TB, useHTTP bool, pc fetch.PoliteConfig) *fetch.Polite {
	t.Helper()
	guard := &fetch.Guard{AllowPrivate: true}
	if pc.Guard != nil {
		guard = pc.Guard
	}
	var next fetch.Fetcher
	if useHTTP {
		hf := fetch.NewHTTPFetcher(fetch.HTTPConfig{Guard: guard})
		t.Cleanup(hf.Close)
		next = hf
	} else {
		next = sharedChrome(t)
	}
	pc.Guard = guard
	if pc.Rate == 0 {
		pc.Rate, pc.Burst = 1000, 100
	}
	if pc.MaxRetries == 0 {
		pc.MaxRetries = -1
	}
	if pc.BaseBackoff == 0 {
		pc.BaseBackoff = 10 * time.Millisecond
	}
	return fetch.NewPolite(next, pc)
}

// start runs a worker until the test ends (or stop is called) and returns stop, which waits
// for Run to return.
func (r *rig) start(t testing.TB, cfg Config) (w *Worker, stop func()) {
	t.Helper()
	cfg.Topics = r.topics
	if cfg.Group == "" {
		cfg.Group = r.k.TopicName(t, "scrape-workers")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = r.sb.URL
	}
	if cfg.Logger == nil && testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	w, err := New(r.k.Config(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("worker: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return w, stop
}

// enqueue requests a search job and returns the request.
func (r *rig) enqueue(t testing.TB, rq Request) *marketv1.ScrapeRequested {
	t.Helper()
	if rq.Producer == "" {
		rq.Producer = "test"
	}
	req := NewRequest(rq, time.Now())
	if err := Enqueue(context.Background(), r.cl, r.topics, req); err != nil {
		t.Fatal(err)
	}
	return req
}

// follow returns every status of job up to its terminal one (within a minute).
func (r *rig) follow(t testing.TB, job string) []*marketv1.ScrapeStatusChanged {
	t.Helper()
	cl := r.k.Client(t, kgo.ConsumeTopics(r.topics.Status), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var all []*marketv1.ScrapeStatusChanged
	last, err := Follow(ctx, cl, r.topics.Status, job, func(s *marketv1.ScrapeStatusChanged) { all = append(all, s) })
	if err != nil {
		t.Fatalf("follow job %s: %v (last status %v)", job, err, last)
	}
	return all
}

// readAll returns every record of a topic up to its end now, decoded as the catalog topic says.
func (r *rig) readAll(t testing.TB, name, catalog string) []proto.Message {
	t.Helper()
	recs := r.readRecords(t, name)
	ct := topics.MustLookup(catalog)
	ct.Name = name
	out := make([]proto.Message, 0, len(recs))
	for _, rec := range recs {
		m, err := topics.DecodeRecord(ct, rec)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func (r *rig) readRecords(t testing.TB, name string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(r.cl).ListEndOffsets(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of %s/%d: %v", o.Topic, o.Partition, o.Err)
		}
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	if len(want) == 0 {
		return nil
	}
	cl := r.k.Client(t, kgo.ConsumeTopics(name), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var out []*kgo.Record
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %v (still want %v)", name, ctx.Err(), want)
		}
		fs.EachRecord(func(rec *kgo.Record) {
			if end, ok := want[rec.Partition]; ok && rec.Offset < end {
				out = append(out, rec)
				if rec.Offset+1 >= end {
					delete(want, rec.Partition)
				}
			}
		})
	}
	return out
}

func getJSON(t testing.TB, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// keywordWithPages returns a keyword of the sandbox whose results have at least n pages of the
// given page size (0: any size).
func keywordWithPages(t testing.TB, sb *sandbox.Running, n, pageSize int) sandbox.KeywordTruth {
	t.Helper()
	var tr sandbox.Truth
	getJSON(t, sb.URL+"/_truth", &tr)
	for _, k := range tr.Keywords {
		if len(k.Pages) >= n && (pageSize == 0 || k.PageSize == pageSize) {
			return k
		}
	}
	t.Fatalf("no keyword with %d pages of %d results", n, pageSize)
	return sandbox.KeywordTruth{}
}

func statuses(ss []*marketv1.ScrapeStatusChanged) string {
	var b []byte
	for _, s := range ss {
		b = fmt.Appendf(b, "%s#%d %d/%d; ", s.GetStatus().String()[len("SCRAPE_STATUS_"):], s.GetAttempt(), s.GetPagesDone(), s.GetPagesTotal())
	}
	return string(b)
}

func setFaults(t testing.TB, sb *sandbox.Running, rules ...sandbox.FaultRule) {
	t.Helper()
	if err := sb.Server.SetFaults(sandbox.Faults{Rules: rules}); err != nil {
		t.Fatal(err)
	}
}

func truthURL(sb *sandbox.Running, path string, q url.Values) string {
	return sb.URL + path + "?" + q.Encode()
}

// counters gathers reg's counters as "name{label="value",...}" -> value.
func counters(t testing.TB, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if m.GetCounter() == nil {
				continue
			}
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			out[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = m.GetCounter().GetValue()
		}
	}
	return out
}
