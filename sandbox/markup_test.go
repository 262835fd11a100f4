package sandbox_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"

	"github.com/marketinsightspro/marketinsights/sandbox"
)

var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// balanced checks that every element of a page that is opened is closed, in order.
func balanced(page string) error {
	z := html.NewTokenizer(strings.NewReader(page))
	var stack []string
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				return z.Err()
			}
			if len(stack) > 0 {
				return fmt.Errorf("unclosed at the end: %v", stack)
			}
			return nil
		case html.StartTagToken:
			name, _ := z.TagName()
			if !voidElements[string(name)] {
				stack = append(stack, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(stack) == 0 || stack[len(stack)-1] != string(name) {
				return fmt.Errorf("</%s> closes %v", name, stack[max(0, len(stack)-4):])
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// TestMarkupWellFormed checks that the sandbox's pages are well formed (each element closed in
// order) and that result cards are siblings in the s-main-slot, not nested in one another, in
// both layouts and on product pages of both details layouts.
func TestMarkupWellFormed(t *testing.T) {
	r, _ := start(t, sandbox.Options{Config: sandbox.Config{Seed: 6}}, 12*time.Hour)
	var pages []string
	for _, kw := range r.Server.Market().Keywords() {
		for _, layout := range []string{"list", "grid"} {
			pages = append(pages, searchPath(kw, 1, layout, ""), searchPath(kw, 2, layout, "amazon.de"), searchPath(kw, 99, layout, ""))
		}
	}
	for _, a := range r.Server.Market().ASINs()[:60] {
		pages = append(pages, "/dp/"+a, "/dp/"+a+"?mp=amazon.in")
	}
	pages = append(pages, "/", searchPath("unknown <thing> & \"quotes\"", 1, "", ""))
	for _, p := range pages {
		resp := get(t, r.URL+p)
		if resp.status == 404 {
			continue
		}
		if err := balanced(resp.body); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(resp.body))
		if err != nil {
			t.Fatal(err)
		}
		if n := doc.Find(`[data-component-type="s-search-result"] [data-component-type="s-search-result"]`).Length(); n > 0 {
			t.Errorf("%s: %d result cards nested in others", p, n)
		}
		if n, m := doc.Find(`.s-main-slot > [data-component-type="s-search-result"]`).Length(), doc.Find(`[data-component-type="s-search-result"]`).Length(); n != m {
			t.Errorf("%s: %d of %d result cards are children of .s-main-slot", p, n, m)
		}
	}
	// User input is escaped.
	resp := get(t, r.URL+searchPath(`"><script>alert(1)</script>`, 1, "", ""))
	if strings.Contains(resp.body, "<script>alert") {
		t.Error("the keyword is written unescaped")
	}
}

// TestConcurrentUse serves pages, truth and fault changes from many goroutines while the clock
// moves (run with -race).
func TestConcurrentUse(t *testing.T) {
	r, clk := start(t, sandbox.Options{Config: sandbox.Config{Seed: 10, Products: 300}}, 0)
	kws := r.Server.Market().Keywords()
	asins := r.Server.Market().ASINs()
	// Goroutines other than the test's must not call t.Fatal: fetch reports with t.Errorf.
	fetch := func(u string) {
		resp, err := http.Get(u)
		if err != nil {
			t.Errorf("GET %s: %v", u, err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("GET %s: status %d", u, resp.StatusCode)
		}
	}
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				switch i % 4 {
				case 0:
					fetch(r.URL + searchPath(kws[(g+i)%len(kws)], 1+i%3, []string{"list", "grid"}[i%2], ""))
				case 1:
					fetch(r.URL + "/_truth/product?asin=" + asins[(g*31+i)%len(asins)])
				case 2:
					fetch(r.URL + truthPath(kws[i%len(kws)], 1, "", ""))
				case 3:
					fetch(r.URL + "/_truth/anomalies")
				}
			}
		}(g)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 25; i++ {
			clk.Advance(37 * time.Minute)
			if err := r.Server.SetFaults(sandbox.Faults{Rules: []sandbox.FaultRule{{PathPrefix: "/s", Rate503: 0.2}}}); err != nil {
				t.Errorf("SetFaults: %v", err)
			}
		}
	}()
	wg.Wait()
}
