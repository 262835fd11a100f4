package analyses

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/internal/testenv"
	"github.com/marketinsightspro/marketinsights/processors"
	"github.com/marketinsightspro/marketinsights/processors/keywords"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// kafkaRig is the saga, its router and the keyword-windows processor on the test Kafka, on
// topics with the catalog's settings under names unique to the test (the dead-letter topic
// keeps its name: processors.DeadLetter writes to it).
type kafkaRig struct {
	k     *testenv.KafkaEnv
	cfg   Config
	kwCfg keywords.Config
	names map[string]string // catalog name -> the test's name
	// clock is the saga's and its ticker's: real time plus an offset the test moves forward to
	// make a deadline pass, so no outcome depends on how fast a loaded machine processes.
	clock *offsetClock
}

// offsetClock is the wall clock plus an offset.
type offsetClock struct{ offset atomic.Int64 }

// Now returns the wall clock plus the offset.
func (c *offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *offsetClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

func newKafkaRig(t testing.TB) *kafkaRig {
	t.Helper()
	k := testenv.Kafka(t)
	cfg := DefaultConfig()
	cfg.Group = goka.Group(k.TopicName(t, topics.GroupAnalysisSaga))
	cfg.RouterGroup = goka.Group(k.TopicName(t, string(RouterGroup)))
	cfg.Events = goka.Stream(k.TopicName(t, topics.AnalysisEvents))
	cfg.ScrapeStatus = goka.Stream(k.TopicName(t, topics.ScrapeStatus))
	cfg.ScrapeRequests = goka.Stream(k.TopicName(t, topics.ScrapeRequestsHigh))
	// Deadlines far enough that only the test's clock.Advance makes them pass.
	cfg.ScrapeTimeout = 10 * time.Minute
	cfg.AggregateTimeout = 10 * time.Minute
	cfg.TickInterval = 100 * time.Millisecond
	clock := &offsetClock{}
	cfg.Now = clock.Now

	kw := keywords.DefaultConfig()
	kw.Group = goka.Group(k.TopicName(t, topics.GroupKeywordWindows))
	kw.Input = goka.Stream(k.TopicName(t, topics.SearchResults))
	kw.Output = goka.Stream(k.TopicName(t, topics.KeywordWindows))
	kw.LateEvents = goka.Stream(k.TopicName(t, topics.LateEvents))
	kw.Anomalies = goka.Stream(k.TopicName(t, topics.Anomalies))
	kw.ProductTable = "" // sales from badges only
	cfg.Keywords = kw
	cfg.KeywordTable = goka.GroupTable(kw.Group)

	names := map[string]string{
		topics.AnalysisEvents:      string(cfg.Events),
		topics.ScrapeStatus:        string(cfg.ScrapeStatus),
		topics.ScrapeRequestsHigh:  string(cfg.ScrapeRequests),
		topics.AnalysisSagaTable:   string(cfg.TableOf()),
		topics.AnalysisSagaLoop:    string(cfg.LoopTopic()),
		topics.SearchResults:       string(kw.Input),
		topics.KeywordWindows:      string(kw.Output),
		topics.LateEvents:          string(kw.LateEvents),
		topics.Anomalies:           string(kw.Anomalies),
		topics.KeywordWindowsTable: string(goka.GroupTable(kw.Group)),
		topics.KeywordWindowsLoop:  string(kw.Group) + "-loop",
		topics.DeadLetters:         topics.DeadLetters,
	}
	var ts []topics.Topic
	for catalogName, name := range names {
		tp := topics.MustLookup(catalogName)
		tp.Name = name
		ts = append(ts, tp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if res, err := topics.Apply(ctx, k.Admin(t), ts, topics.ApplyOptions{Replication: -1}); err != nil {
		t.Fatalf("create topics: %v (%v)", err, res)
	}
	for catalogName, name := range names {
		k.CreateTopic(t, name, topics.MustLookup(catalogName).Partitions) // waits for leaders
	}
	t.Cleanup(func() {
		if os.Getenv("MIP_TEST_KEEP") == "1" {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// goka's table and loop names end in the group, which testenv does not recognise.
		_, _ = k.Admin(t).DeleteTopics(ctx, names[topics.AnalysisSagaTable], names[topics.AnalysisSagaLoop],
			names[topics.KeywordWindowsTable], names[topics.KeywordWindowsLoop])
	})
	return &kafkaRig{k: k, cfg: cfg, kwCfg: kw, names: names, clock: clock}
}

func (r *kafkaRig) env(dir string) gokaenv.Env {
	return gokaenv.Env{Brokers: r.k.Brokers, ClientID: "analyses-test", StorageDir: dir}
}

// produce writes events with the catalog's headers through a franz-go client (Kafka's
// partitioner, as the API, the workers and `marketinsights analyze` write them).
func (r *kafkaRig) produce(t *testing.T, catalogName string, key func(proto.Message) string, evs ...proto.Message) {
	t.Helper()
	tp := topics.MustLookup(catalogName)
	var recs []*kgo.Record
	for _, ev := range evs {
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		rec := &kgo.Record{Topic: r.names[catalogName], Key: []byte(key(ev)), Value: b}
		for k, v := range processors.EventHeaders(tp, ev) {
			rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: k, Value: v})
		}
		recs = append(recs, rec)
	}
	r.produceRecords(t, recs...)
}

func (r *kafkaRig) produceRecords(t testing.TB, recs ...*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.k.Client(t).ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce %d records: %v", len(recs), err)
	}
}

// start runs the keyword windows, the saga with its ticker and the router until the test ends.
func (r *kafkaRig) start(t *testing.T) {
	t.Helper()
	kwp, err := keywords.New(r.env(t.TempDir()), r.kwCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	saga, err := New(r.env(t.TempDir()), r.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	router, err := NewRouter(r.env(""), r.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs <- processors.Run(ctx, slog.New(slog.DiscardHandler), kwp, saga, router) }()
	go func() { defer wg.Done(); errs <- NewTicker(saga, r.cfg.TickInterval, r.clock.Now, nil).Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("processors: %v", err)
			}
		}
	})
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer wcancel()
	if err := processors.WaitReady(wctx, kwp, saga, router); err != nil {
		t.Fatal(err)
	}
}

