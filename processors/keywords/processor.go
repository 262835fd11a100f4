package keywords

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/lovoo/goka"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/processors"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// VisitTick is the name of the visitor edge the Ticker drives: visited with the current time,
// it sends a WindowTick through the loopback to every keyword with a window due.
const VisitTick = "tick"

// stage names the processor in dead-letter headers.
const stage = "keyword-windows"

// Graph returns the group graph of the keyword windows: SearchResultsObserved in, WindowTick
// through the loopback, the VisitTick visitor, the product table looked up, window updates,
// late events, anomalies and dead letters out, KeywordWindowsState persisted.
func Graph(cfg Config) *goka.GroupGraph { return newProcessor(cfg, nil).graph() }

// New returns the keyword-windows processor. opts come last, so tests can pass
// goka.WithTester. Run a Ticker beside it so that quiet keywords close their windows.
func New(env gokaenv.Env, cfg Config, m *processors.Metrics, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("keyword windows config: %w", err)
	}
	p := newProcessor(cfg, m)
	all := append([]goka.ProcessorOption{goka.WithRebalanceCallback(p.deadlines.onRebalance)}, opts...)
	proc, err := goka.NewProcessor(env.Brokers, p.graph(), env.ProcessorOptions(cfg.Group, all...)...)
	if err != nil {
		return nil, fmt.Errorf("create keyword windows processor: %w", err)
	}
	return proc, nil
}

// processor holds the callbacks of one goka processor.
type processor struct {
	cfg                           Config
	m                             *processors.Metrics
	deadlines                     *deadlines
	products                      *productCache
	state                         stateCodec
	output, late, anomalies, loop topics.Topic
}

func newProcessor(cfg Config, m *processors.Metrics) *processor {
	return &processor{
		cfg:       cfg,
		m:         m,
		deadlines: &deadlines{next: make(map[string]int64)},
		products:  &productCache{ttl: cfg.LookupTTL, max: 100_000, m: make(map[string]cachedProduct)},
		state:     newStateCodec(cfg.StateCacheBytes),
		output:    topics.MustLookup(topics.KeywordWindows),
		late:      topics.MustLookup(topics.LateEvents),
		anomalies: topics.MustLookup(topics.Anomalies),
		loop:      topics.MustLookup(topics.KeywordWindowsLoop),
	}
}

func (p *processor) graph() *goka.GroupGraph {
	edges := []goka.Edge{
		goka.Input(p.cfg.Input, processors.InputCodec(topics.SearchResults), p.onSearchResults),
		goka.Loop(processors.InputCodec(topics.KeywordWindowsLoop), p.onTick),
		goka.Visitor(VisitTick, p.visit),
		goka.Output(p.cfg.Output, processors.Codec(topics.KeywordWindows)),
		goka.Output(p.cfg.LateEvents, processors.Codec(topics.LateEvents)),
		goka.Output(p.cfg.Anomalies, processors.Codec(topics.Anomalies)),
		processors.DeadLetterEdge(),
		goka.Persist(p.state),
	}
	if p.cfg.ProductTable != "" {
		edges = append(edges, goka.Lookup(p.cfg.ProductTable, processors.Codec(topics.ProductTrackerTable)))
	}
	return goka.DefineGroup(p.cfg.Group, edges...)
}

func value(ctx goka.Context) *marketv1.KeywordWindowsState {
	st, _ := ctx.Value().(*marketv1.KeywordWindowsState)
	return st
}

// onSearchResults applies a search-results page.
func (p *processor) onSearchResults(ctx goka.Context, msg any) {
	ev, ok := processors.Decoded[*marketv1.SearchResultsObserved](ctx, stage, msg)
	if !ok {
		p.m.Consumed(p.cfg.Group, ctx, time.Time{})
		p.m.DeadLettered(p.cfg.Group)
		return
	}
	p.m.Consumed(p.cfg.Group, ctx, ev.GetEnvelope().GetEventTime().AsTime())
	if ev.GetKeyword() == "" {
		ev.Keyword = ctx.Key()
	}
	if ev.GetKeyword() != ctx.Key() {
		p.reject(ctx, ev, fmt.Errorf("%w: keyword %q differs from the record key %q", ErrInvalidEvent, ev.GetKeyword(), ctx.Key()))
		return
	}
	now := time.Now()
	if et := ev.GetEnvelope().GetEventTime(); p.cfg.MaxFutureSkew > 0 && et != nil && et.AsTime().After(now.Add(p.cfg.MaxFutureSkew)) {
		p.reject(ctx, ev, fmt.Errorf("%w: event time %v is more than %v ahead of the clock (%v)",
			ErrInvalidEvent, et.AsTime().UTC(), p.cfg.MaxFutureSkew, now.UTC()))
		return
	}
	var lookup Lookup
	if p.cfg.ProductTable != "" {
		lookup = func(asin string) *marketv1.ProductState {
			if ps, ok := p.products.get(asin, now); ok {
				return ps
			}
			ps, _ := ctx.Lookup(p.cfg.ProductTable, asin).(*marketv1.ProductState)
			p.products.put(asin, ps, now)
			return ps
		}
	}
	out, err := Apply(value(ctx), ev, lookup, p.cfg)
	if err != nil {
		p.reject(ctx, ev, err)
		return
	}
	p.finish(ctx, out)
}

