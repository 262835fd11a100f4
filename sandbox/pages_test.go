package sandbox_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/marketinsightspro/marketinsights/sandbox"
)

// compareListing compares what the reference reader read from a card with the truth.
func compareListing(t *testing.T, where string, got refListing, want sandbox.Listing) {
	t.Helper()
	w := refListing{
		ASIN: want.ASIN, Sponsored: want.Sponsored, Title: want.Title, Price: want.Price, ListPrice: want.ListPrice,
		Rating: want.Rating, Reviews: want.Reviews, Bought: want.BoughtPastMonth, Prime: want.Prime, Deal: want.Deal, Image: want.ImageURL,
	}
	if got != w {
		t.Errorf("%s: card %d:\n read  %+v\n truth %+v", where, want.Position, got, w)
	}
}

// TestSearchPagesMatchTruth reads every page of several keywords in both layouts and four
// marketplaces with the reference reader and compares every card with /_truth/keyword.
func TestSearchPagesMatchTruth(t *testing.T) {
	r, _ := start(t, sandbox.Options{Config: sandbox.Config{Seed: 11}}, 50*time.Hour+30*time.Minute)
	kws := r.Server.Market().Keywords()
	cases := []struct {
		mp  string
		exp int
	}{{"", 2}, {"amazon.de", 2}, {"amazon.in", 2}, {"amazon.co.jp", 0}}
	for _, c := range cases {
		for _, layout := range []string{"list", "grid"} {
			for _, kw := range []string{kws[0], kws[5], kws[9]} {
				t.Run(fmt.Sprintf("%s/%s/%s", c.mp, layout, kw), func(t *testing.T) {
					for pg := 1; ; pg++ {
						page := get(t, r.URL+searchPath(kw, pg, layout, c.mp))
						if page.status != http.StatusOK {
							t.Fatalf("page %d: status %d", pg, page.status)
						}
						var truth sandbox.PageTruth
						getJSON(t, r.URL+truthPath(kw, pg, c.mp, page.header.Get("X-Sandbox-Time")), &truth)
						cards := readSearch(t, page.body, c.exp)
						if len(cards) != len(truth.Listings) {
							t.Fatalf("page %d: %d cards, truth has %d", pg, len(cards), len(truth.Listings))
						}
						for i := range cards {
							compareListing(t, fmt.Sprintf("page %d", pg), cards[i], truth.Listings[i])
						}
						if len(cards) == 0 {
							if pg != truth.Pages+1 {
								t.Fatalf("page %d is empty, truth says %d pages", pg, truth.Pages)
							}
							if !strings.Contains(page.body, "No results for") {
								t.Errorf("page %d past the last: no 'No results for'", pg)
							}
							return
						}
					}
				})
			}
		}
	}
}

// TestLayoutsShowSameListings checks that the list and grid layouts show the same cards with the
// same fields, though their markup differs.
func TestLayoutsShowSameListings(t *testing.T) {
	r, _ := start(t, sandbox.Options{Config: sandbox.Config{Seed: 3}}, 7*time.Hour)
	for _, kw := range r.Server.Market().Keywords() {
		for pg := 1; pg <= 2; pg++ {
			list := get(t, r.URL+searchPath(kw, pg, "list", ""))
			grid := get(t, r.URL+searchPath(kw, pg, "grid", ""))
			if !strings.Contains(list.body, "sg-col-20-of-24 s-result-item") || !strings.Contains(grid.body, "sg-col-4-of-24 sg-col-4-of-12 s-result-item") {
				t.Fatalf("%s page %d: layouts not told apart by their containers", kw, pg)
			}
			a, b := readSearch(t, list.body, 2), readSearch(t, grid.body, 2)
			if len(a) != len(b) {
				t.Fatalf("%s page %d: list has %d cards, grid %d", kw, pg, len(a), len(b))
			}
			for i := range a {
				if a[i] != b[i] {
					t.Errorf("%s page %d card %d:\n list %+v\n grid %+v", kw, pg, i+1, a[i], b[i])
				}
			}
		}
	}
}

// TestPaginationCoversEveryProductOnce checks, for every keyword, that the organic results of
// all its pages list each product the truth puts in the keyword exactly once.
func TestPaginationCoversEveryProductOnce(t *testing.T) {
	for _, offset := range []time.Duration{0, 36 * time.Hour, 20 * 24 * time.Hour} {
		t.Run(offset.String(), func(t *testing.T) {
			r, _ := start(t, sandbox.Options{Config: sandbox.Config{Seed: 5}}, offset)
			var truth sandbox.Truth
			getJSON(t, r.URL+"/_truth", &truth)
			members := map[string]map[string]bool{}
			for _, p := range truth.Products {
				for _, k := range p.Keywords {
					if members[k] == nil {
						members[k] = map[string]bool{}
					}
					members[k][p.ASIN] = true
				}
			}
			for _, kt := range truth.Keywords {
				if kt.TotalResults < 16 {
					t.Errorf("%s: %d results", kt.Keyword, kt.TotalResults)
				}
				seen := map[string]int{}
				for pg := 1; pg <= len(kt.Pages)+1; pg++ {
					page := get(t, r.URL+searchPath(kt.Keyword, pg, "", ""))
					cards := readSearch(t, page.body, 2)
					if pg > len(kt.Pages) {
						if len(cards) != 0 {
							t.Errorf("%s: page %d past the last shows %d cards", kt.Keyword, pg, len(cards))
						}
						continue
					}
					organic := 0
					for i, c := range cards {
						if c.ASIN != kt.Pages[pg-1].ASINs[i] {
							t.Fatalf("%s page %d card %d: page shows %s, /_truth lists %s", kt.Keyword, pg, i+1, c.ASIN, kt.Pages[pg-1].ASINs[i])
						}
						if !c.Sponsored {
							seen[c.ASIN]++
							organic++
						}
					}
					if pg < len(kt.Pages) && organic != kt.PageSize {
						t.Errorf("%s page %d: %d organic results, page size %d", kt.Keyword, pg, organic, kt.PageSize)
					}
				}
				if len(seen) != kt.TotalResults || len(seen) != len(members[kt.Keyword]) {
					t.Errorf("%s: pages show %d products, truth total %d, %d products list the keyword", kt.Keyword, len(seen), kt.TotalResults, len(members[kt.Keyword]))
				}
				for a, n := range seen {
					if n != 1 {
						t.Errorf("%s: %s shown %d times", kt.Keyword, a, n)
					}
					if !members[kt.Keyword][a] {
						t.Errorf("%s: %s shown but its truth does not list the keyword", kt.Keyword, a)
					}
				}
			}
		})
	}
}

