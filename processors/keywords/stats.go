package keywords

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/cespare/xxhash/v2"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/analytics/market"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// member is a product in a window: its trail and the point of its latest listing in the window.
type member struct{ tr, pt int32 }

type brandAcc struct {
	brand    string
	weight   float64
	listings int32
}

type topItem struct {
	m   member
	est market.Estimate
}

type currencyCount struct {
	currency string
	n        int
}

// windowStats are a window's statistics before they become a KeywordWindowStats: computing
// and hashing them allocates nothing, so an unchanged window costs no garbage.
type windowStats struct {
	competitors                                int32
	currency                                   string
	priceN                                     int
	priceMin                                   int64
	priceMedian, priceMean, priceP90           float64
	ratingN                                    int
	ratingMean                                 float64
	ratingDist                                 [market.RatingBuckets]int32
	reviewsTotal                               int64
	reviewsN                                   int
	reviewsMedian                              float64
	primeN, primeYes, sponsoredN, sponsoredYes int
	brands                                     []brandAcc
	totalWeight                                float64
	hasPrev                                    bool
	entrants, leavers                          []string
	top                                        []topItem
	salesN                                     int
	salesTotal                                 float64
}

// scratch holds the reusable buffers of one Apply or Tick.
type scratch struct {
	cur, prev           []member
	curAsins, prevAsins []string
	prices, reviews     []float64
	currencies          []currencyCount
	stats               windowStats
	pages, versionPages int // pages of the window; pages that decide its version

	attrs    marketv1.ProductAttributes
	label    marketv1.ProductAttributes
	category string
	rank     marketv1.BestSellersRank
	ranks    [1]*marketv1.BestSellersRank
	norm     map[string]string

	remap   []int32
	attrBuf []*marketv1.ProductAttributes
	idBuf   []byte
	digest  xxhash.Digest
	hasher  hasher

	run run // the run using the scratch
}

// estimateMemo is a trail's sales estimate for one of its points, computed once per run.
type estimateMemo struct {
	pt        int32
	valid, ok bool
	est       market.Estimate
}

// estimate returns the sales estimate of a member, computing it once per run: the windows of a
// run share most of their members.
func (r *run) estimate(m member, a, lb *marketv1.ProductAttributes) (market.Estimate, bool) {
	for len(r.memo) <= int(m.tr) {
		r.memo = append(r.memo, estimateMemo{})
	}
	e := &r.memo[m.tr]
	if e.valid && e.pt == m.pt {
		return e.est, e.ok
	}
	var rank int64
	if rs := a.GetRanks(); len(rs) > 0 {
		rank = rs[0].GetRank()
	}
	e.est, e.ok = r.cfg.Sales.Estimate(a.GetBoughtPastMonth(), rank, lb.GetCategory())
	e.pt, e.valid = m.pt, true
	return e.est, e.ok
}

var scratchPool = sync.Pool{New: func() any { return &scratch{norm: make(map[string]string)} }}

// normalize returns a category normalised for the sales model, memoised.
func (sc *scratch) normalize(c string) string {
	if n, ok := sc.norm[c]; ok {
		return n
	}
	n := market.NormalizeCategory(c)
	if len(sc.norm) >= 4096 {
		clear(sc.norm)
	}
	sc.norm[c] = n
	return n
}

// attrsOf returns the figures a point refers to (nil if the reference is broken).
func attrsOf(tr *marketv1.ProductTrail, p *marketv1.ListingPoint) *marketv1.ProductAttributes {
	if i := int(p.GetAttributes()); i >= 0 && i < len(tr.Attributes) {
		return tr.Attributes[i]
	}
	return nil
}

// labelOf returns the label a point refers to (nil if the reference is broken).
func labelOf(tr *marketv1.ProductTrail, p *marketv1.ListingPoint) *marketv1.ProductAttributes {
	if i := int(p.GetLabel()); i >= 0 && i < len(tr.Labels) {
		return tr.Labels[i]
	}
	return nil
}

// collect appends to dst the members of [start, end): per trail, its latest listing before end
// if that listing is at or after start. Trails are in ASIN order, and so are the members.
func collect(st *marketv1.KeywordWindowsState, dst []member, start, end int64) []member {
	dst = dst[:0]
	for i, tr := range st.Products {
		pts := tr.Points
		j := len(pts) - 1
		for j >= 0 && pts[j].GetTimeUnixMs() >= end {
			j--
		}
		if j >= 0 && pts[j].GetTimeUnixMs() >= start {
			dst = append(dst, member{tr: int32(i), pt: int32(j)})
		}
	}
	return dst
}