// reader reads a topic from the start.
type reader struct {
	cl  *kgo.Client
	got []*kgo.Record
}

func (r *kafkaRig) reader(t *testing.T, topic string) *reader {
	return &reader{cl: r.k.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))}
}

// until polls until cond holds on what was read, or fails the test after timeout.
func (rd *reader) until(t *testing.T, timeout time.Duration, what string, cond func([]*kgo.Record) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for !cond(rd.got) {
		fs := rd.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: not after %v (%d records read)", what, timeout, len(rd.got))
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(rec *kgo.Record) { rd.got = append(rd.got, rec) })
	}
}

func decode[T proto.Message](t *testing.T, rec *kgo.Record, v T) T {
	t.Helper()
	if err := proto.Unmarshal(rec.Value, v); err != nil {
		t.Fatalf("record %s/%d/%d: %v", rec.Topic, rec.Partition, rec.Offset, err)
	}
	return v
}

// byAnalysis groups the saga's transitions (not the requests) by analysis id.
func byAnalysis(t *testing.T, recs []*kgo.Record) map[string][]*marketv1.AnalysisEvent {
	out := map[string][]*marketv1.AnalysisEvent{}
	for _, rec := range recs {
		if string(rec.Key) == "poison" {
			continue
		}
		ev := decode(t, rec, &marketv1.AnalysisEvent{})
		if ev.GetRequested() != nil {
			continue
		}
		if string(rec.Key) != ev.GetAnalysisId() {
			t.Errorf("transition of %s keyed %q", ev.GetAnalysisId(), rec.Key)
		}
		out[ev.GetAnalysisId()] = append(out[ev.GetAnalysisId()], ev)
	}
	return out
}

