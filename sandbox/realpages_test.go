package sandbox_test

import (
	"os"
	"path/filepath"
	"testing"
)

// fixtureDir holds the real amazon.com pages (shared/fixtures/amazon beside the repository).
func fixtureDir(t *testing.T) string {
	t.Helper()
	for _, d := range []string{"../../shared/fixtures/amazon", "../shared/fixtures/amazon", "/work/shared/fixtures/amazon"} {
		if _, err := os.Stat(filepath.Join(d, "product-portable-charger.html")); err == nil {
			return d
		}
	}
	t.Fatal("the real Amazon pages are missing: expected shared/fixtures/amazon beside the repository (../shared/fixtures/amazon)")
	return ""
}

// TestRefParserReadsRealPages checks the reference reader on Amazon's real pages, so that what it
// reads from the sandbox's pages is what a parser of the real markup reads.
func TestRefParserReadsRealPages(t *testing.T) {
	dir := fixtureDir(t)
	b, err := os.ReadFile(filepath.Join(dir, "search-portable-charger-list-layout.html"))
	if err != nil {
		t.Fatal(err)
	}
	cards := readSearch(t, string(b), 2)
	if len(cards) != 22 {
		t.Fatalf("real search page: %d cards, want 22", len(cards))
	}
	first := cards[0]
	want := refListing{ASIN: "B0FQVG4RWW", Sponsored: true, Price: 2518, ListPrice: 3499, Rating: 4.5, Reviews: 381, Bought: 1000, Prime: true}
	got := first
	got.Title, got.Image, got.Deal = "", "", false
	if got != want {
		t.Errorf("real search page, first card: got %+v, want %+v", got, want)
	}
	sponsored := 0
	for _, c := range cards {
		if c.Sponsored {
			sponsored++
		}
		if c.Title == "" || c.Image == "" || c.Price == 0 || c.Rating == 0 || c.Reviews == 0 {
			t.Errorf("real search page, card %s: a field is missing: %+v", c.ASIN, c)
		}
	}
	if sponsored != 6 {
		t.Errorf("real search page: %d sponsored cards, want 6", sponsored)
	}

	b, err = os.ReadFile(filepath.Join(dir, "product-portable-charger.html"))
	if err != nil {
		t.Fatal(err)
	}
	p := readProduct(t, string(b), 2)
	if p.ASIN != "B0DR8G428S" || p.Price != 3599 || p.ListPrice != 4599 || p.Rating != 4.2 || p.Reviews != 226 ||
		p.Brand != "charmast" || p.Availability != "In Stock" || p.Bought != 200 {
		t.Errorf("real product page: got %+v", p)
	}
	if len(p.Histogram) != 5 || p.Histogram[0] != 71 || p.Histogram[4] != 11 {
		t.Errorf("real product page: histogram %v, want [71 9 5 4 11]", p.Histogram)
	}
	wantRanks := []refRank{{5211, "Cell Phones & Accessories"}, {309, "Cell Phone Portable Power Banks"}}
	if len(p.Ranks) != 2 || p.Ranks[0] != wantRanks[0] || p.Ranks[1] != wantRanks[1] {
		t.Errorf("real product page: ranks %v, want %v", p.Ranks, wantRanks)
	}
	if len(p.Breadcrumbs) != 4 || p.Breadcrumbs[3] != "Portable Power Banks" {
		t.Errorf("real product page: breadcrumbs %v", p.Breadcrumbs)
	}
}
