package anomalies

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

const asin = "B0TEST0001"

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

var testNS = uuid.MustParse("5b7c1f0e-8c1d-4d7e-9d7a-2f1e3c4b5a69")

// change returns the i-th change of the test product, observed i hours after t0, with the
// attributes after the change.
func change(i int, after *marketv1.ProductAttributes) *marketv1.ProductStateChanged {
	return changeAt(i, t0.Add(time.Duration(i)*time.Hour), after)
}

func changeAt(i int, at time.Time, after *marketv1.ProductAttributes) *marketv1.ProductStateChanged {
	return &marketv1.ProductStateChanged{
		Envelope: &marketv1.Envelope{
			EventId:       uuid.NewSHA1(testNS, []byte(fmt.Sprint("change-", i))).String(),
			EventTime:     timestamppb.New(at),
			Producer:      "product-tracker",
			SchemaVersion: marketv1.SchemaVersion,
			CorrelationId: "job-1",
		},
		Asin:               asin,
		Marketplace:        "amazon.com",
		After:              after,
		Keyword:            "portable charger",
		ObservationEventId: uuid.NewSHA1(testNS, []byte(fmt.Sprint("obs-", i))).String(),
		Version:            int64(i + 1),
	}
}

func priced(minor int64) *marketv1.ProductAttributes {
	return &marketv1.ProductAttributes{Title: proto.String("Anker Power Bank"), Price: &marketv1.Money{AmountMinor: minor, Currency: "USD"}}
}

