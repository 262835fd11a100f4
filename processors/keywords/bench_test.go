package keywords

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/processors"
	"github.com/marketinsightspro/marketinsights/processors/internal/ceilingbench"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// warm returns a keyword state after 24 hours of 1-minute scrapes of `slots` listings, the sim
// that made it, and the time of its last page.
func warm(b *testing.B, slots int) (*marketv1.KeywordWindowsState, *sim, time.Time) {
	b.Helper()
	s := newSim(3, kw, slots, slots*5/2)
	s.churn = 0.1 / 60
	var st *marketv1.KeywordWindowsState
	cfg := DefaultConfig()
	t := t0
	for range 24 * 60 {
		for _, ev := range s.scrape(t) {
			out, err := Apply(st, ev, s.lookup, cfg)
			if err != nil {
				b.Fatal(err)
			}
			st = out.State
		}
		t = t.Add(time.Minute)
	}
	return st, s, t
}

// pageRing is a ring of pages to apply one after the other, their times and ids set per use so
// that the benchmark loop allocates nothing for its input.
type pageRing struct {
	pages []*marketv1.SearchResultsObserved
	ids   []string
}

func newPageRing(s *sim, n int, at time.Time) *pageRing {
	r := &pageRing{}
	for i := range n {
		r.pages = append(r.pages, s.scrape(at)[0])
		r.ids = append(r.ids, fmt.Sprintf("bench-%06d", i))
	}
	return r
}

// at returns page i at time t with a fresh id (ids repeat every 4096 pages, times never do).
func (r *pageRing) at(i int, t time.Time) *marketv1.SearchResultsObserved {
	ev := r.pages[i%len(r.pages)]
	ev.Envelope.EventTime.Seconds, ev.Envelope.EventTime.Nanos = t.Unix(), int32(t.Nanosecond())
	ev.Envelope.EventId = r.ids[i%len(r.ids)]
	return ev
}

// BenchmarkApply applies one new page a minute to a keyword warmed with 24 hours of pages:
// the steady state of a keyword scraped every minute (5 updates and 3 finals per page).
func BenchmarkApply(b *testing.B) {
	for _, slots := range []int{12, 48, 144} {
		b.Run(fmt.Sprintf("listings=%d", slots), func(b *testing.B) {
			st, s, t := warm(b, slots)
			ring := newPageRing(s, 64, t)
			cfg := DefaultConfig()
			lookup := s.lookup
			updates := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				out, err := Apply(st, ring.at(i, t.Add(time.Duration(i)*time.Minute)), lookup, cfg)
				if err != nil {
					b.Fatal(err)
				}
				updates += len(out.Updates)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(updates)/float64(b.N), "updates/event")
		})
	}
}

// BenchmarkWindowStats computes the statistics of one warmed keyword's current 24-hour sliding
// window (members, statistics, entrants and leavers against the window a step earlier, the hash
// an update is emitted on), without building the message: the window update proper, linear in
// the products of the window (ns/product stays flat as they grow) and allocation-free.
func BenchmarkWindowStats(b *testing.B) {
	for _, slots := range []int{12, 48, 144} {
		b.Run(fmt.Sprintf("listings=%d", slots), func(b *testing.B) {
			st, _, _ := warm(b, slots)
			cfg := DefaultConfig()
			i := slices.Index(cfg.Series, Sliding(24*time.Hour, time.Minute))
			end := alignDown(unixMs(st.Watermark), ms(time.Minute)) + ms(time.Minute)
			start := end - ms(24*time.Hour)
			products := 0
			b.ReportAllocs()
			for b.Loop() {
				r := newRun(st, &cfg)
				r.compute(i, start, end)
				_ = r.hash()
				products = int(r.sc.stats.competitors)
				r.finish()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(products), "ns/product")
			b.ReportMetric(float64(products), "products")
		})
	}
}

