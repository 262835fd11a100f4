package redis

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/analytics/market"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// productRows turns a ProductStateChanged into the product script's call.
func productRows(s *Sink, m proto.Message) ([]Row, error) {
	ev := m.(*marketv1.ProductStateChanged)
	fields, err := ProductFields(ev, s.opts.Sales)
	if err != nil {
		return nil, err
	}
	ms := ev.GetEnvelope().GetEventTime().AsTime().UnixMilli()
	msg := Change{Kind: KindProduct, ASIN: ev.GetAsin(), Version: ev.GetVersion(), Time: ms}
	args := make([]any, 0, 4+2*len(fields))
	args = append(args, "", msg.JSON(), ev.GetVersion(), ttlMillis(s.opts.ProductTTL))
	for _, f := range fields {
		args = append(args, f.Name, f.Value)
	}
	return []Row{{script: productScript, keys: []string{ProductKey(ev.GetAsin())}, args: args, Change: msg}}, nil
}

// Field is one field of a hash as written.
type Field struct {
	// Name is the field's name.
	Name string
	// Value is its value as text.
	Value string
}

// ProductFields returns the fields of a product's hash p:<asin> for a change, in a fixed order:
// the attributes after the change (absent ones are left out, never written as zero), the
// estimated monthly sales, and the state's figures. The change must name an ASIN, a positive
// version and a valid envelope.
func ProductFields(ev *marketv1.ProductStateChanged, sales *market.SalesModel) ([]Field, error) {
	if ev.GetAsin() == "" {
		return nil, errors.New("asin: missing")
	}
	if ev.GetVersion() < 1 {
		return nil, fmt.Errorf("version: %d, want >= 1", ev.GetVersion())
	}
	if err := marketv1.ValidateEnvelope(ev.GetEnvelope()); err != nil {
		return nil, err
	}
	var f fields
	f.str("asin", ev.GetAsin())
	if ev.GetMarketplace() != "" {
		f.str("marketplace", ev.GetMarketplace())
	}
	a := ev.GetAfter()
	f.attributes(a)
	if e, ok := estimate(sales, a); ok {
		f.sales(e)
	}
	f.i64("version", ev.GetVersion())
	f.i64("observation_count", ev.GetObservationCount())
	f.optF64("price_ewma", ev.PriceEwma)
	f.optF64("review_velocity_per_day", ev.ReviewVelocityPerDay)
	f.optF64("rank_trend_per_day", ev.RankTrendPerDay)
	f.i64("updated_at", ev.GetEnvelope().GetEventTime().AsTime().UnixMilli())
	f.str("event_id", ev.GetEnvelope().GetEventId())
	return f, nil
}

// estimate returns the estimated monthly sales of a product's attributes: from the
// bought-past-month badge, else from the main best-sellers rank in its category (the rank's own
// category, else the product's), as processors/keywords estimates them.
func estimate(sales *market.SalesModel, a *marketv1.ProductAttributes) (market.Estimate, bool) {
	var rank int64
	var category string
	if rs := a.GetRanks(); len(rs) > 0 {
		rank, category = rs[0].GetRank(), rs[0].GetCategory()
	}
	return sales.Estimate(a.GetBoughtPastMonth(), rank, cmp.Or(category, a.GetCategory()))
}

// fields accumulates hash fields in order.
type fields []Field

func (f *fields) str(name, v string) { *f = append(*f, Field{name, v}) }
func (f *fields) i64(name string, v int64) {
	*f = append(*f, Field{name, strconv.FormatInt(v, 10)})
}
func (f *fields) f64(name string, v float64) { *f = append(*f, Field{name, formatFloat(v)}) }

func (f *fields) optStr(name string, v *string) {
	if v != nil {
		f.str(name, *v)
	}
}

func (f *fields) optI64(name string, v *int64) {
	if v != nil {
		f.i64(name, *v)
	}
}

// optF64 adds a present, finite float (NaN and infinities are treated as absent).
func (f *fields) optF64(name string, v *float64) {
	if v != nil && !math.IsNaN(*v) && !math.IsInf(*v, 0) {
		f.f64(name, *v)
	}
}

// attributes adds the attributes a page showed; absent ones are left out.
func (f *fields) attributes(a *marketv1.ProductAttributes) {
	if a == nil {
		return
	}
	f.optStr("title", a.Title)
	f.optStr("brand", a.Brand)
	f.optStr("category", a.Category)
	if p := a.GetPrice(); p != nil {
		f.i64("price_minor", p.GetAmountMinor())
		f.str("currency", p.GetCurrency())
	}
	if p := a.GetListPrice(); p != nil {
		f.i64("list_price_minor", p.GetAmountMinor())
		f.str("list_price_currency", p.GetCurrency())
	}
	f.optF64("rating", a.Rating)
	f.optI64("review_count", a.ReviewCount)
	f.optI64("bought_past_month", a.BoughtPastMonth)
	if rs := a.GetRanks(); len(rs) > 0 {
		f.i64("rank", rs[0].GetRank())
		if rs[0].GetCategory() != "" {
			f.str("rank_category", rs[0].GetCategory())
		}
		f.str("ranks", ranksJSON(rs))
	}
	if a.Prime != nil {
		f.str("prime", boolText(*a.Prime))
	}
	if v := availabilityText(a.GetAvailability()); v != "" {
		f.str("availability", v)
	}
	if a.SellerCount != nil {
		f.i64("seller_count", int64(*a.SellerCount))
	}
	f.optStr("image_url", a.ImageUrl)
}

// sales adds an estimate's fields.
func (f *fields) sales(e market.Estimate) {
	f.f64("sales_units", e.Units)
	f.f64("sales_low", e.Low)
	f.f64("sales_high", e.High)
	f.str("sales_method", string(e.Method))
}

// ranksJSON renders every best-sellers rank as [{"rank":N,"category":"..."}].
func ranksJSON(rs []*marketv1.BestSellersRank) string {
	type r struct {
		Rank     int64  `json:"rank"`
		Category string `json:"category,omitempty"`
	}
	out := make([]r, len(rs))
	for i, x := range rs {
		out[i] = r{x.GetRank(), x.GetCategory()}
	}
	b, _ := marshalJSON(out)
	return string(b)
}

// marshalJSON is json.Marshal without HTML escaping ("&" stays "&").
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// availabilityText is an availability as a field value: in_stock, low_stock, out_of_stock,
// preorder; "" when unspecified (absent).
func availabilityText(a marketv1.Availability) string {
	if a == marketv1.Availability_AVAILABILITY_UNSPECIFIED {
		return ""
	}
	return strings.ToLower(strings.TrimPrefix(a.String(), "AVAILABILITY_"))
}

func boolText(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// formatFloat writes a float in its shortest exact form, as Redis reads scores.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