func analyzer(t testing.TB) *Analyzer {
	t.Helper()
	a, err := NewAnalyzer(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// feed applies the changes in order and returns the final state and every anomaly.
func feed(t testing.TB, a *Analyzer, st *marketv1.DetectorState, evs ...*marketv1.ProductStateChanged) (*marketv1.DetectorState, []*marketv1.AnomalyDetected) {
	t.Helper()
	var all []*marketv1.AnomalyDetected
	for _, ev := range evs {
		out, err := a.Apply(asin, st, ev)
		if err != nil {
			t.Fatalf("apply %v: %v", ev.GetEnvelope().GetEventId(), err)
		}
		st = out.State
		all = append(all, out.Anomalies...)
	}
	return st, all
}

func kinds(ds []*marketv1.AnomalyDetected) []marketv1.AnomalyKind {
	var k []marketv1.AnomalyKind
	for _, d := range ds {
		k = append(k, d.GetKind())
	}
	return k
}

// stablePrices are n changes flickering between $25.00 and $26.50, then the given prices.
func pricesThen(n int, then ...int64) []*marketv1.ProductStateChanged {
	var evs []*marketv1.ProductStateChanged
	for i := range n {
		evs = append(evs, change(i, priced(2500+150*int64(i%2))))
	}
	for j, p := range then {
		evs = append(evs, change(n+j, priced(p)))
	}
	return evs
}

func TestPriceDrop(t *testing.T) {
	a := analyzer(t)
	_, got := feed(t, a, nil, pricesThen(30, 1999)...)
	if len(got) != 1 {
		t.Fatalf("anomalies %v, want one price drop", kinds(got))
	}
	d := got[0]
	if d.GetKind() != marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP || d.GetAsin() != asin || d.GetObserved() != 1999 ||
		d.GetCurrency() != "USD" || d.GetKeyword() != "portable charger" || d.GetMarketplace() != "amazon.com" || d.GetTitle() != "Anker Power Bank" {
		t.Fatalf("anomaly %v", d)
	}
	// The flicker widens the spread (MAD 75 x 1.4826): 576 below the median is 5.2.
	if d.GetSeverity() != marketv1.Severity_SEVERITY_WARNING || math.Abs(d.GetScore()-576/(75*1.4826)) > 1e-9 {
		t.Fatalf("severity %v for score %v", d.GetSeverity(), d.GetScore())
	}
	b := d.GetBaseline()
	if b.GetMethod() != "robust_z" || b.GetCenter() != 2575 || b.GetUsualLow() != 2500 || b.GetUsualHigh() != 2650 || b.GetPoints() != 20 ||
		!b.GetSince().AsTime().Equal(t0.Add(10*time.Hour)) || b.GetScale() != "linear" {
		t.Fatalf("baseline %v", b)
	}
	want := "Price dropped 22% to $19.99, below its usual $25.00-$26.50 range over the last 20 observations."
	if d.GetExplanation() != want {
		t.Fatalf("explanation %q, want %q", d.GetExplanation(), want)
	}
	env := d.GetEnvelope()
	if err := marketv1.ValidateEnvelope(env); err != nil {
		t.Fatal(err)
	}
	src := pricesThen(30, 1999)[30]
	if !env.GetEventTime().AsTime().Equal(src.GetEnvelope().GetEventTime().AsTime()) || env.GetCausationId() != src.GetEnvelope().GetEventId() ||
		env.GetCorrelationId() != "job-1" || env.GetProducer() != Producer || d.GetObservationEventId() != src.GetObservationEventId() {
		t.Fatalf("envelope %v", env)
	}
	if v := uuid.MustParse(env.GetEventId()).Version(); v != 7 {
		t.Fatalf("envelope id version %d, want 7", v)
	}
	if v := uuid.MustParse(d.GetAnomalyId()).Version(); v != 5 {
		t.Fatalf("anomaly id version %d, want 5", v)
	}
}

// Against a steady price the floor (2% of the price) is the spread: a 20% drop scores 10, critical.
func TestPriceDropFromSteadyPriceIsCritical(t *testing.T) {
	var evs []*marketv1.ProductStateChanged
	for i := range 30 {
		evs = append(evs, change(i, priced(2500)))
	}
	evs = append(evs, change(30, priced(2000)))
	_, got := feed(t, analyzer(t), nil, evs...)
	if len(got) != 1 || got[0].GetScore() != 10 || got[0].GetSeverity() != marketv1.Severity_SEVERITY_CRITICAL {
		t.Fatalf("anomalies %v", got)
	}
	if want := "Price dropped 20% to $20.00, below its usual level of $25.00 over the last 20 observations."; got[0].GetExplanation() != want {
		t.Fatalf("explanation %q", got[0].GetExplanation())
	}
}

func TestPriceSpikeAndWarmUp(t *testing.T) {
	a := analyzer(t)
	// A new product whose price jumps during its warm-up raises nothing.
	_, got := feed(t, a, nil, pricesThen(3, 9999, 2500, 2650, 100)...)
	if len(got) != 0 {
		t.Fatalf("anomalies in the warm-up: %v", kinds(got))
	}
	_, got = feed(t, a, nil, pricesThen(30, 3499)...)
	if len(got) != 1 || got[0].GetKind() != marketv1.AnomalyKind_ANOMALY_KIND_PRICE_SPIKE {
		t.Fatalf("anomalies %v, want a price spike", kinds(got))
	}
	if want := "Price rose 36% to $34.99, above its usual $25.00-$26.50 range over the last 20 observations."; got[0].GetExplanation() != want {
		t.Fatalf("explanation %q", got[0].GetExplanation())
	}
}

func TestPriceFlickerRaisesNothing(t *testing.T) {
	_, got := feed(t, analyzer(t), nil, pricesThen(300)...)
	if len(got) != 0 {
		t.Fatalf("anomalies on a flickering price: %v", kinds(got))
	}
}

// Replaying the same change again (a redelivery), or a re-emitted change of the same observation
// under a new event id, changes nothing and emits nothing; applying every change twice gives the
// same state and anomalies as once.
func TestRedeliveryChangesNothing(t *testing.T) {
	a := analyzer(t)
	evs := pricesThen(30, 1999, 1999, 2500, 3600)
	once, onceAnoms := feed(t, a, nil, evs...)

	var st *marketv1.DetectorState
	var twice []*marketv1.AnomalyDetected
	for _, ev := range evs {
		out, err := a.Apply(asin, st, ev)
		if err != nil || out.Duplicate {
			t.Fatalf("first delivery: %v duplicate=%v", err, out.Duplicate)
		}
		st = out.State
		twice = append(twice, out.Anomalies...)
		before := proto.Clone(st)
		again := proto.Clone(ev).(*marketv1.ProductStateChanged)
		again.Envelope.EventId = uuid.NewSHA1(testNS, []byte("re-emitted "+ev.GetEnvelope().GetEventId())).String()
		for _, dup := range []*marketv1.ProductStateChanged{ev, again} {
			out, err = a.Apply(asin, st, dup)
			if err != nil || !out.Duplicate || len(out.Anomalies) != 0 {
				t.Fatalf("redelivery: %v duplicate=%v anomalies=%d", err, out.Duplicate, len(out.Anomalies))
			}
			if !proto.Equal(before, out.State) {
				t.Fatal("a redelivery changed the state")
			}
		}
	}
	if !proto.Equal(once, st) {
		t.Fatal("every change twice gives another state than once")
	}
	if len(onceAnoms) != len(twice) || len(onceAnoms) == 0 {
		t.Fatalf("anomalies once %d, twice %d", len(onceAnoms), len(twice))
	}
	for i := range onceAnoms {
		if !proto.Equal(onceAnoms[i], twice[i]) {
			t.Fatalf("anomaly %d differs between runs:\n%v\n%v", i, onceAnoms[i], twice[i])
		}
	}
}

// Replaying the whole input against a fresh state (a rebuilt table, a replay) yields
// byte-identical anomalies: same ids, same envelopes.
func TestReplayIsDeterministic(t *testing.T) {
	evs := pricesThen(30, 1999, 2500, 2650, 4000)
	_, first := feed(t, analyzer(t), nil, evs...)
	_, second := feed(t, analyzer(t), nil, evs...)
	if len(first) == 0 || len(first) != len(second) {
		t.Fatalf("anomalies %d and %d", len(first), len(second))
	}
	for i := range first {
		b1, _ := proto.MarshalOptions{Deterministic: true}.Marshal(first[i])
		b2, _ := proto.MarshalOptions{Deterministic: true}.Marshal(second[i])
		if string(b1) != string(b2) {
			t.Fatalf("anomaly %d differs on replay", i)
		}
	}
	ids := map[string]bool{}
	for _, d := range first {
		if ids[d.GetAnomalyId()] || ids[d.GetEnvelope().GetEventId()] {
			t.Fatal("two anomalies share an id")
		}
		ids[d.GetAnomalyId()], ids[d.GetEnvelope().GetEventId()] = true, true
	}
}

// A change older than what the series already saw does not touch it and raises nothing.
func TestStaleChangeIsRefused(t *testing.T) {
	a := analyzer(t)
	st, _ := feed(t, a, nil, pricesThen(30)...)
	seriesBefore := proto.Clone(st.GetSeries()["price"])
	late := changeAt(1000, t0.Add(5*time.Hour), priced(100)) // a $1.00 price from hours ago
	out, err := a.Apply(asin, st, late)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Stale || len(out.Anomalies) != 0 || out.State.GetStaleChanges() != 1 {
		t.Fatalf("late change: stale=%v anomalies=%d stale_changes=%d", out.Stale, len(out.Anomalies), out.State.GetStaleChanges())
	}
	if !proto.Equal(seriesBefore, out.State.GetSeries()["price"]) {
		t.Fatal("a late change rewrote the price series")
	}
	// Its redelivery is recognised too.
	if out, _ = a.Apply(asin, st, late); !out.Duplicate {
		t.Fatal("a stale change's redelivery was not recognised")
	}
	// The series goes on with on-time changes: the drop is still found.
	_, got := feed(t, a, st, change(30, priced(1999)))
	if len(got) != 1 || got[0].GetKind() != marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP {
		t.Fatalf("after a stale change: %v", kinds(got))
	}
}

func TestRecentEventIDsAreBounded(t *testing.T) {
	st, _ := feed(t, analyzer(t), nil, pricesThen(100)...)
	if n := len(st.GetRecentEventIds()); n != DefaultConfig().RecentEventIDs {
		t.Fatalf("%d recent ids kept", n)
	}
	if st.GetVersion() != 100 {
		t.Fatalf("version %d, want 100", st.GetVersion())
	}
	last := pricesThen(100)[99].GetObservationEventId()
	if ids := st.GetRecentEventIds(); ids[len(ids)-1] != last {
		t.Fatal("the newest id is not last")
	}
}

func avail(av marketv1.Availability) *marketv1.ProductAttributes {
	a := priced(2500)
	a.Availability = av
	return a
}

func TestStockTransitions(t *testing.T) {
	in, out := marketv1.Availability_AVAILABILITY_IN_STOCK, marketv1.Availability_AVAILABILITY_OUT_OF_STOCK
	low := marketv1.Availability_AVAILABILITY_LOW_STOCK
	a := analyzer(t)
	// The first availability known raises nothing, even out of stock.
	_, got := feed(t, a, nil, change(0, avail(out)), change(1, avail(out)))
	if len(got) != 0 {
		t.Fatalf("first availability: %v", kinds(got))
	}
	evs := []*marketv1.ProductStateChanged{
		change(0, avail(in)), change(1, avail(low)),
		change(4, avail(out)),                         // out of stock, 3 h after low stock was seen
		change(5, avail(out)),                         // still out
		change(30, avail(in)),                         // back after 26 h
		change(31, avail(out)), change(32, avail(in)), // flapping within 6 h of back in stock: nothing
		change(33, avail(marketv1.Availability_AVAILABILITY_UNSPECIFIED)), // not stated: ignored
		change(40, avail(out)), // flapping window over
	}
	st, got := feed(t, a, nil, evs...)
	want := []marketv1.AnomalyKind{marketv1.AnomalyKind_ANOMALY_KIND_OUT_OF_STOCK, marketv1.AnomalyKind_ANOMALY_KIND_BACK_IN_STOCK, marketv1.AnomalyKind_ANOMALY_KIND_OUT_OF_STOCK}
	if fmt.Sprint(kinds(got)) != fmt.Sprint(want) {
		t.Fatalf("anomalies %v, want %v", kinds(got), want)
	}
	if s := got[0].GetExplanation(); s != "The product went out of stock; it was low on stock when last seen 3 hours earlier." {
		t.Fatalf("out of stock: %q", s)
	}
	if s := got[2].GetExplanation(); s != "The product went out of stock; it was in stock when last seen 8 hours earlier." {
		t.Fatalf("out of stock again: %q", s)
	}
	if s := got[1].GetExplanation(); s != "The product is back in stock after 26 hours out of stock." {
		t.Fatalf("back in stock: %q", s)
	}
	if got[0].GetSeverity() != marketv1.Severity_SEVERITY_WARNING || got[1].GetSeverity() != marketv1.Severity_SEVERITY_INFO {
		t.Fatalf("severities %v %v", got[0].GetSeverity(), got[1].GetSeverity())
	}
	if got[1].GetBaseline().GetMethod() != "state" || got[1].GetObserved() != float64(in) || got[1].GetBaseline().GetCenter() != float64(out) {
		t.Fatalf("back-in-stock baseline %v observed %v", got[1].GetBaseline(), got[1].GetObserved())
	}
	if st.GetLastAvailability() != int32(out) || st.GetOutOfStockSinceUnixMs() != t0.Add(40*time.Hour).UnixMilli() {
		t.Fatalf("state %v", st)
	}
	// A late availability is ignored.
	out2, err := a.Apply(asin, st, change(35, avail(in)))
	if err != nil || len(out2.Anomalies) != 0 || out2.State.GetLastAvailability() != int32(out) {
		t.Fatalf("late availability: %v %v", err, out2.Anomalies)
	}
}

func TestReviewSpike(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	var evs []*marketv1.ProductStateChanged
	count := int64(1200)
	for i := range 24 * 6 { // six days of hourly observations, about 12 reviews a day
		if r.Float64() < 0.5 {
			count++
		}
		if i == 24*5 {
			count += 400 // a burst of reviews
		}
		at := priced(2500)
		at.ReviewCount = proto.Int64(count)
		evs = append(evs, change(i, at))
	}
	_, got := feed(t, analyzer(t), nil, evs...)
	if len(got) != 1 || got[0].GetKind() != marketv1.AnomalyKind_ANOMALY_KIND_REVIEW_SPIKE {
		t.Fatalf("anomalies %v, want one review spike", kinds(got))
	}
	d := got[0]
	if at := d.GetEnvelope().GetEventTime().AsTime(); at.Before(t0.Add(120*time.Hour)) || at.After(t0.Add(126*time.Hour)) {
		t.Fatalf("review spike at %v, want within the 6 h after the burst", at)
	}
	if !strings.HasPrefix(d.GetExplanation(), "Reviews are arriving at about ") || !strings.Contains(d.GetExplanation(), " in all), above the usual ") {
		t.Fatalf("explanation %q", d.GetExplanation())
	}
}

func TestRatingDrop(t *testing.T) {
	var evs []*marketv1.ProductStateChanged
	for i := range 60 {
		at := priced(2500)
		at.Rating = proto.Float64(4.5 + 0.1*float64(i%2))
		if i >= 50 {
			at.Rating = proto.Float64(4.1)
		}
		evs = append(evs, change(i, at))
	}
	_, got := feed(t, analyzer(t), nil, evs...)
	if len(got) != 1 || got[0].GetKind() != marketv1.AnomalyKind_ANOMALY_KIND_RATING_DROP {
		t.Fatalf("anomalies %v, want one rating drop", kinds(got))
	}
	if at := got[0].GetEnvelope().GetEventTime().AsTime(); !at.Equal(t0.Add(50 * time.Hour)) {
		t.Fatalf("rating drop at %v", at)
	}
	if want := "Rating fell to 4.1 stars, below its usual 4.5-4.7 over the last 19 observations."; got[0].GetExplanation() != want {
		t.Fatalf("explanation %q, want %q", got[0].GetExplanation(), want)
	}
}

func TestRankJump(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	var evs []*marketv1.ProductStateChanged
	for i := range 24 * 5 {
		rank := 5000 * math.Exp(0.4*math.Sin(2*math.Pi*float64(i%24)/24)+0.03*r.NormFloat64())
		if i == 24*4+6 {
			rank /= 8 // a sales burst
		}
		at := priced(2500)
		at.Ranks = []*marketv1.BestSellersRank{{Rank: int64(rank), Category: "Cell Phones & Accessories"}}
		evs = append(evs, change(i, at))
	}
	_, got := feed(t, analyzer(t), nil, evs...)
	if len(got) != 1 || got[0].GetKind() != marketv1.AnomalyKind_ANOMALY_KIND_RANK_JUMP {
		t.Fatalf("anomalies %v, want one rank jump", kinds(got))
	}
	d := got[0]
	if at := d.GetEnvelope().GetEventTime().AsTime(); !at.Equal(t0.Add((24*4 + 6) * time.Hour)) {
		t.Fatalf("rank jump at %v", at)
	}
	if b := d.GetBaseline(); b.GetMethod() != "seasonal" || b.GetScale() != "log" || b.GetUsualLow() < 3000 || b.GetUsualHigh() > 12000 {
		t.Fatalf("baseline %v", b)
	}
	if s := d.GetExplanation(); !strings.HasPrefix(s, "Best-sellers rank improved to #") || !strings.Contains(s, " in Cell Phones & Accessories, ahead of its usual #") ||
		!strings.HasSuffix(s, "for this time of day (102 observations).") {
		t.Fatalf("explanation %q", s)
	}
}

func TestSellerCountJump(t *testing.T) {
	var evs []*marketv1.ProductStateChanged
	for i := range 30 {
		at := priced(2500)
		at.SellerCount = proto.Int32(3 + int32(i%2))
		if i == 25 {
			at.SellerCount = proto.Int32(11)
		}
		evs = append(evs, change(i, at))
	}
	_, got := feed(t, analyzer(t), nil, evs...)
	if len(got) != 1 || got[0].GetKind() != marketv1.AnomalyKind_ANOMALY_KIND_SELLER_COUNT_JUMP {
		t.Fatalf("anomalies %v, want one seller-count jump", kinds(got))
	}
	if want := "Sellers rose to 11, above the usual 3-4 over the last 20 observations."; got[0].GetExplanation() != want {
		t.Fatalf("explanation %q", got[0].GetExplanation())
	}
}

func TestKindOff(t *testing.T) {
	cfg := DefaultConfig()
	k := cfg.Kinds[marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP]
	k.Off = true
	cfg.Kinds[marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP] = k
	a, err := NewAnalyzer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, got := feed(t, a, nil, pricesThen(30, 1999)...); len(got) != 0 {
		t.Fatalf("a kind turned off alerted: %v", kinds(got))
	}
}

func TestInvalidChanges(t *testing.T) {
	a := analyzer(t)
	noEnv := change(0, priced(2500))
	noEnv.Envelope = nil
	noTime := change(0, priced(2500))
	noTime.Envelope.EventTime = nil
	badID := change(0, priced(2500))
	badID.Envelope.EventId = "not-a-uuid"
	for name, tc := range map[string]struct {
		key string
		ev  *marketv1.ProductStateChanged
	}{
		"no envelope":   {asin, noEnv},
		"no event time": {asin, noTime},
		"bad event id":  {asin, badID},
		"other key":     {"B0OTHER", change(0, priced(2500))},
		"no asin":       {"", &marketv1.ProductStateChanged{Envelope: change(0, nil).Envelope}},
	} {
		if _, err := a.Apply(tc.key, nil, tc.ev); !errors.Is(err, ErrInvalidChange) {
			t.Errorf("%s: %v, want ErrInvalidChange", name, err)
		}
	}
	// A change without attributes is valid, changes no series and is not stale.
	out, err := a.Apply(asin, nil, &marketv1.ProductStateChanged{Envelope: change(0, nil).Envelope})
	if err != nil || len(out.State.GetSeries()) != 0 || out.State.GetAsin() != asin || out.Stale || out.State.GetVersion() != 1 {
		t.Fatalf("empty change: %v %v stale=%v", err, out.State, out.Stale)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(*Config){
		"no group":       func(c *Config) { c.Group = "" },
		"no input":       func(c *Config) { c.Input = "" },
		"no output":      func(c *Config) { c.Output = "" },
		"no recent ids":  func(c *Config) { c.RecentEventIDs = 0 },
		"no rate window": func(c *Config) { c.ReviewRateInterval = 0 },
		"no price model": func(c *Config) { delete(c.Models, MetricPrice) },
		"bad window":     func(c *Config) { m := c.Models[MetricPrice]; m.Window = 1; c.Models[MetricPrice] = m },
		"warning<thresh": func(c *Config) {
			k := c.Kinds[marketv1.AnomalyKind_ANOMALY_KIND_RANK_JUMP]
			k.Warning = 1
			c.Kinds[marketv1.AnomalyKind_ANOMALY_KIND_RANK_JUMP] = k
		},
		"no rearm": func(c *Config) {
			k := c.Kinds[marketv1.AnomalyKind_ANOMALY_KIND_RANK_JUMP]
			k.Rearm = 0
			c.Kinds[marketv1.AnomalyKind_ANOMALY_KIND_RANK_JUMP] = k
		},
		"state severity": func(c *Config) {
			k := c.Kinds[marketv1.AnomalyKind_ANOMALY_KIND_OUT_OF_STOCK]
			k.Severity = 0
			c.Kinds[marketv1.AnomalyKind_ANOMALY_KIND_OUT_OF_STOCK] = k
		},
		"unknown kind": func(c *Config) { c.Kinds[99] = KindConfig{Threshold: 1, Warning: 1, Critical: 1, Rearm: 1} },
		"negative cooldn": func(c *Config) {
			k := c.Kinds[marketv1.AnomalyKind_ANOMALY_KIND_BACK_IN_STOCK]
			k.Cooldown = -1
			c.Kinds[marketv1.AnomalyKind_ANOMALY_KIND_BACK_IN_STOCK] = k
		},
	}
	for name, f := range bad {
		c := DefaultConfig()
		f(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestFormatMoney(t *testing.T) {
	for _, c := range []struct {
		minor int64
		cur   string
		want  string
	}{
		{1999, "USD", "$19.99"}, {5, "USD", "$0.05"}, {129999, "usd", "$1,299.99"}, {123456, "EUR", "€1,234.56"},
		{1500, "JPY", "¥1,500"}, {2500000, "VND", "VND 2,500,000"}, {995, "SEK", "SEK 9.95"}, {12345, "KWD", "KWD 12.345"},
		{-250, "GBP", "-£2.50"}, {99900, "INR", "₹999.00"}, {1999, "", "19.99"}, {1234567899, "CAD", "CA$12,345,678.99"},
	} {
		if got := FormatMoney(c.minor, c.cur); got != c.want {
			t.Errorf("FormatMoney(%d, %q) = %q, want %q", c.minor, c.cur, got, c.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second: "1 minute", 45 * time.Minute: "45 minutes", time.Hour: "1 hour", 26 * time.Hour: "26 hours",
		50 * time.Hour: "2 days", 10 * 24 * time.Hour: "10 days",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
