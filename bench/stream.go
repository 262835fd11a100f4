// Package bench runs the whole pipeline on a synthetic market stream and measures it against the
// ceilings of the same run: a trivial goka processor counting per key (the framework's ceiling)
// and a bare franz-go consumer (the broker's ceiling), both reading the same topic.
package bench

import (
	"fmt"
	"math/rand/v2"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// PageSize is the number of listings of a synthetic search page, as on amazon.com.
const PageSize = 48

// Stream draws scrapes of a synthetic market like the sandbox's: every product belongs to one
// keyword, has a base price, rating and sales level, and its price walks and now and then drops;
// a scrape of a keyword is one search page of 48 of its products and their 48 observations.
type Stream struct {
	keywords []string
	perKW    int
	products int
	rng      *rand.Rand
	price    []int64
	reviews  []int64
	scrapes  int
}

// NewStream returns a stream of keywords keywords over products products (at least 48 per
// keyword), deterministic for seed.
func NewStream(keywords, products int, seed uint64) *Stream {
	keywords = max(keywords, 1)
	products = max(products, keywords*PageSize)
	s := &Stream{perKW: products / keywords, products: products, rng: rand.New(rand.NewPCG(seed, 0x6d6970)),
		price: make([]int64, products), reviews: make([]int64, products)}
	for k := range keywords {
		s.keywords = append(s.keywords, fmt.Sprintf("bench keyword %d", k))
	}
	for p := range products {
		s.price[p] = 999 + int64(s.rng.IntN(9000))
		s.reviews[p] = int64(s.rng.IntN(20000))
	}
	return s
}

// Keywords returns the stream's keywords.
func (s *Stream) Keywords() []string { return s.keywords }

// Next returns the next scrape, read at time at: a search page and one observation per listing.
// Event ids are unique per scrape and listing.
func (s *Stream) Next(at time.Time) (*marketv1.SearchResultsObserved, []*marketv1.ProductObserved) {
	k := s.scrapes % len(s.keywords)
	round := s.scrapes / len(s.keywords)
	s.scrapes++
	kw := s.keywords[k]
	ts := timestamppb.New(at)
	page := &marketv1.SearchResultsObserved{
		Envelope: &marketv1.Envelope{EventId: id(s.scrapes, 0), EventTime: ts, Producer: "bench", SchemaVersion: 1},
		Keyword:  kw, Marketplace: "amazon.com", Page: 1, JobId: fmt.Sprintf("bench-job-%d", s.scrapes), Url: "https://www.amazon.com/s?k=bench",
	}
	obs := make([]*marketv1.ProductObserved, 0, PageSize)
	start := (round * 7) % s.perKW
	for i := range PageSize {
		p := k*s.perKW + (start+i)%s.perKW
		switch r := s.rng.Float64(); {
		case r < 0.01:
			s.price[p] = s.price[p] * 7 / 10 // a sale: a drop the detectors should see
		case r < 0.3:
			s.price[p] += int64(s.rng.IntN(41)) - 20
		}
		s.price[p] = max(s.price[p], 199)
		s.reviews[p] += int64(s.rng.IntN(3))
		rating := 3.0 + float64(p%21)/10
		prime := p%3 != 0
		bought := int64(50 * (p % 20))
		sponsored := i%8 == 0
		pos := int32(i + 1)
		attrs := &marketv1.ProductAttributes{
			Title: ptr(fmt.Sprintf("Bench product %d, a realistic listing title of some length", p)), Brand: ptr(fmt.Sprintf("Brand %d", p%37)),
			Category: ptr("Electronics"), Price: &marketv1.Money{AmountMinor: s.price[p], Currency: "USD"}, Rating: &rating,
			ReviewCount: ptr(s.reviews[p]), BoughtPastMonth: &bought, Prime: &prime,
			Ranks: []*marketv1.BestSellersRank{{Rank: int64(100 + p*3), Category: "Electronics"}}, Availability: marketv1.Availability_AVAILABILITY_IN_STOCK,
		}
		asin := fmt.Sprintf("B0B%07d", p)
		page.Listings = append(page.Listings, &marketv1.Listing{Asin: asin, Position: pos, Sponsored: &sponsored, Attributes: attrs})
		obs = append(obs, &marketv1.ProductObserved{
			Envelope: &marketv1.Envelope{EventId: id(s.scrapes, i+1), EventTime: ts, Producer: "bench", SchemaVersion: 1},
			Asin:     asin, Marketplace: "amazon.com", Attributes: attrs, Sponsored: &sponsored, Position: &pos,
			Source: marketv1.ObservationSource_OBSERVATION_SOURCE_SEARCH_PAGE, Keyword: kw, JobId: page.JobId, Url: page.Url,
		})
	}
	return page, obs
}

// id is a UUIDv7-shaped id unique per scrape and listing.
func id(scrape, listing int) string {
	return fmt.Sprintf("0193e1a2-%04x-7000-8000-%012x", listing, scrape)
}

func ptr[T any](v T) *T { return &v }