// ended reports whether an analysis' transitions are complete: a fresh result, or a failure
// (followed by its stale result when one is available).
func ended(evs []*marketv1.AnalysisEvent) bool {
	for i, e := range evs {
		if c := e.GetCompleted(); c != nil && !c.GetStale() {
			return true
		}
		if f := e.GetFailed(); f != nil {
			return !f.GetStaleResultAvailable() || i+1 < len(evs)
		}
	}
	return false
}

// worker plays a scrape worker for one job: it reports statuses (each delivered twice) and
// writes the job's search pages (each delivered twice) with the current time as event time.
type worker struct {
	r   *kafkaRig
	job *marketv1.ScrapeRequested
	n   int
}

func (w *worker) status(t *testing.T, s marketv1.ScrapeStatus, done int32, reason string) {
	t.Helper()
	w.n++
	ss := &marketv1.ScrapeStatusChanged{
		Envelope: marketv1.NewEnvelope("scrape/test-worker", w.job.GetAnalysisId(), time.Now()),
		JobId:    w.job.GetJobId(), Status: s, Attempt: 1, PagesDone: done, PagesTotal: w.job.GetPages(), Reason: reason,
		Keyword: w.job.GetKeyword(), AnalysisId: w.job.GetAnalysisId(), ListingsObserved: done * 16,
	}
	w.r.produce(t, topics.ScrapeStatus, func(proto.Message) string { return w.job.GetJobId() }, ss, ss)
}

func (w *worker) page(t *testing.T, page int32) {
	t.Helper()
	p := searchPage(w.job.GetKeyword(), fmt.Sprintf("%s/%d", w.job.GetJobId(), page), page, time.Now(), 16)
	p.JobId = w.job.GetJobId()
	w.r.produce(t, topics.SearchResults, func(proto.Message) string { return p.GetKeyword() }, p, p)
}

