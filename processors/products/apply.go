package products

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// Names of the latest-value fields in ProductState.field_time_unix_ms and field_event_id: the
// ProductAttributes field names, and "marketplace" for ProductState.marketplace.
const (
	FieldMarketplace     = "marketplace"
	FieldTitle           = "title"
	FieldBrand           = "brand"
	FieldCategory        = "category"
	FieldPrice           = "price"
	FieldListPrice       = "list_price"
	FieldRating          = "rating"
	FieldReviewCount     = "review_count"
	FieldBoughtPastMonth = "bought_past_month"
	FieldRanks           = "ranks"
	FieldPrime           = "prime"
	FieldAvailability    = "availability"
	FieldSellerCount     = "seller_count"
	FieldImageURL        = "image_url"
)

// Result is what applying one observation did to a product's state.
type Result struct {
	// State is the product's state after the observation: the input state, changed in place, or
	// a new state for a new product.
	State *marketv1.ProductState
	// Changed reports whether State differs from the input (it has to be written).
	Changed bool
	// Duplicate reports that the observation had already been applied (nothing changed).
	Duplicate bool
	// Late reports that the observation was older than the recent-events horizon: only the
	// latest values and first/last seen could take it.
	Late bool
	// Change is the event to emit on a material change (or a new product), else nil.
	Change *marketv1.ProductStateChanged
}

// stamp orders observations: event time in unix milliseconds, then event id.
type stamp struct {
	ms int64
	id string
}

func (a stamp) less(b stamp) bool { return a.ms < b.ms || a.ms == b.ms && a.id < b.id }

// ErrInvalidObservation is wrapped by Apply's errors: the observation cannot be placed or keyed.
var ErrInvalidObservation = errors.New("invalid observation")

// Apply folds one observation into a product's state (nil for a product not seen yet) and returns
// the new state and the change to emit. It changes st in place (the returned state is st, or a
// new one for a new product) and never modifies obs; the state and the change may share values
// with obs and with each other, so treat all three as read-only afterwards. It uses no clock:
// event time decides. Applying the same observation twice changes nothing, and the latest values
// do not depend on the order in which observations arrive; the histories and the count do not
// either, within the recent-events horizon.
func Apply(cfg Config, st *marketv1.ProductState, obs *marketv1.ProductObserved) (Result, error) {
	env := obs.GetEnvelope()
	if err := marketv1.ValidateEnvelope(env); err != nil {
		return Result{State: st}, fmt.Errorf("apply product observation: %w: %w", ErrInvalidObservation, err)
	}
	if obs.GetAsin() == "" {
		return Result{State: st}, fmt.Errorf("apply product observation %s: %w: asin is empty", env.GetEventId(), ErrInvalidObservation)
	}
	if st != nil && st.GetAsin() != "" && st.GetAsin() != obs.GetAsin() {
		return Result{State: st}, fmt.Errorf("apply product observation %s: %w: asin %q to the state of %q",
			env.GetEventId(), ErrInvalidObservation, obs.GetAsin(), st.GetAsin())
	}
	ts := env.GetEventTime()
	a := applier{
		cfg:   cfg,
		obs:   obs,
		at:    ts,
		s:     stamp{ms: ts.AsTime().UnixMilli(), id: env.GetEventId()},
		isNew: st == nil,
	}
	if a.isNew {
		st = &marketv1.ProductState{Asin: obs.GetAsin()}
	}
	a.st = st
	a.normalize()

	pos, dup := a.findRecent()
	if dup {
		return Result{State: st, Duplicate: true}, nil
	}
	late := !a.isNew && len(st.RecentEventIds) >= cfg.RecentEvents && pos == 0

	a.applyFields()
	a.applySeen()
	if !late {
		a.accept(pos)
	}
	if !a.changed {
		return Result{State: st, Late: late}, nil
	}
	st.Version++
	res := Result{State: st, Changed: true, Late: late}
	if a.isNew || a.kinds != 0 {
		res.Change = a.changeEvent()
	}
	return res, nil
}

