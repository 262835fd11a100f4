package products

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

const asin = "B0TEST0001"

func TestApplyNewProduct(t *testing.T) {
	cfg := DefaultConfig()
	o := full(asin, 1, 0)
	res, err := Apply(cfg, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	st := res.State
	if !res.Changed || res.Duplicate || res.Late {
		t.Fatalf("result flags = changed %v duplicate %v late %v, want changed only", res.Changed, res.Duplicate, res.Late)
	}
	if st.GetAsin() != asin || st.GetMarketplace() != "amazon.com" {
		t.Errorf("asin, marketplace = %q, %q", st.GetAsin(), st.GetMarketplace())
	}
	if !proto.Equal(st.GetLatest(), o.GetAttributes()) {
		t.Errorf("latest = %v, want the observation's attributes %v", st.GetLatest(), o.GetAttributes())
	}
	ms := t0.UnixMilli()
	for _, f := range []string{FieldMarketplace, FieldTitle, FieldPrice, FieldRating, FieldReviewCount, FieldRanks, FieldPrime, FieldSellerCount, FieldAvailability} {
		if got := st.GetFieldTimeUnixMs()[f]; got != ms {
			t.Errorf("field time of %s = %d, want %d", f, got, ms)
		}
		if got := st.GetFieldEventId()[f]; got != eventID(1) {
			t.Errorf("field event id of %s = %q, want %q", f, got, eventID(1))
		}
	}
	if _, ok := st.GetFieldTimeUnixMs()[FieldBrand]; ok {
		t.Errorf("brand has a field time though no observation carried it")
	}
	if !st.GetFirstSeen().AsTime().Equal(t0) || !st.GetLastSeen().AsTime().Equal(t0) {
		t.Errorf("first/last seen = %v/%v, want %v", st.GetFirstSeen().AsTime(), st.GetLastSeen().AsTime(), t0)
	}
	if st.GetObservationCount() != 1 || st.GetVersion() != 1 {
		t.Errorf("count, version = %d, %d, want 1, 1", st.GetObservationCount(), st.GetVersion())
	}
	if len(st.GetPriceHistory()) != 1 || st.GetPriceHistory()[0].GetAmountMinor() != 2999 || st.GetPriceEwma() != 2999 {
		t.Errorf("price history %v, ewma %v", st.GetPriceHistory(), st.GetPriceEwma())
	}
	if st.ReviewVelocityPerDay != nil || st.RankTrendPerDay != nil {
		t.Errorf("velocity and trend need two points, got %v %v", st.ReviewVelocityPerDay, st.RankTrendPerDay)
	}
	if !slices.Equal(st.GetRecentEventIds(), []string{eventID(1)}) || !slices.Equal(st.GetRecentEventTimeUnixMs(), []int64{ms}) {
		t.Errorf("recent = %v %v", st.GetRecentEventIds(), st.GetRecentEventTimeUnixMs())
	}

	ch := res.Change
	if ch == nil {
		t.Fatal("no change event for a new product")
	}
	if !slices.Equal(ch.GetChanges(), []marketv1.ProductChangeKind{marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_NEW_PRODUCT}) {
		t.Errorf("changes = %v, want NEW_PRODUCT", ch.GetChanges())
	}
	if ch.Before != nil {
		t.Errorf("before = %v, want absent for a new product", ch.Before)
	}
	if !proto.Equal(ch.GetAfter(), o.GetAttributes()) {
		t.Errorf("after = %v", ch.GetAfter())
	}
	env := ch.GetEnvelope()
	if err := marketv1.ValidateEnvelope(env); err != nil {
		t.Errorf("change envelope: %v", err)
	}
	if env.GetEventId() != ChangeEventID(eventID(1)) || !env.GetEventTime().AsTime().Equal(t0) ||
		env.GetCausationId() != eventID(1) || env.GetCorrelationId() != "corr" || env.GetProducer() != cfg.Producer {
		t.Errorf("change envelope = %v", env)
	}
	if ch.GetVersion() != 1 || ch.GetObservationCount() != 1 || ch.GetKeyword() != "usb charger" ||
		ch.GetObservationEventId() != eventID(1) || ch.GetPriceEwma() != 2999 || ch.GetAsin() != asin {
		t.Errorf("change = %v", ch)
	}
}

func TestApplyDuplicateChangesNothing(t *testing.T) {
	cfg := DefaultConfig()
	st, _, err := applyAll(cfg, full(asin, 1, 0), observation(asin, 2, time.Hour, price(1999)))
	if err != nil {
		t.Fatal(err)
	}
	before := proto.Clone(st).(*marketv1.ProductState)
	for _, o := range []*marketv1.ProductObserved{full(asin, 1, 0), observation(asin, 2, time.Hour, price(1999))} {
		res, err := Apply(cfg, st, o)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Duplicate || res.Changed || res.Change != nil {
			t.Errorf("redelivered %s: duplicate %v changed %v change %v", o.GetEnvelope().GetEventId(), res.Duplicate, res.Changed, res.Change)
		}
		if !proto.Equal(res.State, before) {
			t.Errorf("redelivered %s changed the state", o.GetEnvelope().GetEventId())
		}
	}
}

func TestApplyLastWriterWinsPerField(t *testing.T) {
	cfg := DefaultConfig()
	newer := observation(asin, 2, 2*time.Hour, price(1500), title("New title"))
	older := observation(asin, 1, time.Hour, price(9900), title("Old title"), rating(3.9))
	for name, order := range map[string][]*marketv1.ProductObserved{
		"in order":     {older, newer},
		"out of order": {newer, older},
	} {
		t.Run(name, func(t *testing.T) {
			st, _, err := applyAll(cfg, order...)
			if err != nil {
				t.Fatal(err)
			}
			l := st.GetLatest()
			if l.GetPrice().GetAmountMinor() != 1500 || l.GetTitle() != "New title" {
				t.Errorf("price, title = %d, %q: the older observation overwrote the newer", l.GetPrice().GetAmountMinor(), l.GetTitle())
			}
			if l.GetRating() != 3.9 {
				t.Errorf("rating = %v: only the older observation carried it, it must be kept", l.GetRating())
			}
			if got := st.GetFieldTimeUnixMs()[FieldRating]; got != t0.Add(time.Hour).UnixMilli() {
				t.Errorf("rating time = %d", got)
			}
			if got := st.GetFieldTimeUnixMs()[FieldPrice]; got != t0.Add(2*time.Hour).UnixMilli() {
				t.Errorf("price time = %d", got)
			}
			if !st.GetFirstSeen().AsTime().Equal(t0.Add(time.Hour)) || !st.GetLastSeen().AsTime().Equal(t0.Add(2*time.Hour)) {
				t.Errorf("first/last seen = %v/%v", st.GetFirstSeen().AsTime(), st.GetLastSeen().AsTime())
			}
			// Both prices are history, in event-time order, whatever the arrival order.
			var hist []int64
			for _, p := range st.GetPriceHistory() {
				hist = append(hist, p.GetAmountMinor())
			}
			if !slices.Equal(hist, []int64{9900, 1500}) {
				t.Errorf("price history = %v, want [9900 1500]", hist)
			}
			if want := 9900 + 0.2*(1500-9900); st.GetPriceEwma() != want {
				t.Errorf("ewma = %v, want %v", st.GetPriceEwma(), want)
			}
		})
	}
}

func TestApplyAbsentFieldsNeverErase(t *testing.T) {
	cfg := DefaultConfig()
	bare := observation(asin, 2, time.Hour)
	bare.Attributes = nil
	st, changes, err := applyAll(cfg, full(asin, 1, 0), observation(asin, 3, 2*time.Hour, title("Renamed")), bare)
	if err != nil {
		t.Fatal(err)
	}
	want := full(asin, 1, 0).GetAttributes()
	want.Title = proto.String("Renamed")
	if !proto.Equal(st.GetLatest(), want) {
		t.Errorf("latest = %v, want %v", st.GetLatest(), want)
	}
	if len(changes) != 1 {
		t.Errorf("a title change is not material: got %d change events, want only the new product's", len(changes))
	}
	if st.GetObservationCount() != 3 || st.GetVersion() != 3 {
		t.Errorf("count, version = %d, %d, want 3, 3", st.GetObservationCount(), st.GetVersion())
	}
}

func TestApplyTiesBrokenByEventID(t *testing.T) {
	cfg := DefaultConfig()
	a := observation(asin, 1, time.Hour, price(1000), withID("00000000-0000-7000-8000-00000000000a"))
	b := observation(asin, 2, time.Hour+300*time.Microsecond, price(2000), withID("00000000-0000-7000-8000-00000000000b"))
	for _, order := range [][]*marketv1.ProductObserved{{a, b}, {b, a}} {
		st, _, err := applyAll(cfg, order...)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.GetLatest().GetPrice().GetAmountMinor(); got != 2000 {
			t.Errorf("price = %d, want 2000 (same millisecond: the larger event id wins)", got)
		}
	}
}

func TestApplyMaterialChanges(t *testing.T) {
	type kinds = []marketv1.ProductChangeKind
	const (
		kPrice  = marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_PRICE
		kRating = marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_RATING
		kRev    = marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_REVIEWS
		kRank   = marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_RANK
		kAvail  = marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_AVAILABILITY
		kPrime  = marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_PRIME
		kSell   = marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_SELLER_COUNT
	)
	tests := []struct {
		name string
		opts []obsOpt
		want kinds // nil: no event
	}{
		{"same values", []obsOpt{price(2999), rating(4.5), reviews(1200), rank(42, "Electronics"), prime(true)}, nil},
		{"title only", []obsOpt{title("Other")}, nil},
		{"secondary rank only", []obsOpt{func(o *marketv1.ProductObserved) {
			o.Attributes.Ranks = []*marketv1.BestSellersRank{{Rank: 42, Category: "Electronics"}, {Rank: 7, Category: "Chargers"}}
		}}, nil},
		{"price", []obsOpt{price(2499)}, kinds{kPrice}},
		{"currency", []obsOpt{func(o *marketv1.ProductObserved) {
			o.Attributes.Price = &marketv1.Money{AmountMinor: 2999, Currency: "EUR"}
		}}, kinds{kPrice}},
		{"rating", []obsOpt{rating(4.4)}, kinds{kRating}},
		{"reviews", []obsOpt{reviews(1201)}, kinds{kRev}},
		{"rank", []obsOpt{rank(40, "Electronics")}, kinds{kRank}},
		{"rank category", []obsOpt{rank(42, "Computers")}, kinds{kRank}},
		{"availability", []obsOpt{availability(marketv1.Availability_AVAILABILITY_OUT_OF_STOCK)}, kinds{kAvail}},
		{"prime", []obsOpt{prime(false)}, kinds{kPrime}},
		{"seller count", []obsOpt{sellers(4)}, kinds{kSell}},
		{"several", []obsOpt{sellers(5), price(1), title("x"), prime(false)}, kinds{kPrice, kPrime, kSell}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			st, _, err := applyAll(cfg, full(asin, 1, 0))
			if err != nil {
				t.Fatal(err)
			}
			prev := proto.Clone(st.GetLatest()).(*marketv1.ProductAttributes)
			res, err := Apply(cfg, st, observation(asin, 2, time.Hour, tc.opts...))
			if err != nil {
				t.Fatal(err)
			}
			if !res.Changed || res.State.GetVersion() != 2 {
				t.Errorf("changed %v version %d: a new observation always changes the state", res.Changed, res.State.GetVersion())
			}
			if tc.want == nil {
				if res.Change != nil {
					t.Errorf("change %v, want none", res.Change.GetChanges())
				}
				return
			}
			if res.Change == nil {
				t.Fatalf("no change event, want %v", tc.want)
			}
			if !slices.Equal(res.Change.GetChanges(), tc.want) {
				t.Errorf("changes = %v, want %v", res.Change.GetChanges(), tc.want)
			}
			if !proto.Equal(res.Change.GetBefore(), prev) {
				t.Errorf("before = %v, want %v", res.Change.GetBefore(), prev)
			}
			if !proto.Equal(res.Change.GetAfter(), res.State.GetLatest()) {
				t.Errorf("after = %v, want the new latest %v", res.Change.GetAfter(), res.State.GetLatest())
			}
			if res.Change.GetVersion() != 2 || res.Change.GetObservationCount() != 2 {
				t.Errorf("version, count = %d, %d", res.Change.GetVersion(), res.Change.GetObservationCount())
			}
		})
	}
}

