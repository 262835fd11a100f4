package parse

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden.json from the parsers' output")

// goldenCase is one page whose parsed output is compared with a golden file.
type goldenCase struct {
	name string // golden file name without .golden.json
	file string // the page under testdata/
	cut  int    // >0: only the first cut bytes of the page (a truncated download)
	opts Options
}

// goldenCases lists every fixture: the two real amazon.com pages (whole and cut short), every
// hand-made page under testdata/pages and the sandbox pages saved under testdata/sandbox. A file
// named product-* goes to Product, any other to Search.
func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	cases := []goldenCase{
		{name: "amazon-search-portable-charger-list-layout", file: "amazon/search-portable-charger-list-layout.html"},
		{name: "amazon-product-portable-charger", file: "amazon/product-portable-charger.html"},
		// Cut in the middle of the ninth result card: eight whole cards, the ninth as far as it came.
		{name: "amazon-search-portable-charger-list-layout.truncated", file: "amazon/search-portable-charger-list-layout.html", cut: 575000},
		// Cut after the price block: title, rating and price are there, ranks and histogram are not.
		{name: "amazon-product-portable-charger.truncated", file: "amazon/product-portable-charger.html", cut: 680000},
		// The same page told it comes from another marketplace: the options win over the page.
		{name: "amazon-search-portable-charger-list-layout.as-amazon-ca", file: "amazon/search-portable-charger-list-layout.html",
			opts: Options{Marketplace: "amazon.ca", BaseURL: "https://www.amazon.ca/s?k=portable+charger&page=1"}},
	}
	pages, err := filepath.Glob(filepath.Join("testdata", "pages", "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 10 {
		t.Fatalf("found %d hand-made pages under testdata/pages, want at least 10", len(pages))
	}
	sandboxPages, err := filepath.Glob(filepath.Join("testdata", "sandbox", "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(pages, sandboxPages...) {
		rel, err := filepath.Rel("testdata", p)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, goldenCase{name: strings.TrimSuffix(filepath.Base(p), ".html"), file: rel})
	}
	return cases
}

// parseFixture runs the parser a fixture's name asks for and renders its output; an error renders as
// one {"error": ...} line so that refusals are pinned by the golden files too.
func parseFixture(t testing.TB, c goldenCase) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", c.file))
	if err != nil {
		t.Fatal(err)
	}
	if c.cut > 0 {
		if c.cut >= len(raw) {
			t.Fatalf("%s: cut %d is past the end (%d bytes)", c.name, c.cut, len(raw))
		}
		raw = raw[:c.cut]
	}
	var page Page
	if strings.HasPrefix(filepath.Base(c.file), "product") {
		var p *ProductPage
		p, err = Product(bytes.NewReader(raw), c.opts)
		page = p
	} else {
		var p *SearchPage
		p, err = Search(bytes.NewReader(raw), c.opts)
		page = p
	}
	if err != nil {
		line, _ := json.Marshal(map[string]string{"error": err.Error()})
		return append(line, '\n')
	}
	return Render(page)
}

// TestGolden compares the parsers' output on every fixture with testdata/golden/<name>.golden.json;
// `go test ./scraper/parse -update` rewrites the golden files (review the diff before committing).
func TestGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got := parseFixture(t, c)
			path := filepath.Join("testdata", "golden", c.name+".golden.json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run `go test ./scraper/parse -update` to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run with -update to accept):\n%s", path, lineDiff(string(want), string(got)))
			}
		})
	}
}

// TestGoldenFilesHaveFixtures fails on a golden file whose fixture was removed.
func TestGoldenFilesHaveFixtures(t *testing.T) {
	names := map[string]bool{}
	for _, c := range goldenCases(t) {
		names[c.name] = true
	}
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if n := strings.TrimSuffix(filepath.Base(f), ".golden.json"); !names[n] {
			t.Errorf("%s has no fixture", f)
		}
	}
}

// lineDiff shows the lines that differ between two JSON-lines outputs.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line ")
			b.WriteString(strconv.Itoa(i + 1))
			b.WriteString(":\n- ")
			b.WriteString(wl)
			b.WriteString("\n+ ")
			b.WriteString(gl)
			b.WriteString("\n")
		}
	}
	return b.String()
}