// applier holds the work of one Apply call.
type applier struct {
	cfg   Config
	st    *marketv1.ProductState
	obs   *marketv1.ProductObserved
	at    *timestamppb.Timestamp
	s     stamp
	isNew bool

	changed bool
	kinds   uint32                      // bit k set: ProductChangeKind k
	before  *marketv1.ProductAttributes // latest before the first value change (nil for a new product)
}

// normalize makes a decoded state safe to change: maps and latest present, recent lists aligned.
func (a *applier) normalize() {
	st := a.st
	if st.Latest == nil {
		st.Latest = &marketv1.ProductAttributes{}
	}
	if st.FieldTimeUnixMs == nil {
		st.FieldTimeUnixMs = make(map[string]int64, 16)
	}
	if st.FieldEventId == nil {
		st.FieldEventId = make(map[string]string, 16)
	}
	if n, m := len(st.RecentEventIds), len(st.RecentEventTimeUnixMs); n != m {
		// Only a state written by something else can disagree; keep the aligned prefix.
		n = min(n, m)
		st.RecentEventIds, st.RecentEventTimeUnixMs = st.RecentEventIds[:n], st.RecentEventTimeUnixMs[:n]
	}
}

// findRecent returns where the observation belongs in the recent list and whether it is there.
func (a *applier) findRecent() (int, bool) {
	ids, times := a.st.RecentEventIds, a.st.RecentEventTimeUnixMs
	i := sort.Search(len(ids), func(i int) bool { return !(stamp{times[i], ids[i]}).less(a.s) })
	return i, i < len(ids) && times[i] == a.s.ms && ids[i] == a.s.id
}

// newer reports whether the observation is newer than the value of field.
func (a *applier) newer(field string) bool {
	ms, ok := a.st.FieldTimeUnixMs[field]
	if !ok {
		return true
	}
	return (stamp{ms, a.st.FieldEventId[field]}).less(a.s)
}

// take records that the observation now owns field.
func (a *applier) take(field string) {
	a.st.FieldTimeUnixMs[field] = a.s.ms
	a.st.FieldEventId[field] = a.s.id
	a.changed = true
}

// valueChanges is called before a value of latest changes: it keeps the before image once.
func (a *applier) valueChanges(kind marketv1.ProductChangeKind) {
	if a.before == nil && !a.isNew {
		a.before = cloneAttributes(a.st.Latest)
	}
	if kind != marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_UNSPECIFIED {
		a.kinds |= 1 << uint(kind)
	}
}

// lww applies an optional scalar field by last-writer-wins.
func lww[T comparable](a *applier, field string, in *T, cur **T, kind marketv1.ProductChangeKind) {
	if in == nil || !a.newer(field) {
		return
	}
	if *cur == nil || **cur != *in {
		a.valueChanges(kind)
		*cur = in
	}
	a.take(field)
}

const noKind = marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_UNSPECIFIED

// applyFields applies every field the observation carries that is newer than the state's.
func (a *applier) applyFields() {
	st, obs := a.st, a.obs
	if m := obs.GetMarketplace(); m != "" && a.newer(FieldMarketplace) {
		if st.Marketplace != m {
			a.valueChanges(noKind)
			st.Marketplace = m
		}
		a.take(FieldMarketplace)
	}
	in, l := obs.GetAttributes(), st.Latest
	if in == nil {
		return
	}
	lww(a, FieldTitle, in.Title, &l.Title, noKind)
	lww(a, FieldBrand, in.Brand, &l.Brand, noKind)
	lww(a, FieldCategory, in.Category, &l.Category, noKind)
	if in.Rating != nil && !math.IsNaN(*in.Rating) {
		lww(a, FieldRating, in.Rating, &l.Rating, marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_RATING)
	}
	lww(a, FieldReviewCount, in.ReviewCount, &l.ReviewCount, marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_REVIEWS)
	lww(a, FieldBoughtPastMonth, in.BoughtPastMonth, &l.BoughtPastMonth, noKind)
	lww(a, FieldPrime, in.Prime, &l.Prime, marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_PRIME)
	lww(a, FieldSellerCount, in.SellerCount, &l.SellerCount, marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_SELLER_COUNT)
	lww(a, FieldImageURL, in.ImageUrl, &l.ImageUrl, noKind)

	if in.Price != nil && a.newer(FieldPrice) {
		if !moneyEqual(l.Price, in.Price) {
			a.valueChanges(marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_PRICE)
			l.Price = in.Price
		}
		a.take(FieldPrice)
	}
	if in.ListPrice != nil && a.newer(FieldListPrice) {
		if !moneyEqual(l.ListPrice, in.ListPrice) {
			a.valueChanges(noKind)
			l.ListPrice = in.ListPrice
		}
		a.take(FieldListPrice)
	}
	if in.Availability != marketv1.Availability_AVAILABILITY_UNSPECIFIED && a.newer(FieldAvailability) {
		if l.Availability != in.Availability {
			a.valueChanges(marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_AVAILABILITY)
			l.Availability = in.Availability
		}
		a.take(FieldAvailability)
	}
	if len(in.Ranks) > 0 && a.newer(FieldRanks) {
		if !ranksEqual(l.Ranks, in.Ranks) {
			kind := noKind
			if len(l.Ranks) == 0 || !rankEqual(l.Ranks[0], in.Ranks[0]) {
				kind = marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_RANK
			}
			a.valueChanges(kind)
			l.Ranks = in.Ranks
		}
		a.take(FieldRanks)
	}
}