// BenchmarkApplyUnchanged applies pages that change no statistic (the same listings a
// millisecond apart, new ids): the state update and the statistics of five windows, no emission.
func BenchmarkApplyUnchanged(b *testing.B) {
	st, s, t := warm(b, 48)
	ev := s.scrape(t)[0]
	cfg := DefaultConfig()
	if _, err := Apply(st, ev, s.lookup, cfg); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = fmt.Sprintf("same-%06d", i)
	}
	updates := 0
	lookup := s.lookup
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		at := t.Add(time.Duration(i+1) * time.Millisecond)
		ev.Envelope.EventTime.Seconds, ev.Envelope.EventTime.Nanos = at.Unix(), int32(at.Nanosecond())
		ev.Envelope.EventId = ids[i%len(ids)]
		out, err := Apply(st, ev, lookup, cfg)
		if err != nil {
			b.Fatal(err)
		}
		updates += len(out.Updates)
	}
	b.ReportMetric(float64(updates)/float64(b.N), "updates/event")
}

// BenchmarkApplyDuplicate applies a redelivered page.
func BenchmarkApplyDuplicate(b *testing.B) {
	st, s, t := warm(b, 48)
	ev := s.scrape(t)[0]
	cfg := DefaultConfig()
	if _, err := Apply(st, ev, s.lookup, cfg); err != nil {
		b.Fatal(err)
	}
	lookup := s.lookup
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, _ := Apply(st, ev, lookup, cfg); !out.Duplicate {
			b.Fatal("not a duplicate")
		}
	}
}

// BenchmarkTick ticks a quiet keyword (24 hours of pages, then none) a minute at a time: each
// tick closes the minute's windows (two sliding finals, more on the hour).
func BenchmarkTick(b *testing.B) {
	base, _, t := warm(b, 48)
	cfg := DefaultConfig()
	lag := cfg.AllowedLateness + cfg.TickGrace
	var st *marketv1.KeywordWindowsState
	finals, k := 0, 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if k%(24*60) == 0 {
			b.StopTimer()
			st = proto.Clone(base).(*marketv1.KeywordWindowsState)
			k = 0
			b.StartTimer()
		}
		k++
		out := Tick(st, t.Add(lag+time.Duration(k)*time.Minute), cfg)
		finals += len(out.Updates)
	}
	b.ReportMetric(float64(finals)/float64(b.N), "finals/tick")
}

// BenchmarkNextDeadline computes when a warmed keyword is due next.
func BenchmarkNextDeadline(b *testing.B) {
	st, _, _ := warm(b, 48)
	cfg := DefaultConfig()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := NextDeadline(st, cfg); !ok {
			b.Fatal("no deadline")
		}
	}
}

// fakeContext is a goka.Context over one key that decodes and encodes the value and the
// emitted messages with the catalog's codecs, as goka does, so that the callback benchmarks
// include what goka's codecs cost.
type fakeContext struct {
	topic   goka.Stream
	key     string
	value   []byte
	table   map[string][]byte // the product table, encoded
	state   goka.Codec        // the table's codec: the processor's own
	emitted int
	bytes   int
}

var productCodec = processors.Codec(topics.ProductTrackerTable)

func (c *fakeContext) Topic() goka.Stream       { return c.topic }
func (c *fakeContext) Key() string              { return c.key }
func (c *fakeContext) Partition() int32         { return 0 }
func (c *fakeContext) Offset() int64            { return 0 }
func (c *fakeContext) Group() goka.Group        { return Group }
func (c *fakeContext) Headers() goka.Headers    { return nil }
func (c *fakeContext) Timestamp() time.Time     { return time.Time{} }
func (c *fakeContext) Join(goka.Table) any      { return nil }
func (c *fakeContext) Fail(err error)           { panic(err) }
func (c *fakeContext) Context() context.Context { return context.Background() }
func (c *fakeContext) DeferCommit() func(error) { return func(error) {} }
func (c *fakeContext) Delete(...goka.ContextOption) {
	c.value = nil
}

