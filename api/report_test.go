package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	rproj "github.com/marketinsightspro/marketinsights/projections/redis"
)

func TestParseReportQueryRefusesNamingTheParameter(t *testing.T) {
	cases := []struct {
		query, param string
		allowed      []string
	}{
		{"sort=title", "sort", []string{"sales", "rating", "price", "reviews", "position"}},
		{"order=up", "order", []string{"asc", "desc"}},
		{"colour=red", "colour", []string{"sort", "order", "price_min", "q"}},
		{"price_min=-1", "price_min", []string{"integer from 0"}},
		{"price_min=abc", "price_min", []string{"integer"}},
		{"price_min=500&price_max=100", "price_max", []string{"at least price_min"}},
		{"prime=maybe", "prime", []string{"true", "false"}},
		{"min_rating=6", "min_rating", []string{"from 0 to 5"}},
		{"min_rating=NaN", "min_rating", []string{"from 0 to 5"}},
		{"limit=0", "limit", []string{"from 1 to 500"}},
		{"limit=501", "limit", []string{"from 1 to 500"}},
		{"sort=price&sort=rating", "sort", []string{"one value"}},
		{"cursor=notatoken!", "cursor", []string{"next_cursor"}},
		{"q=" + url.QueryEscape("a\x00b"), "q", []string{"without control characters"}},
		{"q=" + strings.Repeat("x", 201), "q", []string{"up to 200 bytes"}},
		{"sort=price&cursor=" + Cursor{Sort: "sales", Desc: true, Has: true, Score: 3, ASIN: "B1"}.Encode(), "cursor", []string{"same sort and order"}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseReportQuery(q)
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a ParamError", err)
			}
			if pe.Param != tc.param {
				t.Errorf("param %q, want %q (%v)", pe.Param, tc.param, err)
			}
			for _, a := range tc.allowed {
				if !strings.Contains(pe.Allowed, a) {
					t.Errorf("allowed %q lacks %q", pe.Allowed, a)
				}
			}
		})
	}
}

func TestParseReportQueryDefaults(t *testing.T) {
	cases := []struct {
		query string
		sort  string
		desc  bool
		limit int
	}{
		{"", "sales", true, 50},
		{"sort=price", "price", false, 50},
		{"sort=position", "position", false, 50},
		{"sort=rating&order=asc&limit=7", "rating", false, 7},
		{"sort=price&order=desc", "price", true, 50},
		{"sort=reviews", "reviews", true, 50},
	}
	for _, tc := range cases {
		q, _ := url.ParseQuery(tc.query)
		rq, err := ParseReportQuery(q)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if rq.Sort != tc.sort || rq.Desc != tc.desc || rq.Limit != tc.limit {
			t.Errorf("%s: got %s desc=%v limit=%d", tc.query, rq.Sort, rq.Desc, rq.Limit)
		}
	}
}

// testSnapshot builds a snapshot of n products whose attributes vary with their index; every
// seventh has no price and every fifth no rating.
func testSnapshot(n int) *Snapshot {
	rows := map[string]string{}
	var sets [5][]ScoredASIN
	for i := range n {
		asin := fmt.Sprintf("B%03d", i)
		r := rproj.ListingRow{ASIN: asin, Position: int32(i + 1), Page: 1, Time: int64(1000 + i), EventID: "e",
			Title:    proto.String(fmt.Sprintf("Bottle %d %s", i, []string{"steel", "glass", "plastic"}[i%3])),
			Category: proto.String([]string{"Sports", "Kitchen"}[i%2]), Prime: proto.Bool(i%2 == 0),
			ReviewCount: proto.Int64(int64((i * 37) % 11)), Sales: &rproj.SalesJSON{Units: float64((i * 13) % 17)}}
		if i%7 != 0 {
			r.PriceMinor = proto.Int64(int64(1000 + (i*53)%900))
		}
		if i%5 != 0 {
			r.Rating = proto.Float64(float64(1+(i*3)%9) / 2)
		}
		b, _ := json.Marshal(r)
		rows[asin] = string(b)
		sets[0] = append(sets[0], ScoredASIN{asin, r.Sales.Units})
		if r.Rating != nil {
			sets[1] = append(sets[1], ScoredASIN{asin, *r.Rating})
		}
		if r.PriceMinor != nil {
			sets[2] = append(sets[2], ScoredASIN{asin, float64(*r.PriceMinor)})
		}
		sets[3] = append(sets[3], ScoredASIN{asin, float64(*r.ReviewCount)})
		sets[4] = append(sets[4], ScoredASIN{asin, float64(r.Position)})
	}
	return NewSnapshot("bottle", rows, sets)
}

