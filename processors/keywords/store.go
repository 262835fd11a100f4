package keywords

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// ms returns a duration in whole milliseconds.
func ms(d time.Duration) int64 { return int64(d / time.Millisecond) }

// alignDown returns the greatest multiple of p not above x.
func alignDown(x, p int64) int64 {
	m := x % p
	if m < 0 {
		m += p
	}
	return x - m
}

// unixMs returns a timestamp in unix milliseconds (sub-millisecond digits dropped).
func unixMs(ts *timestamppb.Timestamp) int64 {
	return ts.GetSeconds()*1000 + int64(ts.GetNanos())/int64(time.Millisecond)
}

// setUnixMs sets *dst to t (unix ms), allocating only when *dst is nil.
func setUnixMs(dst **timestamppb.Timestamp, t int64) {
	if *dst == nil {
		*dst = &timestamppb.Timestamp{}
	}
	(*dst).Seconds = alignDown(t, 1000) / 1000
	(*dst).Nanos = int32(t-alignDown(t, 1000)) * int32(time.Millisecond)
}

// tsOf returns a new timestamp of t (unix ms).
func tsOf(t int64) *timestamppb.Timestamp {
	var ts *timestamppb.Timestamp
	setUnixMs(&ts, t)
	return ts
}

// eventKey is the 32-bit FNV-1a hash of an event id.
func eventKey(id string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return h
}

// spans are the cut-offs derived from the configuration.
type spans struct {
	res, late, grace int64
	maxSize, maxStep int64 // longest window; largest sliding step (at least res)
}

func spansOf(cfg *Config) spans {
	sp := spans{res: ms(cfg.Resolution), late: ms(cfg.AllowedLateness), grace: ms(cfg.TickGrace)}
	sp.maxStep = sp.res
	for _, s := range cfg.Series {
		sp.maxSize = max(sp.maxSize, ms(s.Size))
		if s.Kind == marketv1.WindowKind_WINDOW_KIND_SLIDING {
			sp.maxStep = max(sp.maxStep, ms(s.Step))
		}
	}
	return sp
}

// pointCutoff is the instant from which a trail keeps every listing (one per resolution):
// every open window ends after closedThrough, so the latest listing before any open window's
// end, or before the end of the window one step earlier, is at or after it or is the latest
// listing before it.
func (sp spans) pointCutoff(closedThrough int64) int64 {
	return alignDown(closedThrough, sp.res) - sp.maxStep
}

// keepCutoff is the instant before which nothing can be in an open window or in the window
// before one: pages older than it are dropped, and trails whose latest listing is.
func (sp spans) keepCutoff(closedThrough int64) int64 {
	return alignDown(closedThrough, sp.res) - sp.maxSize - sp.maxStep
}

// findPage returns where page (t, key) is or would be in the page index, and whether it is.
func findPage(st *marketv1.KeywordWindowsState, t int64, key uint32) (int, bool) {
	times := st.PageTimesUnixMs
	i, _ := slices.BinarySearch(times, t)
	for ; i < len(times) && times[i] == t; i++ {
		switch k := st.PageKeys[i]; {
		case k == key:
			return i, true
		case k > key:
			return i, false
		}
	}
	return i, false
}

// countPages returns the number of pages with event time in [from, to).
func countPages(st *marketv1.KeywordWindowsState, from, to int64) int {
	if to <= from {
		return 0
	}
	a, _ := slices.BinarySearch(st.PageTimesUnixMs, from)
	b, _ := slices.BinarySearch(st.PageTimesUnixMs[a:], to)
	return b
}

// findTrail returns the index of an ASIN's trail or where it would be inserted.
func findTrail(st *marketv1.KeywordWindowsState, asin string) (int, bool) {
	return slices.BinarySearchFunc(st.Products, asin, func(p *marketv1.ProductTrail, a string) int {
		return strings.Compare(p.GetAsin(), a)
	})
}

// effPos is the page-adjusted position of a listing; an unknown position counts as the last
// of its page.
func effPos(page, pos int32, pageSize int) int32 {
	if pos < 1 {
		pos = int32(pageSize)
	}
	if page < 1 {
		page = 1
	}
	return (page-1)*int32(pageSize) + pos
}

// greater reports whether listing a (time, key, page-adjusted position) wins over listing b:
// later event time, then greater event key, then better position (the first card of a product
// that a page shows twice).
func greater(at int64, ak uint32, apos int32, bt int64, bk uint32, bpos int32) bool {
	if at != bt {
		return at > bt
	}
	if ak != bk {
		return ak > bk
	}
	return apos < bpos
}

var (
	pointPool = sync.Pool{New: func() any { return new(marketv1.ListingPoint) }}
	boolTrue  = func() *bool { b := true; return &b }()
	boolFalse = func() *bool { b := false; return &b }()
)

// sharedBool returns a shared pointer to a copy of *b (nil for nil): points never mutate it.
func sharedBool(b *bool) *bool {
	switch {
	case b == nil:
		return nil
	case *b:
		return boolTrue
	default:
		return boolFalse
	}
}