func TestApplyLateObservation(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RecentEvents = 4
	var obs []*marketv1.ProductObserved
	for i := range 6 {
		obs = append(obs, observation(asin, 10+i, time.Duration(8+i)*time.Hour, price(int64(1000+i))))
	}
	st, _, err := applyAll(cfg, obs...)
	if err != nil {
		t.Fatal(err)
	}

	// Older than the four recent observations and than every field it carries: nothing changes,
	// nothing is emitted, nothing is counted.
	res, err := Apply(cfg, st, observation(asin, 1, 9*time.Hour, price(5)))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Late || res.Changed || res.Change != nil {
		t.Errorf("late, changed, change = %v, %v, %v; want late only", res.Late, res.Changed, res.Change)
	}

	// Late for the histories, but its seller count is the only one ever seen and it is older than
	// first seen: latest and first seen take it, the count and histories do not.
	count, prices := st.GetObservationCount(), len(st.GetPriceHistory())
	res, err = Apply(cfg, st, observation(asin, 2, time.Hour, price(7), sellers(9)))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Late || !res.Changed {
		t.Fatalf("late, changed = %v, %v; want both", res.Late, res.Changed)
	}
	st = res.State
	if st.GetLatest().GetSellerCount() != 9 || st.GetLatest().GetPrice().GetAmountMinor() != 1005 {
		t.Errorf("latest = %v", st.GetLatest())
	}
	if !st.GetFirstSeen().AsTime().Equal(t0.Add(time.Hour)) {
		t.Errorf("first seen = %v", st.GetFirstSeen().AsTime())
	}
	if st.GetObservationCount() != count || len(st.GetPriceHistory()) != prices {
		t.Errorf("count %d -> %d, prices %d -> %d: a late observation must not enter the histories", count, st.GetObservationCount(), prices, len(st.GetPriceHistory()))
	}
	if res.Change == nil || !slices.Equal(res.Change.GetChanges(), []marketv1.ProductChangeKind{marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_SELLER_COUNT}) {
		t.Errorf("change = %v, want SELLER_COUNT", res.Change)
	}

	// Its redelivery changes nothing.
	before := proto.Clone(st).(*marketv1.ProductState)
	res, err = Apply(cfg, st, observation(asin, 2, time.Hour, price(7), sellers(9)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed || res.Change != nil || !proto.Equal(res.State, before) {
		t.Errorf("redelivered late observation changed the state")
	}
}

func TestApplyHistoriesAndStatistics(t *testing.T) {
	cfg := DefaultConfig()
	var obs []*marketv1.ProductObserved
	// 100 prices, 4 per day (every 6 h), 1000..1099.
	for i := range 100 {
		obs = append(obs, observation(asin, i+1, time.Duration(i)*6*time.Hour, price(int64(1000+i))))
	}
	st, _, err := applyAll(cfg, obs...)
	if err != nil {
		t.Fatal(err)
	}
	h := st.GetPriceHistory()
	if len(h) != cfg.PriceHistory || h[0].GetAmountMinor() != 1010 || h[len(h)-1].GetAmountMinor() != 1099 {
		t.Fatalf("price history: %d points from %d to %d, want 90 from 1010 to 1099", len(h), h[0].GetAmountMinor(), h[len(h)-1].GetAmountMinor())
	}
	days := st.GetDailyPrices()
	if len(days) != 26 {
		t.Fatalf("daily prices: %d days, want 26 (594 h from 12:00)", len(days))
	}
	// t0 is 12:00, so the first day has 2 prices (12:00, 18:00), then 4 a day.
	if d := days[0]; d.GetDay() != 20250310 || d.GetCount() != 2 || d.GetMinMinor() != 1000 || d.GetMaxMinor() != 1001 || d.GetSumMinor() != 2001 {
		t.Errorf("first day = %v", d)
	}
	if d := days[1]; d.GetDay() != 20250311 || d.GetCount() != 4 || d.GetMinMinor() != 1002 || d.GetMaxMinor() != 1005 || d.GetSumMinor() != 1002+1003+1004+1005 {
		t.Errorf("second day = %v", d)
	}
	want := 1010.0
	for _, p := range h[1:] {
		want = 0.2*float64(p.GetAmountMinor()) + 0.8*want
	}
	if math.Abs(st.GetPriceEwma()-want) > 1e-9 {
		t.Errorf("ewma = %v, want %v", st.GetPriceEwma(), want)
	}

	// Review velocity and rank trend.
	st, _, err = applyAll(cfg,
		observation(asin, 1, 0, reviews(100), rank(500, "Toys")),
		observation(asin, 2, 24*time.Hour, reviews(110), rank(490, "Toys")),
		observation(asin, 3, 48*time.Hour, reviews(120), rank(480, "Toys")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if v := st.GetReviewVelocityPerDay(); math.Abs(v-10) > 1e-9 {
		t.Errorf("review velocity = %v, want 10", v)
	}
	if tr := st.GetRankTrendPerDay(); math.Abs(tr+10) > 1e-9 {
		t.Errorf("rank trend = %v, want -10", tr)
	}

	// The windows: a point older than the velocity window is not used.
	st, _, err = applyAll(cfg,
		observation(asin, 1, 0, reviews(0)),
		observation(asin, 2, 40*24*time.Hour, reviews(100)),
		observation(asin, 3, 50*24*time.Hour, reviews(200)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if v := st.GetReviewVelocityPerDay(); math.Abs(v-10) > 1e-9 {
		t.Errorf("review velocity = %v, want 10 (from the points of the last 30 days)", v)
	}
	// Points closer than MinSeriesSpan give no rate.
	st, _, err = applyAll(cfg, observation(asin, 1, 0, reviews(0)), observation(asin, 2, time.Minute, reviews(100)))
	if err != nil {
		t.Fatal(err)
	}
	if st.ReviewVelocityPerDay != nil {
		t.Errorf("review velocity = %v from points a minute apart, want absent", st.GetReviewVelocityPerDay())
	}
}

func TestApplyBoundsDailyPrices(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DailyPrices = 3
	var obs []*marketv1.ProductObserved
	for i := range 5 {
		obs = append(obs, observation(asin, i+1, time.Duration(i)*24*time.Hour, price(100)))
	}
	// A price of a day older than the kept ones comes last: it must not come back.
	obs = append(obs, observation(asin, 9, -24*time.Hour, price(1)))
	st, _, err := applyAll(cfg, obs...)
	if err != nil {
		t.Fatal(err)
	}
	var got []int32
	for _, d := range st.GetDailyPrices() {
		got = append(got, d.GetDay())
	}
	if !slices.Equal(got, []int32{20250312, 20250313, 20250314}) {
		t.Errorf("days = %v", got)
	}
}

func TestApplyRejectsInvalidObservations(t *testing.T) {
	cfg := DefaultConfig()
	tests := map[string]func(*marketv1.ProductObserved){
		"no envelope":   func(o *marketv1.ProductObserved) { o.Envelope = nil },
		"no event id":   func(o *marketv1.ProductObserved) { o.Envelope.EventId = "" },
		"bad event id":  func(o *marketv1.ProductObserved) { o.Envelope.EventId = "not-a-uuid" },
		"no event time": func(o *marketv1.ProductObserved) { o.Envelope.EventTime = nil },
		"bad time":      func(o *marketv1.ProductObserved) { o.Envelope.EventTime = &timestamppb.Timestamp{Nanos: -1} },
		"no asin":       func(o *marketv1.ProductObserved) { o.Asin = "" },
	}
	for name, spoil := range tests {
		t.Run(name, func(t *testing.T) {
			o := full(asin, 1, 0)
			spoil(o)
			res, err := Apply(cfg, nil, o)
			if !errors.Is(err, ErrInvalidObservation) {
				t.Errorf("err = %v, want ErrInvalidObservation", err)
			}
			if res.Changed || res.Change != nil {
				t.Errorf("an invalid observation changed the state")
			}
		})
	}
	st, _, _ := applyAll(cfg, full(asin, 1, 0))
	if _, err := Apply(cfg, st, full("B0OTHER000", 2, time.Hour)); !errors.Is(err, ErrInvalidObservation) {
		t.Errorf("observation of another asin: err = %v, want ErrInvalidObservation", err)
	}
}

func TestChangeEventIDIsDeterministicUUIDv5(t *testing.T) {
	a, b := ChangeEventID(eventID(1)), ChangeEventID(eventID(1))
	if a != b {
		t.Fatalf("ids differ: %s %s", a, b)
	}
	u, err := uuid.Parse(a)
	if err != nil || u.Version() != 5 {
		t.Fatalf("id %s: version %v, err %v; want a UUIDv5", a, u.Version(), err)
	}
	if ChangeEventID(eventID(2)) == a {
		t.Errorf("different observations got the same change id")
	}
}

func TestMainCategoryRank(t *testing.T) {
	cfg := DefaultConfig()
	tests := []struct {
		name string
		obs  []*marketv1.ProductObserved
		want CategoryRank
		ok   bool
	}{
		{"nothing", []*marketv1.ProductObserved{observation(asin, 1, 0, price(1))}, CategoryRank{}, false},
		{"rank", []*marketv1.ProductObserved{observation(asin, 1, time.Hour, rank(7, "Toys"), category("Puzzles"))},
			CategoryRank{Category: "Toys", Rank: 7, ObservedAt: t0.Add(time.Hour)}, true},
		{"category only", []*marketv1.ProductObserved{observation(asin, 1, time.Hour, category("Puzzles"))},
			CategoryRank{Category: "Puzzles", ObservedAt: t0.Add(time.Hour)}, true},
		{"latest rank wins", []*marketv1.ProductObserved{
			observation(asin, 2, 2*time.Hour, rank(5, "Toys")), observation(asin, 1, time.Hour, rank(9, "Toys"))},
			CategoryRank{Category: "Toys", Rank: 5, ObservedAt: t0.Add(2 * time.Hour)}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, _, err := applyAll(cfg, tc.obs...)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := MainCategoryRank(st)
			if ok != tc.ok || got.Category != tc.want.Category || got.Rank != tc.want.Rank || !got.ObservedAt.Equal(tc.want.ObservedAt) {
				t.Errorf("MainCategoryRank = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	if _, ok := MainCategoryRank(nil); ok {
		t.Errorf("MainCategoryRank(nil) is ok")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	bad := DefaultConfig()
	bad.RecentEvents = 0
	bad.PriceEWMAAlpha = 1.5
	bad.Input = ""
	if err := bad.Validate(); err == nil {
		t.Fatal("bad config validated")
	}
	if got := DefaultConfig().TableOf(); got != Table {
		t.Errorf("table of the default group = %s, want %s", got, Table)
	}
}

func TestChangeEventIDMatchesUUIDv5(t *testing.T) {
	for _, id := range []string{"", eventID(1), "a-much-longer-observation-id-than-any-uuid-would-ever-be-0123456789abcdef"} {
		if got, want := ChangeEventID(id), uuid.NewSHA1(changeNamespace, []byte(id)).String(); got != want {
			t.Errorf("ChangeEventID(%q) = %s, want %s", id, got, want)
		}
	}
}

func TestInsertAtKeepsNewest(t *testing.T) {
	for keep := 1; keep <= 4; keep++ {
		for n := 0; n <= keep; n++ {
			for i := 0; i <= n; i++ {
				s := make([]int, 0, n)
				for j := range n {
					s = append(s, 10*(j+1))
				}
				want := slices.Insert(slices.Clone(s), i, 10*i+5)
				if len(want) > keep {
					want = want[len(want)-keep:]
				}
				if got := insertAt(s, i, 10*i+5, keep); !slices.Equal(got, want) {
					t.Errorf("keep %d, insert at %d into %v: got %v, want %v", keep, i, s, got, want)
				}
			}
		}
	}
}

func TestApplySeriesKeepOnePointPerBucket(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SeriesHistory = 3
	day := 24 * time.Hour
	// Three days, then a burst of 50 observations within the last day, in reverse order: the
	// burst collapses into its day's point (the latest), the older days stay.
	obs := []*marketv1.ProductObserved{
		observation(asin, 1, 0, reviews(100), rank(900, "Toys")),
		observation(asin, 2, day, reviews(110), rank(800, "Toys")),
	}
	for i := 49; i >= 0; i-- {
		obs = append(obs, observation(asin, 100+i, 2*day+time.Duration(i)*time.Minute, reviews(int64(120+i)), rank(int64(700-i), "Toys")))
	}
	st, _, err := applyAll(cfg, obs...)
	if err != nil {
		t.Fatal(err)
	}
	var got [][2]int64
	for _, p := range st.GetReviewHistory() {
		got = append(got, [2]int64{p.GetTimeUnixMs(), p.GetValue()})
	}
	want := [][2]int64{{t0.UnixMilli(), 100}, {t0.Add(day).UnixMilli(), 110}, {t0.Add(2*day + 49*time.Minute).UnixMilli(), 169}}
	if !slices.Equal(got, want) {
		t.Errorf("review history = %v, want %v", got, want)
	}
	if v, want := st.GetReviewVelocityPerDay(), 69/((2*24*60+49)/(24*60.0)); math.Abs(v-want) > 1e-9 {
		t.Errorf("review velocity = %v, want %v", v, want)
	}
	// A fourth day pushes the first out; an observation of a day older than all kept is ignored.
	st, _, err = applyAll(cfg, append(obs, observation(asin, 300, 3*day, reviews(200)), observation(asin, 301, -day, reviews(1)))...)
	if err != nil {
		t.Fatal(err)
	}
	if h := st.GetReviewHistory(); len(h) != 3 || h[0].GetValue() != 110 || h[2].GetValue() != 200 {
		t.Errorf("review history = %v", h)
	}
}