func TestReportSortsEveryKeyBothWays(t *testing.T) {
	snap := testSnapshot(60)
	for _, key := range SortKeys {
		for _, desc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s desc=%v", key, desc), func(t *testing.T) {
				page := snap.Report(ReportQuery{Sort: key, Desc: desc, Limit: 500})
				if len(page.Items) != 60 || page.Matched != 60 || page.Next != nil {
					t.Fatalf("%d items, %d matched, next %v", len(page.Items), page.Matched, page.Next)
				}
				seenAbsent := false
				for i, r := range page.Items {
					if r.Score == nil {
						seenAbsent = true
						continue
					}
					if seenAbsent {
						t.Fatalf("row %d has a score after rows without one", i)
					}
					if i == 0 || page.Items[i-1].Score == nil {
						continue
					}
					prev, cur := *page.Items[i-1].Score, *r.Score
					if (!desc && prev > cur) || (desc && prev < cur) {
						t.Fatalf("rows %d,%d out of order: %v then %v", i-1, i, prev, cur)
					}
				}
			})
		}
	}
}

func TestReportCursorPagesCoverEveryRowOnce(t *testing.T) {
	snap := testSnapshot(53)
	price, prime := int64(1200), true
	filters := []ReportQuery{{}, {PriceMin: &price}, {Prime: &prime, Q: "STEEL"}, {Categories: []string{"Kitchen"}}}
	for _, key := range SortKeys {
		for _, desc := range []bool{false, true} {
			for fi, f := range filters {
				q := f
				q.Sort, q.Desc = key, desc
				q.Limit = 500
				all := snap.Report(q)
				var paged []string
				q.Limit = 4
				for n := 0; ; n++ {
					page := snap.Report(q)
					for _, r := range page.Items {
						paged = append(paged, r.ASIN)
					}
					if page.Next == nil {
						break
					}
					// The cursor survives its token form.
					c, err := DecodeCursor(page.Next.Encode())
					if err != nil {
						t.Fatal(err)
					}
					q.After = &c
					if n > 100 {
						t.Fatal("pagination does not end")
					}
				}
				var want []string
				for _, r := range all.Items {
					want = append(want, r.ASIN)
				}
				if !slices.Equal(paged, want) {
					t.Errorf("%s desc=%v filter %d: paged %v, want %v", key, desc, fi, paged, want)
				}
			}
		}
	}
}

func TestReportFilters(t *testing.T) {
	snap := testSnapshot(60)
	lo, hi, rating, yes, no := int64(1200), int64(1500), 3.0, true, false
	cases := []struct {
		name string
		q    ReportQuery
		ok   func(r ReportRow) bool
	}{
		{"price range", ReportQuery{PriceMin: &lo, PriceMax: &hi}, func(r ReportRow) bool { return r.PriceMinor != nil && *r.PriceMinor >= lo && *r.PriceMinor <= hi }},
		{"prime", ReportQuery{Prime: &yes}, func(r ReportRow) bool { return *r.Prime }},
		{"not prime", ReportQuery{Prime: &no}, func(r ReportRow) bool { return !*r.Prime }},
		{"min rating", ReportQuery{MinRating: &rating}, func(r ReportRow) bool { return r.Rating != nil && *r.Rating >= rating }},
		{"category", ReportQuery{Categories: []string{"Sports"}}, func(r ReportRow) bool { return *r.Category == "Sports" }},
		{"title", ReportQuery{Q: "GlAsS"}, func(r ReportRow) bool { return strings.Contains(*r.Title, "glass") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Sort, tc.q.Limit = "sales", 500
			page := snap.Report(tc.q)
			want := 0
			for _, r := range snap.Rows {
				if tc.ok(ReportRow{ListingRow: r}) {
					want++
				}
			}
			if page.Matched != want || len(page.Items) != want || want == 0 || want == 60 {
				t.Fatalf("matched %d, items %d, want %d (of 60, neither none nor all)", page.Matched, len(page.Items), want)
			}
			for _, r := range page.Items {
				if !tc.ok(r) {
					t.Errorf("row %s does not pass the filter", r.ASIN)
				}
			}
		})
	}
}

func TestFacets(t *testing.T) {
	f := testSnapshot(10).Facets()
	if len(f.Categories) != 2 || f.Categories[0].Count != 5 || f.Prime != 5 || f.PriceMin == nil || *f.PriceMin > *f.PriceMax {
		t.Fatalf("facets %+v", f)
	}
}

func FuzzParseReportQuery(f *testing.F) {
	f.Add("sort=price&order=asc&price_min=10&category=a&category=b&q=x&limit=3")
	f.Add("cursor=" + Cursor{Sort: "sales", Desc: true, Has: true, Score: 1, ASIN: "B1"}.Encode())
	f.Add("min_rating=4.5&prime=1")
	snap := testSnapshot(20)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		rq, err := ParseReportQuery(q)
		if err != nil {
			var pe *ParamError
			if !errors.As(err, &pe) || pe.Param == "" || pe.Allowed == "" {
				t.Fatalf("error %v does not name a parameter and what it allows", err)
			}
			return
		}
		page := snap.Report(rq)
		if len(page.Items) > rq.Limit || page.Matched > 20 {
			t.Fatalf("page of %d items for limit %d, matched %d", len(page.Items), rq.Limit, page.Matched)
		}
	})
}