// asinsOf appends the ASINs of members to dst.
func asinsOf(st *marketv1.KeywordWindowsState, dst []string, ms []member) []string {
	dst = dst[:0]
	for _, m := range ms {
		dst = append(dst, st.Products[m.tr].GetAsin())
	}
	return dst
}

// diffSorted appends to entrants the strings of cur missing from prev and to leavers those of
// prev missing from cur; both inputs are sorted.
func diffSorted(cur, prev, entrants, leavers []string) ([]string, []string) {
	entrants, leavers = entrants[:0], leavers[:0]
	i, j := 0, 0
	for i < len(cur) || j < len(prev) {
		switch {
		case j == len(prev) || i < len(cur) && cur[i] < prev[j]:
			entrants = append(entrants, cur[i])
			i++
		case i == len(cur) || prev[j] < cur[i]:
			leavers = append(leavers, prev[j])
			j++
		default:
			i++
			j++
		}
	}
	return entrants, leavers
}

// computeStats fills sc.stats from the members of a window (the entrants and leavers are the
// caller's).
func (r *run) computeStats(members []member) {
	st, sc, cfg := r.st, r.sc, &r.cfg
	x := &sc.stats
	*x = windowStats{brands: x.brands[:0], entrants: x.entrants, leavers: x.leavers, top: x.top[:0]}
	x.competitors = int32(len(members))

	cs := sc.currencies[:0]
	for _, m := range members {
		tr := st.Products[m.tr]
		pr := attrsOf(tr, tr.Points[m.pt]).GetPrice()
		if pr == nil {
			continue
		}
		k := slices.IndexFunc(cs, func(c currencyCount) bool { return c.currency == pr.GetCurrency() })
		if k < 0 {
			cs = append(cs, currencyCount{currency: pr.GetCurrency()})
			k = len(cs) - 1
		}
		cs[k].n++
	}
	best := -1
	for k, c := range cs {
		if best < 0 || c.n > cs[best].n || c.n == cs[best].n && c.currency < cs[best].currency {
			best = k
		}
	}
	if best >= 0 {
		x.currency = cs[best].currency // the most common currency; prices in others are left out
	}
	sc.currencies = cs[:0]

	prices, reviews := sc.prices[:0], sc.reviews[:0]
	var ratingSum float64
	for _, m := range members {
		tr := st.Products[m.tr]
		p := tr.Points[m.pt]
		a := attrsOf(tr, p)
		if pr := a.GetPrice(); pr != nil && pr.GetCurrency() == x.currency {
			v := pr.GetAmountMinor()
			if x.priceN == 0 || v < x.priceMin {
				x.priceMin = v
			}
			x.priceN++
			prices = append(prices, float64(v))
		}
		if a.Rating != nil {
			ratingSum += a.GetRating()
			x.ratingN++
			x.ratingDist[market.RatingBucket(a.GetRating())]++
		}
		if a.ReviewCount != nil {
			x.reviewsTotal += a.GetReviewCount()
			x.reviewsN++
			reviews = append(reviews, float64(a.GetReviewCount()))
		}
		if a.Prime != nil {
			x.primeN++
			if a.GetPrime() {
				x.primeYes++
			}
		}
		if p.Sponsored != nil {
			x.sponsoredN++
			if p.GetSponsored() {
				x.sponsoredYes++
			}
		}
		lb := labelOf(tr, p)
		brand := lb.GetBrand()
		if brand == "" {
			brand = UnknownBrand
		}
		w := market.PositionWeight(int(p.GetPosition()), cfg.PageSize)
		x.totalWeight += w
		k := 0
		for k < len(x.brands) && x.brands[k].brand != brand {
			k++
		}
		if k < len(x.brands) {
			x.brands[k].weight += w
			x.brands[k].listings++
		} else {
			x.brands = append(x.brands, brandAcc{brand: brand, weight: w, listings: 1})
		}
		if e, ok := r.estimate(m, a, lb); ok {
			x.salesN++
			x.salesTotal += e.Units
			x.top = r.insertTop(x.top, topItem{m: m, est: e}, cfg.TopN)
		}
	}
	if x.priceN > 0 {
		slices.Sort(prices)
		x.priceMedian, x.priceMean, x.priceP90 = market.Median(prices), market.Mean(prices), market.Quantile(prices, 0.9)
	}
	if x.ratingN > 0 {
		x.ratingMean = ratingSum / float64(x.ratingN)
	}
	if x.reviewsN > 0 {
		slices.Sort(reviews)
		x.reviewsMedian = market.Median(reviews)
	}
	sc.prices, sc.reviews = prices[:0], reviews[:0]

	slices.SortFunc(x.brands, func(a, b brandAcc) int {
		if a.weight != b.weight {
			if a.weight > b.weight {
				return -1
			}
			return 1
		}
		return strings.Compare(a.brand, b.brand)
	})
	if len(x.brands) > cfg.MaxBrands {
		other := brandAcc{brand: OtherBrands}
		for _, b := range x.brands[cfg.MaxBrands:] {
			other.weight += b.weight
			other.listings += b.listings
		}
		x.brands = append(x.brands[:cfg.MaxBrands], other)
	}
}

