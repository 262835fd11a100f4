package keywords

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

const kw = "portable charger"

var (
	yes = proto.Bool(true)
	no  = proto.Bool(false)
)

const (
	tumblingK = marketv1.WindowKind_WINDOW_KIND_TUMBLING
	slidingK  = marketv1.WindowKind_WINDOW_KIND_SLIDING
)

func approx(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// rankLookup is a product table with one ranked product.
func rankLookup(calls *int) Lookup {
	return func(asin string) *marketv1.ProductState {
		*calls++
		if asin != "B" {
			return nil
		}
		return &marketv1.ProductState{Asin: "B", Latest: &marketv1.ProductAttributes{
			Ranks: []*marketv1.BestSellersRank{{Rank: 1000, Category: "Home & Kitchen"}, {Rank: 3, Category: "Power Banks"}},
		}}
	}
}

func TestApplyComputesWindowStatistics(t *testing.T) {
	calls := 0
	a := newApplier(t, DefaultConfig(), rankLookup(&calls))
	a.apply(page(kw, t0.Add(10*time.Second), "e1", listings(
		item{asin: "A", pos: 1, price: 1000, rating: 4.6, reviews: 100, brand: "Anker", badge: 1000, prime: yes, sponsored: yes},
		item{asin: "B", pos: 2, price: 2000, rating: 4.2, reviews: 300, brand: "Anker", prime: no, sponsored: no},
		item{asin: "C", pos: 3, price: 3000, rating: 3.5, brand: "Belkin", sponsored: no},
		item{asin: "D", pos: 4, price: 5000, currency: "EUR"}, // a price in another currency is left out
	)...))
	if calls != 3 {
		t.Errorf("lookup called %d times, want 3 (B, C and D show no badge and no rank)", calls)
	}
	if len(a.updates) != 5 {
		t.Fatalf("first page emitted %d updates, want 5 (three tumbling windows, two current sliding windows)", len(a.updates))
	}
	wantWindows := map[string]bool{
		"WINDOW_KIND_TUMBLING/60/60/2025-03-10T08:00:00Z":       true,
		"WINDOW_KIND_TUMBLING/3600/3600/2025-03-10T08:00:00Z":   true,
		"WINDOW_KIND_TUMBLING/86400/86400/2025-03-10T00:00:00Z": true,
		"WINDOW_KIND_SLIDING/3600/60/2025-03-10T07:01:00Z":      true,
		"WINDOW_KIND_SLIDING/86400/60/2025-03-09T08:01:00Z":     true,
	}
	for _, u := range a.updates {
		if !wantWindows[windowKey(u)] {
			t.Errorf("unexpected window %s", windowKey(u))
		}
		if u.GetFinal() || u.GetVersion() != 2 || u.GetPagesObserved() != 1 || u.GetKeyword() != kw || u.GetMarketplace() != "amazon.com" {
			t.Errorf("%s: final %v version %d pages %d keyword %q marketplace %q", windowKey(u), u.GetFinal(), u.GetVersion(), u.GetPagesObserved(), u.GetKeyword(), u.GetMarketplace())
		}
		if u.GetEnvelope().GetCausationId() != "e1" || u.GetEnvelope().GetEventTime().AsTime() != t0.Add(10*time.Second) {
			t.Errorf("%s: envelope %v", windowKey(u), u.GetEnvelope())
		}
	}

	s := a.updates[0].GetStats()
	if s.GetCompetitorCount() != 4 || s.GetCurrency() != "USD" {
		t.Errorf("competitors %d currency %q, want 4 USD", s.GetCompetitorCount(), s.GetCurrency())
	}
	if s.GetPriceMinMinor() != 1000 || s.GetPriceMedianMinor() != 2000 || s.GetPriceMeanMinor() != 2000 || !approx(s.GetPriceP90Minor(), 2800) {
		t.Errorf("prices min %d median %v mean %v p90 %v, want 1000 2000 2000 2800",
			s.GetPriceMinMinor(), s.GetPriceMedianMinor(), s.GetPriceMeanMinor(), s.GetPriceP90Minor())
	}
	if !approx(s.GetRatingMean(), 4.1) || !slices.Equal(s.GetRatingDistribution(), []int32{0, 0, 1, 1, 1}) {
		t.Errorf("rating mean %v distribution %v, want 4.1 [0 0 1 1 1]", s.GetRatingMean(), s.GetRatingDistribution())
	}
	if s.GetReviewsTotal() != 400 || s.GetReviewsMedian() != 200 {
		t.Errorf("reviews total %d median %v, want 400 200", s.GetReviewsTotal(), s.GetReviewsMedian())
	}
	if s.GetPrimeShare() != 0.5 || !approx(s.GetSponsoredShare(), 1.0/3) {
		t.Errorf("prime share %v sponsored share %v, want 0.5 and 1/3 (unknown flags left out)", s.GetPrimeShare(), s.GetSponsoredShare())
	}
	wA, wB, wC, wD := 1.0, 1/math.Log2(3), 0.5, 1/math.Log2(5)
	total := wA + wB + wC + wD
	sov := s.GetShareOfVoice()
	if len(sov) != 3 || sov[0].GetBrand() != "Anker" || !approx(sov[0].GetShare(), (wA+wB)/total) || sov[0].GetListings() != 2 ||
		sov[1].GetBrand() != "Belkin" || !approx(sov[1].GetShare(), wC/total) ||
		sov[2].GetBrand() != UnknownBrand || !approx(sov[2].GetShare(), wD/total) {
		t.Errorf("share of voice %v", sov)
	}
	top := s.GetTopBySales()
	unitsB := 450_000 * math.Pow(1000, -0.8)
	if len(top) != 2 || top[0].GetAsin() != "B" || top[1].GetAsin() != "A" {
		t.Fatalf("top %v, want B (rank 1000 in Home & Kitchen) then A (1K+ badge)", top)
	}
	if b := top[0].GetSales(); !approx(b.GetUnits(), unitsB) || !approx(b.GetLow(), unitsB/2) || !approx(b.GetHigh(), unitsB*2) || b.GetMethod() != "rank_power_law" {
		t.Errorf("B's estimate %v, want %v units in [x/2, x*2] by rank", b, unitsB)
	}
	if a := top[1].GetSales(); !approx(a.GetUnits(), math.Sqrt(2e6)) || a.GetLow() != 1000 || a.GetHigh() != 2000 || a.GetMethod() != "bought_past_month" {
		t.Errorf("A's estimate %v, want the 1K+ bucket [1000, 2000)", a)
	}
	if top[1].GetPosition() != 1 || top[1].GetPriceMinor() != 1000 || top[1].GetRating() != 4.6 || top[1].GetReviewCount() != 100 || top[1].GetBrand() != "Anker" {
		t.Errorf("A in the top list: %v", top[1])
	}
	if !approx(s.GetEstimatedSalesTotal(), unitsB+math.Sqrt(2e6)) {
		t.Errorf("estimated sales total %v", s.GetEstimatedSalesTotal())
	}
	if len(s.GetNewEntrants())+len(s.GetLeavers()) != 0 {
		t.Errorf("first window has entrants %v leavers %v, want none (no previous window)", s.GetNewEntrants(), s.GetLeavers())
	}
}

func TestLatestListingPerProductWins(t *testing.T) {
	early := page(kw, t0.Add(10*time.Second), "e1", listings(item{asin: "A", pos: 1, price: 1000})...)
	later := page(kw, t0.Add(40*time.Second), "e2", listings(item{asin: "A", pos: 5, price: 1200})...)
	for _, order := range [][]*marketv1.SearchResultsObserved{{early, later}, {later, early}} {
		a := newApplier(t, DefaultConfig(), nil)
		a.apply(order...)
		last := updatesOf(a.updates, tumblingK, time.Minute)
		if got := last[len(last)-1].GetStats(); got.GetPriceMinMinor() != 1200 || got.GetCompetitorCount() != 1 {
			t.Errorf("order %s then %s: price %d competitors %d, want the later listing (1200) only",
				order[0].GetEnvelope().GetEventId(), order[1].GetEnvelope().GetEventId(), got.GetPriceMinMinor(), got.GetCompetitorCount())
		}
	}
	// The same product twice on one page: the better position counts.
	a := newApplier(t, DefaultConfig(), nil)
	a.apply(page(kw, t0, "e3", listings(item{asin: "A", pos: 7, price: 900, sponsored: no}, item{asin: "A", pos: 2, price: 900, sponsored: yes})...))
	if st := a.updates[0].GetStats(); st.GetCompetitorCount() != 1 || st.GetSponsoredShare() != 1 {
		t.Errorf("product shown twice: competitors %d sponsored share %v, want 1 and 1 (the card at #2)", st.GetCompetitorCount(), st.GetSponsoredShare())
	}
}

func TestDuplicateEventChangesNothing(t *testing.T) {
	ev := page(kw, t0, "e1", listings(item{asin: "A", pos: 1, price: 1000}, item{asin: "B", pos: 2, price: 1500})...)
	a := newApplier(t, DefaultConfig(), nil)
	a.apply(ev, page(kw, t0.Add(3*time.Minute), "e2", listings(item{asin: "A", pos: 1, price: 1100})...))
	before := mustMarshal(t, a.st)
	n := len(a.updates)
	a.apply(ev)
	if a.dups != 1 || len(a.updates) != n || len(a.late) != 0 {
		t.Errorf("redelivery: duplicate %d, updates %d -> %d, late %d; want a silent no-op", a.dups, n, len(a.updates), len(a.late))
	}
	if !slices.Equal(before, mustMarshal(t, a.st)) {
		t.Error("redelivery changed the state")
	}
}

func TestWindowsCloseOnWatermark(t *testing.T) {
	a := newApplier(t, DefaultConfig(), nil)
	a.apply(
		page(kw, t0.Add(10*time.Second), "e1", listings(item{asin: "A", pos: 1, price: 1000})...),
		page(kw, t0.Add(5*time.Minute), "e2", listings(item{asin: "A", pos: 1, price: 1100}, item{asin: "B", pos: 2, price: 900})...),
	)
	if f := finalsOf(a.updates); len(f) != 0 {
		t.Fatalf("finals before the watermark passed any window end + lateness: %v", f)
	}
	n := len(a.updates)
	// Watermark 08:11:30 closes through 08:01:30: the windows ending at 08:01.
	a.apply(page(kw, t0.Add(11*time.Minute+30*time.Second), "e3", listings(item{asin: "B", pos: 1, price: 950})...))
	finals := finalsOf(a.updates[n:])
	var keys []string
	for _, u := range finals {
		keys = append(keys, windowKey(u))
		if u.GetClosedBy() != ClosedByWatermark || u.GetVersion()%2 != 1 || u.GetEnvelope().GetCausationId() != "" {
			t.Errorf("%s: closed by %q version %d causation %q", windowKey(u), u.GetClosedBy(), u.GetVersion(), u.GetEnvelope().GetCausationId())
		}
		if !u.GetEnvelope().GetEventTime().AsTime().Equal(u.GetWindow().GetEnd().AsTime()) {
			t.Errorf("%s: final event time %v, want the window end", windowKey(u), u.GetEnvelope().GetEventTime().AsTime())
		}
	}
	want := []string{
		"WINDOW_KIND_TUMBLING/60/60/2025-03-10T08:00:00Z",
		"WINDOW_KIND_SLIDING/3600/60/2025-03-10T07:01:00Z",
		"WINDOW_KIND_SLIDING/86400/60/2025-03-09T08:01:00Z",
	}
	if !slices.Equal(keys, want) {
		t.Errorf("finals %v, want %v", keys, want)
	}
	for _, sr := range a.st.GetSeries() {
		for _, e := range sr.GetEmitted() {
			if e.GetEndUnixMs() <= sr.GetClosedUntilUnixMs() {
				t.Errorf("closed window ending %v still in the state", time.UnixMilli(e.GetEndUnixMs()).UTC())
			}
		}
	}
	checkVersions(t, a.updates)
}

func TestSlidingWindowsEmitCurrentAndEveryFinal(t *testing.T) {
	a := newApplier(t, DefaultConfig(), nil)
	for m := range 5 {
		a.apply(page(kw, t0.Add(time.Duration(m)*time.Minute+5*time.Second), "m"+string(rune('0'+m)),
			listings(item{asin: "A", pos: 1, price: int64(1000 + m)})...))
	}
	n := len(a.updates)
	a.apply(page(kw, t0.Add(4*time.Minute+30*time.Second), "page-2", listings(item{asin: "C", pos: 49, price: 900})...))
	if got := len(updatesOf(a.updates[n:], slidingK, time.Hour)) + len(updatesOf(a.updates[n:], slidingK, 24*time.Hour)); got != 0 {
		t.Errorf("a second page in the same minute emitted %d sliding updates, want none (one per step)", got)
	}
	a.apply(page(kw, t0.Add(20*time.Minute+5*time.Second), "late-minute", listings(item{asin: "B", pos: 1, price: 700})...))
	sl := updatesOf(a.updates, slidingK, time.Hour)
	var currentEnds []string
	for _, u := range sl {
		if !u.GetFinal() {
			currentEnds = append(currentEnds, u.GetWindow().GetEnd().AsTime().Format("15:04"))
		}
	}
	if want := []string{"08:01", "08:02", "08:03", "08:04", "08:05", "08:21"}; !slices.Equal(currentEnds, want) {
		t.Errorf("non-final sliding updates end at %v, want the current windows %v", currentEnds, want)
	}
	finals := finalsOf(sl)
	if len(finals) != 10 { // 08:01 .. 08:10: watermark 08:20:05 closes through 08:10:05
		t.Fatalf("%d sliding finals, want 10", len(finals))
	}
	for i, u := range finals {
		end := t0.Add(time.Duration(i+1) * time.Minute)
		wantPages, wantProducts := int32(min(i+1, 5)), int32(1)
		if i >= 4 {
			wantPages, wantProducts = 6, 2 // page-2 of 08:04 is in every window ending after it
		}
		if !u.GetWindow().GetEnd().AsTime().Equal(end) || u.GetPagesObserved() != wantPages || u.GetStats().GetCompetitorCount() != wantProducts {
			t.Errorf("final %d: window %s pages %d competitors %d, want end %v pages %d competitors %d", i, windowKey(u), u.GetPagesObserved(),
				u.GetStats().GetCompetitorCount(), end.Format("15:04"), wantPages, wantProducts)
		}
	}
	checkVersions(t, a.updates)
}

func TestEntrantsAndLeavers(t *testing.T) {
	a := newApplier(t, DefaultConfig(), nil)
	a.apply(
		page(kw, t0.Add(5*time.Second), "e1", listings(item{asin: "A", pos: 1}, item{asin: "B", pos: 2}, item{asin: "C", pos: 3})...),
		page(kw, t0.Add(65*time.Second), "e2", listings(item{asin: "B", pos: 1}, item{asin: "C", pos: 2}, item{asin: "D", pos: 3})...),
		page(kw, t0.Add(185*time.Second), "e3", listings(item{asin: "E", pos: 1})...),
	)
	m := updatesOf(a.updates, tumblingK, time.Minute)
	second := m[1].GetStats()
	if !slices.Equal(second.GetNewEntrants(), []string{"D"}) || !slices.Equal(second.GetLeavers(), []string{"A"}) {
		t.Errorf("minute 1: entrants %v leavers %v, want [D] [A]", second.GetNewEntrants(), second.GetLeavers())
	}
	third := m[2].GetStats()
	if len(third.GetNewEntrants())+len(third.GetLeavers()) != 0 {
		t.Errorf("minute 3 after an empty minute: entrants %v leavers %v, want none", third.GetNewEntrants(), third.GetLeavers())
	}
	// The current 1-hour sliding window of e2 compares with the window a minute earlier.
	s := updatesOf(a.updates, slidingK, time.Hour)[1].GetStats()
	if !slices.Equal(s.GetNewEntrants(), []string{"D"}) || len(s.GetLeavers()) != 0 {
		t.Errorf("sliding 1h at 08:02: entrants %v leavers %v, want [D] []", s.GetNewEntrants(), s.GetLeavers())
	}
	// A late page of minute 1 changes minute 1 and, through its entrants, nothing else.
	n := len(a.updates)
	a.apply(page(kw, t0.Add(70*time.Second), "e4", listings(item{asin: "A", pos: 4})...))
	for _, u := range updatesOf(a.updates[n:], tumblingK, time.Minute) {
		if windowKey(u) != "WINDOW_KIND_TUMBLING/60/60/2025-03-10T08:01:00Z" {
			t.Errorf("late page of minute 1 updated %s", windowKey(u))
		}
		if st := u.GetStats(); !slices.Equal(st.GetLeavers(), nil) || !slices.Equal(st.GetNewEntrants(), []string{"D"}) {
			t.Errorf("minute 1 after A came back: entrants %v leavers %v, want [D] []", st.GetNewEntrants(), st.GetLeavers())
		}
	}
}

func TestLateEvents(t *testing.T) {
	a := newApplier(t, DefaultConfig(), nil)
	a.apply(page(kw, t0, "e1", listings(item{asin: "A", pos: 1, price: 1000})...),
		page(kw, t0.Add(30*time.Minute), "e2", listings(item{asin: "A", pos: 1, price: 1000})...))

	// 20 minutes behind the watermark: too late for its minute, not for its hour or the day.
	n := len(a.updates)
	a.apply(page(kw, t0.Add(10*time.Minute), "e3", listings(item{asin: "B", pos: 2, price: 500})...))
	if len(a.late) != 0 {
		t.Fatalf("an event within the open 1-hour window was sent as late")
	}
	for _, u := range a.updates[n:] {
		if u.GetWindow().GetSizeSeconds() == 60 {
			t.Errorf("closed minute window updated: %s", windowKey(u))
		}
	}
	if len(updatesOf(a.updates[n:], tumblingK, time.Hour)) != 1 || len(updatesOf(a.updates[n:], tumblingK, 24*time.Hour)) != 1 ||
		len(updatesOf(a.updates[n:], slidingK, 24*time.Hour)) != 0 {
		t.Errorf("the event must update its hour and its day, and no sliding window (the watermark stays in its minute): %d updates", len(a.updates)-n)
	}

	// A day and an hour later every window of 08:05 is closed: late.
	a.apply(page(kw, t0.Add(25*time.Hour+20*time.Minute), "e4", listings(item{asin: "A", pos: 1, price: 1000})...))
	before := mustMarshal(t, a.st)
	n = len(a.updates)
	lateEv := page(kw, t0.Add(5*time.Minute), "e5", listings(item{asin: "C", pos: 1, price: 1})...)
	a.apply(lateEv)
	if len(a.late) != 1 || len(a.updates) != n {
		t.Fatalf("late events %d, updates %d; want one late event and no update", len(a.late), len(a.updates)-n)
	}
	le := a.late[0]
	if le.GetKeyword() != kw || le.GetLateEventId() != "e5" || !le.GetLateEventTime().AsTime().Equal(t0.Add(5*time.Minute)) ||
		!le.GetWatermark().AsTime().Equal(t0.Add(25*time.Hour+20*time.Minute)) || !proto.Equal(le.GetObserved(), lateEv) ||
		le.GetEnvelope().GetCausationId() != "e5" || le.GetEnvelope().GetEventId() == "" {
		t.Errorf("late event %v", le)
	}
	if a.st.GetLateEvents() != 1 {
		t.Errorf("late count %d, want 1", a.st.GetLateEvents())
	}
	a.st.LateEvents = 0
	if !slices.Equal(before, mustMarshal(t, a.st)) {
		t.Error("a late event changed more than the late count")
	}
}

func TestTickClosesQuietKeyword(t *testing.T) {
	cfg := DefaultConfig()
	a := newApplier(t, cfg, nil)
	a.apply(page(kw, t0.Add(10*time.Second), "e1", listings(item{asin: "A", pos: 1, price: 1000})...),
		page(kw, t0.Add(70*time.Second), "e2", listings(item{asin: "A", pos: 1, price: 1100})...))
	d, ok := NextDeadline(a.st, cfg)
	if want := t0.Add(time.Minute + cfg.AllowedLateness + cfg.TickGrace); !ok || !d.Equal(want) {
		t.Fatalf("next deadline %v %v, want %v (first minute's end + lateness + grace)", d, ok, want)
	}
	n := len(a.updates)
	a.tick(d.Add(-time.Millisecond))
	if len(a.updates) != n {
		t.Fatalf("a tick before the deadline closed windows")
	}
	a.tick(d)
	finals := finalsOf(a.updates[n:])
	if len(finals) != 3 {
		t.Fatalf("tick at the deadline: %d finals, want 3 (the minute and both sliding windows ending 08:01)", len(finals))
	}
	for _, u := range finals {
		if u.GetClosedBy() != ClosedByTick || !u.GetWindow().GetEnd().AsTime().Equal(t0.Add(time.Minute)) {
			t.Errorf("tick final %s closed by %q", windowKey(u), u.GetClosedBy())
		}
	}
	// Three days of processing time later every window is closed and the state holds nothing.
	a.tick(t0.Add(72 * time.Hour))
	if _, ok := NextDeadline(a.st, cfg); ok {
		t.Error("a deadline remains after every window closed")
	}
	if len(a.st.GetProducts())+len(a.st.GetPageTimesUnixMs()) != 0 {
		t.Errorf("closed windows left %d products and %d pages in the state", len(a.st.GetProducts()), len(a.st.GetPageTimesUnixMs()))
	}
	for _, sr := range a.st.GetSeries() {
		if len(sr.GetEmitted()) != 0 || sr.GetLastClosed() != nil {
			t.Errorf("series %v kept %d emitted windows and last closed %v", sr.GetKind(), len(sr.GetEmitted()), sr.GetLastClosed())
		}
	}
	finalsByWindow := map[string]int{}
	for _, u := range finalsOf(a.updates) {
		finalsByWindow[windowKey(u)]++
	}
	// 2 minute windows, 1 hour, 1 day, and the sliding windows holding 08:00:10 or 08:01:10.
	if want := 2 + 1 + 1 + 61 + 1441; len(finalsByWindow) != want {
		t.Errorf("%d windows got a final, want %d", len(finalsByWindow), want)
	}
	if proto.Size(a.st) > 200 {
		t.Errorf("the state of a keyword without open windows takes %d bytes", proto.Size(a.st))
	}
	// After the ticks the old event is late, not a new window.
	a.apply(page(kw, t0.Add(2*time.Minute), "e3", listings(item{asin: "B", pos: 1})...))
	if len(a.late) != 1 {
		t.Errorf("an event into windows closed by ticks is not late")
	}
	if out := Tick(nil, t0, cfg); out.Changed || out.State != nil {
		t.Error("a tick created a state")
	}
}

func TestNewTopCompetitorAnomaly(t *testing.T) {
	a := newApplier(t, DefaultConfig(), nil)
	var hour8, hour9 []item
	for i := range 11 {
		asin := string(rune('A' + i))
		hour8 = append(hour8, item{asin: asin, pos: int32(i + 1), brand: "Brand" + asin, badge: int64(1000 - 50*i)})
		hour9 = append(hour9, hour8[i])
	}
	hour9[10].badge = 5000 // K jumps to #1
	a.apply(page(kw, t0.Add(55*time.Minute), "h8", listings(hour8...)...))
	a.apply(page(kw, t0.Add(61*time.Minute), "h9", listings(hour9...)...))
	if len(a.anoms) != 0 {
		t.Fatalf("anomalies before any hour closed: %v", a.anoms)
	}
	a.apply(page(kw, t0.Add(131*time.Minute), "h10", listings(hour9...)...)) // closes 09:00-10:00
	if len(a.anoms) != 1 {
		t.Fatalf("%d anomalies, want 1 (K entered the top 10)", len(a.anoms))
	}
	an := a.anoms[0]
	if an.GetAsin() != "K" || an.GetKind() != marketv1.AnomalyKind_ANOMALY_KIND_NEW_TOP10_COMPETITOR || an.GetSeverity() != marketv1.Severity_SEVERITY_CRITICAL ||
		an.GetKeyword() != kw || an.GetScore() != 10 || !approx(an.GetObserved(), math.Sqrt(5000*6000)) {
		t.Errorf("anomaly %v", an)
	}
	want := "BrandK charger K (K) entered the top 10 for 'portable charger' at #1 with ~5,500 sales/month."
	if an.GetExplanation() != want {
		t.Errorf("explanation %q, want %q", an.GetExplanation(), want)
	}
	if an.GetAnomalyId() == "" || !an.GetEnvelope().GetEventTime().AsTime().Equal(t0.Add(2*time.Hour)) {
		t.Errorf("anomaly id %q event time %v", an.GetAnomalyId(), an.GetEnvelope().GetEventTime().AsTime())
	}
	// The same events in another order (within the allowed lateness) give the same anomaly, id included.
	b := newApplier(t, DefaultConfig(), nil)
	b.apply(page(kw, t0.Add(61*time.Minute), "h9", listings(hour9...)...), page(kw, t0.Add(55*time.Minute), "h8", listings(hour8...)...),
		page(kw, t0.Add(131*time.Minute), "h10", listings(hour9...)...))
	if len(b.anoms) != 1 || !proto.Equal(b.anoms[0], an) {
		t.Errorf("reordered events gave anomalies %v", b.anoms)
	}
}

func TestSalesEstimateSources(t *testing.T) {
	calls := 0
	a := newApplier(t, DefaultConfig(), rankLookup(&calls))
	withRank := item{asin: "R", pos: 3}.listing()
	withRank.Attributes.Ranks = []*marketv1.BestSellersRank{{Rank: 10, Category: "Books"}}
	a.apply(page(kw, t0, "e1", item{asin: "A", pos: 1, badge: 200}.listing(), item{asin: "B", pos: 2}.listing(), withRank, item{asin: "N", pos: 4}.listing()))
	if calls != 2 {
		t.Errorf("lookup called %d times, want 2 (B and N show neither badge nor rank)", calls)
	}
	top := a.updates[0].GetStats().GetTopBySales()
	got := map[string]string{}
	for _, p := range top {
		got[p.GetAsin()] = p.GetSales().GetMethod()
	}
	if len(top) != 3 || got["A"] != "bought_past_month" || got["B"] != "rank_power_law" || got["R"] != "rank_power_law" {
		t.Errorf("top %v: want A by badge, B by looked-up rank, R by its card's rank, N absent", got)
	}
	if r := top[0]; r.GetAsin() != "R" || !approx(r.GetSales().GetUnits(), 161_400*math.Pow(10, -0.871)) {
		t.Errorf("R (#10 in Books) = %v", r)
	}
}

func TestStateSize(t *testing.T) {
	for _, tc := range []struct {
		name           string
		churn          float64
		limit, written int // bytes of the state unpacked (proto.Size) and as the codec writes it
	}{
		{"stable", 0, 40 << 10, 28 << 10},
		{"a tenth of the slots change product every hour", 0.1 / 60, 48 << 10, 34 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(7, kw, 48, 120)
			s.churn = tc.churn
			a := newApplier(t, DefaultConfig(), s.lookup)
			for _, ev := range s.run(t0, 24*60, time.Minute, 20*time.Second) {
				out, err := Apply(a.st, ev, s.lookup, a.cfg)
				if err != nil {
					t.Fatal(err)
				}
				a.st = out.State
			}
			size := proto.Size(a.st)
			var points, attrs, labels, pointBytes, attrBytes, labelBytes, seriesBytes int
			for _, p := range a.st.GetProducts() {
				points += len(p.GetPoints())
				attrs += len(p.GetAttributes())
				labels += len(p.GetLabels())
				pointBytes += proto.Size(&marketv1.ProductTrail{Points: p.Points})
				attrBytes += proto.Size(&marketv1.ProductTrail{Attributes: p.Attributes})
				labelBytes += proto.Size(&marketv1.ProductTrail{Labels: p.Labels})
			}
			for _, s := range a.st.GetSeries() {
				seriesBytes += proto.Size(s)
			}
			pages := (&marketv1.KeywordWindowsState{PageTimesUnixMs: a.st.PageTimesUnixMs, PageKeys: a.st.PageKeys})
			raw, err := newStateCodec(0).Encode(a.st)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("48 listings x 24 h of 1-minute scrapes: %d bytes written (%d unpacked): %d products; %d listing points %d B unpacked, %d figure sets %d B, %d labels %d B; "+
				"%d pages %d B unpacked; series %d B",
				len(raw), size, len(a.st.GetProducts()), points, pointBytes, attrs, attrBytes, labels, labelBytes,
				len(a.st.GetPageTimesUnixMs()), proto.Size(pages), seriesBytes)
			if size > tc.limit {
				t.Errorf("state of one keyword is %d bytes unpacked, want at most %d", size, tc.limit)
			}
			if len(raw) > tc.written {
				t.Errorf("state of one keyword is %d bytes written, want at most %d", len(raw), tc.written)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no series", func(c *Config) { c.Series = nil }, "no window series"},
		{"sliding size not a multiple of step", func(c *Config) { c.Series = []Series{Sliding(time.Hour, 7*time.Minute)} }, "multiple of its step"},
		{"size below resolution", func(c *Config) { c.Series = []Series{Tumbling(30 * time.Second)} }, "resolution"},
		{"repeated series", func(c *Config) { c.Series = append(c.Series, Tumbling(time.Minute)) }, "repeats"},
		{"top series not tumbling", func(c *Config) { c.TopChangeSeries = Sliding(time.Hour, time.Minute) }, "top-change series"},
		{"no output", func(c *Config) { c.Output = "" }, "output topic is empty"},
		{"no sales model", func(c *Config) { c.Sales = nil }, "no sales model"},
		{"fractional seconds", func(c *Config) {
			c.Resolution = time.Millisecond
			c.Series = []Series{Tumbling(1500 * time.Millisecond)}
		}, "whole seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestInvalidEvents(t *testing.T) {
	cfg := DefaultConfig()
	good := page(kw, t0, "e1")
	for name, ev := range map[string]*marketv1.SearchResultsObserved{
		"no keyword":    {Envelope: good.Envelope},
		"no envelope":   {Keyword: kw},
		"no event time": {Keyword: kw, Envelope: &marketv1.Envelope{EventId: "x"}},
		"no event id":   {Keyword: kw, Envelope: &marketv1.Envelope{EventTime: good.Envelope.EventTime}},
	} {
		if _, err := Apply(nil, ev, nil, cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	out, _ := Apply(nil, good, nil, cfg)
	if _, err := Apply(out.State, page("other", t0, "e2"), nil, cfg); err == nil {
		t.Error("another keyword's event applied to the state")
	}
}

func TestNameUUIDIsUUIDv5(t *testing.T) {
	for _, name := range []string{"", "a", strings.Repeat("long name ", 40)} {
		if got, want := sha1UUID(nsWindows, []byte(name)), uuid.NewSHA1(nsWindows, []byte(name)).String(); got != want {
			t.Errorf("sha1UUID(%q) = %s, want %s", name, got, want)
		}
	}
}

func TestRoughCountAndLabel(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 0.4: "0", 73.2: "73", 99.6: "100", 1234.5: "1,200", 1414.2: "1,400", 5477: "5,500", 1_250_000: "1,300,000"} {
		if got := roughCount(v); got != want {
			t.Errorf("roughCount(%v) = %q, want %q", v, got, want)
		}
	}
	if got := productLabel("B1", ""); got != "B1" {
		t.Errorf("label without title %q", got)
	}
	if got := productLabel("B1", strings.Repeat("x", 80)); len([]rune(got)) != 60+len(" (B1)") {
		t.Errorf("long title label %q", got)
	}
}
