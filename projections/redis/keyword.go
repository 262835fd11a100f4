package redis

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/analytics/market"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// maxGuardPosition is the largest position a guard orders (positions beyond it tie).
const maxGuardPosition = 999_999

// ListingRow is the JSON stored per ASIN in k:<keyword>:rows: what the report page shows of a
// product's latest listing for the keyword. Absent attributes are left out.
type ListingRow struct {
	ASIN string `json:"asin"`
	// Position is page-adjusted: (page-1) * page size + position on the page.
	Position        int32      `json:"position"`
	Page            int32      `json:"page"`
	Sponsored       *bool      `json:"sponsored,omitempty"`
	Title           *string    `json:"title,omitempty"`
	Brand           *string    `json:"brand,omitempty"`
	Category        *string    `json:"category,omitempty"`
	PriceMinor      *int64     `json:"price_minor,omitempty"`
	Currency        string     `json:"currency,omitempty"`
	ListPriceMinor  *int64     `json:"list_price_minor,omitempty"`
	Rating          *float64   `json:"rating,omitempty"`
	ReviewCount     *int64     `json:"review_count,omitempty"`
	BoughtPastMonth *int64     `json:"bought_past_month,omitempty"`
	Rank            *int64     `json:"rank,omitempty"`
	RankCategory    string     `json:"rank_category,omitempty"`
	Prime           *bool      `json:"prime,omitempty"`
	Availability    string     `json:"availability,omitempty"`
	SellerCount     *int32     `json:"seller_count,omitempty"`
	ImageURL        *string    `json:"image_url,omitempty"`
	Sales           *SalesJSON `json:"sales,omitempty"`
	// Time is the page's event time, unix ms.
	Time    int64  `json:"time"`
	EventID string `json:"event_id"`
}

// SalesJSON is an estimate of monthly unit sales as rows carry it.
type SalesJSON struct {
	Units  float64 `json:"units"`
	Low    float64 `json:"low"`
	High   float64 `json:"high"`
	Method string  `json:"method"`
}

// KeywordListing is one product of a page as the keyword script applies it.
type KeywordListing struct {
	// Row is the listing's row.
	Row ListingRow
	// Guard orders listings of an ASIN: event time, then better position, then event id.
	Guard string
	// Scores are the scores in the sorted sets by sales, rating, price, reviews and position;
	// nil leaves (or removes) the product from that set.
	Scores [5]*float64
}

// KeywordListings returns a page's listings as the keyword script applies them: one per ASIN
// (its best position on the page), in page order, with their rows, guards and scores. Sales are
// estimated from what the card itself shows (the bought-past-month badge, else a best-sellers
// rank on the card), so that the result depends on the page alone and a replay gives the same
// keys; listings without an ASIN are skipped.
func KeywordListings(ev *marketv1.SearchResultsObserved, pageSize int, sales *market.SalesModel) ([]KeywordListing, error) {
	if ev.GetKeyword() == "" {
		return nil, errors.New("keyword: missing")
	}
	if err := marketv1.ValidateEnvelope(ev.GetEnvelope()); err != nil {
		return nil, err
	}
	ms := ev.GetEnvelope().GetEventTime().AsTime().UnixMilli()
	if ms < 0 {
		return nil, fmt.Errorf("envelope.event_time: %d ms is before 1970", ms)
	}
	page := max(ev.GetPage(), 1)
	best := map[string]int{} // asin -> index in out
	out := make([]KeywordListing, 0, len(ev.GetListings()))
	for _, l := range ev.GetListings() {
		if l.GetAsin() == "" {
			continue
		}
		pos := PagePosition(page, l.GetPosition(), pageSize)
		if i, ok := best[l.GetAsin()]; ok {
			if out[i].Row.Position <= pos {
				continue
			}
			out[i] = listing(ev.GetEnvelope().GetEventId(), l, pos, page, ms, sales)
			continue
		}
		best[l.GetAsin()] = len(out)
		out = append(out, listing(ev.GetEnvelope().GetEventId(), l, pos, page, ms, sales))
	}
	return out, nil
}

// PagePosition is a listing's page-adjusted position, (page-1) * pageSize + position; a
// position below 1 (unknown) counts as the page's last.
func PagePosition(page, position int32, pageSize int) int32 {
	page = max(page, 1)
	onPage := int64(position)
	if onPage < 1 {
		onPage = int64(pageSize)
	}
	return int32(min(int64(page-1)*int64(pageSize)+onPage, math.MaxInt32))
}

