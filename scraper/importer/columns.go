package importer

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/scraper/parse"
)

// field is a canonical column.
type field int

const (
	fASIN field = iota
	fMarketplace
	fTitle
	fBrand
	fCategory
	fPrice
	fListPrice
	fCurrency
	fRating
	fReviewCount
	fBoughtPastMonth
	fSalesRank
	fRankCategory
	fPrime
	fAvailability
	fSellerCount
	fImageURL
	fKeyword
	fPosition
	fSponsored
	fURL
	fTimestamp
	numFields
)

// columns lists each field's canonical name followed by its aliases, in order of preference: when
// a row has several of them, the first non-empty cell wins.
var columns = [numFields][]string{
	fASIN:            {"asin", "ASIN"},
	fMarketplace:     {"marketplace", "domain", "Locale"},
	fTitle:           {"title", "Title", "product_name"},
	fBrand:           {"brand", "Brand", "Manufacturer"},
	fCategory:        {"category", "Categories: Sub", "Categories: Tree"},
	fPrice:           {"price", "Buy Box: Current", "Amazon: Current", "New: Current"},
	fListPrice:       {"list_price", "List Price: Current"},
	fCurrency:        {"currency"},
	fRating:          {"rating", "Reviews: Rating", "stars"},
	fReviewCount:     {"review_count", "Reviews: Review Count", "Reviews: Ratings - Format Specific", "reviews"},
	fBoughtPastMonth: {"bought_past_month", "Bought in past month"},
	fSalesRank:       {"sales_rank", "Sales Rank: Current", "bsr"},
	fRankCategory:    {"rank_category", "Categories: Root", "Sales Rank: Display Group"},
	fPrime:           {"prime", "Prime Eligible (Buy Box)"},
	fAvailability:    {"availability"},
	fSellerCount:     {"seller_count", "Count of retrieved live offers: New, FBA", "New Offer Count: Current"},
	fImageURL:        {"image_url", "Image", "Images"},
	fKeyword:         {"keyword"},
	fPosition:        {"position"},
	fSponsored:       {"sponsored"},
	fURL:             {"url", "URL: Amazon"},
	fTimestamp:       {"timestamp", "Last Update", "date", "observed_at", "event_time"},
}

// fieldByKey maps a normalised column name to its field and preference (0 is the canonical name).
var fieldByKey = func() map[string][2]int {
	m := map[string][2]int{}
	for f, names := range columns {
		for i, n := range names {
			k := normaliseKey(n)
			if _, dup := m[k]; !dup {
				m[k] = [2]int{f, i}
			}
		}
	}
	return m
}()

// normaliseKey lower-cases a column name and reduces every run of other characters (spaces,
// punctuation, emoji such as Keepa's "🚚") to one space: "Buy Box 🚚: Current" is "buy box current".
func normaliseKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		space = true
	}
	return b.String()
}

// mapping says which cells of a row hold each field.
type mapping struct {
	// cells[f] are the indexes of the cells of field f, most preferred first.
	cells [numFields][]int
	// names are the columns as the file names them.
	names []string
	// ignored are the columns that map to no field.
	ignored []string
}

// newMapping maps a header.
func newMapping(names []string) *mapping {
	m := &mapping{names: append([]string(nil), names...)}
	prefs := make([]int, len(names))
	for i, n := range names {
		fp, ok := fieldByKey[normaliseKey(n)]
		if !ok {
			if strings.TrimSpace(n) != "" {
				m.ignored = append(m.ignored, n)
			}
			continue
		}
		m.cells[fp[0]] = append(m.cells[fp[0]], i)
		prefs[i] = fp[1]
	}
	for f := range m.cells {
		// Most preferred name first; duplicate columns keep file order.
		slices.SortStableFunc(m.cells[f], func(a, b int) int { return prefs[a] - prefs[b] })
	}
	return m
}

// absent reports whether a cell stands for "no value".
func absent(s string) bool {
	switch s {
	case "", "-", "--", "—", "N/A", "n/a", "N/a", "null", "NULL":
		return true
	}
	return false
}

