package notifications

import (
	"fmt"

	"github.com/lovoo/goka"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/processors"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// AnalysesGraph returns the analyses notifier's group graph (its callbacks record no metrics;
// NewAnalyses adds them).
func AnalysesGraph(cfg Config) *goka.GroupGraph { return (&analysesNotifier{cfg: cfg}).graph() }

// NewAnalyses returns the analyses notifier processor: completed analyses notify the
// subscriptions of their keyword that asked for analyses.
func NewAnalyses(env gokaenv.Env, cfg Config, m *processors.Metrics, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &analysesNotifier{cfg: cfg, m: m}
	p, err := goka.NewProcessor(env.Brokers, a.graph(), env.ProcessorOptions(cfg.AnalysesGroup, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("create processor %s: %w", cfg.AnalysesGroup, err)
	}
	return p, nil
}

// analysesNotifier holds the analyses notifier's callback.
type analysesNotifier struct {
	cfg Config
	m   *processors.Metrics
}

func (a *analysesNotifier) graph() *goka.GroupGraph {
	return goka.DefineGroup(a.cfg.AnalysesGroup,
		goka.Input(goka.Stream(a.cfg.AnalysisEventsTopic), processors.InputCodec(topics.AnalysisEvents), a.onAnalysisEvent),
		goka.Lookup(goka.GroupTable(a.cfg.Group), processors.Codec(topics.NotifierTable)),
		goka.Persist(processors.Codec(topics.NotifierAnalysesTable)),
		goka.Output(goka.Stream(a.cfg.NotificationsTopic), processors.Codec(topics.Notifications)),
		processors.DeadLetterEdge(),
	)
}

// onAnalysisEvent notifies the followers of a completed analysis' keyword.
func (a *analysesNotifier) onAnalysisEvent(ctx goka.Context, msg any) {
	stage := string(a.cfg.AnalysesGroup) + "/analysis-events"
	ev, ok := processors.Decoded[*marketv1.AnalysisEvent](ctx, stage, msg)
	if !ok {
		a.m.DeadLettered(a.cfg.AnalysesGroup)
		return
	}
	a.m.Consumed(a.cfg.AnalysesGroup, ctx, ev.GetEnvelope().GetEventTime().AsTime())
	if ev.GetCompleted() == nil {
		return // requested, step changes and failures notify nobody
	}
	if ev.GetAnalysisId() == "" {
		ev.AnalysisId = ctx.Key()
	}
	if err := ValidateAnalysis(ev); err != nil {
		deadLetterMessage(ctx, stage, ev, err)
		a.m.Error(a.cfg.AnalysesGroup, "invalid_analysis")
		a.m.DeadLettered(a.cfg.AnalysesGroup)
		return
	}
	if IsStale(ev.GetEnvelope(), a.cfg.now(), a.cfg.MaxAge) {
		a.m.Error(a.cfg.AnalysesGroup, "stale_analysis")
		return
	}
	subs, _ := ctx.Lookup(goka.GroupTable(a.cfg.Group), KeywordKey(ev.GetCompleted().GetKeyword())).(*marketv1.NotifierState)
	dedup, _ := ctx.Value().(*marketv1.NotifierState)
	next, out := MatchAnalysis(subs, dedup, ev, a.cfg.match())
	if next != dedup {
		ctx.SetValue(next)
		a.m.StateWritten(a.cfg.AnalysesGroup, proto.Size(next))
	}
	for _, req := range out {
		emitNotification(ctx, a.cfg.NotificationsTopic, req)
		a.m.Emitted(a.cfg.AnalysesGroup, a.cfg.NotificationsTopic)
	}
}