// applyListing folds one listing of a page into the product's trail and reports whether the
// trail changed. A trail keeps one listing per resolution bucket, the greatest.
func (r *run) applyListing(t int64, key uint32, page int32, l *marketv1.Listing) bool {
	st, sc := r.st, r.sc
	i, found := findTrail(st, l.GetAsin())
	if !found {
		st.Products = slices.Insert(st.Products, i, &marketv1.ProductTrail{Asin: l.GetAsin()})
	}
	tr := st.Products[i]
	pos := effPos(page, l.GetPosition(), r.cfg.PageSize)
	b := alignDown(t, r.sp.res)
	pts := tr.Points
	j := len(pts) - 1
	for j >= 0 && pts[j].GetTimeUnixMs() >= b+r.sp.res {
		j--
	}
	var p *marketv1.ListingPoint
	if j >= 0 && pts[j].GetTimeUnixMs() >= b {
		p = pts[j]
		if !greater(t, key, pos, p.GetTimeUnixMs(), p.GetEventKey(), p.GetPosition()) {
			return false
		}
	} else {
		p = pointPool.Get().(*marketv1.ListingPoint)
		tr.Points = slices.Insert(tr.Points, j+1, p)
	}
	sc.enrich(l, r.lookup)
	p.TimeUnixMs = t
	p.EventKey = key
	p.Position = pos
	p.Sponsored = sharedBool(l.Sponsored)
	p.Attributes = int32(indexOf(&tr.Attributes, &sc.attrs, sameFigures, cloneFigures))
	p.Label = int32(indexOf(&tr.Labels, &sc.label, sameLabel, cloneLabel))
	return true
}

// enrich fills sc.attrs with the figures a trail keeps of a listing — price, rating, review
// count, bought-past-month, Prime badge and main best-sellers rank, the badge and the rank
// taken from the product's state when the card shows neither — and sc.label with its title,
// brand and (as category) the normalised category of that rank. Both are scratch: they are only
// compared and cloned, and share the listing's values.
func (sc *scratch) enrich(l *marketv1.Listing, lookup Lookup) {
	a := l.GetAttributes()
	x, lb := &sc.attrs, &sc.label
	x.Rating, x.ReviewCount, x.BoughtPastMonth, x.Prime, x.Price, x.Ranks = nil, nil, nil, nil, nil, nil
	lb.Title, lb.Brand, lb.Category = nil, nil, nil
	var rank *marketv1.BestSellersRank
	if a != nil {
		x.Rating, x.ReviewCount, x.BoughtPastMonth, x.Prime, x.Price = a.Rating, a.ReviewCount, a.BoughtPastMonth, a.Prime, a.Price
		lb.Title, lb.Brand = a.Title, a.Brand
		if len(a.Ranks) > 0 {
			rank = a.Ranks[0]
		}
	}
	category := a.GetCategory()
	if x.BoughtPastMonth == nil && rank == nil && lookup != nil {
		if latest := lookup(l.GetAsin()).GetLatest(); latest != nil {
			if rs := latest.GetRanks(); len(rs) > 0 {
				rank = rs[0]
			}
			x.BoughtPastMonth = latest.BoughtPastMonth
			category = cmp.Or(category, latest.GetCategory())
		}
	}
	if rank.GetRank() > 0 {
		sc.rank.Rank = rank.GetRank()
		sc.ranks[0] = &sc.rank
		x.Ranks = sc.ranks[:1]
		// The rank's own category decides the power law; the product's leaf category stands in
		// when the rank does not name one.
		if c := sc.normalize(cmp.Or(rank.GetCategory(), category)); c != "" {
			sc.category = c
			lb.Category = &sc.category
		}
	}
}

// indexOf returns the index in *list of an entry equal to x, appending clone(x) when there is none.
func indexOf(list *[]*marketv1.ProductAttributes, x *marketv1.ProductAttributes,
	same func(a, b *marketv1.ProductAttributes) bool, clone func(*marketv1.ProductAttributes) *marketv1.ProductAttributes) int {
	for i, a := range *list {
		if same(a, x) {
			return i
		}
	}
	*list = append(*list, clone(x))
	return len(*list) - 1
}

// sameFigures compares the figures enrich keeps.
func sameFigures(a, b *marketv1.ProductAttributes) bool {
	return eqPtr(a.ReviewCount, b.ReviewCount) && eqPtr(a.BoughtPastMonth, b.BoughtPastMonth) && eqPtr(a.Prime, b.Prime) &&
		eqFloat(a.Rating, b.Rating) &&
		(a.Price == nil) == (b.Price == nil) && a.Price.GetAmountMinor() == b.Price.GetAmountMinor() &&
		a.Price.GetCurrency() == b.Price.GetCurrency() &&
		len(a.Ranks) == len(b.Ranks) && (len(a.Ranks) == 0 || a.Ranks[0].GetRank() == b.Ranks[0].GetRank())
}