// rowReader reads a row's fields; err records the first bad cell.
type rowReader struct {
	m     *mapping
	cells []string
	col   string
	err   error
}

// get returns the first non-empty cell of field f and remembers its column for errors.
func (r *rowReader) get(f field) (string, bool) {
	for _, i := range r.m.cells[f] {
		if i >= len(r.cells) {
			continue
		}
		v := strings.TrimSpace(r.cells[i])
		if absent(v) {
			continue
		}
		r.col = r.m.names[i]
		if !utf8.ValidString(v) {
			r.fail(&RowError{Column: r.col, Err: fmt.Errorf("%w: not UTF-8 (convert the file to UTF-8)", ErrInvalidValue)})
			return "", false
		}
		return v, true
	}
	return "", false
}

// fail records the first error of the row.
func (r *rowReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// str sets *dst to the field's text when present.
func (r *rowReader) str(f field, dst **string) {
	if v, ok := r.get(f); ok {
		*dst = &v
	}
}

// integer reads a count or rank into *dst when present.
func (r *rowReader) integer(f field, min int64, dst **int64) {
	v, ok := r.get(f)
	if !ok {
		return
	}
	n, err := parseCount(v)
	if err == nil && n < min {
		err = fmt.Errorf("%w: %d is below %d", ErrInvalidValue, n, min)
	}
	if err != nil {
		r.fail(&RowError{Column: r.col, Err: err})
		return
	}
	*dst = &n
}

// int32v reads a small integer into *dst when present.
func (r *rowReader) int32v(f field, min int64, dst **int32) {
	var n *int64
	r.integer(f, min, &n)
	if n == nil {
		return
	}
	if *n > math.MaxInt32 {
		r.fail(&RowError{Column: r.col, Err: fmt.Errorf("%w: %d is too large", ErrInvalidValue, *n)})
		return
	}
	v := int32(*n)
	*dst = &v
}

// boolean reads a yes/no cell into *dst when present.
func (r *rowReader) boolean(f field, dst **bool) {
	v, ok := r.get(f)
	if !ok {
		return
	}
	b, err := parseBool(v)
	if err != nil {
		r.fail(&RowError{Column: r.col, Err: err})
		return
	}
	*dst = &b
}

// money reads a price cell; currency is the row's currency, if it names one.
func (r *rowReader) money(f field, marketplace, currency string) *marketv1.Money {
	v, ok := r.get(f)
	if !ok {
		return nil
	}
	text := v
	if currency != "" && bareNumber(v) {
		text = currency + " " + v
	}
	m, err := parse.ParsePrice(text, marketplace)
	if err == nil && currency != "" && m.GetCurrency() != currency {
		err = fmt.Errorf("%w: price %q is in %s but the row's currency is %s", ErrInvalidValue, v, m.GetCurrency(), currency)
	}
	if err != nil {
		r.fail(&RowError{Column: r.col, Err: err})
		return nil
	}
	return m
}

// row converts the cells of one row into an event (without envelope) and its event time.
func (m *mapping) row(cells []string, opts Options) (*marketv1.ProductObserved, time.Time, *RowError) {
	r := rowReader{m: m, cells: cells}
	asin, ok := r.get(fASIN)
	if !ok {
		col := ""
		if len(m.cells[fASIN]) > 0 {
			col = m.names[m.cells[fASIN][0]]
		}
		return nil, time.Time{}, &RowError{Column: col, Err: ErrMissingASIN}
	}
	asin, err := normaliseASIN(asin)
	if err != nil {
		return nil, time.Time{}, &RowError{Column: r.col, Err: err}
	}
	ev := &marketv1.ProductObserved{Asin: asin, Marketplace: opts.Marketplace}
	if v, ok := r.get(fMarketplace); ok {
		ev.Marketplace = normaliseMarketplace(v)
	}
	currency := opts.Currency
	if v, ok := r.get(fCurrency); ok {
		currency = strings.ToUpper(v)
		if !isCurrencyCode(currency) {
			r.fail(&RowError{Column: r.col, Err: fmt.Errorf("%w: currency %q is not an ISO 4217 code", ErrInvalidValue, v)})
		}
	}
	a := &marketv1.ProductAttributes{}
	r.str(fTitle, &a.Title)
	r.str(fBrand, &a.Brand)
	r.str(fCategory, &a.Category)
	a.Price = r.money(fPrice, ev.Marketplace, currency)
	a.ListPrice = r.money(fListPrice, ev.Marketplace, currency)
	if v, ok := r.get(fRating); ok {
		x, err := parseRating(v)
		if err != nil {
			r.fail(&RowError{Column: r.col, Err: err})
		} else {
			a.Rating = &x
		}
	}
	r.integer(fReviewCount, 0, &a.ReviewCount)
	r.integer(fBoughtPastMonth, 0, &a.BoughtPastMonth)
	var rank *int64
	r.integer(fSalesRank, 1, &rank)
	if rank != nil {
		cat, _ := r.get(fRankCategory)
		a.Ranks = []*marketv1.BestSellersRank{{Rank: *rank, Category: cat}}
	}
	r.boolean(fPrime, &a.Prime)
	if v, ok := r.get(fAvailability); ok {
		av, err := parseAvailability(v)
		if err != nil {
			r.fail(&RowError{Column: r.col, Err: err})
		}
		a.Availability = av
	}
	r.int32v(fSellerCount, 0, &a.SellerCount)
	if v, ok := r.get(fImageURL); ok {
		u := imageURL(v)
		a.ImageUrl = &u
	}
	if v, ok := r.get(fKeyword); ok {
		ev.Keyword = normaliseKeyword(v)
	}
	r.int32v(fPosition, 1, &ev.Position)
	r.boolean(fSponsored, &ev.Sponsored)
	if v, ok := r.get(fURL); ok {
		ev.Url = v
	}
	t := opts.DefaultTime
	if v, ok := r.get(fTimestamp); ok {
		ts, err := parseTime(v, opts.Location)
		if err != nil {
			r.fail(&RowError{Column: r.col, Err: err})
		}
		t = ts
	} else if t.IsZero() {
		col := ""
		if len(m.cells[fTimestamp]) > 0 {
			col = m.names[m.cells[fTimestamp][0]]
		}
		r.fail(&RowError{Column: col, Err: ErrMissingTime})
	}
	if r.err != nil {
		re := r.err.(*RowError)
		return nil, time.Time{}, re
	}
	ev.Attributes = a
	return ev, t, nil
}

// normaliseASIN upper-cases an ASIN and checks it is ten letters or digits.
func normaliseASIN(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 10 {
		return "", fmt.Errorf("%w: %q", ErrInvalidASIN, s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "", fmt.Errorf("%w: %q", ErrInvalidASIN, s)
		}
	}
	return s, nil
}

// normaliseKeyword lower-cases a keyword and collapses its white space, as search events do.
func normaliseKeyword(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// isCurrencyCode reports whether s is three capital letters.
func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// bareNumber reports whether s is only digits, separators and a sign (no currency).
func bareNumber(s string) bool {
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9', c == '.', c == ',', c == ' ', c == '\'', c == '-', c == '+', c == '\u00a0':
		default:
			return false
		}
	}
	return true
}

