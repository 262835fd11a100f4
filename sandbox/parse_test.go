package sandbox_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/marketinsightspro/marketinsights/sandbox"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/scraper/parse"
)

// TestScraperParsesSandbox reads the sandbox's pages with the project's parser (scraper/parse,
// written from the real pages) and compares every field with the truth.
func TestScraperParsesSandbox(t *testing.T) {
	r, clk := start(t, sandbox.Options{Config: sandbox.Config{Seed: 17, AnomaliesPerDay: 40}}, 0)
	// A time with a stock-out in force, so unavailable cards are read too.
	var an struct{ Anomalies []sandbox.Anomaly }
	getJSON(t, r.URL+"/_truth/anomalies?offset=48h", &an)
	for _, a := range an.Anomalies {
		if a.Kind == sandbox.OutOfStock && len(a.Keywords) > 0 {
			at, _ := time.Parse(time.RFC3339, a.At)
			clk.Set(at)
			break
		}
	}
	kws := r.Server.Market().Keywords()
	mps := []string{"amazon.com", "amazon.de", "amazon.in", "amazon.co.jp"}
	cards, mismatches := 0, map[string]int{}
	for i, kw := range kws {
		mp := mps[i%len(mps)]
		for _, layout := range []string{"list", "grid"} {
			for pg := 1; ; pg++ {
				u := r.URL + searchPath(kw, pg, layout, mp)
				page := get(t, u)
				var truth sandbox.PageTruth
				getJSON(t, r.URL+truthPath(kw, pg, mp, page.header.Get("X-Sandbox-Time")), &truth)
				got, err := parse.Search(strings.NewReader(page.body), parse.Options{Marketplace: mp, BaseURL: u})
				if err != nil {
					t.Fatalf("%s %s page %d: %v", kw, layout, pg, err)
				}
				if len(truth.Listings) == 0 {
					if !got.NoResults || len(got.Listings) != 0 {
						t.Errorf("%s %s page %d past the last: NoResults %v, %d listings", kw, layout, pg, got.NoResults, len(got.Listings))
					}
					break
				}
				if len(got.Listings) != len(truth.Listings) {
					t.Fatalf("%s %s page %d: parsed %d listings, truth %d", kw, layout, pg, len(got.Listings), len(truth.Listings))
				}
				for j, want := range truth.Listings {
					cards++
					where := fmt.Sprintf("%s %s %s page %d card %d (%s)", mp, layout, kw, pg, want.Position, want.ASIN)
					for _, d := range diffListing(got.Listings[j], want) {
						field, _, _ := strings.Cut(d, ":")
						mismatches[field]++
						if mismatches[field] <= 3 {
							t.Errorf("%s: %s", where, d)
						}
					}
				}
				if pg >= 3 {
					break
				}
			}
		}
	}
	// Product pages: every 9th product, in two marketplaces.
	var tr sandbox.Truth
	getJSON(t, r.URL+"/_truth", &tr)
	products := 0
	for i, pt := range tr.Products {
		if !pt.Active || (i%9 != 0 && pt.InStock) {
			continue
		}
		mp := mps[i%2]
		u := r.URL + pt.URL + "?mp=" + mp
		page := get(t, u)
		if page.status != http.StatusOK {
			t.Fatalf("%s: status %d", u, page.status)
		}
		var want sandbox.ProductTruth
		getJSON(t, r.URL+"/_truth/product?asin="+pt.ASIN+"&mp="+mp+"&at="+page.header.Get("X-Sandbox-Time"), &want)
		got, err := parse.Product(strings.NewReader(page.body), parse.Options{Marketplace: mp, BaseURL: u})
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		products++
		for _, d := range diffProduct(got, want) {
			field, _, _ := strings.Cut(d, ":")
			mismatches["product "+field]++
			if mismatches["product "+field] <= 3 {
				t.Errorf("%s product %s: %s", mp, pt.ASIN, d)
			}
		}
	}
	t.Logf("compared %d result cards and %d product pages field by field; mismatches by field: %v", cards, products, mismatches)
	if cards < 500 || products < 100 {
		t.Errorf("compared %d cards and %d product pages, want at least 500 and 100", cards, products)
	}
}

