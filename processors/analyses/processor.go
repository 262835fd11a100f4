package analyses

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/lovoo/goka"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/processors"
	"github.com/marketinsightspro/marketinsights/processors/keywords"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// VisitTick is the name of the visitor edge the Ticker drives: visited with the current time,
// it sends a SagaTick through the loopback to every analysis that is due.
const VisitTick = "tick"

// stage names the saga in dead-letter headers.
const stage = "analysis-saga"

// Graph returns the saga's group graph: AnalysisEvent in (requests) and through the loopback
// (scrape statuses, ticks), the VisitTick visitor, the keyword-windows table looked up,
// AnalysisState persisted, transitions, scrape requests, cancellations and dead letters out.
func Graph(cfg Config) *goka.GroupGraph { return newSaga(cfg, nil).graph() }

// New returns the saga's processor; opts come last, so tests can pass goka.WithTester. Run a
// Ticker beside it (timeouts) and the router (scrape statuses).
func New(env gokaenv.Env, cfg Config, m *processors.Metrics, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	return newProcessor(env, cfg, m, nil, opts...)
}

func newProcessor(env gokaenv.Env, cfg Config, m *processors.Metrics, onDone func(), opts ...goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := newSaga(cfg, m)
	p.onDone = onDone
	all := append([]goka.ProcessorOption{goka.WithRebalanceCallback(p.due.onRebalance)}, opts...)
	proc, err := goka.NewProcessor(env.Brokers, p.graph(), env.ProcessorOptions(cfg.Group, all...)...)
	if err != nil {
		return nil, fmt.Errorf("create processor %s: %w", cfg.Group, err)
	}
	return proc, nil
}

// sagaProcessor holds the saga's callbacks.
type sagaProcessor struct {
	cfg                            Config
	m                              *processors.Metrics
	due                            *dueTimes
	events, requests, status, loop topics.Topic
	onDone                         func() // benchmarks only: called after every loopback record
}

func newSaga(cfg Config, m *processors.Metrics) *sagaProcessor {
	return &sagaProcessor{
		cfg:      cfg,
		m:        m,
		due:      &dueTimes{next: make(map[string]int64)},
		events:   topics.MustLookup(topics.AnalysisEvents),
		requests: topics.MustLookup(topics.ScrapeRequestsHigh),
		status:   topics.MustLookup(topics.ScrapeStatus),
		loop:     topics.MustLookup(topics.AnalysisSagaLoop),
	}
}

func (p *sagaProcessor) graph() *goka.GroupGraph {
	return goka.DefineGroup(p.cfg.Group,
		// The events topic is both an output (transitions) and the input (requests), and the
		// scrape-status topic is the router's input: goka keeps one codec per topic, so these
		// outputs use the tolerant codec too (it encodes like the catalog's).
		goka.Output(p.cfg.Events, processors.InputCodec(topics.AnalysisEvents)),
		goka.Input(p.cfg.Events, processors.InputCodec(topics.AnalysisEvents), p.onEvent),
		goka.Loop(processors.InputCodec(topics.AnalysisSagaLoop), p.onLoop),
		goka.Visitor(VisitTick, p.visit),
		goka.Lookup(p.cfg.KeywordTable, keywords.Codec()),
		goka.Output(p.cfg.ScrapeRequests, processors.Codec(topics.ScrapeRequestsHigh)),
		goka.Output(p.cfg.ScrapeStatus, processors.InputCodec(topics.ScrapeStatus)),
		processors.DeadLetterEdge(),
		goka.Persist(processors.Codec(topics.AnalysisSagaTable)),
	)
}

func value(ctx goka.Context) *marketv1.AnalysisState {
	st, _ := ctx.Value().(*marketv1.AnalysisState)
	return st
}

// onEvent applies a record of the events topic: requests start analyses; the saga's own
// transitions come back here and are ignored.
func (p *sagaProcessor) onEvent(ctx goka.Context, msg any) {
	ev, ok := processors.Decoded[*marketv1.AnalysisEvent](ctx, stage, msg)
	if !ok {
		p.m.Consumed(p.cfg.Group, ctx, time.Time{})
		p.m.DeadLettered(p.cfg.Group)
		return
	}
	p.m.Consumed(p.cfg.Group, ctx, ev.GetEnvelope().GetEventTime().AsTime())
	if ev.GetRequested() == nil {
		return // a transition (ours or another saga instance's), or a member this version does not know
	}
	p.apply(ctx, ev, p.cfg.now())
}

