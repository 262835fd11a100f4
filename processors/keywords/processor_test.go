package keywords

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/processors"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// startTester runs the processor on goka's tester until the test ends.
func startTester(t *testing.T, m *processors.Metrics) (*tester.Tester, *goka.Processor, Config) {
	t.Helper()
	tt := tester.New(t)
	cfg := DefaultConfig()
	p, err := New(gokaenv.Env{}, cfg, m, goka.WithTester(tt))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("processor: %v", err)
		}
	})
	if err := p.WaitForReadyContext(ctx); err != nil {
		t.Fatal(err)
	}
	return tt, p, cfg
}

// drain returns every message the tracker has not read yet.
func drain[T proto.Message](t *testing.T, q *tester.QueueTracker, topic topics.Topic) (keys []string, vals []T) {
	t.Helper()
	for {
		h, k, v, ok := q.NextWithHeaders()
		if !ok {
			return keys, vals
		}
		if string(h[topics.HeaderSchema]) != topic.Schema() {
			t.Errorf("record on %s with schema header %q", topic.Name, h[topics.HeaderSchema])
		}
		m, isT := v.(T)
		if !isT {
			t.Fatalf("record of %T on %s", v, topic.Name)
		}
		if e, ok := any(m).(marketv1.Event); ok && string(h[topics.HeaderEventID]) != e.GetEnvelope().GetEventId() {
			t.Errorf("event-id header %q, envelope %q", h[topics.HeaderEventID], e.GetEnvelope().GetEventId())
		}
		keys = append(keys, k)
		vals = append(vals, m)
	}
}

func TestProcessorOnTester(t *testing.T) {
	reg := prometheus.NewRegistry()
	tt, _, cfg := startTester(t, processors.NewMetrics(reg))
	out := tt.NewQueueTracker(string(cfg.Output))
	lateQ := tt.NewQueueTracker(string(cfg.LateEvents))
	in := string(cfg.Input)
	tt.SetTableValue(cfg.ProductTable, "B", &marketv1.ProductState{Asin: "B", Latest: &marketv1.ProductAttributes{
		Ranks: []*marketv1.BestSellersRank{{Rank: 1000, Category: "Home & Kitchen"}},
	}})

	first := page(kw, t0.Add(10*time.Second), "e1", listings(item{asin: "A", pos: 1, price: 1000, badge: 100}, item{asin: "B", pos: 2, price: 2000})...)
	tt.Consume(in, kw, first)
	keys, ups := drain[*marketv1.KeywordWindowUpdated](t, out, topics.MustLookup(topics.KeywordWindows))
	if len(ups) != 5 {
		t.Fatalf("%d updates for the first page, want 5", len(ups))
	}
	for i, u := range ups {
		if keys[i] != kw {
			t.Errorf("update keyed %q", keys[i])
		}
		if top := u.GetStats().GetTopBySales(); len(top) != 2 || top[0].GetAsin() != "B" || top[0].GetSales().GetMethod() != "rank_power_law" {
			t.Errorf("top %v: B's rank must come from the product table", top)
		}
	}
	st, _ := tt.TableValue(Table, kw).(*marketv1.KeywordWindowsState)
	if st.GetKeyword() != kw || len(st.GetProducts()) != 2 || len(st.GetPageTimesUnixMs()) != 1 {
		t.Fatalf("table value %v", st)
	}

	tt.Consume(in, kw, first) // redelivered: nothing
	if _, ups := drain[*marketv1.KeywordWindowUpdated](t, out, topics.MustLookup(topics.KeywordWindows)); len(ups) != 0 {
		t.Errorf("a redelivered page emitted %d updates", len(ups))
	}

	tt.Consume(in, kw, page(kw, t0.Add(30*time.Hour), "e2", listings(item{asin: "A", pos: 1, price: 1100})...))
	_, ups = drain[*marketv1.KeywordWindowUpdated](t, out, topics.MustLookup(topics.KeywordWindows))
	if finals := finalsOf(ups); len(finals) < 4 {
		t.Errorf("a page 30 hours later closed %d windows, want every window of the first page", len(finals))
	}
	tt.Consume(in, kw, page(kw, t0.Add(time.Minute), "e3", listings(item{asin: "C", pos: 1})...))
	lk, lates := drain[*marketv1.LateEvent](t, lateQ, topics.MustLookup(topics.LateEvents))
	if len(lates) != 1 || lk[0] != kw || lates[0].GetLateEventId() != "e3" {
		t.Errorf("late events %v keyed %v", lates, lk)
	}
	if n := counter(t, reg, "marketinsights_processor_late_events_total"); n != 1 {
		t.Errorf("late_events_total = %v, want 1", n)
	}
}

