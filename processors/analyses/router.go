package analyses

import (
	"fmt"
	"time"

	"github.com/lovoo/goka"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/processors"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// routerStage names the router in dead-letter headers.
const routerStage = "analysis-saga-router"

// RouterGraph returns the router's group graph: ScrapeStatusChanged in, AnalysisEvent out to
// the saga's loopback topic, dead letters out. It keeps no state.
func RouterGraph(cfg Config) *goka.GroupGraph { return (&router{cfg: cfg}).graph() }

// NewRouter returns the router processor, which forwards the scrape statuses of analyses'
// jobs to the saga's loopback, keyed by analysis id (market.scrape-status.v1 is keyed by job
// id and has another partition count, so the saga cannot read it itself). opts come last.
func NewRouter(env gokaenv.Env, cfg Config, m *processors.Metrics, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &router{cfg: cfg, m: m, loop: topics.MustLookup(topics.AnalysisSagaLoop)}
	p, err := goka.NewProcessor(env.Brokers, r.graph(), env.ProcessorOptions(cfg.RouterGroup, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("create processor %s: %w", cfg.RouterGroup, err)
	}
	return p, nil
}

// router holds the router's callback.
type router struct {
	cfg  Config
	m    *processors.Metrics
	loop topics.Topic
}

func (r *router) graph() *goka.GroupGraph {
	return goka.DefineGroup(r.cfg.RouterGroup,
		goka.Input(r.cfg.ScrapeStatus, processors.InputCodec(topics.ScrapeStatus), r.onStatus),
		goka.Output(r.cfg.LoopTopic(), processors.InputCodec(topics.AnalysisSagaLoop)), // the saga's loop codec
		processors.DeadLetterEdge(),
	)
}

// onStatus forwards a status that belongs to an analysis; the saga's own cancellations and
// statuses of jobs no analysis asked for are not forwarded.
func (r *router) onStatus(ctx goka.Context, msg any) {
	ss, ok := processors.Decoded[*marketv1.ScrapeStatusChanged](ctx, routerStage, msg)
	if !ok {
		r.m.Consumed(r.cfg.RouterGroup, ctx, time.Time{})
		r.m.DeadLettered(r.cfg.RouterGroup)
		return
	}
	r.m.Consumed(r.cfg.RouterGroup, ctx, ss.GetEnvelope().GetEventTime().AsTime())
	ev, ok := Route(ss, r.cfg.Producer)
	if !ok {
		return
	}
	processors.Emit(ctx, r.cfg.LoopTopic(), r.loop, ev.GetAnalysisId(), ev)
	r.m.Emitted(r.cfg.RouterGroup, string(r.cfg.LoopTopic()))
}

// Route returns the AnalysisEvent that carries a scrape status to its analysis, and false for a
// status of no analysis or one the saga (named sagaProducer) wrote itself. The event's id is
// derived from the status' id, so a redelivered status is routed with the same id.
func Route(ss *marketv1.ScrapeStatusChanged, sagaProducer string) (*marketv1.AnalysisEvent, bool) {
	id := ss.GetAnalysisId()
	if id == "" || ss.GetEnvelope().GetProducer() == sagaProducer && sagaProducer != "" {
		return nil, false
	}
	env := ss.GetEnvelope()
	return &marketv1.AnalysisEvent{
		Envelope: &marketv1.Envelope{
			EventId:       nameID(nsRouted, env.GetEventId(), ss.GetJobId(), ss.GetStatus().String()),
			EventTime:     env.GetEventTime(),
			Producer:      sagaProducer,
			SchemaVersion: marketv1.SchemaVersion,
			CorrelationId: id,
			CausationId:   env.GetEventId(),
		},
		AnalysisId: id,
		Event:      &marketv1.AnalysisEvent_ScrapeStatus{ScrapeStatus: ss},
	}, true
}