// onTick closes the windows a processing-time tick makes due.
func (p *processor) onTick(ctx goka.Context, msg any) {
	tick, ok := processors.Decoded[*marketv1.WindowTick](ctx, stage, msg)
	if !ok {
		p.m.Consumed(p.cfg.Group, ctx, time.Time{})
		p.m.DeadLettered(p.cfg.Group)
		return
	}
	p.m.Consumed(p.cfg.Group, ctx, time.Time{})
	now := tick.GetNow()
	if now == nil {
		now = tick.GetEnvelope().GetEventTime()
	}
	st := value(ctx)
	if st == nil || now == nil {
		return // a tick never creates a keyword
	}
	p.finish(ctx, Tick(st, now.AsTime(), p.cfg))
}

// visit sends a tick through the loopback to a keyword whose next window is due at the time
// the Ticker passed; the deadline cache spares decoding the keywords that are not.
func (p *processor) visit(ctx goka.Context, meta any) {
	now, ok := meta.(time.Time)
	if !ok {
		return
	}
	key := ctx.Key()
	if d, ok := p.deadlines.get(key); ok && now.UnixMilli() < d {
		return
	}
	d := p.deadline(value(ctx))
	p.deadlines.set(key, d)
	if now.UnixMilli() < d {
		return
	}
	tick := &marketv1.WindowTick{
		Envelope: marketv1.NewEnvelope(p.cfg.Producer, "", now),
		Now:      tsOf(now.UnixMilli()),
		Keyword:  key,
	}
	ctx.Loopback(key, tick, goka.WithCtxEmitHeaders(processors.EventHeaders(p.loop, tick)))
	p.m.Emitted(p.cfg.Group, string(p.cfg.Group)+"-loop")
}

// deadline returns when a keyword's next window is due (unix ms; MaxInt64 for never).
func (p *processor) deadline(st *marketv1.KeywordWindowsState) int64 {
	if d, ok := NextDeadline(st, p.cfg); ok {
		return d.UnixMilli()
	}
	return math.MaxInt64
}

// finish emits what Apply or Tick produced and writes the state.
func (p *processor) finish(ctx goka.Context, out Outputs) {
	key := ctx.Key()
	if out.Late != nil {
		processors.Emit(ctx, p.cfg.LateEvents, p.late, key, out.Late)
		p.m.Late(p.cfg.Group)
		p.m.Emitted(p.cfg.Group, string(p.cfg.LateEvents))
	}
	for _, u := range out.Updates {
		processors.Emit(ctx, p.cfg.Output, p.output, key, u)
		p.m.Emitted(p.cfg.Group, string(p.cfg.Output))
	}
	for _, a := range out.Anomalies {
		processors.Emit(ctx, p.cfg.Anomalies, p.anomalies, a.GetAsin(), a)
		p.m.Emitted(p.cfg.Group, string(p.cfg.Anomalies))
	}
	if !out.Changed {
		return
	}
	raw, err := p.state.encode(out.State) // encoded here to measure it; the state is read-only from now on
	if err != nil {
		p.m.Error(p.cfg.Group, "encode_state")
		ctx.Fail(err)
	}
	ctx.SetValue(raw)
	p.deadlines.set(key, p.deadline(out.State))
	p.m.StateWritten(p.cfg.Group, len(raw))
	p.m.StateItems(p.cfg.Group, "products", float64(len(out.State.GetProducts())))
	p.m.StateItems(p.cfg.Group, "pages", float64(len(out.State.GetPageTimesUnixMs())))
}

// reject dead-letters an event the processor cannot apply.
func (p *processor) reject(ctx goka.Context, ev *marketv1.SearchResultsObserved, cause error) {
	raw, err := proto.Marshal(ev)
	if err != nil {
		cause = fmt.Errorf("%w (and re-encoding it failed: %v)", cause, err)
	}
	processors.DeadLetter(ctx, stage, raw, cause)
	p.m.Error(p.cfg.Group, "invalid_search_results")
	p.m.DeadLettered(p.cfg.Group)
}

// deadlines caches every keyword's next deadline (unix ms) for the visitor. It is filled by
// the callbacks and the visitor, and cleared on every rebalance, since another instance may
// have changed the keywords of a partition that comes back.
type deadlines struct {
	mu   sync.Mutex
	next map[string]int64
}

func (d *deadlines) get(key string) (int64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.next[key]
	return v, ok
}

func (d *deadlines) set(key string, v int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.next[key] = v
}

func (d *deadlines) onRebalance(goka.Assignment) {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.next)
}

// productCache keeps the product states looked up in the product table for a while: a product
// listed every minute, often under several keywords, is then decoded once per TTL rather than
// once per page. Ranks move slowly; the TTL bounds how stale one may be.
type productCache struct {
	mu  sync.Mutex
	ttl time.Duration
	max int
	m   map[string]cachedProduct
}

type cachedProduct struct {
	ps *marketv1.ProductState // read-only once cached; nil: not in the table
	at time.Time
}

func (c *productCache) get(asin string, now time.Time) (*marketv1.ProductState, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[asin]
	if !ok || now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		return nil, false
	}
	return e.ps, true
}

func (c *productCache) put(asin string, ps *marketv1.ProductState, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m) // crude but bounded: the next lookups refill it
	}
	c.m[asin] = cachedProduct{ps: ps, at: now}
}