// ListingOf is one listing as the keyword script applies it (KeywordListings), for a reader
// that rebuilds a keyword's rows from elsewhere (the API's ClickHouse fallback): l shown at
// position l.Position of page, by the page read at ms (unix ms) as event eventID.
func ListingOf(l *marketv1.Listing, page int32, ms int64, eventID string, pageSize int, sales *market.SalesModel) KeywordListing {
	page = max(page, 1)
	return listing(eventID, l, PagePosition(page, l.GetPosition(), pageSize), page, ms, sales)
}

// listing builds one listing's row, guard and scores.
func listing(eventID string, l *marketv1.Listing, pos, page int32, ms int64, sales *market.SalesModel) KeywordListing {
	a := l.GetAttributes()
	if a == nil {
		a = &marketv1.ProductAttributes{}
	}
	r := ListingRow{
		ASIN: l.GetAsin(), Position: pos, Page: page, Sponsored: l.Sponsored,
		Title: a.Title, Brand: a.Brand, Category: a.Category,
		Rating: finite(a.Rating), ReviewCount: a.ReviewCount, BoughtPastMonth: a.BoughtPastMonth,
		Prime: a.Prime, Availability: availabilityText(a.GetAvailability()), SellerCount: a.SellerCount,
		ImageURL: a.ImageUrl, Time: ms, EventID: eventID,
	}
	if p := a.GetPrice(); p != nil {
		r.PriceMinor, r.Currency = proto.Int64(p.GetAmountMinor()), p.GetCurrency()
	}
	if p := a.GetListPrice(); p != nil {
		r.ListPriceMinor = proto.Int64(p.GetAmountMinor())
		if r.Currency == "" {
			r.Currency = p.GetCurrency()
		}
	}
	if rs := a.GetRanks(); len(rs) > 0 {
		r.Rank, r.RankCategory = proto.Int64(rs[0].GetRank()), rs[0].GetCategory()
	}
	var sc [5]*float64
	if e, ok := estimate(sales, a); ok {
		r.Sales = &SalesJSON{Units: e.Units, Low: e.Low, High: e.High, Method: string(e.Method)}
		sc[0] = proto.Float64(e.Units)
	}
	sc[1] = r.Rating
	if r.PriceMinor != nil {
		sc[2] = proto.Float64(float64(*r.PriceMinor))
	}
	if r.ReviewCount != nil {
		sc[3] = proto.Float64(float64(*r.ReviewCount))
	}
	sc[4] = proto.Float64(float64(pos))
	guard := fmt.Sprintf("%015d|%06d|%s", ms, maxGuardPosition-min(int64(pos), maxGuardPosition), eventID)
	return KeywordListing{Row: r, Guard: guard, Scores: sc}
}

// finite returns v unless it is NaN or infinite (then nil: absent).
func finite(v *float64) *float64 {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return nil
	}
	return v
}

// keywordRows turns a SearchResultsObserved into the keyword script's call.
func keywordRows(s *Sink, m proto.Message) ([]Row, error) {
	ev := m.(*marketv1.SearchResultsObserved)
	ls, err := KeywordListings(ev, s.opts.PageSize, s.opts.Sales)
	if err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, nil
	}
	kw := ev.GetKeyword()
	ms := ev.GetEnvelope().GetEventTime().AsTime().UnixMilli()
	msg := Change{Kind: KindKeyword, Keyword: kw, Time: ms}
	args := make([]any, 0, 6+8*len(ls))
	args = append(args, "", msg.JSON(), ms, s.opts.KeywordRetention.Milliseconds(), ttlMillis(s.opts.KeywordTTL), len(ls))
	for _, l := range ls {
		row, err := marshalJSON(l.Row)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", l.Row.ASIN, err)
		}
		args = append(args, l.Row.ASIN, l.Guard, string(row))
		for _, v := range l.Scores {
			if v == nil {
				args = append(args, "")
			} else {
				args = append(args, formatFloat(*v))
			}
		}
	}
	keys := []string{
		KeywordKey(kw, SuffixSeen), KeywordKey(kw, SuffixLast), KeywordKey(kw, SuffixRows),
		KeywordKey(kw, SuffixBySales), KeywordKey(kw, SuffixByRating), KeywordKey(kw, SuffixByPrice),
		KeywordKey(kw, SuffixByReviews), KeywordKey(kw, SuffixByPosition),
	}
	return []Row{{script: keywordScript, keys: keys, args: args, Change: msg}}, nil
}
