package parse

import (
	"bytes"
	"errors"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

const (
	realSearchPage  = "testdata/amazon/search-portable-charger-list-layout.html"
	realProductPage = "testdata/amazon/product-portable-charger.html"
)

func readFixture(t testing.TB, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func mustSearch(t testing.TB, raw []byte, opts Options) *SearchPage {
	t.Helper()
	p, err := Search(bytes.NewReader(raw), opts)
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	return p
}

func listingByASIN(t *testing.T, p *SearchPage, asin string) *marketv1.Listing {
	t.Helper()
	for _, l := range p.Listings {
		if l.GetAsin() == asin {
			return l
		}
	}
	t.Fatalf("no listing %s", asin)
	return nil
}

func money(amount int64, currency string) string {
	return (&marketv1.Money{AmountMinor: amount, Currency: currency}).String()
}

func moneyString(m *marketv1.Money) string {
	if m == nil {
		return "<absent>"
	}
	return money(m.GetAmountMinor(), m.GetCurrency())
}

// TestSearchRealPage checks what the parser reads from the real amazon.com search page against what
// the page shows, card by card where the README and a reading of the page say what is there.
func TestSearchRealPage(t *testing.T) {
	p := mustSearch(t, readFixture(t, realSearchPage), Options{})
	if p.Blocked || p.NoResults {
		t.Fatalf("Blocked=%v NoResults=%v on a results page", p.Blocked, p.NoResults)
	}
	if p.Marketplace != "amazon.com" || p.Keyword != "portable charger" || p.Page != 1 {
		t.Errorf("marketplace %q keyword %q page %d; want amazon.com, portable charger, 1", p.Marketplace, p.Keyword, p.Page)
	}
	if p.TotalResults == nil || *p.TotalResults != 90000 {
		t.Errorf("TotalResults = %v, want 90000 (\"1-16 of over 90,000 results\")", p.TotalResults)
	}
	if len(p.Listings) != 22 {
		t.Fatalf("%d listings, want the 22 result cards", len(p.Listings))
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings on a whole page: %q", p.Warnings)
	}
	var sponsored []string
	for i, l := range p.Listings {
		if l.GetPosition() != int32(i+1) {
			t.Errorf("listing %d has position %d", i, l.GetPosition())
		}
		a := l.GetAttributes()
		if a.Title == nil || a.Price == nil || a.Rating == nil || a.ReviewCount == nil || a.ImageUrl == nil {
			t.Errorf("%s: title, price, rating, review count and image are on every card; got %v", l.GetAsin(), a)
		}
		if l.Sponsored == nil {
			t.Errorf("%s: sponsored not read", l.GetAsin())
		} else if l.GetSponsored() {
			sponsored = append(sponsored, l.GetAsin())
		}
	}
	// The README counts 11 AdHolder elements; 5 of them are video and brand widgets without an ASIN,
	// the other 6 are the sponsored result cards.
	wantSponsored := "B0FQVG4RWW B0DR8G428S B0FQJH2XSY B0CH7ZNF2W B0D6RGPJZL B0FCKLSC8Y"
	if got := strings.Join(sponsored, " "); got != wantSponsored {
		t.Errorf("sponsored cards %s, want %s", got, wantSponsored)
	}

	first := p.Listings[0]
	if first.GetAsin() != "B0FQVG4RWW" || !first.GetSponsored() {
		t.Errorf("first card %s sponsored=%v, want sponsored B0FQVG4RWW", first.GetAsin(), first.GetSponsored())
	}
	a := first.GetAttributes()
	if got := a.GetTitle(); !strings.HasPrefix(got, "Portable Charger with Wall Plug, Slim USB C Power Bank") || strings.Contains(got, "Sponsored") {
		t.Errorf("first title %q", got)
	}
	if moneyString(a.Price) != money(2518, "USD") || moneyString(a.ListPrice) != money(3499, "USD") {
		t.Errorf("first card price %s list %s, want $25.18 list $34.99", moneyString(a.Price), moneyString(a.ListPrice))
	}
	if a.GetRating() != 4.5 || a.GetReviewCount() != 381 || a.GetBoughtPastMonth() != 1000 {
		t.Errorf("first card rating %v reviews %d bought %d, want 4.5, 381, 1000 (\"1K+ bought\")", a.GetRating(), a.GetReviewCount(), a.GetBoughtPastMonth())
	}

	// An organic card with a list price ("List: $23.99"), an abbreviated review count "(84.7K)" whose
	// exact number is in the aria-label, and "10K+ bought in past month".
	iniu := listingByASIN(t, p, "B0CB1FW5FC").GetAttributes()
	if listingByASIN(t, p, "B0CB1FW5FC").GetSponsored() {
		t.Error("B0CB1FW5FC is organic")
	}
	if moneyString(iniu.Price) != money(2159, "USD") || moneyString(iniu.ListPrice) != money(2399, "USD") {
		t.Errorf("B0CB1FW5FC price %s list %s, want $21.59 list $23.99 (not the $19.22 of More Buying Choices)", moneyString(iniu.Price), moneyString(iniu.ListPrice))
	}
	if iniu.GetReviewCount() != 84753 || iniu.GetBoughtPastMonth() != 10000 {
		t.Errorf("B0CB1FW5FC reviews %d bought %d, want 84753, 10000", iniu.GetReviewCount(), iniu.GetBoughtPastMonth())
	}
	// "Typical: $13.99" is a struck-through price too.
	if got := moneyString(listingByASIN(t, p, "B0DRVSB42V").GetAttributes().ListPrice); got != money(1399, "USD") {
		t.Errorf("B0DRVSB42V typical price %s, want $13.99", got)
	}
	// "New on Amazon in past month" is not a purchase count.
	if wp := listingByASIN(t, p, "B0GYR6GXWN").GetAttributes(); wp.BoughtPastMonth != nil {
		t.Errorf("B0GYR6GXWN bought %d; its badge says \"New on Amazon in past month\"", wp.GetBoughtPastMonth())
	}
	// A coupon ("You pay $55.79 with coupon") does not replace the shown price, and there is no list price.
	cio := listingByASIN(t, p, "B0FTZ46NF8").GetAttributes()
	if moneyString(cio.Price) != money(6199, "USD") || cio.ListPrice != nil || cio.BoughtPastMonth != nil {
		t.Errorf("B0FTZ46NF8 price %s list %s bought %v, want $61.99, absent, absent", moneyString(cio.Price), moneyString(cio.ListPrice), cio.BoughtPastMonth)
	}
	// No card shows a brand line in the list layout: brand stays absent rather than guessed.
	for _, l := range p.Listings {
		if l.GetAttributes().Brand != nil {
			t.Errorf("%s: brand %q read from a page that shows none", l.GetAsin(), l.GetAttributes().GetBrand())
		}
	}
}

// cardPriceRe reads a card's shown price straight from the bytes: the first a-price span without a
// strike in its price recipe. It is an oracle independent of the DOM walk the parser does.
var cardPriceRe = regexp.MustCompile(`data-cy="price-recipe"[\s\S]*?<span class="a-price"[^>]*><span class="a-offscreen">([^<]*)</span>`)

// TestSearchRealPagePricesMatchCards checks every card's price against the text the card shows.
func TestSearchRealPagePricesMatchCards(t *testing.T) {
	raw := string(readFixture(t, realSearchPage))
	p := mustSearch(t, []byte(raw), Options{})
	starts := regexp.MustCompile(`data-component-type="s-search-result"`).FindAllStringIndex(raw, -1)
	if len(starts) != len(p.Listings) {
		t.Fatalf("%d cards in the bytes, %d listings", len(starts), len(p.Listings))
	}
	for i, s := range starts {
		end := len(raw)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		card := raw[s[0]:end]
		m := cardPriceRe.FindStringSubmatch(card)
		if m == nil {
			t.Fatalf("card %d: no price in the bytes", i+1)
		}
		shown := html.UnescapeString(m[1])
		want, err := ParsePrice(shown, "amazon.com")
		if err != nil {
			t.Fatal(err)
		}
		got := p.Listings[i].GetAttributes().GetPrice()
		if moneyString(got) != moneyString(want) {
			t.Errorf("card %d (%s) shows %s, parser read %s", i+1, p.Listings[i].GetAsin(), shown, moneyString(got))
		}
		if !strings.Contains(card, p.Listings[i].GetAsin()) {
			t.Errorf("card %d: ASIN %s not in its bytes", i+1, p.Listings[i].GetAsin())
		}
	}
}

// TestSearchMissingElements removes one kind of element from the real page at a time: that field
// becomes absent on every card, with a warning where it matters, and the others are unchanged.
func TestSearchMissingElements(t *testing.T) {
	raw := readFixture(t, realSearchPage)
	whole := mustSearch(t, raw, Options{})
	cases := []struct {
		name    string
		edit    func(string) string
		absent  func(*marketv1.ProductAttributes) bool
		warning string
	}{
		{
			name:    "no prices",
			edit:    func(s string) string { return strings.ReplaceAll(s, `class="a-price"`, `class="gone"`) },
			absent:  func(a *marketv1.ProductAttributes) bool { return a.Price == nil },
			warning: "no price shown",
		},
		{
			name:   "no star ratings",
			edit:   func(s string) string { return strings.ReplaceAll(s, `class="a-icon-alt"`, `class="gone"`) },
			absent: func(a *marketv1.ProductAttributes) bool { return a.Rating == nil },
		},
		{
			name:   "no bought badges",
			edit:   func(s string) string { return strings.ReplaceAll(s, "bought in past month", "viewed recently") },
			absent: func(a *marketv1.ProductAttributes) bool { return a.BoughtPastMonth == nil },
		},
		{
			name:   "no images",
			edit:   func(s string) string { return strings.ReplaceAll(s, `class="s-image"`, `class="gone"`) },
			absent: func(a *marketv1.ProductAttributes) bool { return a.ImageUrl == nil },
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustSearch(t, []byte(c.edit(string(raw))), Options{})
			if len(p.Listings) != len(whole.Listings) {
				t.Fatalf("%d listings, want %d", len(p.Listings), len(whole.Listings))
			}
			for i, l := range p.Listings {
				if !c.absent(l.GetAttributes()) {
					t.Errorf("%s: field still set: %v", l.GetAsin(), l.GetAttributes())
				}
				if l.GetAttributes().GetTitle() != whole.Listings[i].GetAttributes().GetTitle() {
					t.Errorf("%s: title changed", l.GetAsin())
				}
			}
			if c.warning != "" && len(p.Warnings) != len(p.Listings) {
				t.Errorf("%d warnings, want one per card containing %q: %q", len(p.Warnings), c.warning, p.Warnings)
			}
			for _, w := range p.Warnings {
				if c.warning == "" || !strings.Contains(w, c.warning) {
					t.Errorf("unexpected warning %q", w)
				}
			}
		})
	}
}

// TestSearchMovedElements drops the data-cy recipe markers the parser prefers (a markup change that
// moves things around): it falls back to the whole card and reads the same prices.
func TestSearchMovedElements(t *testing.T) {
	raw := string(readFixture(t, realSearchPage))
	whole := mustSearch(t, []byte(raw), Options{})
	moved := regexp.MustCompile(`data-cy="[a-z-]+-recipe"`).ReplaceAllString(raw, `data-x="moved"`)
	p := mustSearch(t, []byte(moved), Options{})
	if len(p.Listings) != len(whole.Listings) {
		t.Fatalf("%d listings, want %d", len(p.Listings), len(whole.Listings))
	}
	for i, l := range p.Listings {
		w := whole.Listings[i].GetAttributes()
		a := l.GetAttributes()
		if moneyString(a.Price) != moneyString(w.Price) || moneyString(a.ListPrice) != moneyString(w.ListPrice) || a.GetReviewCount() != w.GetReviewCount() {
			t.Errorf("%s: price %s list %s reviews %d, want %s %s %d", l.GetAsin(), moneyString(a.Price), moneyString(a.ListPrice), a.GetReviewCount(), moneyString(w.Price), moneyString(w.ListPrice), w.GetReviewCount())
		}
	}
}

func TestSearchBlockedAndNoResults(t *testing.T) {
	for _, name := range []string{"search-robot-check.html", "search-robot-check-truncated.html", "product-robot-check-continue-amazon-de.html"} {
		p := mustSearch(t, readFixture(t, filepath.Join("testdata", "pages", name)), Options{Marketplace: "amazon.com"})
		if !p.Blocked || p.NoResults || len(p.Listings) != 0 {
			t.Errorf("%s: Blocked=%v NoResults=%v listings=%d; a robot check is blocked, never \"no results\"", name, p.Blocked, p.NoResults, len(p.Listings))
		}
		if p.Marketplace != "amazon.com" {
			t.Errorf("%s: marketplace %q, want the option's", name, p.Marketplace)
		}
	}
	p := mustSearch(t, readFixture(t, "testdata/pages/search-no-results.html"), Options{})
	if p.Blocked || !p.NoResults || len(p.Listings) != 0 {
		t.Errorf("no-results page: Blocked=%v NoResults=%v listings=%d", p.Blocked, p.NoResults, len(p.Listings))
	}
	for _, page := range []string{"", "<html><body>hello</body></html>", string(readFixture(t, "testdata/pages/search-error-page-503.html"))} {
		if _, err := Search(strings.NewReader(page), Options{}); !errors.Is(err, ErrUnrecognized) {
			t.Errorf("Search(%.40q) error %v, want ErrUnrecognized", page, err)
		}
	}
}

// TestSearchRobotWordsOnResultsPage: a results page that merely mentions the robot-check sentence (in
// a product title) is not blocked; the captcha form alone decides.
func TestSearchRobotWordsOnResultsPage(t *testing.T) {
	raw := strings.Replace(string(readFixture(t, "testdata/pages/search-list-amazon-in.html")),
		"Xiaomi Power Bank 4i 20000mAh", "T-shirt: Enter the characters you see below, robot check", 1)
	p := mustSearch(t, []byte(raw), Options{})
	if p.Blocked || len(p.Listings) != 3 {
		t.Errorf("Blocked=%v listings=%d", p.Blocked, len(p.Listings))
	}
}

func TestSearchOptions(t *testing.T) {
	raw := readFixture(t, "testdata/pages/search-list-amazon-in.html")
	// BaseURL names the marketplace when Marketplace is empty and resolves relative image links.
	relative := strings.Replace(string(raw), "https://m.media-amazon.com/images/I/61fTdl3pWjL._AC_UY218_.jpg", "/images/I/61fTdl3pWjL.jpg", 1)
	p := mustSearch(t, []byte(relative), Options{BaseURL: "https://www.amazon.in/s?k=power+bank&page=3"})
	if p.Marketplace != "amazon.in" {
		t.Errorf("marketplace %q from BaseURL, want amazon.in", p.Marketplace)
	}
	if got := p.Listings[0].GetAttributes().GetImageUrl(); got != "https://www.amazon.in/images/I/61fTdl3pWjL.jpg" {
		t.Errorf("image %q not resolved against BaseURL", got)
	}
	// A page number from the pagination strip wins; without one the URL's page parameter is used.
	if p.Page != 3 {
		t.Errorf("page %d, want 3 from the URL", p.Page)
	}
}

func TestSearchNestedCardsAreSeparated(t *testing.T) {
	p := mustSearch(t, readFixture(t, "testdata/pages/search-malformed-truncated.html"), Options{})
	four := listingByASIN(t, p, "B0MALFORM4")
	if four.GetPosition() != 4 || moneyString(four.GetAttributes().GetPrice()) != money(750, "USD") {
		t.Errorf("nested card 4: position %d price %s, want 4, $7.50", four.GetPosition(), moneyString(four.GetAttributes().GetPrice()))
	}
	for _, l := range p.Listings {
		if l.GetAsin() == "B0MALFORM1" && l.GetAttributes().Price != nil {
			t.Errorf("card 1 price %s read from a malformed number or a script", moneyString(l.GetAttributes().Price))
		}
	}
}
