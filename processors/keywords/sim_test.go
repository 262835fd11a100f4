package keywords

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// t0 is the start of the simulated market: a Monday, 08:00 UTC.
var t0 = time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)

// simProduct is one product of the simulated market.
type simProduct struct {
	asin, title, brand string
	price              int64
	rating             float64
	reviews            int64
	badge              int64 // bought-past-month lower bound; 0: none shown
	rank               int64 // main best-sellers rank in the product state; 0: unknown
	category           string
	prime              bool
}

// sim generates the search pages of one keyword: slots of a results page filled from a pool of
// products, prices and positions moving, some slots changing product over time.
type sim struct {
	rng      *rand.Rand
	keyword  string
	products []*simProduct
	slots    []int // product index per position
	churn    float64
	pages    int // result pages per scrape
	table    map[string]*marketv1.ProductState
}

var brands = []string{"Anker", "Belkin", "Ugreen", "Baseus", "INIU", "Miady", "Charmast", ""}

var categories = []string{"Electronics", "Cell Phones & Accessories", "Home & Kitchen", "Obscure Gadgets"}

func newSim(seed uint64, keyword string, slots, pool int) *sim {
	s := &sim{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), keyword: keyword, churn: 0.002, pages: 1}
	for i := range pool {
		p := &simProduct{
			asin:     fmt.Sprintf("B0%08d", i+int(seed%1000)*1000),
			title:    fmt.Sprintf("Portable Charger %d 20000mAh USB-C Power Bank, Fast Charging Battery Pack", i),
			brand:    brands[s.rng.IntN(len(brands))],
			price:    1999 + int64(s.rng.IntN(6000)),
			rating:   float64(30+s.rng.IntN(21)) / 10,
			reviews:  int64(s.rng.IntN(20000)),
			category: categories[s.rng.IntN(len(categories))],
			prime:    s.rng.IntN(3) > 0,
		}
		switch s.rng.IntN(3) {
		case 0:
			p.badge = []int64{50, 100, 200, 500, 1000, 2000, 10000}[s.rng.IntN(7)]
		case 1:
			p.rank = int64(1 + s.rng.IntN(50000))
		}
		s.products = append(s.products, p)
	}
	for i := range slots {
		s.slots = append(s.slots, i%pool)
	}
	return s
}

// lookup is the product tracker's table of the simulated market (ranks never change).
func (s *sim) lookup(asin string) *marketv1.ProductState {
	if s.table == nil {
		s.table = map[string]*marketv1.ProductState{}
		for _, p := range s.products {
			if p.rank > 0 {
				s.table[p.asin] = &marketv1.ProductState{Asin: p.asin, Latest: &marketv1.ProductAttributes{
					Ranks: []*marketv1.BestSellersRank{{Rank: p.rank, Category: p.category}},
				}}
			}
		}
	}
	return s.table[asin]
}

// step moves the market on: a price change now and then, reviews growing, two neighbours
// swapping places, a slot taken by another product with probability churn.
func (s *sim) step() {
	for _, p := range s.products {
		if s.rng.Float64() < 0.02 {
			p.price += int64(s.rng.IntN(401)) - 200
		}
		if s.rng.Float64() < 0.1 {
			p.reviews++
		}
	}
	if len(s.slots) > 1 {
		i := s.rng.IntN(len(s.slots) - 1)
		s.slots[i], s.slots[i+1] = s.slots[i+1], s.slots[i]
	}
	for i := range s.slots {
		if s.rng.Float64() < s.churn {
			s.slots[i] = s.rng.IntN(len(s.products))
		}
	}
}

// scrape returns the pages of one scrape at t (after a step of the market).
func (s *sim) scrape(t time.Time) []*marketv1.SearchResultsObserved {
	s.step()
	per := (len(s.slots) + s.pages - 1) / s.pages
	var out []*marketv1.SearchResultsObserved
	for pg := range s.pages {
		ev := &marketv1.SearchResultsObserved{
			Envelope: &marketv1.Envelope{
				EventId:       s.id(),
				EventTime:     timestamppb.New(t.Add(time.Duration(pg) * 1500 * time.Millisecond)),
				Producer:      "sim",
				SchemaVersion: marketv1.SchemaVersion,
			},
			Keyword:     s.keyword,
			Marketplace: "amazon.com",
			Page:        int32(pg + 1),
		}
		for pos, idx := range s.slots[pg*per : min(len(s.slots), (pg+1)*per)] {
			ev.Listings = append(ev.Listings, s.listing(s.products[idx], int32(pos+1)))
		}
		out = append(out, ev)
	}
	return out
}

func (s *sim) listing(p *simProduct, pos int32) *marketv1.Listing {
	a := &marketv1.ProductAttributes{
		Title:       proto.String(p.title),
		Price:       &marketv1.Money{AmountMinor: p.price, Currency: "USD"},
		Rating:      proto.Float64(p.rating),
		ReviewCount: proto.Int64(p.reviews),
		Prime:       proto.Bool(p.prime),
	}
	if p.brand != "" {
		a.Brand = proto.String(p.brand)
	}
	if p.badge > 0 {
		a.BoughtPastMonth = proto.Int64(p.badge)
	}
	return &marketv1.Listing{Asin: p.asin, Position: pos, Sponsored: proto.Bool(pos <= 4 && pos%2 == 1), Attributes: a}
}

func (s *sim) id() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(s.rng.UintN(256))
	}
	u, _ := uuid.FromBytes(b[:])
	return u.String()
}

