package parse

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

func mustProduct(t testing.TB, raw []byte, opts Options) *ProductPage {
	t.Helper()
	p, err := Product(bytes.NewReader(raw), opts)
	if err != nil {
		t.Fatalf("Product: %v", err)
	}
	return p
}

// TestProductRealPage checks the real product page of model C2046S (charmast 20000mAh) against what
// it shows.
func TestProductRealPage(t *testing.T) {
	raw := readFixture(t, realProductPage)
	if !bytes.Contains(raw, []byte("C2046S")) {
		t.Fatal("fixture is not the C2046S page")
	}
	p := mustProduct(t, raw, Options{})
	if p.Blocked || p.ASIN != "B0DR8G428S" || p.Marketplace != "amazon.com" {
		t.Fatalf("Blocked=%v ASIN=%q marketplace=%q", p.Blocked, p.ASIN, p.Marketplace)
	}
	a := p.Attributes
	if got := a.GetTitle(); got != "charmast 20000mAh Portable Charger with Built-in Cables and AC Wall Plug | 20W Fast Charging Power Bank, Power 3 Devices at Once, Family Travel Essential Battery Pack for iPhone, Samsung, Android" {
		t.Errorf("title %q", got)
	}
	if a.GetBrand() != "charmast" || a.GetCategory() != "Portable Power Banks" {
		t.Errorf("brand %q category %q, want charmast (\"Visit the charmast Store\"), Portable Power Banks", a.GetBrand(), a.GetCategory())
	}
	// The price block's screen-reader text is empty on this page: the price is assembled from its parts.
	if moneyString(a.Price) != money(3599, "USD") || moneyString(a.ListPrice) != money(4599, "USD") {
		t.Errorf("price %s list %s, want $35.99 list $45.99", moneyString(a.Price), moneyString(a.ListPrice))
	}
	if a.GetRating() != 4.2 || a.GetReviewCount() != 226 || a.GetBoughtPastMonth() != 200 {
		t.Errorf("rating %v reviews %d bought %d, want 4.2, 226, 200", a.GetRating(), a.GetReviewCount(), a.GetBoughtPastMonth())
	}
	if len(a.Ranks) != 2 || a.Ranks[0].GetRank() != 5211 || a.Ranks[0].GetCategory() != "Cell Phones & Accessories" ||
		a.Ranks[1].GetRank() != 309 || a.Ranks[1].GetCategory() != "Cell Phone Portable Power Banks" {
		t.Errorf("ranks %v, want #5,211 in Cell Phones & Accessories, #309 in Cell Phone Portable Power Banks", a.Ranks)
	}
	if a.GetAvailability() != marketv1.Availability_AVAILABILITY_IN_STOCK || !a.GetPrime() {
		t.Errorf("availability %v prime %v", a.GetAvailability(), a.Prime)
	}
	if a.SellerCount != nil {
		t.Errorf("seller count %d from a page without an offers line", a.GetSellerCount())
	}
	if a.GetImageUrl() != "https://m.media-amazon.com/images/I/81lAsPSu2FL._AC_SL1500_.jpg" {
		t.Errorf("image %q", a.GetImageUrl())
	}
	want := Histogram{11, 4, 5, 9, 71}
	if p.RatingHistogram == nil || *p.RatingHistogram != want {
		t.Errorf("histogram %v, want 1-5 stars %v", p.RatingHistogram, want)
	}
	if p.RatingHistogram.Percent(5) != 71 || p.RatingHistogram.Percent(1) != 11 || p.RatingHistogram.Percent(6) != 0 {
		t.Error("Percent does not index by stars")
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings %q", p.Warnings)
	}
}

