package products

import (
	"fmt"
	"time"

	"github.com/lovoo/goka"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/processors"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// stage names the tracker in dead-letter headers.
const stage = "product-tracker"

// tracker is the goka callback of the product tracker; the logic is Apply.
type tracker struct {
	cfg     Config
	m       *processors.Metrics
	onDone  func()
	changes topics.Topic
	// codec is the codec of the table edge: the callback encodes with it, so that the cache
	// the two share learns the state.
	codec stateCodec
}

func (t *tracker) process(ctx goka.Context, msg any) {
	if t.onDone != nil {
		defer t.onDone()
	}
	obs, ok := processors.Decoded[*marketv1.ProductObserved](ctx, stage, msg)
	if !ok {
		t.m.Consumed(t.cfg.Group, ctx, time.Time{})
		t.m.DeadLettered(t.cfg.Group)
		return
	}
	var eventTime time.Time // zero: unknown, no latency recorded
	if ts := obs.GetEnvelope().GetEventTime(); ts != nil {
		eventTime = ts.AsTime()
	}
	t.m.Consumed(t.cfg.Group, ctx, eventTime)
	if obs.GetAsin() == "" {
		obs.Asin = ctx.Key()
	}
	if obs.GetAsin() != ctx.Key() {
		t.reject(ctx, obs, fmt.Errorf("asin %q differs from the record key %q", obs.GetAsin(), ctx.Key()))
		return
	}
	var st *marketv1.ProductState
	if v := ctx.Value(); v != nil {
		st = v.(*marketv1.ProductState)
	}
	res, err := Apply(t.cfg, st, obs)
	if err != nil {
		t.reject(ctx, obs, err)
		return
	}
	if res.Late {
		t.m.Late(t.cfg.Group)
	}
	if !res.Changed {
		return
	}
	raw, err := t.codec.Encode(res.State) // res.State is the cache's from here: not changed again
	if err != nil {
		ctx.Fail(err) // a state that cannot be written: stop rather than lose it
	}
	ctx.SetValue(raw)
	t.m.StateWritten(t.cfg.Group, len(raw))
	if res.Change != nil {
		processors.Emit(ctx, t.cfg.Changes, t.changes, ctx.Key(), res.Change)
		t.m.Emitted(t.cfg.Group, string(t.cfg.Changes))
	}
}

// reject dead-letters an observation the tracker cannot apply.
func (t *tracker) reject(ctx goka.Context, obs *marketv1.ProductObserved, cause error) {
	raw, err := proto.Marshal(obs)
	if err != nil {
		cause = fmt.Errorf("%w (and re-encoding it failed: %v)", cause, err)
	}
	processors.DeadLetter(ctx, stage, raw, cause)
	t.m.Error(t.cfg.Group, "invalid_observation")
	t.m.DeadLettered(t.cfg.Group)
}
