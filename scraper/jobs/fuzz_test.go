package jobs

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzResolveSite feeds the marketplace of a request (outside input) to ResolveSite: it never
// panics, and every URL it builds parses back to the site's host with the keyword intact.
func FuzzResolveSite(f *testing.F) {
	for _, s := range []string{"amazon.com", "www.amazon.de", "http://127.0.0.1:18080/", "https://[::1]:8080/x", "file:///etc/passwd",
		"amazon.com/../../", "http://user@host/", "", "HTTP://EXAMPLE.COM", "amazon.co.jp?x#y"} {
		f.Add(s, "usb c hub")
	}
	f.Fuzz(func(t *testing.T, marketplace, keyword string) {
		for _, override := range []string{"", "http://127.0.0.1:18080"} {
			s, err := ResolveSite(marketplace, override)
			if err != nil {
				continue
			}
			for _, raw := range []string{s.SearchURL(keyword, 2), s.ProductURL("B0TEST0001")} {
				u, err := url.Parse(raw)
				if err != nil {
					t.Fatalf("%q: built %q, which does not parse: %v", marketplace, raw, err)
				}
				if !strings.EqualFold(u.Hostname(), s.Host()) || (u.Scheme != "http" && u.Scheme != "https") {
					t.Fatalf("%q: built %q, host %q scheme %q, want host %q", marketplace, raw, u.Hostname(), u.Scheme, s.Host())
				}
			}
			if got := url.Values(must(url.ParseQuery(must(url.Parse(s.SearchURL(keyword, 2))).RawQuery))).Get("k"); got != NormalizeKeyword(keyword) {
				t.Fatalf("keyword %q came back as %q", NormalizeKeyword(keyword), got)
			}
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
