package anomalies

import (
	"errors"
	"fmt"
	"math"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/analytics/anomaly"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// Analyzer applies product changes to a product's detector state: the processor's logic, without goka.
type Analyzer struct {
	c *compiled
}

// NewAnalyzer returns the analyzer of a configuration, or the configuration's first error.
func NewAnalyzer(cfg Config) (*Analyzer, error) {
	c, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	return &Analyzer{c: c}, nil
}

// Outcome is what applying one change gave.
type Outcome struct {
	// State is the product's new state (the state passed in, updated in place, or a new one).
	State *marketv1.DetectorState
	// Anomalies are the events to emit, in a stable order.
	Anomalies []*marketv1.AnomalyDetected
	// Duplicate is true for a change already applied (its dedup key is in recent_event_ids):
	// nothing changed and nothing is to be written or emitted.
	Duplicate bool
	// Stale is true when the change carried values but all were older than the state's: only its
	// dedup key and the stale counter were recorded.
	Stale bool
}

// ErrInvalidChange is wrapped by the errors of changes that cannot be applied (to dead-letter).
var ErrInvalidChange = errors.New("invalid product change")

// Apply applies change ev of product key to st (nil: a product not seen yet) and returns the new
// state and the anomalies it reveals. st is updated in place.
//
// Redelivery and replay: the change's dedup key (its observation event id, else its event id)
// is kept among the last Config.RecentEventIDs of the product; a change whose key is there is a
// Duplicate and changes nothing. Out-of-order changes: each series (and the availability) refuses
// a value older than its latest one, so a late change never rewrites what a later one built;
// a change with nothing newer than the state is Stale (recorded, counted, no anomaly).
// Anomaly ids and envelope ids are derived from the product, the kind and the dedup key, so the
// same change always yields byte-identical events.
func (a *Analyzer) Apply(key string, st *marketv1.DetectorState, ev *marketv1.ProductStateChanged) (Outcome, error) {
	if err := marketv1.ValidateEnvelope(ev.GetEnvelope()); err != nil {
		return Outcome{}, fmt.Errorf("%w: %w", ErrInvalidChange, err)
	}
	asin := ev.GetAsin()
	switch {
	case asin == "" && key == "":
		return Outcome{}, fmt.Errorf("%w: no ASIN in the key or the change", ErrInvalidChange)
	case asin == "":
		asin = key
	case key != "" && key != asin:
		return Outcome{}, fmt.Errorf("%w: key %q differs from asin %q", ErrInvalidChange, key, asin)
	}
	dedup := ev.GetObservationEventId()
	if dedup == "" {
		dedup = ev.GetEnvelope().GetEventId()
	}
	if st == nil {
		st = &marketv1.DetectorState{}
	}
	if st.Asin == "" {
		st.Asin = asin
	}
	for _, id := range st.RecentEventIds {
		if id == dedup {
			return Outcome{State: st, Duplicate: true}, nil
		}
	}
	t := ev.GetEnvelope().GetEventTime().AsTime()
	ms := t.UnixMilli()
	out := Outcome{State: st}
	carried, applied := false, false
	after := ev.GetAfter()
	for _, m := range AllMetrics {
		x, score, has, moved := a.value(m, st, t, after)
		carried, applied = carried || has, applied || moved
		if !score {
			continue
		}
		s := series(st, m)
		r := anomaly.Observe(a.c.params[m], s, t, x)
		if r.Stale {
			continue
		}
		applied = true
		if r.Alert == anomaly.None {
			continue
		}
		kinds := seriesKinds[m]
		kind := kinds[0]
		if r.Alert == anomaly.Down {
			kind = kinds[1]
		}
		out.Anomalies = append(out.Anomalies, a.statistical(ev, asin, dedup, kind, m, r, x))
	}
	if av, ok := a.availability(ev, asin, dedup, st, ms, &out); ok {
		carried, applied = true, applied || av
	}
	st.RecentEventIds = append(st.RecentEventIds, dedup)
	if over := len(st.RecentEventIds) - a.c.cfg.RecentEventIDs; over > 0 {
		n := copy(st.RecentEventIds, st.RecentEventIds[over:])
		clear(st.RecentEventIds[n:])
		st.RecentEventIds = st.RecentEventIds[:n]
	}
	st.Version++
	st.LastEventUnixMs = max(st.LastEventUnixMs, ms)
	if carried && !applied {
		st.StaleChanges++
		out.Stale = true
	}
	return out, nil
}

// series returns the state of metric m, creating it.
func series(st *marketv1.DetectorState, m Metric) *marketv1.SeriesState {
	s := st.Series[string(m)]
	if s == nil {
		if st.Series == nil {
			st.Series = map[string]*marketv1.SeriesState{}
		}
		s = &marketv1.SeriesState{}
		st.Series[string(m)] = s
	}
	return s
}

// value returns the value of metric m to score from the change's attributes. has says the
// attributes carry the metric; score says there is a value to observe; moved says the state took
// something in already (a review count that only moved the rate's anchor).
func (a *Analyzer) value(m Metric, st *marketv1.DetectorState, t time.Time, after *marketv1.ProductAttributes) (x float64, score, has, moved bool) {
	switch m {
	case MetricPrice:
		if p := after.GetPrice(); p != nil && p.GetAmountMinor() > 0 {
			return float64(p.GetAmountMinor()), true, true, false
		}
	case MetricReviews:
		if after != nil && after.ReviewCount != nil && after.GetReviewCount() >= 0 {
			s := series(st, m)
			anchor := s.GetRateAnchorUnixMs()
			rate, ok := anomaly.RatePerDay(s, t, float64(after.GetReviewCount()), a.c.cfg.ReviewRateInterval)
			return rate, ok, true, s.GetRateAnchorUnixMs() != anchor
		}
	case MetricRating:
		if after != nil && after.Rating != nil && after.GetRating() > 0 && after.GetRating() <= 5 {
			return after.GetRating(), true, true, false
		}
	case MetricRank:
		if r := after.GetRanks(); len(r) > 0 && r[0].GetRank() > 0 {
			return math.Log(float64(r[0].GetRank())), true, true, false
		}
	case MetricSellers:
		if after != nil && after.SellerCount != nil && after.GetSellerCount() >= 0 {
			return float64(after.GetSellerCount()), true, true, false
		}
	}
	return 0, false, false, false
}

// natural turns a value of metric m from the detector's scale back to the metric's units.
func natural(m Metric, x float64) float64 {
	if m == MetricRank {
		return math.Exp(x)
	}
	return x
}

// statistical builds the event of an alert of a statistical kind.
func (a *Analyzer) statistical(ev *marketv1.ProductStateChanged, asin, dedup string, kind marketv1.AnomalyKind,
	m Metric, r anomaly.Result, x float64) *marketv1.AnomalyDetected {
	kc, _ := a.c.kindOn(kind)
	score := math.Abs(r.Score)
	b := r.Baseline
	base := &marketv1.Baseline{
		Method:    string(b.Method),
		Center:    b.Center,
		Spread:    b.Spread,
		Points:    int32(min(b.Points, math.MaxInt32)),
		Scale:     "linear",
		UsualLow:  max(natural(m, b.Low), 0),
		UsualHigh: max(natural(m, b.High), 0),
	}
	if m == MetricRank {
		base.Scale = "log"
	}
	if !b.Since.IsZero() {
		base.Since = timestamppb.New(b.Since)
	}
	d := a.event(ev, asin, dedup, kind)
	d.Score = score
	d.Severity = kc.severity(score)
	d.Observed = natural(m, x)
	d.Baseline = base
	if m == MetricPrice {
		d.Currency = ev.GetAfter().GetPrice().GetCurrency()
	}
	d.Explanation = explain(kind, m, r, d, ev)
	return d
}

// event returns an AnomalyDetected of kind with its ids, envelope and product fields set.
func (a *Analyzer) event(ev *marketv1.ProductStateChanged, asin, dedup string, kind marketv1.AnomalyKind) *marketv1.AnomalyDetected {
	id := anomalyID(asin, kind, dedup)
	env := ev.GetEnvelope()
	return &marketv1.AnomalyDetected{
		Envelope: &marketv1.Envelope{
			EventId:       eventID(id, env.GetEventTime().AsTime()),
			EventTime:     env.GetEventTime(),
			Producer:      a.c.cfg.Producer,
			SchemaVersion: marketv1.SchemaVersion,
			CorrelationId: env.GetCorrelationId(),
			CausationId:   env.GetEventId(),
		},
		AnomalyId:          id.String(),
		Asin:               asin,
		Keyword:            ev.GetKeyword(),
		Marketplace:        ev.GetMarketplace(),
		Kind:               kind,
		Title:              ev.GetAfter().GetTitle(),
		ObservationEventId: ev.GetObservationEventId(),
	}
}

// isOut reports whether an availability means out of stock; known is false for "not stated".
func isOut(av marketv1.Availability) (out, known bool) {
	switch av {
	case marketv1.Availability_AVAILABILITY_UNSPECIFIED:
		return false, false
	case marketv1.Availability_AVAILABILITY_OUT_OF_STOCK:
		return true, true
	default:
		return false, true
	}
}

// availability applies the change's availability. A move from available to out of stock is an
// out-of-stock anomaly, at most one per the kind's cooldown, and not within the back-in-stock
// cooldown after a back-in-stock anomaly (a product flapping in and out of stock alerts once).
// A move back is a back-in-stock anomaly only after an out-of-stock one was raised, so every
// out-of-stock alert is followed by at most one back-in-stock alert. The first availability
// known of a product raises nothing. It reports whether the change carried an availability (ok)
// and whether it was newer than the state's (applied).
func (a *Analyzer) availability(ev *marketv1.ProductStateChanged, asin, dedup string, st *marketv1.DetectorState,
	ms int64, out *Outcome) (applied, ok bool) {
	av := ev.GetAfter().GetAvailability()
	nowOut, known := isOut(av)
	if !known {
		return false, false
	}
	if st.LastAvailability != 0 && ms < st.LastAvailabilityUnixMs {
		return false, true // older than what the state knows
	}
	prev := marketv1.Availability(st.LastAvailability)
	prevOut, prevKnown := isOut(prev)
	prevMs := st.LastAvailabilityUnixMs
	st.LastAvailability, st.LastAvailabilityUnixMs = int32(av), ms
	switch {
	case !prevKnown || prevOut == nowOut:
		if nowOut && st.OutOfStockSinceUnixMs == 0 {
			st.OutOfStockSinceUnixMs = ms
		}
	case nowOut:
		st.OutOfStockSinceUnixMs = ms
		kc, on := a.c.kindOn(marketv1.AnomalyKind_ANOMALY_KIND_OUT_OF_STOCK)
		if !on || ms < st.GetOutOfStock().GetCooldownUntilUnixMs() || ms < st.GetBackInStock().GetCooldownUntilUnixMs() {
			break
		}
		g := gateOf(&st.OutOfStock)
		g.Alerting = true
		a.stateAlert(ev, asin, dedup, marketv1.AnomalyKind_ANOMALY_KIND_OUT_OF_STOCK, kc, g, prev, av, prevMs, ms, out)
	default:
		since := st.OutOfStockSinceUnixMs
		if since == 0 {
			since = prevMs
		}
		st.OutOfStockSinceUnixMs = 0
		if !st.GetOutOfStock().GetAlerting() {
			break // its going out of stock was not reported
		}
		st.OutOfStock.Alerting = false
		kc, on := a.c.kindOn(marketv1.AnomalyKind_ANOMALY_KIND_BACK_IN_STOCK)
		if !on {
			break
		}
		a.stateAlert(ev, asin, dedup, marketv1.AnomalyKind_ANOMALY_KIND_BACK_IN_STOCK, kc, gateOf(&st.BackInStock), prev, av, since, ms, out)
	}
	return true, true
}

func gateOf(gp **marketv1.AlertGate) *marketv1.AlertGate {
	if *gp == nil {
		*gp = &marketv1.AlertGate{}
	}
	return *gp
}

// stateAlert raises an alert of a state kind and starts the kind's cooldown.
func (a *Analyzer) stateAlert(ev *marketv1.ProductStateChanged, asin, dedup string, kind marketv1.AnomalyKind, kc KindConfig,
	g *marketv1.AlertGate, prev, now marketv1.Availability, sinceMs, ms int64, out *Outcome) {
	g.CooldownUntilUnixMs = ms + kc.Cooldown.Milliseconds()
	g.LastAlertUnixMs = ms
	g.Alerts++
	d := a.event(ev, asin, dedup, kind)
	d.Score = 1
	d.Severity = kc.Severity
	d.Observed = float64(now)
	d.Baseline = &marketv1.Baseline{
		Method: "state", Center: float64(prev), Points: 1, Scale: "linear",
		UsualLow: float64(prev), UsualHigh: float64(prev),
		Since: timestamppb.New(time.UnixMilli(sinceMs)),
	}
	d.Explanation = explainState(kind, prev, time.Duration(ms-sinceMs)*time.Millisecond)
	out.Anomalies = append(out.Anomalies, d)
}