// parseCount reads a whole number: "1234", "1,234", "1.234", "1 234", "1K+", "2.5M", "1234.0".
func parseCount(s string) (int64, error) {
	orig := s
	s = strings.TrimSuffix(strings.TrimSpace(s), "+")
	s = strings.TrimPrefix(s, "#")
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "K"), strings.HasSuffix(s, "k"):
		mult, s = 1e3, s[:len(s)-1]
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult, s = 1e6, s[:len(s)-1]
	}
	s = strings.TrimSpace(s)
	if mult == 1 {
		s = strings.TrimSuffix(s, ".0")
		clean := strings.Map(func(r rune) rune {
			switch r {
			case ',', '.', ' ', '\'', '\u00a0', '_':
				return -1
			}
			return r
		}, s)
		if clean == "" || len(clean) > 15 || !grouped(s) {
			return 0, fmt.Errorf("%w: %q is not a whole number", ErrInvalidValue, orig)
		}
		n, err := strconv.ParseInt(clean, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%w: %q is not a whole number", ErrInvalidValue, orig)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil || f < 0 || f > 1e12 || math.IsNaN(f) {
		return 0, fmt.Errorf("%w: %q is not a whole number", ErrInvalidValue, orig)
	}
	return int64(math.Round(f * mult)), nil
}