func cloneFigures(x *marketv1.ProductAttributes) *marketv1.ProductAttributes {
	c := &marketv1.ProductAttributes{Rating: x.Rating, ReviewCount: x.ReviewCount, BoughtPastMonth: x.BoughtPastMonth, Prime: x.Prime}
	if x.Price != nil {
		c.Price = &marketv1.Money{AmountMinor: x.Price.GetAmountMinor(), Currency: x.Price.GetCurrency()}
	}
	if len(x.Ranks) > 0 {
		c.Ranks = []*marketv1.BestSellersRank{{Rank: x.Ranks[0].GetRank()}}
	}
	return c
}

// sameLabel compares the labels enrich keeps.
func sameLabel(a, b *marketv1.ProductAttributes) bool {
	return eqPtr(a.Title, b.Title) && eqPtr(a.Brand, b.Brand) && eqPtr(a.Category, b.Category)
}

func cloneLabel(x *marketv1.ProductAttributes) *marketv1.ProductAttributes {
	c := &marketv1.ProductAttributes{Title: x.Title, Brand: x.Brand}
	if x.Category != nil {
		c.Category = proto.String(*x.Category)
	}
	return c
}

func eqPtr[T comparable](a, b *T) bool { return a == b || a != nil && b != nil && *a == *b }

func eqFloat(a, b *float64) bool {
	return a == b || a != nil && b != nil && math.Float64bits(*a) == math.Float64bits(*b)
}

// prune drops what no open window can need any more — pages and listings older than the keep
// cut-off, listings older than the point cut-off but the latest, trails left empty — and puts every trail's
// attributes in canonical order (first reference by its points), so that the state depends only
// on the set of events and the closing instant.
func (r *run) prune() {
	st := r.st
	keep := r.sp.keepCutoff(st.ClosedThroughUnixMs)
	pc := r.sp.pointCutoff(st.ClosedThroughUnixMs)
	if n, _ := slices.BinarySearch(st.PageTimesUnixMs, keep); n > 0 {
		st.PageTimesUnixMs = slices.Delete(st.PageTimesUnixMs, 0, n)
		st.PageKeys = slices.Delete(st.PageKeys, 0, n)
	}
	w := 0
	for _, tr := range st.Products {
		pts := tr.Points
		// Keep every listing from the point cut-off on, and the latest before it unless it is
		// older than the keep cut-off (it could then be in no open window).
		from := max(searchTime(pts, keep), searchTime(pts, pc)-1)
		for _, p := range pts[:from] {
			pointPool.Put(p)
		}
		if from == len(pts) {
			clear(pts)
			continue
		}
		if from > 0 {
			tr.Points = slices.Delete(pts, 0, from)
		}
		r.sc.canonicalize(tr)
		st.Products[w] = tr
		w++
	}
	clear(st.Products[w:])
	st.Products = st.Products[:w]
}

// searchTime returns the index of the first point at or after t.
func searchTime(pts []*marketv1.ListingPoint, t int64) int {
	i, _ := slices.BinarySearchFunc(pts, t, func(p *marketv1.ListingPoint, t int64) int { return cmpInt(p.GetTimeUnixMs(), t) })
	return i
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// canonicalize renumbers a trail's attributes and labels in order of first reference by its
// points and drops those no point refers to.
func (sc *scratch) canonicalize(tr *marketv1.ProductTrail) {
	tr.Attributes = sc.renumber(tr, tr.Attributes, func(p *marketv1.ListingPoint) *int32 { return &p.Attributes })
	tr.Labels = sc.renumber(tr, tr.Labels, func(p *marketv1.ListingPoint) *int32 { return &p.Label })
}

// renumber puts list in order of first reference by the trail's points (through ref), drops
// unreferenced entries and rewrites the references.
func (sc *scratch) renumber(tr *marketv1.ProductTrail, list []*marketv1.ProductAttributes, ref func(*marketv1.ListingPoint) *int32) []*marketv1.ProductAttributes {
	n := len(list)
	if n == 0 {
		return list
	}
	remap := sc.remap[:0]
	for range n {
		remap = append(remap, -1)
	}
	sc.remap = remap
	next, identity := int32(0), true
	for _, p := range tr.Points {
		r := ref(p)
		old := *r
		if old < 0 || int(old) >= n {
			old = 0 // a broken reference (a corrupt value): fall back to the first entry rather than panic
		}
		if remap[old] < 0 {
			remap[old] = next
			identity = identity && old == next
			next++
		}
		*r = remap[old]
	}
	if identity && int(next) == n {
		return list
	}
	tmp := sc.attrBuf[:0]
	for range next {
		tmp = append(tmp, nil)
	}
	for i, a := range list {
		if j := remap[i]; j >= 0 {
			tmp[j] = a
		}
	}
	copy(list, tmp)
	clear(list[next:])
	clear(tmp)
	sc.attrBuf = tmp[:0]
	return list[:next]
}
