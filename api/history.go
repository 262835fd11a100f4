package api

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/analytics/market"
	rproj "github.com/marketinsightspro/marketinsights/projections/redis"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// History reads the ClickHouse read model (docs/sql.md): window history, product history,
// and the fallbacks for what Redis does not hold. Every value is bound as a parameter.
type History struct {
	conn  driver.Conn
	sales *market.SalesModel
}

// NewHistory returns a reader of the tables through conn (its default database holds them).
func NewHistory(conn driver.Conn) *History {
	return &History{conn: conn, sales: market.DefaultSalesModel()}
}

// Ping checks the connection.
func (h *History) Ping(ctx context.Context) error {
	if err := h.conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping ClickHouse: %w", err)
	}
	return nil
}

// WindowPoint is one window of a keyword's series with its main statistics (latest version).
type WindowPoint struct {
	Start               time.Time `json:"start"`
	End                 time.Time `json:"end"`
	Version             uint64    `json:"version"`
	Final               bool      `json:"final"`
	PagesObserved       int32     `json:"pages_observed"`
	CompetitorCount     int32     `json:"competitor_count"`
	Currency            string    `json:"currency,omitempty"`
	PriceMinMinor       *int64    `json:"price_min_minor,omitempty"`
	PriceMedianMinor    *float64  `json:"price_median_minor,omitempty"`
	RatingMean          *float64  `json:"rating_mean,omitempty"`
	ReviewsTotal        int64     `json:"reviews_total"`
	PrimeShare          *float64  `json:"prime_share,omitempty"`
	SponsoredShare      *float64  `json:"sponsored_share,omitempty"`
	EstimatedSalesTotal *float64  `json:"estimated_sales_total,omitempty"`
}

// ParseSeries splits a series name such as "tumbling:1h" into its kind and size in seconds.
func ParseSeries(series string) (kind string, sizeSeconds int64, ok bool) {
	kind, size, ok := strings.Cut(series, ":")
	if !ok || (kind != "tumbling" && kind != "sliding") || len(size) < 2 {
		return "", 0, false
	}
	n, err := strconv.ParseInt(size[:len(size)-1], 10, 64)
	if err != nil || n <= 0 || n > 1e6 {
		return "", 0, false
	}
	unit := map[byte]int64{'s': 1, 'm': 60, 'h': 3600, 'd': 86400}[size[len(size)-1]]
	if unit == 0 {
		return "", 0, false
	}
	return kind, n * unit, true
}

// Windows returns a keyword's windows of a series ending at or after since, newest first.
func (h *History) Windows(ctx context.Context, keyword, series string, since time.Time, limit int) ([]WindowPoint, error) {
	kind, size, ok := ParseSeries(series)
	if !ok {
		return nil, fmt.Errorf("window series %q: want <tumbling|sliding>:<size>", series)
	}
	const q = `SELECT window_start, window_end, max(version),
		argMax(final, version), argMax(pages_observed, version), argMax(competitor_count, version), argMax(currency, version),
		argMax(price_min_minor, version), argMax(price_median_minor, version), argMax(rating_mean, version),
		argMax(reviews_total, version), argMax(prime_share, version), argMax(sponsored_share, version),
		argMax(estimated_sales_total, version)
	FROM keyword_windows
	WHERE keyword = ? AND window_kind = ? AND size_seconds = ? AND window_end >= ?
	GROUP BY window_start, window_end
	ORDER BY window_start DESC
	LIMIT ?`
	rows, err := h.conn.Query(ctx, q, keyword, kind, size, since.UTC(), uint64(limit))
	if err != nil {
		return nil, fmt.Errorf("query the %s windows of keyword %q: %w", series, keyword, err)
	}
	defer rows.Close()
	out := []WindowPoint{}
	for rows.Next() {
		var p WindowPoint
		var final uint8
		if err := rows.Scan(&p.Start, &p.End, &p.Version, &final, &p.PagesObserved, &p.CompetitorCount, &p.Currency,
			&p.PriceMinMinor, &p.PriceMedianMinor, &p.RatingMean, &p.ReviewsTotal, &p.PrimeShare, &p.SponsoredShare,
			&p.EstimatedSalesTotal); err != nil {
			return nil, fmt.Errorf("read a %s window of keyword %q: %w", series, keyword, err)
		}
		p.Final = final == 1
		p.Start, p.End = p.Start.UTC(), p.End.UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the %s windows of keyword %q: %w", series, keyword, err)
	}
	return out, nil
}

