package analyses

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/processors"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// testerRig is the saga and its router on goka's tester, with a fake clock.
type testerRig struct {
	tt    *tester.Tester
	cfg   Config
	clock *fakeClock
	saga  *goka.Processor
	reg   *prometheus.Registry
	tick  *processors.Ticker

	events, scrapes, status, dead *tester.QueueTracker
}

func startTester(t *testing.T) *testerRig {
	t.Helper()
	r := &testerRig{tt: tester.New(t), cfg: DefaultConfig(), clock: &fakeClock{now: t0}, reg: prometheus.NewRegistry()}
	r.cfg.Now = r.clock.Now
	m := processors.NewMetrics(r.reg)
	saga, err := New(gokaenv.Env{}, r.cfg, m, goka.WithTester(r.tt))
	if err != nil {
		t.Fatal(err)
	}
	router, err := NewRouter(gokaenv.Env{}, r.cfg, m, goka.WithTester(r.tt))
	if err != nil {
		t.Fatal(err)
	}
	r.saga = saga
	r.tick = NewTicker(saga, time.Second, r.clock.Now, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	for _, p := range []*goka.Processor{saga, router} {
		go func() { done <- p.Run(ctx) }()
	}
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("processor: %v", err)
			}
		}
	})
	if err := processors.WaitReady(ctx, saga, router); err != nil {
		t.Fatal(err)
	}
	r.events = r.tt.NewQueueTracker(string(r.cfg.Events))
	r.scrapes = r.tt.NewQueueTracker(string(r.cfg.ScrapeRequests))
	r.status = r.tt.NewQueueTracker(string(r.cfg.ScrapeStatus))
	r.dead = r.tt.NewQueueTracker(topics.DeadLetters)
	return r
}

// drain returns every message of q not read yet, checking its headers.
func drain[T proto.Message](t *testing.T, q *tester.QueueTracker, topic string) (keys []string, vals []T) {
	t.Helper()
	tp := topics.MustLookup(topic)
	for {
		h, k, v, ok := q.NextWithHeaders()
		if !ok {
			return keys, vals
		}
		m, isT := v.(T)
		if !isT {
			t.Fatalf("record of %T on %s", v, topic)
		}
		if string(h[topics.HeaderSchema]) != tp.Schema() {
			t.Errorf("record on %s with schema header %q", topic, h[topics.HeaderSchema])
		}
		if e, ok := any(m).(marketv1.Event); ok && string(h[topics.HeaderEventID]) != e.GetEnvelope().GetEventId() {
			t.Errorf("event-id header %q, envelope %q", h[topics.HeaderEventID], e.GetEnvelope().GetEventId())
		}
		keys, vals = append(keys, k), append(vals, m)
	}
}

// transitions returns the saga's transitions emitted since the last call (the requests the
// test produced to the same topic are skipped).
func (r *testerRig) transitions(t *testing.T, id string) []string {
	t.Helper()
	keys, evs := drain[*marketv1.AnalysisEvent](t, r.events, topics.AnalysisEvents)
	var out []*marketv1.AnalysisEvent
	for i, e := range evs {
		if e.GetRequested() != nil {
			continue
		}
		if keys[i] != id {
			t.Errorf("transition of %s keyed %q", id, keys[i])
		}
		out = append(out, e)
	}
	return describe(out)
}

// consume feeds a record to topic (catalog topic catalogName) with the catalog's headers, as
// a producer writes it.
func (r *testerRig) consume(topic goka.Stream, catalogName, key string, ev proto.Message) {
	r.tt.Consume(string(topic), key, ev, tester.WithHeaders(processors.EventHeaders(topics.MustLookup(catalogName), ev)))
}

