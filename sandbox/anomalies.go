package sandbox

import (
	"fmt"
	"math"
)

// AnomalyKind names a kind of injected anomaly.
type AnomalyKind string

// The kinds of injected anomalies.
const (
	// PriceDrop cuts the price by 35-55% for 12-96 hours (at least 30% at its start).
	PriceDrop AnomalyKind = "price_drop"
	// PriceSpike raises the price by 50-120% for 6-48 hours.
	PriceSpike AnomalyKind = "price_spike"
	// ReviewSpike adds a burst of reviews at once (permanent: reviews never decrease).
	ReviewSpike AnomalyKind = "review_spike"
	// RatingDrop lowers the average rating by 0.5-1.0 stars (permanent).
	RatingDrop AnomalyKind = "rating_drop"
	// OutOfStock makes the product unavailable for 12-120 hours; BackInStock marks its end.
	OutOfStock AnomalyKind = "out_of_stock"
	// BackInStock is the end of an OutOfStock anomaly, listed in the truth once it has passed.
	BackInStock AnomalyKind = "back_in_stock"
	// SellerJump adds 8-20 sellers to the offer listing for 24-96 hours.
	SellerJump AnomalyKind = "seller_jump"
)

// anomaly is one injected anomaly of one product.
type anomaly struct {
	id     string
	kind   AnomalyKind
	p      *product
	at     int64 // seconds since the epoch; always at half past an hour
	until  int64 // end of the effect; 0: permanent
	mag    float64
	amount int
}

// family groups kinds that must not overlap on one product, so each one's effect is clear.
func (k AnomalyKind) family() int {
	switch k {
	case PriceDrop, PriceSpike, OutOfStock:
		return 0
	case ReviewSpike:
		return 1
	case RatingDrop:
		return 2
	default:
		return 3
	}
}

var anomalyKinds = []AnomalyKind{PriceDrop, PriceDrop, PriceSpike, ReviewSpike, RatingDrop, OutOfStock, SellerJump}

// ensureAnomalies generates the anomaly schedule through the given day. Generation runs day by
// day in order, so the schedule is a function of the seed only.
func (m *Market) ensureAnomalies(day int64) {
	m.anomMu.RLock()
	done := m.anomDays > day
	m.anomMu.RUnlock()
	if done {
		return
	}
	m.anomMu.Lock()
	defer m.anomMu.Unlock()
	for m.anomDays <= day {
		m.generateDay(m.anomDays)
		m.anomDays++
	}
}

func (m *Market) generateDay(d int64) {
	n := m.cfg.AnomaliesPerDay
	for i := 0; i < n; i++ {
		h := hash3(m.seed, saltAnomaly, uint64(d), uint64(i), 0)
		kind := anomalyKinds[pick(h, len(anomalyKinds))]
		h2 := hash3(m.seed, saltAnomaly, uint64(d), uint64(i), 1)
		at := d*daySec + int64(pick(h2, 24))*hourSec + hourSec/2
		var until int64
		var mag float64
		var amount int
		switch kind {
		case PriceDrop:
			mag = between(h2>>8, 0.35, 0.55)
			until = at + int64(12+pick(h2>>20, 85))*hourSec
		case PriceSpike:
			mag = between(h2>>8, 0.5, 1.2)
			until = at + int64(6+pick(h2>>20, 43))*hourSec
		case RatingDrop:
			mag = float64(5+pick(h2>>8, 6)) / 10
		case OutOfStock:
			until = at + int64(12+pick(h2>>20, 109))*hourSec
		case SellerJump:
			amount = 8 + pick(h2>>8, 13)
			until = at + int64(24+pick(h2>>20, 73))*hourSec
		}
		for try := uint64(0); try < 40; try++ {
			p := m.products[pick(hash3(m.seed, saltAnomalyPick, uint64(d), uint64(i), try), len(m.products))]
			if !m.eligible(p, kind, at, until, mag) {
				continue
			}
			a := &anomaly{id: fmt.Sprintf("a-%d-%02d", d, i), kind: kind, p: p, at: at, until: until, mag: mag, amount: amount}
			if kind == ReviewSpike {
				before := m.productAt(p, at-1)
				a.amount = 40 + int(float64(before.reviews)*between(h2>>8, 0.2, 0.6))
			}
			m.insert(a)
			break
		}
	}
}

// eligible reports whether p can take an anomaly of kind over [at, until) with a visible effect.
func (m *Market) eligible(p *product, kind AnomalyKind, at, until int64, mag float64) bool {
	end := until
	if end == 0 {
		end = at + daySec
	}
	if !p.activeAt(at) || !p.activeAt(end) {
		return false
	}
	for _, o := range p.anoms {
		if o.kind.family() != kind.family() {
			continue
		}
		oend := o.until
		if oend == 0 {
			oend = o.at + daySec
		}
		if at < oend+6*hourSec && o.at < end+6*hourSec {
			return false
		}
	}
	if kind == RatingDrop {
		st := m.productAt(p, at-1)
		if st.reviews < 20 || st.rating-mag < 1.5 {
			return false
		}
	}
	return true
}