// insertTop inserts it into top, kept sorted best first (more units, then the lesser ASIN) and
// at most n long: a partial selection, linear in the members for a short top list.
func (r *run) insertTop(top []topItem, it topItem, n int) []topItem {
	better := func(a, b topItem) bool {
		if a.est.Units != b.est.Units {
			return a.est.Units > b.est.Units
		}
		return r.st.Products[a.m.tr].GetAsin() < r.st.Products[b.m.tr].GetAsin()
	}
	if len(top) == n && !better(it, top[n-1]) {
		return top
	}
	i := len(top)
	for i > 0 && better(it, top[i-1]) {
		i--
	}
	if len(top) < n {
		top = append(top, topItem{})
	}
	copy(top[i+1:], top[i:len(top)-1])
	top[i] = it
	return top
}

// hasher hashes statistics field by field with xxhash (deterministic: the hashes are stored).
type hasher struct {
	d   *xxhash.Digest
	buf [8]byte
}

func (h *hasher) u64(v uint64) {
	binary.LittleEndian.PutUint64(h.buf[:], v)
	_, _ = h.d.Write(h.buf[:])
}

func (h *hasher) i64(v int64)   { h.u64(uint64(v)) }
func (h *hasher) f64(v float64) { h.u64(math.Float64bits(v)) }

func (h *hasher) str(s string) {
	h.u64(uint64(len(s)))
	_, _ = h.d.WriteString(s)
}

func (h *hasher) optI64(v *int64) {
	if v == nil {
		h.u64(0)
		return
	}
	h.u64(1)
	h.i64(*v)
}

func (h *hasher) optF64(v *float64) {
	if v == nil {
		h.u64(0)
		return
	}
	h.u64(1)
	h.f64(*v)
}

// hash returns the hash of everything build puts into KeywordWindowStats.
func (r *run) hash() uint64 {
	x := &r.sc.stats
	r.sc.digest.Reset()
	h := &r.sc.hasher
	h.d = &r.sc.digest
	h.i64(int64(x.competitors))
	h.str(x.currency)
	h.i64(int64(x.priceN))
	if x.priceN > 0 {
		h.i64(x.priceMin)
		h.f64(x.priceMedian)
		h.f64(x.priceMean)
		h.f64(x.priceP90)
	}
	h.i64(int64(x.ratingN))
	h.f64(x.ratingMean)
	for _, n := range x.ratingDist {
		h.i64(int64(n))
	}
	h.i64(x.reviewsTotal)
	h.i64(int64(x.reviewsN))
	h.f64(x.reviewsMedian)
	h.i64(int64(x.primeN))
	h.i64(int64(x.primeYes))
	h.i64(int64(x.sponsoredN))
	h.i64(int64(x.sponsoredYes))
	h.i64(int64(len(x.brands)))
	for _, b := range x.brands {
		h.str(b.brand)
		h.f64(b.weight / x.totalWeight)
		h.i64(int64(b.listings))
	}
	h.i64(int64(len(x.entrants)))
	for _, a := range x.entrants {
		h.str(a)
	}
	h.i64(int64(len(x.leavers)))
	for _, a := range x.leavers {
		h.str(a)
	}
	h.i64(int64(len(x.top)))
	for _, t := range x.top {
		tr := r.st.Products[t.m.tr]
		p := tr.Points[t.m.pt]
		a, lb := attrsOf(tr, p), labelOf(tr, p)
		h.str(tr.GetAsin())
		h.str(lb.GetTitle())
		h.str(lb.GetBrand())
		h.f64(t.est.Units)
		h.f64(t.est.Low)
		h.f64(t.est.High)
		h.str(string(t.est.Method))
		if a.GetPrice() != nil {
			h.u64(1)
			h.i64(a.GetPrice().GetAmountMinor())
		} else {
			h.u64(0)
		}
		h.optF64(a.Rating)
		h.optI64(a.ReviewCount)
		h.i64(int64(p.GetPosition()))
	}
	h.i64(int64(x.salesN))
	h.f64(x.salesTotal)
	return r.sc.digest.Sum64()
}

