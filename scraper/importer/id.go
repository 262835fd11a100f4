package importer

import (
	"strconv"
	"time"

	"github.com/google/uuid"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// idNamespace is the UUIDv5 namespace of imported ProductObserved event ids.
var idNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:marketinsights:import:market.v1.ProductObserved:v1"))

// EventID returns the deterministic id of an imported observation: the UUIDv5 (SHA-1, namespace
// idNamespace) of the canonical encoding of its ASIN, event time and content. Only what ends up
// in the event counts (never the file name, line number, producer or correlation id), so the same
// snapshot imported twice, from any file, gets the same id; any difference in a value gives
// another id.
func EventID(ev *marketv1.ProductObserved, eventTime time.Time) string {
	return uuid.NewSHA1(idNamespace, canonical(ev, eventTime)).String()
}

// canonical encodes the event's content as "name=value" items separated by 0x1e, absent fields
// left out, in a fixed order. Changing it changes every imported id: bump the namespace URN then.
func canonical(ev *marketv1.ProductObserved, t time.Time) []byte {
	b := make([]byte, 0, 256)
	item := func(name string, value string) {
		b = append(b, name...)
		b = append(b, '=')
		b = append(b, value...)
		b = append(b, 0x1e)
	}
	str := func(name string, p *string) {
		if p != nil {
			item(name, *p)
		}
	}
	i64 := func(name string, p *int64) {
		if p != nil {
			item(name, strconv.FormatInt(*p, 10))
		}
	}
	money := func(name string, m *marketv1.Money) {
		if m != nil {
			item(name, strconv.FormatInt(m.GetAmountMinor(), 10)+" "+m.GetCurrency())
		}
	}
	item("asin", ev.GetAsin())
	item("time", t.UTC().Format(time.RFC3339Nano))
	item("marketplace", ev.GetMarketplace())
	a := ev.GetAttributes()
	if a != nil {
		str("title", a.Title)
		str("brand", a.Brand)
		str("category", a.Category)
		money("price", a.Price)
		money("list_price", a.ListPrice)
		if a.Rating != nil {
			item("rating", strconv.FormatFloat(*a.Rating, 'g', -1, 64))
		}
		i64("review_count", a.ReviewCount)
		i64("bought_past_month", a.BoughtPastMonth)
		for _, r := range a.Ranks {
			item("rank", strconv.FormatInt(r.GetRank(), 10)+" "+r.GetCategory())
		}
		if a.Prime != nil {
			item("prime", strconv.FormatBool(*a.Prime))
		}
		if a.Availability != marketv1.Availability_AVAILABILITY_UNSPECIFIED {
			item("availability", a.Availability.String())
		}
		if a.SellerCount != nil {
			item("seller_count", strconv.FormatInt(int64(*a.SellerCount), 10))
		}
		str("image_url", a.ImageUrl)
	}
	if ev.Sponsored != nil {
		item("sponsored", strconv.FormatBool(*ev.Sponsored))
	}
	if ev.Position != nil {
		item("position", strconv.FormatInt(int64(*ev.Position), 10))
	}
	if ev.Keyword != "" {
		item("keyword", ev.Keyword)
	}
	if ev.Url != "" {
		item("url", ev.Url)
	}
	if ev.JobId != "" {
		item("job_id", ev.JobId)
	}
	return b
}
