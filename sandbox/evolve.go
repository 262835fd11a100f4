package sandbox

import (
	"math"
	"time"
)

const (
	hourSec = int64(3600)
	daySec  = 24 * hourSec
)

// pstate is a product's state at one simulated time, in US dollars before any marketplace's
// conversion and rounding.
type pstate struct {
	p         *product
	active    bool    // listed on the marketplace (launched, not delisted)
	price     float64 // USD, what the buyer pays (sale and anomalies applied)
	regular   float64 // USD, the price without sale and anomalies
	list      float64 // USD list price; 0: none
	onSale    bool
	inStock   bool
	stockLeft int // "Only N left in stock"; 0: plenty
	rating    float64
	reviews   int
	demand    float64 // units per month at this time
	bought    int     // "N+ bought in past month" lower bound; 0: not shown
	sellers   int
	bsr       int // rank in the product's category; 0: none
	subBSR    int // rank in the product's subcategory; 0: none
}

// sim converts a time to whole seconds since the epoch.
func (m *Market) sim(t time.Time) int64 {
	return int64(t.Sub(m.cfg.Epoch) / time.Second)
}

// quantize rounds a time down to the market's step, never before the epoch.
func (m *Market) quantize(t time.Time) int64 {
	s := m.sim(t)
	if s < 0 {
		return 0
	}
	return s - s%m.step
}

// timeAt converts seconds since the epoch back to a time.
func (m *Market) timeAt(s int64) time.Time {
	return m.cfg.Epoch.Add(time.Duration(s) * time.Second)
}

func (p *product) activeAt(s int64) bool {
	return s >= p.launch && (p.delist == 0 || s < p.delist)
}

// walk is the product's log-price offset: multi-octave value noise over its repricing index,
// so the price changes only at repricing times (whole hours) and wanders like a bounded walk.
func (m *Market) walk(p *product, s int64) float64 {
	hours := floorDiv(s, hourSec)
	r := floorDiv(hours-p.phaseH, p.repriceH)
	w := 0.0
	amp := 0.025
	for j := 0; j < 4; j++ {
		w += amp * valueNoise(m.seed, saltWalk^uint64(j)<<40, uint64(p.idx), float64(r)/float64(int64(1)<<j))
		amp *= 1.41
	}
	return w
}

// saleDiscount is the fraction off during a sale (deal) covering s, 0 when none. Sales start at
// whole hours and last 6-48 hours; about one day in twenty starts one.
func (m *Market) saleDiscount(p *product, s int64) float64 {
	day := floorDiv(s, daySec)
	for d := day - 2; d <= day; d++ {
		h := hash3(m.seed, saltSale, uint64(p.idx), uint64(d), 0)
		if unit(h) >= 0.05 {
			continue
		}
		h2 := hash3(m.seed, saltSale, uint64(p.idx), uint64(d), 1)
		start := d*daySec + int64(pick(h2, 24))*hourSec
		dur := int64(6+pick(h2>>16, 43)) * hourSec
		if s >= start && s < start+dur {
			return between(hash3(m.seed, saltSale, uint64(p.idx), uint64(d), 2), 0.10, 0.25)
		}
	}
	return 0
}

// productAt computes a product's state at s seconds since the epoch, without ranks. It reads the
// product's anomalies: callers hold m.anomMu for reading.
func (m *Market) productAt(p *product, s int64) pstate {
	st := pstate{p: p, active: p.activeAt(s)}
	if !st.active {
		return st
	}
	id := uint64(p.idx)
	st.regular = p.basePrice * math.Exp(m.walk(p, s))
	price := st.regular
	if d := m.saleDiscount(p, s); d > 0 {
		st.onSale = true
		price *= 1 - d
	}
	if p.listRatio > 0 {
		st.list = p.basePrice * p.listRatio
	}
	st.inStock = true
	ratingDelta := 0.0
	reviewsAdd := 0
	sellersAdd := 0
	for _, a := range p.anoms {
		if a.at > s {
			break
		}
		inWindow := a.until == 0 || s < a.until
		switch a.kind {
		case PriceDrop:
			if inWindow {
				price *= 1 - a.mag
			}
		case PriceSpike:
			if inWindow {
				price *= 1 + a.mag
			}
		case ReviewSpike:
			reviewsAdd += a.amount
		case RatingDrop:
			ratingDelta -= a.mag
		case OutOfStock:
			if inWindow {
				st.inStock = false
			}
		case SellerJump:
			if inWindow {
				sellersAdd += a.amount
			}
		}
	}
	st.price = price
	if st.onSale && st.list == 0 {
		// A deal shows the regular price struck through ("Typical:").
		st.list = st.regular
	}

	from := max(p.launch, 0)
	st.reviews = p.reviews0 + int(p.reviewRate*float64(s-from)/float64(hourSec)) + reviewsAdd
	if st.reviews > 0 {
		r := p.baseRating + 0.06*valueNoise(m.seed, saltRating, id, float64(s)/float64(5*daySec)) + ratingDelta
		st.rating = math.Min(5, math.Max(1, math.Round(r*10)/10))
	}

	st.demand = p.sales * math.Exp(0.3*valueNoise(m.seed, saltDemand, id, float64(s)/float64(2*daySec))) *
		math.Pow(p.basePrice/st.price, 1.5)
	if !st.inStock {
		st.demand *= 0.2
	}
	st.bought = boughtBucket(st.demand)
	st.sellers = p.sellers0 + int(math.Floor(1.5*(1+valueNoise(m.seed, saltSellers, id, float64(s)/float64(3*daySec))))) + sellersAdd

	if st.inStock {
		day := floorDiv(s, daySec)
		if h := hash3(m.seed, saltStock, id, uint64(day), 0); unit(h) < 0.04 {
			st.stockLeft = 1 + pick(h>>8, 9)
		}
	}
	return st
}

// boughtBucket is the lower bound Amazon shows as "N+ bought in past month"; 0 below 50.
func boughtBucket(v float64) int {
	switch {
	case v < 50:
		return 0
	case v < 100:
		return 50
	case v < 1000:
		return int(v/100) * 100
	case v < 10000:
		return int(v/1000) * 1000
	case v < 100000:
		return int(v/10000) * 10000
	default:
		return 100000
	}
}

// rankScore orders a keyword's organic results: sales, rating, reviews, relevance and a slow drift.
func (m *Market) rankScore(st *pstate, mb *membership, kw *keyword, s int64) float64 {
	rating := st.rating
	if rating == 0 {
		rating = 3.5
	}
	drift := valueNoise(m.seed, saltRank, uint64(st.p.idx)<<8|uint64(kw.idx), float64(s)/float64(3*daySec))
	return math.Log1p(st.demand) + 0.8*rating + 0.25*math.Log1p(float64(st.reviews)) + mb.affinity + 0.5*drift
}