// onLoop applies a scrape status the router forwarded or a tick the visitor sent.
func (p *sagaProcessor) onLoop(ctx goka.Context, msg any) {
	if p.onDone != nil {
		defer p.onDone()
	}
	ev, ok := processors.Decoded[*marketv1.AnalysisEvent](ctx, stage, msg)
	if !ok {
		p.m.Consumed(p.cfg.Group, ctx, time.Time{})
		p.m.DeadLettered(p.cfg.Group)
		return
	}
	p.m.Consumed(p.cfg.Group, ctx, time.Time{})
	if ss := ev.GetScrapeStatus(); ss != nil && ss.GetEnvelope().GetEventId() != "" {
		// Redeliveries are recognised by the status' own id (the router derives the
		// wrapper's id from it too).
		ev = proto.CloneOf(ev)
		ev.Envelope = ss.GetEnvelope()
	}
	p.apply(ctx, ev, p.cfg.now())
}

// apply runs the pure saga on the record and carries out its effects.
func (p *sagaProcessor) apply(ctx goka.Context, ev *marketv1.AnalysisEvent, now time.Time) {
	key := ctx.Key()
	lookup := func(keyword string) *marketv1.KeywordWindowsState {
		kw, _ := ctx.Lookup(p.cfg.KeywordTable, keyword).(*marketv1.KeywordWindowsState)
		return kw
	}
	out := Apply(value(ctx), key, ev, now, lookup, p.cfg)
	for _, s := range out.Scrapes {
		processors.Emit(ctx, p.cfg.ScrapeRequests, p.requests, s.GetJobId(), s)
		p.m.Emitted(p.cfg.Group, string(p.cfg.ScrapeRequests))
	}
	for _, c := range out.Cancels {
		processors.Emit(ctx, p.cfg.ScrapeStatus, p.status, c.GetJobId(), c)
		p.m.Emitted(p.cfg.Group, string(p.cfg.ScrapeStatus))
	}
	for _, e := range out.Events {
		processors.Emit(ctx, p.cfg.Events, p.events, key, e)
		p.m.Emitted(p.cfg.Group, string(p.cfg.Events))
	}
	switch {
	case out.Delete:
		ctx.Delete()
		p.due.forget(key)
	case out.Changed:
		ctx.SetValue(out.State)
		p.due.set(key, p.dueAt(out.State))
		p.m.StateWritten(p.cfg.Group, proto.Size(out.State))
	}
}

// visit sends a tick through the loopback to an analysis that is due at the time the Ticker
// passed; the cache of due times spares decoding the others.
func (p *sagaProcessor) visit(ctx goka.Context, meta any) {
	now, ok := meta.(time.Time)
	if !ok {
		return
	}
	key := ctx.Key()
	if d, ok := p.due.get(key); ok && now.UnixMilli() < d {
		return
	}
	d := p.dueAt(value(ctx))
	p.due.set(key, d)
	if now.UnixMilli() < d {
		return
	}
	tick := &marketv1.AnalysisEvent{
		Envelope:   &marketv1.Envelope{EventId: nameID(nsTick, key, fmt.Sprint(now.UnixNano())), EventTime: timestamppb.New(now), Producer: p.cfg.Producer, SchemaVersion: marketv1.SchemaVersion, CorrelationId: key},
		AnalysisId: key,
		Event:      &marketv1.AnalysisEvent_Tick{Tick: &marketv1.SagaTick{Now: timestamppb.New(now)}},
	}
	ctx.Loopback(key, tick, goka.WithCtxEmitHeaders(processors.EventHeaders(p.loop, tick)))
	p.m.Emitted(p.cfg.Group, string(p.cfg.LoopTopic()))
}

// dueAt returns when an analysis next needs a tick (unix ms; MaxInt64 for never): at once while
// it waits for the keyword's window (the window is looked at on every tick), at its step
// deadline while scraping, at the end of its retention once finished.
func (p *sagaProcessor) dueAt(st *marketv1.AnalysisState) int64 {
	switch {
	case st == nil:
		return math.MaxInt64
	case Finished(st):
		if f := st.GetFinishedAt(); f != nil {
			return f.AsTime().Add(p.cfg.Retention).UnixMilli()
		}
		return math.MaxInt64
	case st.GetStep() == marketv1.AnalysisStep_ANALYSIS_STEP_AGGREGATING:
		return 0
	case st.GetStepDeadline() != nil:
		return st.GetStepDeadline().AsTime().UnixMilli()
	default:
		return math.MaxInt64
	}
}

// dueTimes caches every analysis' next due time (unix ms) for the visitor. It is filled by the
// callbacks and the visitor, and cleared on every rebalance, since another instance may have
// changed the analyses of a partition that comes back.
type dueTimes struct {
	mu   sync.Mutex
	next map[string]int64
}

func (d *dueTimes) get(key string) (int64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.next[key]
	return v, ok
}

func (d *dueTimes) set(key string, v int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.next[key] = v
}

func (d *dueTimes) forget(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.next, key)
}

func (d *dueTimes) onRebalance(goka.Assignment) {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.next)
}