// applySeen widens first and last seen to the observation's event time.
func (a *applier) applySeen() {
	st := a.st
	for _, f := range []struct {
		t     **timestamppb.Timestamp
		wider bool
	}{{&st.FirstSeen, st.FirstSeen == nil || tsLess(a.at, st.FirstSeen)}, {&st.LastSeen, st.LastSeen == nil || tsLess(st.LastSeen, a.at)}} {
		if !f.wider {
			continue
		}
		if *f.t == nil {
			*f.t = &timestamppb.Timestamp{}
		}
		(*f.t).Seconds, (*f.t).Nanos = a.at.GetSeconds(), a.at.GetNanos() // the state's own: no copy shares it
		a.changed = true
	}
}

// accept adds the observation to the recent list, the count and the histories, and recomputes
// the statistics of the histories it changed.
func (a *applier) accept(pos int) {
	st, cfg := a.st, a.cfg
	st.RecentEventIds = insertAt(st.RecentEventIds, pos, a.s.id, cfg.RecentEvents)
	st.RecentEventTimeUnixMs = insertAt(st.RecentEventTimeUnixMs, pos, a.s.ms, cfg.RecentEvents)
	st.ObservationCount++
	a.changed = true

	in := a.obs.GetAttributes()
	if p := in.GetPrice(); p != nil {
		st.PriceHistory = insertPricePoint(st.PriceHistory, &marketv1.PricePoint{Time: cloneTimestamp(a.at), AmountMinor: p.GetAmountMinor()}, cfg.PriceHistory)
		st.DailyPrices = addDailyPrice(st.DailyPrices, utcDay(a.at), p.GetAmountMinor(), cfg.DailyPrices)
		e, ok := priceEWMA(st.PriceHistory, cfg.PriceEWMAAlpha)
		st.PriceEwma = setOptional(st.PriceEwma, e, ok)
	}
	var changed bool
	if in != nil && in.ReviewCount != nil {
		if st.ReviewHistory, changed = addSeriesPoint(st.ReviewHistory, a.s.ms, *in.ReviewCount, cfg.SeriesBucket, cfg.SeriesHistory); changed {
			v, ok := reviewVelocity(st.ReviewHistory, cfg)
			st.ReviewVelocityPerDay = setOptional(st.ReviewVelocityPerDay, v, ok)
		}
	}
	if r := in.GetRanks(); len(r) > 0 && r[0].GetRank() > 0 {
		if st.RankHistory, changed = addSeriesPoint(st.RankHistory, a.s.ms, r[0].GetRank(), cfg.SeriesBucket, cfg.SeriesHistory); changed {
			t, ok := rankTrend(st.RankHistory, cfg)
			st.RankTrendPerDay = setOptional(st.RankTrendPerDay, t, ok)
		}
	}
}