// cancellations returns the saga's cancellations emitted since the last call (the statuses the
// test produced to the same topic are skipped).
func (r *testerRig) cancellations(t *testing.T) (keys []string, out []*marketv1.ScrapeStatusChanged) {
	t.Helper()
	ks, all := drain[*marketv1.ScrapeStatusChanged](t, r.status, topics.ScrapeStatus)
	for i, c := range all {
		if c.GetEnvelope().GetProducer() == r.cfg.Producer {
			keys, out = append(keys, ks[i]), append(out, c)
		}
	}
	return keys, out
}

func (r *testerRig) state(id string) *marketv1.AnalysisState {
	st, _ := r.tt.TableValue(r.cfg.TableOf(), id).(*marketv1.AnalysisState)
	return st
}

func (r *testerRig) ticks(t *testing.T, at time.Time) {
	t.Helper()
	r.clock.Set(at)
	if _, err := r.tick.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.tt.Catchup()
}

func TestProcessorCompletesOnTester(t *testing.T) {
	r := startTester(t)
	r.tt.SetTableValue(r.cfg.KeywordTable, kwText, keywordState(t, r.cfg.Keywords, searchPage(kwText, "old", 1, t0.Add(-30*time.Minute), 10)))

	req := request(anID, "USB C charger", 3, t0)
	r.consume(r.cfg.Events, topics.AnalysisEvents, anID, req)
	r.consume(r.cfg.Events, topics.AnalysisEvents, anID, req) // redelivered
	if got := r.transitions(t, anID); !slices.Equal(got, []string{"step:scraping"}) {
		t.Fatalf("after the request: %v", got)
	}
	jobKeys, jobs := drain[*marketv1.ScrapeRequested](t, r.scrapes, topics.ScrapeRequestsHigh)
	job := JobID(anID, 1)
	if len(jobs) != 1 || jobKeys[0] != job || jobs[0].GetAnalysisId() != anID {
		t.Fatalf("scrape requests %v keyed %v", jobs, jobKeys)
	}

	// The worker's statuses go through the router to the saga's loopback.
	run := status("r1", job, anID, kwText, running, 1, 3, t0.Add(5*time.Second))
	r.consume(r.cfg.ScrapeStatus, topics.ScrapeStatus, job, run)
	r.consume(r.cfg.ScrapeStatus, topics.ScrapeStatus, job, run)                                                 // redelivered
	r.consume(r.cfg.ScrapeStatus, topics.ScrapeStatus, "x", status("other", "x", "", kwText, running, 1, 3, t0)) // no analysis: not routed
	if got := r.transitions(t, anID); !slices.Equal(got, []string{"step:scraping"}) {
		t.Fatalf("after the first page: %v", got)
	}
	if p := r.state(anID).GetProgress(); p <= progressQueued || p >= progressScraped {
		t.Errorf("progress %v after a page of three", p)
	}

	// The scrape succeeds before the keyword's window has its pages: the saga waits, looks at
	// the window on the next tick, and completes.
	r.clock.Set(t0.Add(14 * time.Second))
	r.consume(r.cfg.ScrapeStatus, topics.ScrapeStatus, job, status("ok", job, anID, kwText, succeeded, 3, 3, t0.Add(13*time.Second)))
	if got := r.transitions(t, anID); !slices.Equal(got, []string{"step:aggregating"}) {
		t.Fatalf("after the scrape: %v", got)
	}
	r.ticks(t, t0.Add(15*time.Second))
	if got := r.transitions(t, anID); len(got) != 0 {
		t.Fatalf("a tick before the window includes the scrape: %v", got)
	}
	r.tt.SetTableValue(r.cfg.KeywordTable, kwText, keywordState(t, r.cfg.Keywords,
		searchPage(kwText, "old", 1, t0.Add(-30*time.Minute), 10),
		searchPage(kwText, "p1", 1, t0.Add(10*time.Second), 12),
		searchPage(kwText, "p2", 2, t0.Add(11*time.Second), 12),
		searchPage(kwText, "p3", 3, t0.Add(12*time.Second), 12)))
	r.ticks(t, t0.Add(16*time.Second))
	_, evs := drain[*marketv1.AnalysisEvent](t, r.events, topics.AnalysisEvents)
	if len(evs) != 1 || evs[0].GetCompleted() == nil {
		t.Fatalf("after the window caught up: %v", describe(evs))
	}
	c := evs[0].GetCompleted()
	if c.GetStale() || c.GetSummary().GetCompetitorCount() != 36 || c.GetWindow().GetSizeSeconds() != 3600 || c.GetDurationMs() != 16000 {
		t.Errorf("completed %v", c)
	}
	if st := r.state(anID); st.GetStep() != marketv1.AnalysisStep_ANALYSIS_STEP_COMPLETED || !proto.Equal(st.GetResult(), c) {
		t.Errorf("state %v", st)
	}

	// Nothing happens any more; after the retention a tick deletes the analysis.
	r.ticks(t, t0.Add(time.Hour))
	r.consume(r.cfg.ScrapeStatus, topics.ScrapeStatus, job, status("late", job, anID, kwText, failed, 0, 3, t0.Add(time.Hour)))
	if got := r.transitions(t, anID); len(got) != 0 {
		t.Errorf("a finished analysis made transitions %v", got)
	}
	r.ticks(t, t0.Add(16*time.Second+r.cfg.Retention))
	if st := r.state(anID); st != nil {
		t.Errorf("analysis kept after its retention: %v", st)
	}
	if _, cancels := r.cancellations(t); len(cancels) != 0 {
		t.Errorf("cancellations of a completed analysis: %v", cancels)
	}
	if n := counter(t, r.reg, "marketinsights_processor_emitted_total", "topic", string(r.cfg.ScrapeRequests)); n != 1 {
		t.Errorf("emitted scrape requests = %v, want 1", n)
	}
}