func (c *fakeContext) Value() any {
	if c.value == nil {
		return nil
	}
	v, err := c.state.Decode(c.value)
	if err != nil {
		panic(err)
	}
	return v
}

func (c *fakeContext) SetValue(v any, _ ...goka.ContextOption) {
	b, err := c.state.Encode(v)
	if err != nil {
		panic(err)
	}
	c.value = b
}

func (c *fakeContext) Lookup(_ goka.Table, key string) any {
	b, ok := c.table[key]
	if !ok {
		return nil
	}
	v, err := productCodec.Decode(b)
	if err != nil {
		panic(err)
	}
	return v
}

func (c *fakeContext) Emit(topic goka.Stream, _ string, v any, _ ...goka.ContextOption) {
	b, err := processors.Codec(topicOfStream(topic)).Encode(v)
	if err != nil {
		panic(err)
	}
	c.emitted++
	c.bytes += len(b)
}

func (c *fakeContext) Loopback(_ string, v any, _ ...goka.ContextOption) {
	b, err := processors.Codec(topics.KeywordWindowsLoop).Encode(v)
	if err != nil {
		panic(err)
	}
	c.emitted++
	c.bytes += len(b)
}

func topicOfStream(s goka.Stream) string { return string(s) } // the default config's names are the catalog's

// callbackRig is a processor's callbacks over a fake context holding a warmed keyword.
type callbackRig struct {
	p   *processor
	ctx *fakeContext
	s   *sim
	t   time.Time
}

func newCallbackRig(b *testing.B) *callbackRig {
	uncheckedCache(b)
	st, s, t := warm(b, 48)
	p := newProcessor(DefaultConfig(), nil)
	ctx := &fakeContext{topic: goka.Stream(topics.SearchResults), key: kw, table: map[string][]byte{}, state: p.state}
	ctx.SetValue(st)
	for _, p := range s.products {
		if ps := s.lookup(p.asin); ps != nil {
			bs, _ := productCodec.Encode(ps)
			ctx.table[p.asin] = bs
		}
	}
	return &callbackRig{p: p, ctx: ctx, s: s, t: t}
}

// BenchmarkCallbackSearchResults is the whole search-results callback on a warmed keyword of 48
// listings, one new page a minute: decoding the 35 KB value, Apply (with the product-table
// lookups goka decodes), encoding the value and the emitted updates.
func BenchmarkCallbackSearchResults(b *testing.B) {
	r := newCallbackRig(b)
	ring := newPageRing(r.s, 64, r.t)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.p.onSearchResults(r.ctx, ring.at(i, r.t.Add(time.Duration(i)*time.Minute)))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(r.ctx.emitted)/float64(b.N), "emitted/event")
	b.ReportMetric(float64(r.ctx.bytes)/float64(b.N), "emitted-B/event")
	b.ReportMetric(float64(len(r.ctx.value)), "value-bytes")
}

// BenchmarkCallbackTick is the loop callback closing a quiet keyword's windows a minute at a time.
func BenchmarkCallbackTick(b *testing.B) {
	r := newCallbackRig(b)
	r.ctx.topic = goka.Stream(topics.KeywordWindowsLoop)
	warmValue := r.ctx.value
	cfg := DefaultConfig()
	lag := cfg.AllowedLateness + cfg.TickGrace
	tick := &marketv1.WindowTick{Keyword: kw, Now: tsOf(0)}
	k := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if k%(24*60) == 0 {
			r.ctx.value, k = warmValue, 0
		}
		k++
		setUnixMs(&tick.Now, r.t.Add(lag+time.Duration(k)*time.Minute).UnixMilli())
		r.p.onTick(r.ctx, tick)
	}
	b.ReportMetric(float64(r.ctx.emitted)/float64(b.N), "emitted/tick")
}