// insert adds an anomaly to the schedule and to its product, both kept in time order.
func (m *Market) insert(a *anomaly) {
	m.anoms = insertByTime(m.anoms, a)
	a.p.anoms = insertByTime(a.p.anoms, a)
}

func insertByTime(list []*anomaly, a *anomaly) []*anomaly {
	i := len(list)
	for i > 0 && list[i-1].at > a.at {
		i--
	}
	list = append(list, nil)
	copy(list[i+1:], list[i:])
	list[i] = a
	return list
}

// Anomaly is an injected anomaly as the truth lists it.
type Anomaly struct {
	// ID identifies the anomaly; a BackInStock entry has the id of its OutOfStock with "-end".
	ID string `json:"id"`
	// Kind is what happened.
	Kind AnomalyKind `json:"kind"`
	// ASIN is the product it happened to.
	ASIN string `json:"asin"`
	// Keywords are the keywords whose results list the product at that time.
	Keywords []string `json:"keywords"`
	// At is the simulated time the anomaly starts.
	At string `json:"at"`
	// Until is the simulated time its effect ends; absent when permanent.
	Until string `json:"until,omitempty"`
	// Magnitude is the relative price change (0.4 = 40%), the rating change in stars, or the
	// number of reviews or sellers added.
	Magnitude float64 `json:"magnitude"`
	// Metric names what Before and After measure: price (minor units of Currency), reviews,
	// rating, in_stock (1 or 0) or sellers.
	Metric string `json:"metric"`
	// Before is the metric's value one step before At, After its value at At.
	Before float64 `json:"before"`
	// After is the metric's value at At.
	After float64 `json:"after"`
	// Currency is the currency of price metrics.
	Currency string `json:"currency,omitempty"`
}

// anomaliesUntil lists the anomalies that started at or before s (and the ends of stock-outs
// that have passed), with their before and after values in the marketplace's currency.
func (m *Market) anomaliesUntil(s int64, mp *Marketplace) []Anomaly {
	m.ensureAnomalies(floorDiv(s, daySec) + 1)
	m.anomMu.RLock()
	defer m.anomMu.RUnlock()
	var out []Anomaly
	for _, a := range m.anoms {
		if a.at > s {
			break
		}
		out = append(out, m.describe(a, a.kind, a.at, mp))
		if a.kind == OutOfStock && a.until <= s {
			out = append(out, m.describe(a, BackInStock, a.until, mp))
		}
	}
	// Keep time order with the back-in-stock entries placed by their own time.
	sortAnomalies(out)
	return out
}

func sortAnomalies(list []Anomaly) {
	// Insertion sort: the list is nearly sorted (only back-in-stock entries move).
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && (list[j].At < list[j-1].At || list[j].At == list[j-1].At && list[j].ID < list[j-1].ID); j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
}

func (m *Market) describe(a *anomaly, kind AnomalyKind, at int64, mp *Marketplace) Anomaly {
	before := m.productAt(a.p, at-m.step)
	after := m.productAt(a.p, at)
	out := Anomaly{
		ID:       a.id,
		Kind:     kind,
		ASIN:     a.p.asin,
		Keywords: m.keywordsOf(a.p, at),
		At:       formatTime(m.timeAt(at)),
	}
	if kind == BackInStock {
		out.ID += "-end"
	} else if a.until != 0 {
		out.Until = formatTime(m.timeAt(a.until))
	}
	switch kind {
	case PriceDrop, PriceSpike:
		out.Metric, out.Currency = "price", mp.Currency
		out.Before = float64(mp.price(before.price, a.p))
		out.After = float64(mp.price(after.price, a.p))
		out.Magnitude = math.Round(a.mag*1000) / 1000
	case ReviewSpike:
		out.Metric, out.Before, out.After, out.Magnitude = "reviews", float64(before.reviews), float64(after.reviews), float64(a.amount)
	case RatingDrop:
		out.Metric, out.Before, out.After, out.Magnitude = "rating", before.rating, after.rating, a.mag
	case OutOfStock, BackInStock:
		out.Metric, out.Before, out.After = "in_stock", b2f(before.inStock), b2f(after.inStock)
	case SellerJump:
		out.Metric, out.Before, out.After, out.Magnitude = "sellers", float64(before.sellers), float64(after.sellers), float64(a.amount)
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// keywordsOf lists the keywords whose results include p at s.
func (m *Market) keywordsOf(p *product, s int64) []string {
	out := []string{}
	if !p.activeAt(s) {
		return out
	}
	for _, mb := range p.members {
		if !(s >= mb.gapFrom && s < mb.gapTo) {
			out = append(out, m.keywords[mb.kw].spec.keyword)
		}
	}
	return out
}