func TestProcessorTimesOutAndCompensatesOnTester(t *testing.T) {
	r := startTester(t)
	r.tt.SetTableValue(r.cfg.KeywordTable, kwText, keywordState(t, r.cfg.Keywords, searchPage(kwText, "old", 1, t0.Add(-30*time.Minute), 10)))
	r.consume(r.cfg.Events, topics.AnalysisEvents, anID, request(anID, kwText, 3, t0))
	r.consume(r.cfg.ScrapeStatus, topics.ScrapeStatus, JobID(anID, 1), status("q", JobID(anID, 1), anID, kwText, queued, 0, 3, t0.Add(time.Second)))
	r.transitions(t, anID)
	r.ticks(t, t0.Add(r.cfg.ScrapeTimeout-time.Second))
	if got := r.transitions(t, anID); len(got) != 0 {
		t.Fatalf("before the timeout: %v", got)
	}
	r.ticks(t, t0.Add(r.cfg.ScrapeTimeout))
	if got := r.transitions(t, anID); !slices.Equal(got, []string{"failed:stale", "completed:stale"}) {
		t.Fatalf("at the timeout: %v", got)
	}
	keys, mine := r.cancellations(t)
	if len(mine) != 1 || keys[0] != JobID(anID, 1) || mine[0].GetStatus() != marketv1.ScrapeStatus_SCRAPE_STATUS_CANCELLED {
		t.Fatalf("cancellations %v keyed %v", mine, keys)
	}
	st := r.state(anID)
	if st.GetStep() != marketv1.AnalysisStep_ANALYSIS_STEP_FAILED || !st.GetResult().GetStale() || st.GetFailedStep() != marketv1.AnalysisStep_ANALYSIS_STEP_SCRAPING {
		t.Errorf("state %v", st)
	}
	r.ticks(t, t0.Add(r.cfg.ScrapeTimeout+time.Second))
	if got := r.transitions(t, anID); len(got) != 0 {
		t.Errorf("a second tick: %v", got)
	}
}

// counter sums a counter's series whose label has the value (every series for an empty label).
func counter(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, l := range m.GetLabel() {
				match = match || l.GetName() == label && l.GetValue() == value
			}
			if match {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
