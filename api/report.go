package api

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	rproj "github.com/marketinsightspro/marketinsights/projections/redis"
)

// SortKeys are the keyword report's sort keys; each has a sorted set k:<kw>:by:<key> in Redis.
var SortKeys = []string{"sales", "rating", "price", "reviews", "position"}

// defaultDesc says whether a sort key runs from the largest value when no order is given:
// the best sellers, best rated and most reviewed first; the cheapest and the top position first.
var defaultDesc = map[string]bool{"sales": true, "rating": true, "price": false, "reviews": true, "position": false}

// Limits of the keyword report.
const (
	// DefaultReportLimit is the page size when no limit is given.
	DefaultReportLimit = 50
	// MaxReportLimit is the largest page size.
	MaxReportLimit = 500
	// maxCategories is the most category parameters a report takes.
	maxCategories = 50
	// maxText is the longest free-text parameter (q, category, keyword), in bytes.
	maxText = 200
)

// reportParams are the keyword report's query parameters.
var reportParams = []string{"sort", "order", "price_min", "price_max", "prime", "min_rating", "category", "q", "cursor", "limit"}

// ReportQuery is a validated request for a page of a keyword report.
type ReportQuery struct {
	// Sort is one of SortKeys.
	Sort string
	// Desc orders from the largest value.
	Desc bool
	// PriceMin and PriceMax bound the price in minor units (inclusive); nil: unbounded.
	PriceMin, PriceMax *int64
	// Prime keeps only products with (true) or without (false) Prime; nil: both.
	Prime *bool
	// MinRating keeps products rated at least this.
	MinRating *float64
	// Categories keeps products of one of these categories (exact match); empty: all.
	Categories []string
	// Q keeps products whose title contains this text, case-insensitively.
	Q string
	// After is where the page starts (exclusive): the last row of the previous page.
	After *Cursor
	// Limit is the page size.
	Limit int
}

// Cursor is the position of a row in a report's order: the row's sort score (absent rows sort
// last) and its ASIN, with the sort and order it belongs to.
type Cursor struct {
	Sort  string  `json:"s"`
	Desc  bool    `json:"d"`
	Has   bool    `json:"h"`
	Score float64 `json:"v"`
	ASIN  string  `json:"a"`
}

// Encode returns the cursor as an opaque URL-safe token.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c) // plain fields always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a token written by Encode.
func DecodeCursor(tok string) (Cursor, error) {
	var c Cursor
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(tok) > 512 {
		return c, fmt.Errorf("not a cursor token")
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("not a cursor token: %w", err)
	}
	if !slices.Contains(SortKeys, c.Sort) || c.ASIN == "" || math.IsNaN(c.Score) || math.IsInf(c.Score, 0) {
		return c, fmt.Errorf("not a cursor token of a report")
	}
	return c, nil
}

// ParseReportQuery validates a keyword report's query parameters.
func ParseReportQuery(q url.Values) (ReportQuery, error) {
	var rq ReportQuery
	p, err := newParams(q, reportParams, "category")
	if err != nil {
		return rq, err
	}
	if rq.Sort, err = p.oneOf("sort", "sales", SortKeys); err != nil {
		return rq, err
	}
	order, err := p.oneOf("order", "", []string{"asc", "desc"})
	if err != nil {
		return rq, err
	}
	rq.Desc = defaultDesc[rq.Sort]
	if order != "" {
		rq.Desc = order == "desc"
	}
	if rq.PriceMin, err = p.integer("price_min", 0, math.MaxInt64/2); err != nil {
		return rq, err
	}
	if rq.PriceMax, err = p.integer("price_max", 0, math.MaxInt64/2); err != nil {
		return rq, err
	}
	if rq.PriceMin != nil && rq.PriceMax != nil && *rq.PriceMin > *rq.PriceMax {
		return rq, &ParamError{Param: "price_max", Value: p.str("price_max"), Reason: "below price_min", Allowed: "a price in minor units at least price_min"}
	}
	if rq.Prime, err = p.boolean("prime"); err != nil {
		return rq, err
	}
	if rq.MinRating, err = p.number("min_rating", 0, 5); err != nil {
		return rq, err
	}
	cats := q["category"]
	if len(cats) > maxCategories {
		return rq, &ParamError{Param: "category", Reason: fmt.Sprintf("given %d times", len(cats)), Allowed: fmt.Sprintf("at most %d categories", maxCategories)}
	}
	for _, c := range cats {
		if err := checkText("category", c, maxText); err != nil {
			return rq, err
		}
		if c != "" {
			rq.Categories = append(rq.Categories, c)
		}
	}
	if rq.Q, err = p.text("q", maxText); err != nil {
		return rq, err
	}
	rq.Q = strings.TrimSpace(rq.Q)
	if p.has("cursor") {
		c, err := DecodeCursor(p.str("cursor"))
		if err != nil {
			return rq, &ParamError{Param: "cursor", Value: truncate(p.str("cursor"), 64), Reason: err.Error(), Allowed: "the next_cursor of the previous page"}
		}
		if c.Sort != rq.Sort || c.Desc != rq.Desc {
			return rq, &ParamError{Param: "cursor", Value: truncate(p.str("cursor"), 64), Reason: "belongs to another sort or order",
				Allowed: "the next_cursor of a page with the same sort and order"}
		}
		rq.After = &c
	}
	if rq.Limit, err = p.limit(DefaultReportLimit, MaxReportLimit); err != nil {
		return rq, err
	}
	return rq, nil
}

