package parse

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// addPageSeeds adds the hand-made pages (2-12 KB, modelled on the real markup) and a few snippets as
// seeds. The real pages and slices of them are left out: the fuzzer minimises every interesting input,
// and minimising tens of kilobytes at a few milliseconds a run stalls fuzzing for minutes.
func addPageSeeds(f *testing.F) {
	pages, _ := filepath.Glob(filepath.Join("testdata", "pages", "*.html"))
	for _, p := range pages {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw, "")
	}
	f.Add([]byte(`<div data-component-type="s-search-result" data-asin="B000000001"><span class="a-price"><span class="a-offscreen">$1,299.99</span></span></div>`), "amazon.com")
	f.Add([]byte(`<span id="productTitle">x</span><span class="a-icon-alt">4,5 von 5 Sternen</span><div id="histogramTable"><div class="a-meter" aria-valuenow="100"></div></div>`), "amazon.de")
	f.Add([]byte(""), "")
}

// hasDigit reports whether a page could show a number: a digit of any script, or an entity that
// could decode to one.
func hasDigit(b []byte) bool {
	return bytes.ContainsRune(b, '&') || bytes.IndexFunc(b, unicode.IsDigit) >= 0
}

var isoCodeRe = regexp.MustCompile(`^[A-Z]{3}$`)

// checkMoney fails on a negative amount or a currency that is not an ISO 4217 code.
func checkMoney(t *testing.T, what string, m *marketv1.Money) {
	t.Helper()
	if m == nil {
		return
	}
	if m.GetAmountMinor() < 0 || !isoCodeRe.MatchString(m.GetCurrency()) {
		t.Fatalf("%s: %v", what, m)
	}
}

// checkAttributes checks the ranges of every field that is present, and that a page without digits
// yields no numeric field at all (absent stays absent: nothing is invented).
func checkAttributes(t *testing.T, what string, a *marketv1.ProductAttributes, digits bool) {
	t.Helper()
	checkMoney(t, what+" price", a.Price)
	checkMoney(t, what+" list price", a.ListPrice)
	if a.Rating != nil && (a.GetRating() < 1 || a.GetRating() > 5) {
		t.Fatalf("%s: rating %v", what, a.GetRating())
	}
	if a.ReviewCount != nil && a.GetReviewCount() < 0 || a.BoughtPastMonth != nil && a.GetBoughtPastMonth() < 0 {
		t.Fatalf("%s: negative count %v", what, a)
	}
	if a.SellerCount != nil && a.GetSellerCount() <= 0 {
		t.Fatalf("%s: seller count %d", what, a.GetSellerCount())
	}
	for _, r := range a.Ranks {
		if r.GetRank() <= 0 || r.GetCategory() == "" {
			t.Fatalf("%s: rank %v", what, r)
		}
	}
	if a.Title != nil && a.GetTitle() == "" || a.Brand != nil && a.GetBrand() == "" || a.ImageUrl != nil && a.GetImageUrl() == "" {
		t.Fatalf("%s: empty string present instead of absent: %v", what, a)
	}
	if !digits && (a.Price != nil || a.ListPrice != nil || a.Rating != nil || a.ReviewCount != nil ||
		a.BoughtPastMonth != nil || len(a.Ranks) > 0 || a.SellerCount != nil) {
		t.Fatalf("%s: a number read from a page without digits: %v", what, a)
	}
}

func FuzzSearch(f *testing.F) {
	addPageSeeds(f)
	f.Fuzz(func(t *testing.T, page []byte, marketplace string) {
		p, err := Search(bytes.NewReader(page), Options{Marketplace: marketplace})
		if err != nil {
			if p != nil || !errors.Is(err, ErrUnrecognized) {
				t.Fatalf("page %v with error %v", p, err)
			}
			return
		}
		if p.Blocked && (p.NoResults || len(p.Listings) > 0) {
			t.Fatalf("blocked page with NoResults=%v and %d listings", p.NoResults, len(p.Listings))
		}
		if p.NoResults && len(p.Listings) > 0 {
			t.Fatalf("no-results page with %d listings", len(p.Listings))
		}
		digits := hasDigit(page)
		if p.TotalResults != nil && (*p.TotalResults < 0 || !digits) || p.Page < 0 {
			t.Fatalf("total %v page %d", p.TotalResults, p.Page)
		}
		last := int32(0)
		for _, l := range p.Listings {
			if !asinRe.MatchString(l.GetAsin()) || l.GetPosition() <= last || l.Sponsored == nil || l.GetAttributes() == nil {
				t.Fatalf("listing %v after position %d", l, last)
			}
			last = l.GetPosition()
			checkAttributes(t, l.GetAsin(), l.GetAttributes(), digits)
		}
		again, err := Search(bytes.NewReader(page), Options{Marketplace: marketplace})
		if err != nil || !bytes.Equal(Render(p), Render(again)) {
			t.Fatalf("second parse differs (%v)", err)
		}
	})
}