// TestProductMissingElements removes parts of the real page: what is gone is absent, the rest stays.
func TestProductMissingElements(t *testing.T) {
	raw := string(readFixture(t, realProductPage))
	cases := []struct {
		name  string
		edit  func(string) string
		check func(*testing.T, *ProductPage)
	}{
		{"no histogram", func(s string) string { return strings.ReplaceAll(s, `class="a-meter"`, `class="gone"`) },
			func(t *testing.T, p *ProductPage) {
				if p.RatingHistogram != nil {
					t.Errorf("histogram %v", p.RatingHistogram)
				}
			}},
		{"no price block", func(s string) string {
			s = strings.ReplaceAll(s, "corePriceDisplay_desktop_feature_div", "gone1")
			s = strings.ReplaceAll(s, "corePrice_feature_div", "gone2")
			s = strings.ReplaceAll(s, `id="apex_desktop"`, `id="gone4"`)
			s = strings.ReplaceAll(s, "tp_price_block_total_price_ww", "gone5")
			return strings.ReplaceAll(s, "apex-pricetopay-accessibility-label", "gone3")
		}, func(t *testing.T, p *ProductPage) {
			if p.Attributes.Price != nil || p.Attributes.ListPrice != nil {
				t.Errorf("price %s list %s", moneyString(p.Attributes.Price), moneyString(p.Attributes.ListPrice))
			}
			if len(p.Warnings) != 1 || p.Warnings[0] != "no price shown" {
				t.Errorf("warnings %q", p.Warnings)
			}
			if p.Attributes.GetRating() != 4.2 {
				t.Error("rating lost with the price")
			}
		}},
		{"no canonical link and no buy form", func(s string) string {
			s = strings.ReplaceAll(s, `rel="canonical"`, `rel="gone"`)
			return strings.ReplaceAll(s, `id="ASIN"`, `id="gone"`)
		}, func(t *testing.T, p *ProductPage) {
			if p.ASIN != "B0DR8G428S" {
				t.Errorf("ASIN %q from data-asin, want B0DR8G428S", p.ASIN)
			}
		}},
		{"no byline", func(s string) string { return strings.ReplaceAll(s, `id="bylineInfo"`, `id="gone"`) },
			func(t *testing.T, p *ProductPage) {
				if p.Attributes.GetBrand() != "charmast" {
					t.Errorf("brand %q, want charmast from the details table", p.Attributes.GetBrand())
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.check(t, mustProduct(t, []byte(c.edit(raw)), Options{})) })
	}
}

func TestProductASINDisagreement(t *testing.T) {
	raw := strings.Replace(string(readFixture(t, "testdata/pages/product-amazon-de.html")),
		`<div id="dp"`, `<input type="hidden" id="ASIN" name="ASIN" value="B0CCRZD4WX"><div id="dp"`, 1)
	p := mustProduct(t, []byte(raw), Options{})
	if p.ASIN != "B0CCRZD4WX" || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "differs") {
		t.Errorf("ASIN %q warnings %q; want the buy form's ASIN and a warning", p.ASIN, p.Warnings)
	}
}

func TestProductBlockedAndUnrecognized(t *testing.T) {
	for _, name := range []string{"product-robot-check-continue-amazon-de.html", "search-robot-check.html", "search-robot-check-truncated.html"} {
		p := mustProduct(t, readFixture(t, "testdata/pages/"+name), Options{})
		if !p.Blocked || p.Attributes != nil || p.ASIN != "" {
			t.Errorf("%s: Blocked=%v ASIN=%q attributes=%v", name, p.Blocked, p.ASIN, p.Attributes)
		}
	}
	for _, page := range []string{"", "<p>hi</p>", string(readFixture(t, "testdata/pages/search-error-page-503.html")), string(readFixture(t, "testdata/pages/search-no-results.html"))} {
		if _, err := Product(strings.NewReader(page), Options{}); !errors.Is(err, ErrUnrecognized) {
			t.Errorf("Product(%.40q) error %v, want ErrUnrecognized", page, err)
		}
	}
}

func TestRenderNil(t *testing.T) {
	if got := Render(nil); len(got) != 0 {
		t.Errorf("Render(nil) = %q", got)
	}
	var sp *SearchPage
	var pp *ProductPage
	if len(Render(sp)) != 0 || len(Render(pp)) != 0 {
		t.Error("typed nil pages render")
	}
}

func TestRead(t *testing.T) {
	raw := readFixture(t, "testdata/pages/product-amazon-de.html")
	p, err := Read("product", bytes.NewReader(raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.(*ProductPage); !ok {
		t.Errorf("Read(product) gave %T", p)
	}
	if p, err := Read("search", strings.NewReader("<p>x</p>"), Options{}); p != nil || !errors.Is(err, ErrUnrecognized) {
		t.Errorf("Read(search) of a non-page: %v, %v", p, err)
	}
	if _, err := Read("category", bytes.NewReader(raw), Options{}); err == nil {
		t.Error("Read accepted an unknown kind")
	}
}
