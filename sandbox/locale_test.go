package sandbox_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/marketinsightspro/marketinsights/sandbox"
)

func TestFormatPrices(t *testing.T) {
	cases := []struct {
		mp    string
		minor int64
		want  string
	}{
		{"amazon.com", 129999, "$1,299.99"},
		{"amazon.com", 2518, "$25.18"},
		{"amazon.com", 99, "$0.99"},
		{"amazon.de", 129999, "1.299,99\u00a0€"},
		{"amazon.es", 1299, "12,99\u00a0€"},
		{"amazon.co.uk", 1999, "£19.99"},
		{"amazon.in", 286300, "₹2,863"},
		{"amazon.in", 12345600, "₹1,23,456"},
		{"amazon.in", 1234567800, "₹1,23,45,678"},
		{"amazon.co.jp", 1280, "￥1,280"},
		{"amazon.co.jp", 980, "￥980"},
	}
	for _, c := range cases {
		mp := sandbox.LookupMarketplace(c.mp)
		if mp == nil {
			t.Fatalf("%s unknown", c.mp)
		}
		if got := mp.Format(c.minor); got != c.want {
			t.Errorf("%s %d: %q, want %q", c.mp, c.minor, got, c.want)
		}
	}
	for name, want := range map[string]string{"de": "amazon.de", "www.amazon.co.jp": "amazon.co.jp", "jp": "amazon.co.jp", "uk": "amazon.co.uk", "in": "amazon.in"} {
		if mp := sandbox.LookupMarketplace(name); mp == nil || mp.Domain != want {
			t.Errorf("LookupMarketplace(%q) = %v, want %s", name, mp, want)
		}
	}
	if sandbox.LookupMarketplace("amazon.fr") != nil {
		t.Error("amazon.fr should be unknown")
	}
}

// TestMarketplaceByHost checks that the Host header picks the marketplace, ?mp= overrides it,
// and that the a-price markup follows the locale (the euro sign after the amount).
func TestMarketplaceByHost(t *testing.T) {
	r, _ := start(t, sandbox.Options{Config: sandbox.Config{Seed: 4}}, time.Hour)
	kw := r.Server.Market().Keywords()[1]
	fetch := func(host, path string) string {
		req, _ := http.NewRequest(http.MethodGet, r.URL+path, nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 1<<16)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return b.String()
	}
	cases := []struct {
		host, path, wantLang, wantMark string
	}{
		{"www.amazon.de", searchPath(kw, 1, "", ""), `lang="de-de"`, `<span class="a-price-symbol">€</span></span>`},
		{"amazon.co.jp.localhost:8080", searchPath(kw, 1, "", ""), `lang="ja-jp"`, `<span class="a-price-symbol">￥</span>`},
		{"amazon.in", searchPath(kw, 1, "grid", ""), `lang="en-in"`, `<span class="a-offscreen">₹`},
		{"www.amazon.de", searchPath(kw, 1, "", "amazon.com"), `lang="en-us"`, `<span class="a-offscreen">$`},
		{"127.0.0.1", searchPath(kw, 1, "", ""), `lang="en-us"`, `<span class="a-price-fraction">`},
	}
	for _, c := range cases {
		body := fetch(c.host, c.path)
		if !strings.Contains(body, c.wantLang) || !strings.Contains(body, c.wantMark) {
			t.Errorf("Host %s %s: want %s and %s", c.host, c.path, c.wantLang, c.wantMark)
		}
	}
	if resp := get(t, r.URL+searchPath(kw, 1, "", "amazon.fr")); resp.status != http.StatusBadRequest {
		t.Errorf("?mp=amazon.fr: status %d, want 400", resp.status)
	}
}