// buildStats turns sc.stats into the message.
func (r *run) buildStats() *marketv1.KeywordWindowStats {
	x := &r.sc.stats
	s := &marketv1.KeywordWindowStats{
		CompetitorCount:    x.competitors,
		Currency:           x.currency,
		RatingDistribution: slices.Clone(x.ratingDist[:]),
		ReviewsTotal:       x.reviewsTotal,
		NewEntrants:        slices.Clone(x.entrants),
		Leavers:            slices.Clone(x.leavers),
	}
	if x.priceN > 0 {
		s.PriceMinMinor = proto.Int64(x.priceMin)
		s.PriceMedianMinor = proto.Float64(x.priceMedian)
		s.PriceMeanMinor = proto.Float64(x.priceMean)
		s.PriceP90Minor = proto.Float64(x.priceP90)
	}
	if x.ratingN > 0 {
		s.RatingMean = proto.Float64(x.ratingMean)
	}
	if x.reviewsN > 0 {
		s.ReviewsMedian = proto.Float64(x.reviewsMedian)
	}
	if x.primeN > 0 {
		s.PrimeShare = proto.Float64(float64(x.primeYes) / float64(x.primeN))
	}
	if x.sponsoredN > 0 {
		s.SponsoredShare = proto.Float64(float64(x.sponsoredYes) / float64(x.sponsoredN))
	}
	if len(x.brands) > 0 {
		shares := make([]marketv1.BrandShare, len(x.brands))
		s.ShareOfVoice = make([]*marketv1.BrandShare, len(x.brands))
		for i, b := range x.brands {
			shares[i].Brand, shares[i].Share, shares[i].Listings = b.brand, b.weight/x.totalWeight, b.listings
			s.ShareOfVoice[i] = &shares[i]
		}
	}
	if n := len(x.top); n > 0 {
		// One allocation per kind of message rather than one per message.
		products := make([]marketv1.RankedProduct, n)
		sales := make([]marketv1.SalesEstimate, n)
		ints := make([]int64, 0, 2*n)
		floats := make([]float64, 0, n)
		s.TopBySales = make([]*marketv1.RankedProduct, n)
		for i, t := range x.top {
			tr := r.st.Products[t.m.tr]
			p := tr.Points[t.m.pt]
			a, lb := attrsOf(tr, p), labelOf(tr, p)
			sales[i].Units, sales[i].Low, sales[i].High, sales[i].Method = t.est.Units, t.est.Low, t.est.High, string(t.est.Method)
			rp := &products[i]
			rp.Asin, rp.Title, rp.Brand, rp.Sales, rp.Position = tr.GetAsin(), lb.GetTitle(), lb.GetBrand(), &sales[i], p.GetPosition()
			if a.GetPrice() != nil {
				ints = append(ints, a.GetPrice().GetAmountMinor())
				rp.PriceMinor = &ints[len(ints)-1]
			}
			if a.Rating != nil {
				floats = append(floats, a.GetRating())
				rp.Rating = &floats[len(floats)-1]
			}
			if a.ReviewCount != nil {
				ints = append(ints, a.GetReviewCount())
				rp.ReviewCount = &ints[len(ints)-1]
			}
			s.TopBySales[i] = rp
		}
	}
	if x.salesN > 0 {
		s.EstimatedSalesTotal = proto.Float64(x.salesTotal)
	}
	return s
}