// TestProductPagesMatchTruth reads product pages of every category (both details layouts), with
// and without reviews, in stock and not, and compares them with /_truth/product.
func TestProductPagesMatchTruth(t *testing.T) {
	r, clk := start(t, sandbox.Options{Config: sandbox.Config{Seed: 9, AnomaliesPerDay: 60}}, 0)
	// Move to a time with a stock-out in force.
	var truth sandbox.Truth
	getJSON(t, r.URL+"/_truth?offset=72h", &truth)
	var oos *sandbox.Anomaly
	for i := range truth.Anomalies {
		a := &truth.Anomalies[i]
		if a.Kind == sandbox.OutOfStock {
			oos = a
			break
		}
	}
	if oos == nil {
		t.Fatal("no stock-out in the first three days")
	}
	at, _ := time.Parse(time.RFC3339, oos.At)
	clk.Set(at)
	getJSON(t, r.URL+"/_truth", &truth)

	var kinds = map[string]bool{}
	checked := 0
	for _, mp := range []struct {
		name string
		exp  int
	}{{"", 2}, {"amazon.de", 2}, {"amazon.co.jp", 0}} {
		for i, pt := range truth.Products {
			if i%17 != 0 && pt.ASIN != oos.ASIN {
				continue
			}
			page := get(t, r.URL+"/dp/"+pt.ASIN+"?mp="+mp.name)
			if !pt.Active {
				if page.status != http.StatusNotFound {
					t.Errorf("%s not listed: status %d, want 404", pt.ASIN, page.status)
				}
				continue
			}
			var want sandbox.ProductTruth
			getJSON(t, r.URL+"/_truth/product?asin="+pt.ASIN+"&mp="+mp.name+"&at="+page.header.Get("X-Sandbox-Time"), &want)
			got := readProduct(t, page.body, mp.exp)
			checked++
			kinds[fmt.Sprintf("stock=%v reviews=%v bullets=%v", want.InStock, want.Reviews > 0, strings.Contains(page.body, "detailBulletsWrapper_feature_div"))] = true
			where := pt.ASIN + " " + mp.name
			if got.ASIN != want.ASIN || got.Title != want.Title || got.Brand != want.Brand || got.Price != want.Price ||
				got.ListPrice != want.ListPrice || got.Rating != want.Rating || got.Reviews != want.Reviews ||
				got.Bought != want.BoughtPastMonth || got.Availability != want.Availability || got.Sellers != want.SellerCount ||
				got.Image != want.ImageURL || got.Prime != want.Prime {
				t.Errorf("%s:\n read  %+v\n truth %+v", where, got, want)
			}
			if !strings.HasSuffix(got.Canonical, want.URL) {
				t.Errorf("%s: canonical %q, want ending %q", where, got.Canonical, want.URL)
			}
			if fmt.Sprint(got.Histogram) != fmt.Sprint(want.Histogram) && !(len(got.Histogram) == 0 && len(want.Histogram) == 0) {
				t.Errorf("%s: histogram %v, truth %v", where, got.Histogram, want.Histogram)
			}
			if len(got.Ranks) != len(want.BestSellersRanks) {
				t.Errorf("%s: ranks %v, truth %v", where, got.Ranks, want.BestSellersRanks)
			} else {
				for j, rk := range want.BestSellersRanks {
					if got.Ranks[j].Rank != rk.Rank || got.Ranks[j].Category != rk.Category {
						t.Errorf("%s: rank %d: %v, truth %v", where, j, got.Ranks[j], rk)
					}
				}
			}
			if len(got.Breadcrumbs) != 3 || got.Breadcrumbs[0] != want.Category || got.Breadcrumbs[2] != want.Subcategory {
				t.Errorf("%s: breadcrumbs %v", where, got.Breadcrumbs)
			}
		}
	}
	if checked < 100 {
		t.Errorf("checked %d product pages, want at least 100", checked)
	}
	if !kinds["stock=true reviews=true bullets=true"] || !kinds["stock=true reviews=true bullets=false"] {
		t.Errorf("both details layouts should be covered: %v", kinds)
	}
	if len(kinds) < 4 {
		t.Errorf("want pages in stock and not, with and without reviews: got %v", kinds)
	}
}