// BenchmarkCallbackVisit is the visitor on a keyword: not due (the deadline cache answers), and
// due (decoding the value and sending a tick through the loopback).
func BenchmarkCallbackVisit(b *testing.B) {
	r := newCallbackRig(b)
	b.Run("not-due", func(b *testing.B) {
		r.p.deadlines.set(kw, r.t.Add(time.Hour).UnixMilli())
		now := r.t
		b.ReportAllocs()
		for b.Loop() {
			r.p.visit(r.ctx, now)
		}
	})
	b.Run("due", func(b *testing.B) {
		now := r.t.Add(48 * time.Hour)
		b.ReportAllocs()
		for b.Loop() {
			r.p.deadlines.onRebalance(nil)
			r.p.visit(r.ctx, now)
		}
	})
}

var (
	benchKeywords = flag.Int("keywords.bench-keywords", 20, "keywords in BenchmarkProcessorVsCounter's input")
	benchScrapes  = flag.Int("keywords.bench-scrapes", 200, "scrapes per keyword (a minute apart) in BenchmarkProcessorVsCounter's input")
	benchBlob     = flag.Int("keywords.bench-blob", 0, "bytes of a blob contender (a value of that size written per record, nothing else) added to BenchmarkProcessorVsCounter; 0 for none")
)

// BenchmarkProcessorVsCounter runs ceilingbench on -keywords.bench-keywords keywords of 48
// listings (from a pool of 120 products, a third of them ranked in the product table), each
// scraped -keywords.bench-scrapes times a minute apart: the trivial goka counter, then the
// keyword-windows processor, on the same search-results topic. keywords/counter is the ratio
// the processor is held to (>= 0.5). -keywords.bench-blob adds a contender that writes a value of
// that size per record and does nothing else. Run it with -benchtime=1x or more:
//
//	go test -run '^$' -bench ProcessorVsCounter -benchtime 3x ./processors/keywords/
func BenchmarkProcessorVsCounter(b *testing.B) {
	uncheckedCache(b)
	r := newKafkaRig(b)
	var pages, states []proto.Message
	for i := range *benchKeywords {
		s := newSim(uint64(2000+i), fmt.Sprintf("bench keyword %02d", i), 48, 120)
		s.churn = 0.1 / 60
		for _, p := range s.products {
			if ps := s.lookup(p.asin); ps != nil {
				states = append(states, ps)
			}
		}
		for _, ev := range s.run(t0, *benchScrapes, time.Minute, 20*time.Second) {
			pages = append(pages, ev)
		}
	}
	r.emit(b, string(r.cfg.ProductTable), topics.ProductTrackerTable, func(m proto.Message) string { return m.(*marketv1.ProductState).GetAsin() }, states...)
	// Interleave the keywords as scrapers would send them: one scrape of every keyword a minute.
	in := make([]*kgo.Record, 0, len(pages))
	tp := topics.MustLookup(topics.SearchResults)
	for j := range *benchScrapes {
		for i := range *benchKeywords {
			ev := pages[i**benchScrapes+j].(*marketv1.SearchResultsObserved)
			v, err := proto.Marshal(ev)
			if err != nil {
				b.Fatal(err)
			}
			rec := &kgo.Record{Key: []byte(ev.GetKeyword()), Value: v}
			for k, h := range processors.EventHeaders(tp, ev) {
				rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: k, Value: h})
			}
			in = append(in, rec)
		}
	}
	contenders := []ceilingbench.Contender{{Name: "keywords", New: func(env gokaenv.Env, group goka.Group, opts ...goka.ProcessorOption) (*goka.Processor, error) {
		cfg := r.cfg
		cfg.Group = group
		return New(env, cfg, nil, opts...)
	}}}
	if *benchBlob > 0 {
		// What writing that many bytes per record costs the framework alone: with the bytes of
		// the keyword's state and of its updates, the ceiling the processor's CPU sits under.
		contenders = append(contenders, ceilingbench.Blob("blob", string(r.cfg.Input), make([]byte, *benchBlob)))
	}
	ceilingbench.Run(b, ceilingbench.Bench{Kafka: r.k, Input: string(r.cfg.Input), Records: in}, contenders...)
}