// ProductPoint is one observation of a product: its price, rank and reviews at a time.
type ProductPoint struct {
	Time            time.Time `json:"time"`
	PriceMinor      *int64    `json:"price_minor,omitempty"`
	Currency        string    `json:"currency,omitempty"`
	Rating          *float64  `json:"rating,omitempty"`
	ReviewCount     *int64    `json:"review_count,omitempty"`
	Rank            *int64    `json:"rank,omitempty"`
	BoughtPastMonth *int64    `json:"bought_past_month,omitempty"`
	Availability    string    `json:"availability,omitempty"`
}

// ProductHistory returns a product's observations since a time, oldest first (the latest limit).
func (h *History) ProductHistory(ctx context.Context, asin string, since time.Time, limit int) ([]ProductPoint, error) {
	const q = `SELECT event_time, price_minor, currency, rating, review_count, rank, bought_past_month, availability
	FROM observations FINAL
	WHERE asin = ? AND event_time >= ?
	ORDER BY event_time DESC, event_id DESC
	LIMIT ?`
	rows, err := h.conn.Query(ctx, q, asin, since.UTC(), uint64(limit))
	if err != nil {
		return nil, fmt.Errorf("query the history of product %s: %w", asin, err)
	}
	defer rows.Close()
	out := []ProductPoint{}
	for rows.Next() {
		var p ProductPoint
		if err := rows.Scan(&p.Time, &p.PriceMinor, &p.Currency, &p.Rating, &p.ReviewCount, &p.Rank, &p.BoughtPastMonth, &p.Availability); err != nil {
			return nil, fmt.Errorf("read the history of product %s: %w", asin, err)
		}
		p.Time = p.Time.UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the history of product %s: %w", asin, err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// ProductLatest reads a product's latest state from product_latest as the fields of the Redis
// product hash (docs/redis.md); nil when ClickHouse has none.
func (h *History) ProductLatest(ctx context.Context, asin string) (map[string]string, error) {
	const q = `SELECT asin, marketplace, version, event_time, title, brand, category, price_minor, list_price_minor, currency,
		rating, review_count, bought_past_month, rank, rank_category, prime, availability, seller_count, image_url, observation_count
	FROM product_latest FINAL WHERE asin = ? ORDER BY version DESC LIMIT 1`
	rows, err := h.conn.Query(ctx, q, asin)
	if err != nil {
		return nil, fmt.Errorf("query product %s: %w", asin, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	var (
		a, market, currency, availability       string
		version                                 uint64
		at                                      time.Time
		title, brand, category, rankCat, image  *string
		price, listPrice, reviews, bought, rank *int64
		rating                                  *float64
		prime                                   *uint8
		sellers                                 *int32
		observations                            int64
	)
	if err := rows.Scan(&a, &market, &version, &at, &title, &brand, &category, &price, &listPrice, &currency, &rating, &reviews,
		&bought, &rank, &rankCat, &prime, &availability, &sellers, &image, &observations); err != nil {
		return nil, fmt.Errorf("read product %s: %w", asin, err)
	}
	f := map[string]string{"asin": a, "marketplace": market, "version": strconv.FormatUint(version, 10),
		"updated_at": strconv.FormatInt(at.UnixMilli(), 10), "observation_count": strconv.FormatInt(observations, 10)}
	set := func(k string, v *string) {
		if v != nil {
			f[k] = *v
		}
	}
	seti := func(k string, v *int64) {
		if v != nil {
			f[k] = strconv.FormatInt(*v, 10)
		}
	}
	set("title", title)
	set("brand", brand)
	set("category", category)
	set("rank_category", rankCat)
	set("image_url", image)
	seti("price_minor", price)
	seti("list_price_minor", listPrice)
	seti("review_count", reviews)
	seti("bought_past_month", bought)
	seti("rank", rank)
	if currency != "" {
		f["currency"] = currency
	}
	if availability != "" {
		f["availability"] = availability
	}
	if rating != nil {
		f["rating"] = strconv.FormatFloat(*rating, 'f', -1, 64)
	}
	if prime != nil {
		f["prime"] = strconv.Itoa(int(*prime))
	}
	if sellers != nil {
		f["seller_count"] = strconv.Itoa(int(*sellers))
	}
	return f, rows.Err()
}

// AnomalyFilter selects anomalies of the feed.
type AnomalyFilter struct {
	Kind, Severity, Keyword string
	Since                   time.Time
	Limit                   int
}

// Anomalies reads anomalies from ClickHouse (the fallback when Redis has none), newest first.
func (h *History) Anomalies(ctx context.Context, f AnomalyFilter) ([]Anomaly, error) {
	q := `SELECT anomaly_id, event_time, asin, keyword, kind, severity, score, observed, usual_low, usual_high, explanation, title, currency
	FROM anomalies FINAL WHERE event_time >= ?`
	args := []any{f.Since.UTC()}
	for _, c := range []struct{ col, val string }{{"kind", f.Kind}, {"severity", f.Severity}, {"keyword", f.Keyword}} {
		if c.val != "" {
			q += " AND " + c.col + " = ?" // column names are constants; values are bound
			args = append(args, c.val)
		}
	}
	q += " ORDER BY event_time DESC, anomaly_id LIMIT ?"
	args = append(args, uint64(f.Limit))
	rows, err := h.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query anomalies: %w", err)
	}
	defer rows.Close()
	out := []Anomaly{}
	for rows.Next() {
		var a Anomaly
		var lo, hi float64
		if err := rows.Scan(&a.ID, &a.Time, &a.ASIN, &a.Keyword, &a.Kind, &a.Severity, &a.Score, &a.Observed, &lo, &hi,
			&a.Explanation, &a.Title, &a.Currency); err != nil {
			return nil, fmt.Errorf("read an anomaly: %w", err)
		}
		a.Time = a.Time.UTC()
		if lo != 0 || hi != 0 {
			a.UsualLow, a.UsualHigh = &lo, &hi
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// analysisFacts reads an analysis' transitions from the analyses table, in order.
func (h *History) analysisFacts(ctx context.Context, id string) ([]analysisFact, error) {
	const q = `SELECT type, keyword, step, progress, detail, stale, reason, event_time
	FROM analyses FINAL WHERE analysis_id = ? ORDER BY event_time, event_id`
	rows, err := h.conn.Query(ctx, q, id)
	if err != nil {
		return nil, fmt.Errorf("query analysis %s: %w", id, err)
	}
	defer rows.Close()
	var out []analysisFact
	for rows.Next() {
		var f analysisFact
		var stale uint8
		if err := rows.Scan(&f.typ, &f.keyword, &f.step, &f.progress, &f.detail, &stale, &f.reason, &f.time); err != nil {
			return nil, fmt.Errorf("read analysis %s: %w", id, err)
		}
		f.stale = stale == 1
		out = append(out, f)
	}
	return out, rows.Err()
}

// ReportRetention is how far before a keyword's newest page the ClickHouse fallback of the
// report reaches: the Redis projection's default keyword retention, so both hold the same
// products.
const ReportRetention = 24 * time.Hour

// reportPageSize is the listings of a full search page, as the Redis projection counts them.
const reportPageSize = 48

// Report rebuilds a keyword's report snapshot from ClickHouse, as the Redis projection holds it
// (docs/redis.md): every product listed for the keyword within ReportRetention of its newest
// page, with its latest listing (later event time, then better page-adjusted position, then
// greater event id), its row and its sort keys computed as the projection computes them. What
// a card showed comes from search_results; category, availability, seller count and image,
// which search_results does not keep, come from the product's latest state (product_latest)
// where known. Row times have the table's second precision. nil when the keyword has no rows.
func (h *History) Report(ctx context.Context, keyword string) (*Snapshot, error) {
	const q = `SELECT asin, event_id, event_time, page, position, sponsored, title, brand, price_minor, currency,
		rating, review_count, bought_past_month, prime
	FROM search_results FINAL
	WHERE keyword = ? AND event_time >= (SELECT max(event_time) FROM search_results WHERE keyword = ?) - ?
	ORDER BY asin, event_time DESC, (greatest(page, 1) - 1) * ? + if(position < 1, ?, position), event_id DESC
	LIMIT 1 BY asin`
	rows, err := h.conn.Query(ctx, q, keyword, keyword, uint32(ReportRetention/time.Second), reportPageSize, reportPageSize)
	if err != nil {
		return nil, fmt.Errorf("query the report rows of keyword %q: %w", keyword, err)
	}
	defer rows.Close()
	type card struct {
		l       *marketv1.Listing
		page    int32
		at      time.Time
		eventID string
	}
	var cards []card
	for rows.Next() {
		var (
			c                      card
			asin, currency         string
			position               int32
			sponsored, prime       *uint8
			title, brand           *string
			price, reviews, bought *int64
			rating                 *float64
		)
		if err := rows.Scan(&asin, &c.eventID, &c.at, &c.page, &position, &sponsored, &title, &brand, &price, &currency,
			&rating, &reviews, &bought, &prime); err != nil {
			return nil, fmt.Errorf("read a report row of keyword %q: %w", keyword, err)
		}
		a := &marketv1.ProductAttributes{Title: title, Brand: brand, Rating: rating, ReviewCount: reviews, BoughtPastMonth: bought}
		if price != nil {
			a.Price = &marketv1.Money{AmountMinor: *price, Currency: currency}
		}
		if prime != nil {
			a.Prime = proto.Bool(*prime == 1)
		}
		c.l = &marketv1.Listing{Asin: asin, Position: position, Attributes: a}
		if sponsored != nil {
			c.l.Sponsored = proto.Bool(*sponsored == 1)
		}
		cards = append(cards, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the report rows of keyword %q: %w", keyword, err)
	}
	if len(cards) == 0 {
		return nil, nil
	}
	asins := make([]string, len(cards))
	for i, c := range cards {
		asins[i] = c.l.GetAsin()
	}
	labels, err := h.productLabels(ctx, asins)
	if err != nil {
		return nil, err
	}
	out := make([]rproj.ListingRow, len(cards))
	var sets [5][]ScoredASIN
	for i, c := range cards {
		if lb, ok := labels[c.l.GetAsin()]; ok {
			a := c.l.GetAttributes()
			a.Category, a.Availability, a.SellerCount, a.ImageUrl = lb.category, lb.availability, lb.sellers, lb.image
		}
		kl := rproj.ListingOf(c.l, c.page, c.at.UnixMilli(), c.eventID, reportPageSize, h.sales)
		out[i] = kl.Row
		for k, v := range kl.Scores {
			if v != nil {
				sets[k] = append(sets[k], ScoredASIN{ASIN: kl.Row.ASIN, Score: *v})
			}
		}
	}
	snap := snapshotOf(keyword, out, sets)
	snap.Source = LayerClickHouse
	return snap, nil
}

// productLabel is what the report fallback takes from a product's latest state.
type productLabel struct {
	category, image *string
	availability    marketv1.Availability
	sellers         *int32
}

// productLabels reads the category, availability, seller count and image of products from
// product_latest (the latest version of each).
func (h *History) productLabels(ctx context.Context, asins []string) (map[string]productLabel, error) {
	const q = `SELECT asin, category, availability, seller_count, image_url
	FROM product_latest FINAL WHERE has(?, asin)
	ORDER BY asin, version DESC
	LIMIT 1 BY asin`
	rows, err := h.conn.Query(ctx, q, asins)
	if err != nil {
		return nil, fmt.Errorf("query the latest state of %d products: %w", len(asins), err)
	}
	defer rows.Close()
	out := make(map[string]productLabel, len(asins))
	for rows.Next() {
		var (
			asin, availability string
			lb                 productLabel
		)
		if err := rows.Scan(&asin, &lb.category, &availability, &lb.sellers, &lb.image); err != nil {
			return nil, fmt.Errorf("read the latest state of a product: %w", err)
		}
		if availability != "" {
			lb.availability = marketv1.Availability(marketv1.Availability_value["AVAILABILITY_"+strings.ToUpper(availability)])
		}
		out[asin] = lb
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the latest state of %d products: %w", len(asins), err)
	}
	return out, nil
}