// run scrapes from `from` every interval (with a jitter of up to jitter) n times.
func (s *sim) run(from time.Time, n int, interval, jitter time.Duration) []*marketv1.SearchResultsObserved {
	var out []*marketv1.SearchResultsObserved
	t := from
	for range n {
		j := time.Duration(0)
		if jitter > 0 {
			j = time.Duration(s.rng.Int64N(int64(jitter)))
		}
		out = append(out, s.scrape(t.Add(j))...)
		t = t.Add(interval)
	}
	return out
}

// page returns a search page at t with the given listings.
func page(keyword string, t time.Time, id string, listings ...*marketv1.Listing) *marketv1.SearchResultsObserved {
	return &marketv1.SearchResultsObserved{
		Envelope:    &marketv1.Envelope{EventId: id, EventTime: timestamppb.New(t), Producer: "test", SchemaVersion: 1},
		Keyword:     keyword,
		Marketplace: "amazon.com",
		Page:        1,
		Listings:    listings,
	}
}

// item is a compact listing for hand-written tests.
type item struct {
	asin      string
	pos       int32
	price     int64  // 0: none
	currency  string // "": USD
	rating    float64
	reviews   int64
	brand     string
	badge     int64
	prime     *bool
	sponsored *bool
}

func (it item) listing() *marketv1.Listing {
	a := &marketv1.ProductAttributes{Prime: it.prime}
	if it.price > 0 {
		a.Price = &marketv1.Money{AmountMinor: it.price, Currency: cmp.Or(it.currency, "USD")}
	}
	if it.rating > 0 {
		a.Rating = proto.Float64(it.rating)
	}
	if it.reviews > 0 {
		a.ReviewCount = proto.Int64(it.reviews)
	}
	if it.brand != "" {
		a.Brand = proto.String(it.brand)
		a.Title = proto.String(it.brand + " charger " + it.asin)
	}
	if it.badge > 0 {
		a.BoughtPastMonth = proto.Int64(it.badge)
	}
	return &marketv1.Listing{Asin: it.asin, Position: it.pos, Sponsored: it.sponsored, Attributes: a}
}

func listings(items ...item) []*marketv1.Listing {
	out := make([]*marketv1.Listing, len(items))
	for i, it := range items {
		out[i] = it.listing()
	}
	return out
}

// applier applies events and ticks to one keyword's state and collects what was emitted.
type applier struct {
	t       testing.TB
	cfg     Config
	lookup  Lookup
	st      *marketv1.KeywordWindowsState
	updates []*marketv1.KeywordWindowUpdated
	anoms   []*marketv1.AnomalyDetected
	late    []*marketv1.LateEvent
	dups    int
}

func newApplier(t testing.TB, cfg Config, lookup Lookup) *applier {
	return &applier{t: t, cfg: cfg, lookup: lookup}
}

func (a *applier) apply(evs ...*marketv1.SearchResultsObserved) {
	a.t.Helper()
	for _, ev := range evs {
		out, err := Apply(a.st, ev, a.lookup, a.cfg)
		if err != nil {
			a.t.Fatalf("Apply: %v", err)
		}
		a.collect(out)
		if out.Duplicate {
			a.dups++
		}
	}
}

func (a *applier) tick(now time.Time) {
	a.collect(Tick(a.st, now, a.cfg))
}

func (a *applier) collect(out Outputs) {
	a.st = out.State
	a.updates = append(a.updates, out.Updates...)
	a.anoms = append(a.anoms, out.Anomalies...)
	if out.Late != nil {
		a.late = append(a.late, out.Late)
	}
}

// windowKey names a window: kind/size/step/start.
func windowKey(u *marketv1.KeywordWindowUpdated) string {
	w := u.GetWindow()
	return fmt.Sprintf("%s/%d/%d/%s", w.GetKind(), w.GetSizeSeconds(), w.GetStepSeconds(), w.GetStart().AsTime().Format(time.RFC3339))
}

// finals returns the final updates by window, encoded deterministically.
func (a *applier) finals() map[string][]byte {
	a.t.Helper()
	m := map[string][]byte{}
	for _, u := range a.updates {
		if !u.GetFinal() {
			continue
		}
		k := windowKey(u)
		if _, dup := m[k]; dup {
			a.t.Fatalf("two final updates of window %s", k)
		}
		m[k] = mustMarshal(a.t, u)
	}
	return m
}

func mustMarshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}

// updatesOf returns the updates of the series of a window kind and size, in emission order.
func updatesOf(us []*marketv1.KeywordWindowUpdated, kind marketv1.WindowKind, size time.Duration) []*marketv1.KeywordWindowUpdated {
	var out []*marketv1.KeywordWindowUpdated
	for _, u := range us {
		if u.GetWindow().GetKind() == kind && u.GetWindow().GetSizeSeconds() == int64(size/time.Second) {
			out = append(out, u)
		}
	}
	return out
}

func finalsOf(us []*marketv1.KeywordWindowUpdated) []*marketv1.KeywordWindowUpdated {
	return slices.DeleteFunc(slices.Clone(us), func(u *marketv1.KeywordWindowUpdated) bool { return !u.GetFinal() })
}

// checkVersions fails unless every window's versions increase in emission order, with at most
// one final update, emitted last and with the highest version.
func checkVersions(t testing.TB, us []*marketv1.KeywordWindowUpdated) {
	t.Helper()
	last := map[string]*marketv1.KeywordWindowUpdated{}
	for _, u := range us {
		k := windowKey(u)
		if p, ok := last[k]; ok {
			if p.GetFinal() {
				t.Fatalf("window %s updated (version %d) after its final update", k, u.GetVersion())
			}
			if u.GetVersion() <= p.GetVersion() {
				t.Fatalf("window %s: version %d after %d", k, u.GetVersion(), p.GetVersion())
			}
		}
		last[k] = u
	}
}