func FuzzProduct(f *testing.F) {
	addPageSeeds(f)
	f.Fuzz(func(t *testing.T, page []byte, marketplace string) {
		p, err := Product(bytes.NewReader(page), Options{Marketplace: marketplace})
		if err != nil {
			if p != nil || !errors.Is(err, ErrUnrecognized) {
				t.Fatalf("page %v with error %v", p, err)
			}
			return
		}
		if p.Blocked {
			if p.Attributes != nil || p.RatingHistogram != nil || p.ASIN != "" {
				t.Fatalf("blocked page with content: %+v", p)
			}
			return
		}
		if p.ASIN != "" && !asinRe.MatchString(p.ASIN) {
			t.Fatalf("ASIN %q", p.ASIN)
		}
		if p.Attributes == nil {
			t.Fatal("no attributes on a product page")
		}
		digits := hasDigit(page)
		checkAttributes(t, "product", p.Attributes, digits)
		if h := p.RatingHistogram; h != nil {
			if !digits {
				t.Fatalf("histogram %v from a page without digits", h)
			}
			for _, v := range h {
				if v < 0 || v > 100 {
					t.Fatalf("histogram %v", h)
				}
			}
		}
		again, err := Product(bytes.NewReader(page), Options{Marketplace: marketplace})
		if err != nil || !bytes.Equal(Render(p), Render(again)) {
			t.Fatalf("second parse differs (%v)", err)
		}
	})
}

func FuzzParsePrice(f *testing.F) {
	for _, s := range []string{"$1,299.99", "1.299,99 €", "₹2,863", "VND 339,065", "R$ 1.234,56", "￥1,280", "¥1,280",
		"£12.99", "CDN$ 12.99", "12,99 €", "₹1,23,456.00", "CHF 1'299.50", "KWD 12.345", "-$5.00", "$1,2,3", "FREE",
		"٩٩٫٥٠ ر.س", "1 234,56 zł", "$999999999999999.99", "0.500", "1.234.567,89"} {
		for _, mp := range []string{"", "amazon.com", "amazon.de", "amazon.co.jp", "amazon.in"} {
			f.Add(s, mp)
		}
	}
	f.Fuzz(func(t *testing.T, text, marketplace string) {
		m, err := ParsePrice(text, marketplace)
		if err != nil {
			if m != nil {
				t.Fatalf("money %v with error %v", m, err)
			}
			if !errors.Is(err, ErrNoPrice) && !errors.Is(err, ErrNoCurrency) && !errors.Is(err, ErrMalformedNumber) {
				t.Fatalf("error %v is none of the documented ones", err)
			}
			return
		}
		checkMoney(t, text, m)
		if strings.IndexFunc(text, unicode.IsDigit) < 0 {
			t.Fatalf("%v read from %q, which has no digit", m, text)
		}
		// What was read, written plainly with its ISO code, reads back the same.
		plain := formatPlain(m)
		back, err := ParsePrice(plain, "")
		if err != nil || back.GetAmountMinor() != m.GetAmountMinor() || back.GetCurrency() != m.GetCurrency() {
			t.Fatalf("%q -> %v -> %q -> %v, %v", text, m, plain, back, err)
		}
	})
}

// formatPlain writes money as "USD 1234.56": ISO code, no grouping, a decimal point.
func formatPlain(m *marketv1.Money) string {
	e := exponent(m.GetCurrency())
	digits := fmt.Sprintf("%0*d", e+1, m.GetAmountMinor())
	if e == 0 {
		return m.GetCurrency() + " " + digits
	}
	return m.GetCurrency() + " " + digits[:len(digits)-e] + "." + digits[len(digits)-e:]
}
