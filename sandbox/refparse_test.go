package sandbox_test

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// A reference reader of Amazon's markup, written for the real pages in
// shared/fixtures/amazon: the selectors a parser of those pages uses. TestRefParserReadsRealPages
// checks it against the real pages; the other tests read the sandbox's pages with it, so they
// prove the sandbox's markup reads like the real one.

// refListing is what the reader takes from one result card.
type refListing struct {
	ASIN      string
	Sponsored bool
	Title     string
	Price     int64 // minor units; 0: absent
	ListPrice int64
	Rating    float64
	Reviews   int
	Bought    int
	Prime     bool
	Deal      bool
	Image     string
}

// refProduct is what the reader takes from a product page.
type refProduct struct {
	ASIN         string
	Canonical    string
	Title        string
	Brand        string
	Price        int64
	ListPrice    int64
	Rating       float64
	Reviews      int
	Histogram    []int
	Bought       int
	Ranks        []refRank
	Availability string
	Prime        bool
	Sellers      int
	Image        string
	Breadcrumbs  []string
}

type refRank struct {
	Rank     int
	Category string
}

var (
	digitsRe  = regexp.MustCompile(`[0-9]`)
	boughtRe  = regexp.MustCompile(`([0-9]+)(K?)\+ bought in past month`)
	ratingRe  = regexp.MustCompile(`^([0-9.]+) out of 5 stars`)
	countRe   = regexp.MustCompile(`^([0-9,]+) (?:ratings|Reviews)$`)
	rankRe    = regexp.MustCompile(`#([0-9,]+) in ([^(#]+)`)
	sellersRe = regexp.MustCompile(`New \(([0-9]+)\) from`)
)

// moneyMinor reads a price text in minor units of a currency with exponent exp: "$1,299.99",
// "1.299,99 €", "₹2,863", "￥1,280".
func moneyMinor(t *testing.T, s string, exp int) int64 {
	t.Helper()
	s = strings.TrimSpace(s)
	var digits []byte
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits = append(digits, s[i])
		}
	}
	if len(digits) == 0 {
		t.Fatalf("price %q: no digits", s)
	}
	n, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		t.Fatalf("price %q: %v", s, err)
	}
	// A decimal separator followed by exactly two digits (then only a symbol) marks minor units.
	trimmed := strings.TrimRight(s, " \u00a0€$£₹￥")
	if exp > 0 && len(trimmed) >= 3 && (trimmed[len(trimmed)-3] == '.' || trimmed[len(trimmed)-3] == ',') {
		return n
	}
	return n * int64(math.Pow10(exp))
}

func atoiComma(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(s), ",", ""))
	if err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return n
}

func boughtValue(t *testing.T, text string) int {
	m := boughtRe.FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	if m[2] == "K" {
		n *= 1000
	}
	return n
}

// readSearch reads every result card of a search page.
func readSearch(t *testing.T, page string, exp int) []refListing {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []refListing
	doc.Find(`div[data-component-type="s-search-result"][data-asin]`).Each(func(_ int, card *goquery.Selection) {
		asin, _ := card.Attr("data-asin")
		if asin == "" {
			return
		}
		l := refListing{ASIN: asin}
		l.Sponsored = card.HasClass("AdHolder") || card.Find(".puis-sponsored-label-text").Length() > 0
		l.Title = strings.TrimSpace(card.Find("h2 span").First().Text())
		if p := card.Find(`span.a-price:not(.a-text-price) > span.a-offscreen`).First(); p.Length() > 0 {
			l.Price = moneyMinor(t, p.Text(), exp)
		}
		if p := card.Find(`span.a-price.a-text-price > span.a-offscreen`).First(); p.Length() > 0 {
			l.ListPrice = moneyMinor(t, p.Text(), exp)
		}
		if m := ratingRe.FindStringSubmatch(card.Find("span.a-icon-alt").First().Text()); m != nil {
			l.Rating, _ = strconv.ParseFloat(m[1], 64)
		}
		card.Find(`a[aria-label]`).EachWithBreak(func(_ int, a *goquery.Selection) bool {
			if m := countRe.FindStringSubmatch(a.AttrOr("aria-label", "")); m != nil {
				l.Reviews = atoiComma(t, m[1])
				return false
			}
			return true
		})
		card.Find("span.a-color-secondary").Each(func(_ int, s *goquery.Selection) {
			if b := boughtValue(t, s.Text()); b > 0 {
				l.Bought = b
			}
		})
		l.Prime = card.Find("i.a-icon-prime").Length() > 0 || card.Find(".prime-signup-ingress").Length() > 0
		l.Deal = strings.Contains(card.Find(".a-badge-text").Text(), "deal")
		l.Image = card.Find("img.s-image").First().AttrOr("src", "")
		out = append(out, l)
	})
	return out
}