func TestProcessorDeadLettersInvalidEvents(t *testing.T) {
	reg := prometheus.NewRegistry()
	tt, _, cfg := startTester(t, processors.NewMetrics(reg))
	dead := tt.NewQueueTracker(topics.DeadLetters)
	noTime := page(kw, t0, "e1")
	noTime.Envelope.EventTime = nil
	tt.Consume(string(cfg.Input), kw, noTime)
	tt.Consume(string(cfg.Input), "another keyword", page(kw, t0, "e2"))
	tt.Consume(string(cfg.Input), kw, page(kw, time.Now().Add(2*time.Hour), "from-the-future"))
	for i := range 3 {
		h, key, raw, ok := dead.NextRawWithHeaders()
		if !ok {
			t.Fatalf("dead letter %d missing", i)
		}
		var ev marketv1.SearchResultsObserved
		if err := proto.Unmarshal(raw, &ev); err != nil || h[topics.HeaderDLQError] == nil || string(h[topics.HeaderDLQStage]) != stage {
			t.Errorf("dead letter %d (key %q): headers %v, decode %v", i, key, h, err)
		}
	}
	if n := counter(t, reg, "marketinsights_processor_dead_letters_total"); n != 3 {
		t.Errorf("dead_letters_total = %v, want 3", n)
	}
	if tt.TableValue(Table, kw) != nil || tt.TableValue(Table, "another keyword") != nil {
		t.Error("an invalid event created a state")
	}
}

// TestTickerClosesQuietKeyword shows the processing-time path end to end on the tester: the
// Ticker's visit with a fake clock sends WindowTick through the loopback to the keyword whose
// windows are due, and the loop callback closes them; a keyword not yet due gets no tick.
func TestTickerClosesQuietKeyword(t *testing.T) {
	tt, proc, cfg := startTester(t, nil)
	out := tt.NewQueueTracker(string(cfg.Output))
	loop := tt.NewQueueTracker(string(cfg.Group) + "-loop")
	in := string(cfg.Input)
	tt.Consume(in, "quiet", page("quiet", t0.Add(10*time.Second), "q1", listings(item{asin: "A", pos: 1, price: 1000})...))
	tt.Consume(in, "busy", page("busy", t0.Add(50*time.Minute), "b1", listings(item{asin: "B", pos: 1, price: 1000})...))
	drain[*marketv1.KeywordWindowUpdated](t, out, topics.MustLookup(topics.KeywordWindows))

	now := t0.Add(5 * time.Minute)
	ticker := NewTicker(proc, cfg.TickInterval, func() time.Time { return now }, nil)
	tick := func() {
		t.Helper()
		if _, err := ticker.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		tt.Catchup()
	}
	tick()
	if k, ticks := drain[*marketv1.WindowTick](t, loop, topics.MustLookup(topics.KeywordWindowsLoop)); len(ticks) != 0 {
		t.Fatalf("ticks before any deadline: %v %v", k, ticks)
	}

	now = t0.Add(12*time.Minute + time.Second) // quiet's first minute is due at 08:12; busy's at 09:02
	tick()
	k, ticks := drain[*marketv1.WindowTick](t, loop, topics.MustLookup(topics.KeywordWindowsLoop))
	if len(ticks) != 1 || k[0] != "quiet" || ticks[0].GetKeyword() != "quiet" || !ticks[0].GetNow().AsTime().Equal(now) {
		t.Fatalf("ticks %v to %v, want one to quiet with the clock's time", ticks, k)
	}
	_, ups := drain[*marketv1.KeywordWindowUpdated](t, out, topics.MustLookup(topics.KeywordWindows))
	finals := finalsOf(ups)
	if len(finals) != 3 {
		t.Fatalf("the tick closed %d windows, want 3 (quiet's minute and both sliding windows ending 08:01)", len(finals))
	}
	for _, u := range finals {
		if u.GetKeyword() != "quiet" || u.GetClosedBy() != ClosedByTick {
			t.Errorf("final %s of %q closed by %q", windowKey(u), u.GetKeyword(), u.GetClosedBy())
		}
	}

	// Two days later every window of both keywords closes, and the table keeps only their marks.
	now = t0.Add(50 * time.Hour)
	tick()
	if k, ticks := drain[*marketv1.WindowTick](t, loop, topics.MustLookup(topics.KeywordWindowsLoop)); len(ticks) != 2 {
		t.Errorf("two days later ticks went to %v, want both keywords", k)
	}
	_, ups = drain[*marketv1.KeywordWindowUpdated](t, out, topics.MustLookup(topics.KeywordWindows))
	if len(finalsOf(ups)) < 1000 {
		t.Errorf("after two days %d finals, want every window (the 24-hour sliding ones included)", len(finalsOf(ups)))
	}
	for _, key := range []string{"quiet", "busy"} {
		st, _ := tt.TableValue(Table, key).(*marketv1.KeywordWindowsState)
		if len(st.GetProducts()) != 0 || len(st.GetPageTimesUnixMs()) != 0 {
			t.Errorf("%s keeps %d products and %d pages after every window closed", key, len(st.GetProducts()), len(st.GetPageTimesUnixMs()))
		}
	}
	tick() // nothing is due any more: no tick
	if _, ticks := drain[*marketv1.WindowTick](t, loop, topics.MustLookup(topics.KeywordWindowsLoop)); len(ticks) != 0 {
		t.Errorf("%d ticks to keywords without open windows", len(ticks))
	}

	// A tick for a keyword that has no state creates none.
	tt.Consume(string(cfg.Group)+"-loop", "unknown", &marketv1.WindowTick{Now: timestamppb.New(now), Keyword: "unknown"})
	if tt.TableValue(Table, "unknown") != nil {
		t.Error("a tick created a state")
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