// Snapshot is a keyword's report rows as Redis holds them, with every sort key's order, so that
// any sort, filter and page is computed without going back to Redis.
type Snapshot struct {
	// Keyword is the keyword.
	Keyword string
	// Rows are the products' rows, by ASIN.
	Rows []rproj.ListingRow
	// order[k] lists indexes of Rows by SortKeys[k] ascending (score, then ASIN); rows without
	// a score are not in it.
	order [5][]int
	// score[k][i] is row i's score for SortKeys[k] (valid where has[k][i]).
	score [5][]float64
	has   [5][]bool
	// Updated is the latest event time of a row.
	Updated time.Time
	// Source is the layer the rows came from: redis, or clickhouse (the fallback).
	Source string
}

// ScoredASIN is a member of a sorted set with its score.
type ScoredASIN struct {
	ASIN  string
	Score float64
}

// NewSnapshot builds a snapshot from a keyword's rows and its sorted sets (one per SortKeys,
// in that order). Rows that are not valid JSON or lack an ASIN are left out; set members
// without a row are ignored.
func NewSnapshot(keyword string, rows map[string]string, sets [5][]ScoredASIN) *Snapshot {
	parsed := make([]rproj.ListingRow, 0, len(rows))
	for asin, raw := range rows {
		var r rproj.ListingRow
		if json.Unmarshal([]byte(raw), &r) != nil || r.ASIN == "" {
			continue
		}
		r.ASIN = asin
		parsed = append(parsed, r)
	}
	return snapshotOf(keyword, parsed, sets)
}

// snapshotOf builds a snapshot from rows (one per ASIN; taken over) and the sorted sets.
func snapshotOf(keyword string, rows []rproj.ListingRow, sets [5][]ScoredASIN) *Snapshot {
	s := &Snapshot{Keyword: keyword, Rows: rows, Source: LayerRedis}
	slices.SortFunc(s.Rows, func(a, b rproj.ListingRow) int { return strings.Compare(a.ASIN, b.ASIN) })
	idx := make(map[string]int, len(s.Rows))
	var latest int64
	for i, r := range s.Rows {
		idx[r.ASIN] = i
		latest = max(latest, r.Time)
	}
	if latest > 0 {
		s.Updated = time.UnixMilli(latest).UTC()
	}
	for k := range SortKeys {
		s.score[k] = make([]float64, len(s.Rows))
		s.has[k] = make([]bool, len(s.Rows))
		for _, m := range sets[k] {
			i, ok := idx[m.ASIN]
			if !ok || s.has[k][i] || math.IsNaN(m.Score) {
				continue
			}
			s.score[k][i], s.has[k][i] = m.Score, true
			s.order[k] = append(s.order[k], i)
		}
		slices.SortFunc(s.order[k], func(a, b int) int {
			return cmp.Or(cmp.Compare(s.score[k][a], s.score[k][b]), strings.Compare(s.Rows[a].ASIN, s.Rows[b].ASIN))
		})
	}
	return s
}

// Len returns the number of products in the snapshot.
func (s *Snapshot) Len() int { return len(s.Rows) }

// ReportRow is a row of a report page with its score for the page's sort key.
type ReportRow struct {
	rproj.ListingRow
	// Score is the row's value for the sort key; nil when the listing did not show it.
	Score *float64 `json:"score,omitempty"`
}

// ReportPage is one page of a keyword report.
type ReportPage struct {
	// Items are the page's rows, in order.
	Items []ReportRow
	// Matched counts the products that pass the filters.
	Matched int
	// Next is the cursor of the page after this one; nil on the last page.
	Next *Cursor
}

