// Package anomalies is the anomaly-detector processor (goka group anomaly-detector): it reads
// ProductStateChanged events (market.product-changes.v1, key ASIN), keeps per product the
// streaming detectors of analytics/anomaly in its table (value DetectorState), and emits an
// AnomalyDetected (market.anomalies.v1, key ASIN) for a price drop or spike, a review spike, a
// rating drop, a rank jump, a seller-count jump, out of stock and back in stock, with a score,
// a severity, the baseline it was measured against and one sentence a seller understands.
//
// The goka callback is thin; the logic is Analyzer.Apply, a pure function of the state and the
// change. Undecodable and invalid changes go to the dead-letter topic; redelivered changes are
// recognised by their dedup key and change nothing.
package anomalies

import (
	"fmt"
	"time"

	"github.com/lovoo/goka"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/processors"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Group is the processor's goka group.
const Group goka.Group = topics.GroupAnomalyDetector

// Table is the group's table: DetectorState by ASIN.
var Table = goka.GroupTable(Group)

// stage names the processor in dead-letter headers.
const stage = "anomaly-detector"

// Graph returns the group graph of cfg: the input changes, the table, the anomalies and the
// dead letters. It panics on an invalid configuration (New returns the error instead).
func Graph(cfg Config) *goka.GroupGraph {
	g, err := graph(cfg, nil)
	if err != nil {
		panic(err)
	}
	return g
}

func graph(cfg Config, m *processors.Metrics) (*goka.GroupGraph, error) {
	a, err := NewAnalyzer(cfg)
	if err != nil {
		return nil, err
	}
	p := &processor{a: a, cfg: cfg, m: m, out: topics.MustLookup(topics.Anomalies), codec: newStateCodec(cfg.StateCache)}
	return goka.DefineGroup(cfg.Group,
		goka.Input(goka.Stream(cfg.Input), processors.InputCodec(topics.ProductChanges), p.process),
		goka.Persist(p.codec), // the catalog's encoding, with the states this process wrote kept decoded
		goka.Output(goka.Stream(cfg.Output), processors.Codec(topics.Anomalies)),
		processors.DeadLetterEdge(),
	), nil
}

// New returns the anomaly-detector processor of env; opts come last (tests pass goka.WithTester).
func New(env gokaenv.Env, cfg Config, m *processors.Metrics, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	g, err := graph(cfg, m)
	if err != nil {
		return nil, fmt.Errorf("anomaly detector: %w", err)
	}
	p, err := goka.NewProcessor(env.Brokers, g, env.ProcessorOptions(cfg.Group, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("anomaly detector: create processor: %w", err)
	}
	return p, nil
}

var zeroTime time.Time

type processor struct {
	a   *Analyzer
	cfg Config
	m   *processors.Metrics
	out topics.Topic
	// codec is the table edge's: the callback encodes with it, so the cache they share learns
	// the state, and the size it reports is the size written.
	codec stateCodec
}

// process is the goka callback: decode, apply, emit, store.
func (p *processor) process(ctx goka.Context, msg any) {
	ev, ok := processors.Decoded[*marketv1.ProductStateChanged](ctx, stage, msg)
	if !ok {
		p.m.Consumed(p.cfg.Group, ctx, zeroTime)
		p.m.DeadLettered(p.cfg.Group)
		p.m.Error(p.cfg.Group, "undecodable")
		return
	}
	p.m.Consumed(p.cfg.Group, ctx, ev.GetEnvelope().GetEventTime().AsTime())
	st, _ := ctx.Value().(*marketv1.DetectorState)
	out, err := p.a.Apply(string(ctx.Key()), st, ev)
	if err != nil {
		raw, merr := proto.MarshalOptions{Deterministic: true}.Marshal(ev)
		if merr != nil {
			raw = nil
		}
		processors.DeadLetter(ctx, stage, raw, err)
		p.m.DeadLettered(p.cfg.Group)
		p.m.Error(p.cfg.Group, "invalid")
		return
	}
	if out.Duplicate {
		return
	}
	if out.Stale {
		p.m.Late(p.cfg.Group)
	}
	for _, d := range out.Anomalies {
		processors.Emit(ctx, goka.Stream(p.cfg.Output), p.out, d.GetAsin(), d)
		p.m.Emitted(p.cfg.Group, p.cfg.Output)
	}
	raw, err := p.codec.Encode(out.State) // out.State is the cache's from here: not changed again
	if err != nil {
		ctx.Fail(err) // a state that cannot be written: stop rather than lose it
	}
	ctx.SetValue(raw)
	p.m.StateWritten(p.cfg.Group, len(raw))
}