// readProduct reads a product page.
func readProduct(t *testing.T, page string, exp int) refProduct {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	p := refProduct{
		ASIN:      doc.Find("input#ASIN").First().AttrOr("value", ""),
		Canonical: doc.Find(`link[rel="canonical"]`).AttrOr("href", ""),
		Title:     strings.TrimSpace(doc.Find("#productTitle").Text()),
		Image:     doc.Find("#landingImage").AttrOr("src", ""),
	}
	brand := strings.TrimSpace(doc.Find("#bylineInfo").Text())
	p.Brand = strings.TrimSuffix(strings.TrimPrefix(brand, "Visit the "), " Store")
	if s := doc.Find("#corePrice_feature_div .a-price .a-offscreen").First(); s.Length() > 0 {
		p.Price = moneyMinor(t, s.Text(), exp)
	}
	if s := doc.Find("#corePriceDisplay_desktop_feature_div .a-price.a-text-price .a-offscreen").First(); s.Length() > 0 {
		p.ListPrice = moneyMinor(t, s.Text(), exp)
	}
	if m := ratingRe.FindStringSubmatch(doc.Find("#acrPopover").AttrOr("title", "")); m != nil {
		p.Rating, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := countRe.FindStringSubmatch(doc.Find("#acrCustomerReviewText").AttrOr("aria-label", "")); m != nil {
		p.Reviews = atoiComma(t, m[1])
	}
	doc.Find("#histogramTable a[aria-label]").Each(func(_ int, a *goquery.Selection) {
		f := strings.Fields(a.AttrOr("aria-label", ""))
		if len(f) > 0 {
			n, _ := strconv.Atoi(f[0])
			p.Histogram = append(p.Histogram, n)
		}
	})
	p.Bought = boughtValue(t, strings.Join(strings.Fields(doc.Find("#social-proofing-faceout-title-tk_bought").Text()), " "))
	// Best Sellers Rank: a table row (th) or a detail bullet (span.a-text-bold).
	doc.Find("th, span.a-text-bold").Each(func(_ int, h *goquery.Selection) {
		if !strings.Contains(h.Text(), "Best Sellers Rank") {
			return
		}
		text := h.Parent().Text()
		if h.Is("th") {
			text = h.Next().Text()
		}
		for _, m := range rankRe.FindAllStringSubmatch(text, -1) {
			p.Ranks = append(p.Ranks, refRank{atoiComma(t, m[1]), strings.TrimSpace(m[2])})
		}
	})
	p.Availability = strings.TrimSpace(doc.Find("#availability span").First().Text())
	p.Prime = doc.Find("#rightCol i.a-icon-prime, #buybox i.a-icon-prime").Length() > 0
	if m := sellersRe.FindStringSubmatch(doc.Find("#olp_feature_div").Text()); m != nil {
		p.Sellers, _ = strconv.Atoi(m[1])
	}
	doc.Find("#wayfinding-breadcrumbs_feature_div li:not(.a-breadcrumb-divider) a").Each(func(_ int, a *goquery.Selection) {
		p.Breadcrumbs = append(p.Breadcrumbs, strings.TrimSpace(a.Text()))
	})
	return p
}