// changeEvent builds the ProductStateChanged of the applied observation. Its event id is derived
// from the observation's, so a replay emits the same ids.
func (a *applier) changeEvent() *marketv1.ProductStateChanged {
	st, env := a.st, a.obs.GetEnvelope()
	ev := &marketv1.ProductStateChanged{
		Envelope: &marketv1.Envelope{
			EventId:       ChangeEventID(env.GetEventId()),
			EventTime:     cloneTimestamp(a.at),
			Producer:      a.cfg.Producer,
			SchemaVersion: marketv1.SchemaVersion,
			CorrelationId: env.GetCorrelationId(),
			CausationId:   env.GetEventId(),
		},
		Asin:                 st.GetAsin(),
		Marketplace:          st.GetMarketplace(),
		Changes:              a.changeKinds(),
		Before:               a.before,
		After:                cloneAttributes(st.Latest),
		Version:              st.GetVersion(),
		Keyword:              a.obs.GetKeyword(),
		ObservationEventId:   env.GetEventId(),
		ObservationCount:     st.GetObservationCount(),
		PriceEwma:            copyOptional(st.PriceEwma),
		ReviewVelocityPerDay: copyOptional(st.ReviewVelocityPerDay),
		RankTrendPerDay:      copyOptional(st.RankTrendPerDay),
	}
	if a.isNew {
		ev.Before = nil
	}
	return ev
}

// changeKinds lists the kinds of the change in enum order; a new product is NEW_PRODUCT only.
func (a *applier) changeKinds() []marketv1.ProductChangeKind {
	if a.isNew {
		return []marketv1.ProductChangeKind{marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_NEW_PRODUCT}
	}
	var kinds []marketv1.ProductChangeKind
	for k := marketv1.ProductChangeKind(1); k < 32; k++ {
		if a.kinds&(1<<uint(k)) != 0 {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

func moneyEqual(a, b *marketv1.Money) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.GetAmountMinor() == b.GetAmountMinor() && a.GetCurrency() == b.GetCurrency()
}

func rankEqual(a, b *marketv1.BestSellersRank) bool {
	return a.GetRank() == b.GetRank() && a.GetCategory() == b.GetCategory()
}

func ranksEqual(a, b []*marketv1.BestSellersRank) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !rankEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func tsLess(a, b *timestamppb.Timestamp) bool {
	return a.GetSeconds() < b.GetSeconds() || a.GetSeconds() == b.GetSeconds() && a.GetNanos() < b.GetNanos()
}

func cloneTimestamp(t *timestamppb.Timestamp) *timestamppb.Timestamp {
	return &timestamppb.Timestamp{Seconds: t.GetSeconds(), Nanos: t.GetNanos()}
}

// cloneAttributes returns a shallow copy of a: the values of latest are never changed in place
// (Apply replaces a field's pointer, never what it points to), so a copy may share them.
func cloneAttributes(a *marketv1.ProductAttributes) *marketv1.ProductAttributes {
	if a == nil {
		return nil
	}
	return &marketv1.ProductAttributes{
		Title:           a.Title,
		Brand:           a.Brand,
		Category:        a.Category,
		Price:           a.Price,
		ListPrice:       a.ListPrice,
		Rating:          a.Rating,
		ReviewCount:     a.ReviewCount,
		BoughtPastMonth: a.BoughtPastMonth,
		Ranks:           a.Ranks,
		Prime:           a.Prime,
		Availability:    a.Availability,
		SellerCount:     a.SellerCount,
		ImageUrl:        a.ImageUrl,
	}
}

func copyOptional[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// setOptional stores v in an optional field (absent unless ok), reusing its allocation.
func setOptional(cur *float64, v float64, ok bool) *float64 {
	switch {
	case !ok:
		return nil
	case cur == nil:
		return &v
	}
	*cur = v
	return cur
}

// insertAt inserts v at i and keeps the last keep elements; once s is full it shifts in place
// instead of growing.
func insertAt[T any](s []T, i int, v T, keep int) []T {
	if len(s) == keep {
		if i == 0 {
			return s // older than everything kept: it would go at once
		}
		copy(s[:i-1], s[1:i])
		s[i-1] = v
		return s
	}
	var zero T
	s = append(s, zero)
	copy(s[i+1:], s[i:])
	s[i] = v
	if len(s) > keep {
		s = s[len(s)-keep:]
	}
	return s
}