// Order returns the indexes of the snapshot's rows in the order of sort key k: rows with a score
// ascending (or descending) by score, ties by ASIN in the same direction, then the rows without
// a score by ASIN.
func (s *Snapshot) Order(k int, desc bool) []int {
	out := make([]int, 0, len(s.Rows))
	if desc {
		for i := len(s.order[k]) - 1; i >= 0; i-- {
			out = append(out, s.order[k][i])
		}
	} else {
		out = append(out, s.order[k]...)
	}
	for i := range s.Rows {
		if !s.has[k][i] {
			out = append(out, i)
		}
	}
	return out
}

// key returns row i's cursor for sort key k.
func (s *Snapshot) key(k int, desc bool, i int) Cursor {
	return Cursor{Sort: SortKeys[k], Desc: desc, Has: s.has[k][i], Score: s.score[k][i], ASIN: s.Rows[i].ASIN}
}

// after reports whether cursor a comes after cursor b in the order of their sort and direction.
func after(a, b Cursor) bool {
	if a.Has != b.Has {
		return !a.Has // rows without a score come last
	}
	c := 0
	if a.Has {
		c = cmp.Compare(a.Score, b.Score)
	}
	c = cmp.Or(c, strings.Compare(a.ASIN, b.ASIN))
	if a.Desc && a.Has {
		c = -c
	}
	return c > 0
}

// Matches reports whether a row passes the query's filters.
func (q ReportQuery) Matches(r *rproj.ListingRow) bool {
	if q.PriceMin != nil && (r.PriceMinor == nil || *r.PriceMinor < *q.PriceMin) {
		return false
	}
	if q.PriceMax != nil && (r.PriceMinor == nil || *r.PriceMinor > *q.PriceMax) {
		return false
	}
	if q.Prime != nil && (r.Prime != nil && *r.Prime) != *q.Prime {
		return false
	}
	if q.MinRating != nil && (r.Rating == nil || *r.Rating < *q.MinRating) {
		return false
	}
	if len(q.Categories) > 0 && (r.Category == nil || !slices.Contains(q.Categories, *r.Category)) {
		return false
	}
	if q.Q != "" && (r.Title == nil || !containsFold(*r.Title, q.Q)) {
		return false
	}
	return true
}

// containsFold reports whether s contains sub, ignoring case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// Report returns the page of the snapshot that the query asks for.
func (s *Snapshot) Report(q ReportQuery) ReportPage {
	k := slices.Index(SortKeys, q.Sort)
	if k < 0 {
		k = 0
	}
	var page ReportPage
	var last int
	for _, i := range s.Order(k, q.Desc) {
		r := &s.Rows[i]
		if !q.Matches(r) {
			continue
		}
		page.Matched++
		if q.After != nil && !after(s.key(k, q.Desc, i), *q.After) {
			continue
		}
		if len(page.Items) == q.Limit {
			if page.Next == nil {
				c := s.key(k, q.Desc, last)
				page.Next = &c
			}
			continue
		}
		row := ReportRow{ListingRow: *r}
		if s.has[k][i] {
			v := s.score[k][i]
			row.Score = &v
		}
		page.Items = append(page.Items, row)
		last = i
	}
	return page
}

// Facets summarises a snapshot for the page's filters: categories with their counts, the price
// range, and how many products have Prime.
type Facets struct {
	Categories []CategoryCount `json:"categories"`
	PriceMin   *int64          `json:"price_min_minor,omitempty"`
	PriceMax   *int64          `json:"price_max_minor,omitempty"`
	Prime      int             `json:"prime"`
	Currency   string          `json:"currency,omitempty"`
}

// CategoryCount is a category and how many of the keyword's products are in it.
type CategoryCount struct {
	Category string `json:"category"`
	Count    int    `json:"count"`
}

// Facets returns the snapshot's facets.
func (s *Snapshot) Facets() Facets {
	f := Facets{Categories: []CategoryCount{}}
	counts := map[string]int{}
	for i := range s.Rows {
		r := &s.Rows[i]
		if r.Category != nil && *r.Category != "" {
			counts[*r.Category]++
		}
		if r.PriceMinor != nil {
			if f.PriceMin == nil || *r.PriceMinor < *f.PriceMin {
				f.PriceMin = r.PriceMinor
			}
			if f.PriceMax == nil || *r.PriceMinor > *f.PriceMax {
				f.PriceMax = r.PriceMinor
			}
			if f.Currency == "" {
				f.Currency = r.Currency
			}
		}
		if r.Prime != nil && *r.Prime {
			f.Prime++
		}
	}
	for c, n := range counts {
		f.Categories = append(f.Categories, CategoryCount{Category: c, Count: n})
	}
	slices.SortFunc(f.Categories, func(a, b CategoryCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Category, b.Category))
	})
	return f
}