// grouped reports whether the separators of an integer each group three digits ("1,234,567").
func grouped(s string) bool {
	groups := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '.' || r == ' ' || r == '\'' || r == '\u00a0' || r == '_'
	})
	if len(groups) == 0 {
		return false
	}
	for i, g := range groups {
		for _, c := range g {
			if c < '0' || c > '9' {
				return false
			}
		}
		if i > 0 && len(g) != 3 {
			return false
		}
		if i == 0 && len(groups) > 1 && len(g) > 3 {
			return false
		}
	}
	return true
}

// parseRating reads a star rating between 0 and 5: "4.5", "4,5", "4.5 out of 5 stars".
func parseRating(s string) (float64, error) {
	f := strings.Fields(s)
	x, err := strconv.ParseFloat(strings.Replace(f[0], ",", ".", 1), 64)
	if err != nil || math.IsNaN(x) || x < 0 || x > 5 {
		return 0, fmt.Errorf("%w: rating %q is not a number from 0 to 5", ErrInvalidValue, s)
	}
	return x, nil
}

// parseBool reads yes/no cells.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "y", "1", "prime", "x":
		return true, nil
	case "false", "no", "n", "0":
		return false, nil
	}
	return false, fmt.Errorf("%w: %q is not yes or no", ErrInvalidValue, s)
}

// parseAvailability reads a stock state: enum names, snake_case names or page phrases.
func parseAvailability(s string) (marketv1.Availability, error) {
	k := normaliseKey(strings.TrimPrefix(strings.ToUpper(s), "AVAILABILITY_"))
	switch {
	case k == "in stock" || k == "available" || k == "instock":
		return marketv1.Availability_AVAILABILITY_IN_STOCK, nil
	case k == "low stock" || strings.HasPrefix(k, "only ") && strings.Contains(k, "left"):
		return marketv1.Availability_AVAILABILITY_LOW_STOCK, nil
	case k == "out of stock" || k == "unavailable" || k == "currently unavailable" || k == "outofstock":
		return marketv1.Availability_AVAILABILITY_OUT_OF_STOCK, nil
	case k == "preorder" || k == "pre order":
		return marketv1.Availability_AVAILABILITY_PREORDER, nil
	}
	return 0, fmt.Errorf("%w: availability %q is not in_stock, low_stock, out_of_stock or preorder", ErrInvalidValue, s)
}

// amazonImageBase is where Amazon serves the images that Keepa exports name by file only.
const amazonImageBase = "https://m.media-amazon.com/images/I/"

// imageURL takes the first of Keepa's ";"- or ","-separated images and completes a bare file name.
func imageURL(s string) string {
	if i := strings.IndexAny(s, ";, "); i > 0 {
		s = s[:i]
	}
	if !strings.Contains(s, "/") {
		return amazonImageBase + s
	}
	return s
}

// timeLayouts are the timestamp layouts accepted besides unix seconds and milliseconds.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseTime reads RFC 3339, "2006-01-02 15:04[:05]", "2006-01-02", or unix seconds or
// milliseconds (13 digits or more); times without a zone are in loc.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		t := time.Unix(n, 0).UTC()
		if n >= 1e11 {
			t = time.UnixMilli(n).UTC()
		}
		if n <= 0 || t.Year() < 1995 || t.Year() > 9999 {
			return time.Time{}, fmt.Errorf("%w: timestamp %q is not a unix time after 1995", ErrInvalidValue, s)
		}
		return t, nil
	}
	for _, l := range timeLayouts {
		if len(l) > 10 && len(s) > 10 && l[10] != s[10] {
			continue // 'T' or ' ' between date and time: skip the layouts of the other kind.
		}
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			if t.Year() < 1995 || t.Year() > 9999 {
				break
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: timestamp %q is not RFC 3339, \"2006-01-02 15:04\" or unix time", ErrInvalidValue, s)
}