// TestIntegrationSaga runs the saga, its router and the real keyword-windows processor on the
// test Kafka, with the scrape side played by producing ScrapeStatusChanged and
// SearchResultsObserved as the workers do (every request, status and page delivered twice):
//
//   - "fresh keyword": the job succeeds; the analysis completes with the window that includes
//     the scrape's pages;
//   - "hanging keyword": the job never finishes; the scrape times out, the job is cancelled on
//     the scrape-status topic, the analysis fails and the keyword's last window is served stale;
//   - "failing keyword": the job fails; the analysis fails and serves the stale window;
//   - poison records on both inputs are dead-lettered.
//
// Every analysis' transitions must appear once, in order, whatever the redeliveries.
func TestIntegrationSaga(t *testing.T) {
	began := time.Now()
	r := newKafkaRig(t)
	r.start(t)
	t.Logf("topics and processors ready in %v", time.Since(began))

	// The keywords of the failing analyses have a window from an earlier scrape.
	earlier := time.Now().Add(-10 * time.Minute)
	for _, kw := range []string{"hanging keyword", "failing keyword"} {
		p := searchPage(kw, "earlier/"+kw, 1, earlier, 6)
		r.produce(t, topics.SearchResults, func(proto.Message) string { return kw }, p)
	}
	// Poison records.
	for _, name := range []string{r.names[topics.AnalysisEvents], r.names[topics.ScrapeStatus]} {
		r.produceRecords(t, &kgo.Record{Topic: name, Key: []byte("poison"), Value: []byte{0xff, 0xff, 0x01}})
	}

	ids := map[string]string{"fresh keyword": "an-fresh", "hanging keyword": "an-hang", "failing keyword": "an-fail"}
	jobsRead := r.reader(t, r.names[topics.ScrapeRequestsHigh])
	for kw, id := range ids {
		req := request(id, kw, 3, time.Now())
		r.produce(t, topics.AnalysisEvents, func(proto.Message) string { return id }, req, req)
	}
	jobsRead.until(t, time.Minute, "scrape requests of 3 analyses", func(rs []*kgo.Record) bool { return len(rs) >= 3 })
	workers := map[string]*worker{}
	for _, rec := range jobsRead.got {
		job := decode(t, rec, &marketv1.ScrapeRequested{})
		if string(rec.Key) != job.GetJobId() || job.GetJobId() != JobID(job.GetAnalysisId(), 1) || job.GetPriority() != marketv1.Priority_PRIORITY_HIGH {
			t.Errorf("scrape request %v keyed %q", job, rec.Key)
		}
		workers[job.GetKeyword()] = &worker{r: r, job: job}
	}

	fresh, hang, fail := workers["fresh keyword"], workers["hanging keyword"], workers["failing keyword"]
	for _, w := range []*worker{fresh, hang, fail} {
		w.status(t, marketv1.ScrapeStatus_SCRAPE_STATUS_QUEUED, 0, "")
		w.status(t, marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING, 0, "")
		w.page(t, 1)
		w.status(t, marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING, 1, "")
	}
	for p := int32(2); p <= 3; p++ {
		fresh.page(t, p)
		fresh.status(t, marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING, p, "")
	}
	fresh.status(t, marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED, 3, "")
	fail.status(t, marketv1.ScrapeStatus_SCRAPE_STATUS_FAILED, 1, "HTTP 503 on page 2 after 4 attempts")
	requested := time.Now()

	events := r.reader(t, r.names[topics.AnalysisEvents])
	events.until(t, time.Minute, "the fresh and the failing analysis ended", func(rs []*kgo.Record) bool {
		by := byAnalysis(t, rs)
		return ended(by["an-fresh"]) && ended(by["an-fail"])
	})
	if by := byAnalysis(t, events.got); ended(by["an-hang"]) {
		t.Fatalf("the hanging analysis ended before its scrape deadline: %v", describe(by["an-hang"]))
	}
	r.clock.Advance(r.cfg.ScrapeTimeout + time.Second) // the hanging scrape's deadline passes
	events.until(t, time.Minute, "every analysis ended", func(rs []*kgo.Record) bool {
		by := byAnalysis(t, rs)
		return ended(by["an-fresh"]) && ended(by["an-hang"]) && ended(by["an-fail"])
	})
	t.Logf("all analyses ended %v after the scrapes were reported", time.Since(requested))
	time.Sleep(3 * r.cfg.TickInterval) // anything emitted twice would show now
	events.until(t, 5*time.Second, "the rest", func([]*kgo.Record) bool { return true })
	by := byAnalysis(t, events.got)

	want := map[string][]string{
		"an-fresh": {"step:scraping", "step:scraping", "step:scraping", "step:scraping", "step:scraping", "step:scraping", "step:aggregating", "completed"},
		"an-hang":  {"step:scraping", "step:scraping", "step:scraping", "step:scraping", "failed:stale", "completed:stale"},
		"an-fail":  {"step:scraping", "step:scraping", "step:scraping", "step:scraping", "failed:stale", "completed:stale"},
	}
	for id, w := range want {
		got := describe(by[id])
		// The fresh analysis completes either on the status (window already up to date) or on
		// a tick; both emit step:aggregating then completed.
		if !slices.Equal(got, w) {
			t.Errorf("%s: transitions %v, want %v", id, got, w)
		}
		seen := map[string]bool{}
		for _, e := range by[id] {
			if seen[e.GetEnvelope().GetEventId()] {
				t.Errorf("%s: event id %s twice", id, e.GetEnvelope().GetEventId())
			}
			seen[e.GetEnvelope().GetEventId()] = true
		}
	}
	if evs := by["an-fresh"]; len(evs) > 0 {
		c := evs[len(evs)-1].GetCompleted()
		// The window holds the 16 listings of each of the 3 pages (ASINs differ by page).
		if c.GetStale() || c.GetSummary().GetCompetitorCount() != 48 || c.GetKeyword() != "fresh keyword" {
			t.Errorf("fresh result %v", c)
		}
		t.Logf("fresh analysis: %d ms from request to result (scrape simulated)", c.GetDurationMs())
	}
	for _, id := range []string{"an-hang", "an-fail"} {
		evs := by[id]
		if len(evs) < 2 {
			continue
		}
		f, c := evs[len(evs)-2].GetFailed(), evs[len(evs)-1].GetCompleted()
		// The stale window holds the earlier page (6 listings) and the first page of the
		// job (16), which share the first 6 ASINs.
		if c.GetSummary().GetCompetitorCount() != 16 || !c.GetStale() {
			t.Errorf("%s: stale result %v", id, c)
		}
		switch id {
		case "an-hang":
			if f.GetFailedStep() != marketv1.AnalysisStep_ANALYSIS_STEP_SCRAPING || !slices.Equal(f.GetCancelledJobIds(), []string{hang.job.GetJobId()}) {
				t.Errorf("hang failure %v", f)
			}
		case "an-fail":
			if len(f.GetCancelledJobIds()) != 0 || f.GetReason() != "the scrape failed: HTTP 503 on page 2 after 4 attempts" {
				t.Errorf("fail failure %v", f)
			}
		}
	}

	// The hanging job is cancelled on the scrape-status topic, once.
	statuses := r.reader(t, r.names[topics.ScrapeStatus])
	var cancels []*marketv1.ScrapeStatusChanged
	statuses.until(t, 30*time.Second, "the cancellation", func(rs []*kgo.Record) bool {
		cancels = cancels[:0]
		for _, rec := range rs {
			if string(rec.Key) == "poison" {
				continue
			}
			if s := decode(t, rec, &marketv1.ScrapeStatusChanged{}); s.GetStatus() == marketv1.ScrapeStatus_SCRAPE_STATUS_CANCELLED {
				cancels = append(cancels, s)
			}
		}
		return len(cancels) > 0
	})
	if len(cancels) != 1 || cancels[0].GetJobId() != hang.job.GetJobId() || cancels[0].GetEnvelope().GetProducer() != r.cfg.Producer {
		t.Errorf("cancellations %v", cancels)
	}
	if len(jobsRead.got) != 3 {
		t.Errorf("%d scrape requests for 3 analyses, each requested twice", len(jobsRead.got))
	}

	// The poison records went to the dead letters, with the stage that refused them.
	dead := r.reader(t, topics.DeadLetters)
	mine := func(rs []*kgo.Record) map[string]string {
		out := map[string]string{}
		for _, rec := range rs {
			var topic, stage string
			for _, h := range rec.Headers {
				switch h.Key {
				case topics.HeaderDLQTopic:
					topic = string(h.Value)
				case topics.HeaderDLQStage:
					stage = string(h.Value)
				}
			}
			if topic == r.names[topics.AnalysisEvents] || topic == r.names[topics.ScrapeStatus] {
				out[topic] = stage
			}
		}
		return out
	}
	dead.until(t, 30*time.Second, "dead letters", func(rs []*kgo.Record) bool { return len(mine(rs)) == 2 })
	if got := mine(dead.got); got[r.names[topics.AnalysisEvents]] != stage || got[r.names[topics.ScrapeStatus]] != routerStage {
		t.Errorf("dead letters by topic %v", got)
	}

	// The status view answers what the table holds.
	view, err := NewStatuses(r.env(t.TempDir()), r.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- view.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("view: %v", err)
		}
	}()
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	if err := view.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	for id, step := range map[string]marketv1.AnalysisStep{
		"an-fresh": marketv1.AnalysisStep_ANALYSIS_STEP_COMPLETED,
		"an-hang":  marketv1.AnalysisStep_ANALYSIS_STEP_FAILED,
		"an-fail":  marketv1.AnalysisStep_ANALYSIS_STEP_FAILED,
	} {
		deadline := time.Now().Add(30 * time.Second)
		for {
			st, err := view.Status(id)
			if err != nil {
				t.Fatal(err)
			}
			if st.GetStep() == step {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: status %v, want step %v", id, st, step)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if st, err := view.Status("no-such-analysis"); err != nil || st != nil {
		t.Errorf("unknown analysis: %v, %v", st, err)
	}
}