func money(m *marketv1.Money) string {
	if m == nil {
		return "absent"
	}
	return fmt.Sprintf("%d %s", m.AmountMinor, m.Currency)
}

func wantMoney(amount int64, currency string) string {
	if amount == 0 {
		return "absent"
	}
	return fmt.Sprintf("%d %s", amount, currency)
}

func optStr(p *string) string {
	if p == nil {
		return "absent"
	}
	return *p
}

func optInt(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func optFloat(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func optBool(p *bool) string {
	if p == nil {
		return "absent"
	}
	return fmt.Sprint(*p)
}

// diffListing names the fields where a parsed listing differs from the truth ("field: parsed X, truth Y").
func diffListing(got *marketv1.Listing, want sandbox.Listing) []string {
	var d []string
	add := func(field string, g, w any) {
		if fmt.Sprint(g) != fmt.Sprint(w) {
			d = append(d, fmt.Sprintf("%s: parsed %v, truth %v", field, g, w))
		}
	}
	a := got.GetAttributes()
	add("asin", got.GetAsin(), want.ASIN)
	add("position", got.GetPosition(), want.Position)
	add("sponsored", optBool(got.Sponsored), fmt.Sprint(want.Sponsored))
	add("title", optStr(a.Title), want.Title)
	add("price", money(a.GetPrice()), wantMoney(want.Price, want.Currency))
	add("list_price", money(a.GetListPrice()), wantMoney(want.ListPrice, want.Currency))
	add("rating", optFloat(a.Rating), want.Rating)
	add("review_count", optInt(a.ReviewCount), want.Reviews)
	add("bought_past_month", optInt(a.BoughtPastMonth), want.BoughtPastMonth)
	if want.Prime || a.Prime != nil {
		add("prime", optBool(a.Prime), fmt.Sprint(want.Prime))
	}
	if !strings.HasSuffix(optStr(a.ImageUrl), want.ImageURL) {
		d = append(d, fmt.Sprintf("image_url: parsed %s, truth ends %s", optStr(a.ImageUrl), want.ImageURL))
	}
	return d
}

// diffProduct names the fields where a parsed product page differs from the truth.
func diffProduct(got *parse.ProductPage, want sandbox.ProductTruth) []string {
	var d []string
	add := func(field string, g, w any) {
		if fmt.Sprint(g) != fmt.Sprint(w) {
			d = append(d, fmt.Sprintf("%s: parsed %v, truth %v", field, g, w))
		}
	}
	a := got.Attributes
	add("asin", got.ASIN, want.ASIN)
	add("blocked", got.Blocked, false)
	add("title", optStr(a.Title), want.Title)
	add("brand", optStr(a.Brand), want.Brand)
	add("category", optStr(a.Category), want.Subcategory)
	add("price", money(a.GetPrice()), wantMoney(want.Price, want.Currency))
	add("list_price", money(a.GetListPrice()), wantMoney(want.ListPrice, want.Currency))
	add("rating", optFloat(a.Rating), want.Rating)
	add("review_count", optInt(a.ReviewCount), want.Reviews)
	add("bought_past_month", optInt(a.BoughtPastMonth), want.BoughtPastMonth)
	// An unavailable product shows no offer, so whether it is Prime is unknown: absent or false.
	if want.InStock || a.Prime != nil {
		add("prime", optBool(a.Prime), fmt.Sprint(want.Prime))
	}
	var ranks []string
	for _, r := range a.GetRanks() {
		ranks = append(ranks, fmt.Sprintf("#%d %s", r.Rank, r.Category))
	}
	var wantRanks []string
	for _, r := range want.BestSellersRanks {
		wantRanks = append(wantRanks, fmt.Sprintf("#%d %s", r.Rank, r.Category))
	}
	add("ranks", ranks, wantRanks)
	avail := marketv1.Availability_AVAILABILITY_IN_STOCK
	switch {
	case !want.InStock:
		avail = marketv1.Availability_AVAILABILITY_OUT_OF_STOCK
	case strings.HasPrefix(want.Availability, "Only "):
		avail = marketv1.Availability_AVAILABILITY_LOW_STOCK
	}
	add("availability", a.GetAvailability(), avail)
	sellers := int64(0)
	if a.SellerCount != nil {
		sellers = int64(*a.SellerCount)
	}
	add("seller_count", sellers, want.SellerCount)
	// The parser may take the landing image's src or its high-resolution data-old-hires: the same
	// image (its id) at another size.
	if imageID(optStr(a.ImageUrl)) != imageID(want.ImageURL) {
		d = append(d, fmt.Sprintf("image_url: parsed %s, truth %s", optStr(a.ImageUrl), want.ImageURL))
	}
	var hist []int
	if got.RatingHistogram != nil {
		for s := 5; s >= 1; s-- {
			hist = append(hist, got.RatingHistogram.Percent(s))
		}
	}
	if len(want.Histogram) > 0 || len(hist) > 0 {
		add("histogram", hist, want.Histogram)
	}
	return d
}

// imageID is the id of an Amazon image URL: ".../images/I/71IsOVic7kL._AC_UY218_.jpg" gives
// "71IsOVic7kL".
func imageID(u string) string {
	_, id, ok := strings.Cut(u, "/images/I/")
	if !ok {
		return u
	}
	id, _, _ = strings.Cut(id, ".")
	return id
}

// TestScraperParsesFaultyPages reads the sandbox's faulty pages with scraper/parse: the robot
// check is Blocked, a truncated page gives the cards before the cut, a malformed page still gives
// every card in order.
func TestScraperParsesFaultyPages(t *testing.T) {
	r, _ := start(t, sandbox.Options{Config: sandbox.Config{Seed: 8}}, 30*time.Hour)
	kw := r.Server.Market().Keywords()[2]
	for _, layout := range []string{"list", "grid"} {
		u := r.URL + searchPath(kw, 1, layout, "")
		var truth sandbox.PageTruth
		getJSON(t, r.URL+truthPath(kw, 1, "", ""), &truth)
		asins := func(p *parse.SearchPage) []string {
			var out []string
			for _, l := range p.Listings {
				out = append(out, l.GetAsin())
			}
			return out
		}
		var want []string
		for _, l := range truth.Listings {
			want = append(want, l.ASIN)
		}
		for _, c := range []struct {
			name  string
			rule  sandbox.FaultRule
			check func(t *testing.T, p *parse.SearchPage)
		}{
			{"robot", sandbox.FaultRule{RobotRate: 1}, func(t *testing.T, p *parse.SearchPage) {
				if !p.Blocked || len(p.Listings) != 0 {
					t.Errorf("Blocked %v with %d listings, want a blocked page", p.Blocked, len(p.Listings))
				}
			}},
			{"truncated", sandbox.FaultRule{TruncateRate: 1}, func(t *testing.T, p *parse.SearchPage) {
				got := asins(p)
				if len(got) == 0 || len(got) > len(want) || fmt.Sprint(got) != fmt.Sprint(want[:len(got)]) {
					t.Errorf("listings %v, want a prefix of %v", got, want)
				}
			}},
			{"malformed", sandbox.FaultRule{MalformedRate: 1}, func(t *testing.T, p *parse.SearchPage) {
				if got := asins(p); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("listings %v, want %v", got, want)
				}
			}},
		} {
			t.Run(layout+"/"+c.name, func(t *testing.T) {
				setFaults(t, r.URL, sandbox.Faults{Rules: []sandbox.FaultRule{c.rule}})
				page := get(t, u)
				p, err := parse.Search(strings.NewReader(page.body), parse.Options{BaseURL: u})
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				c.check(t, p)
			})
		}
	}
}
