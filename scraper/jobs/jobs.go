// Package jobs is the pure logic of scrape jobs: which priority queue to serve next (smooth
// weighted round robin, so high goes first and low is never starved), which pages a job fetches
// (search pages 1..N, then the product pages of new or changed products), when and how a failed
// job is retried, when the recurring schedule of a tracked keyword fires, and the deterministic
// ids of jobs and of the events they produce. No network, no Kafka, no clock: the worker
// (scraper/worker) feeds it times and outcomes.
package jobs

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// NormalizeKeyword lower-cases a keyword and collapses its whitespace, as SearchResultsObserved
// and the sandbox spell keywords.
func NormalizeKeyword(k string) string {
	return strings.Join(strings.Fields(strings.ToLower(k)), " ")
}

// Site is where a marketplace's pages are fetched from.
type Site struct {
	// Marketplace is the marketplace domain written into observations ("amazon.com"); empty when
	// a job named a URL, and the pages then say which marketplace they belong to.
	Marketplace string
	// Base is the scheme and host (and optional path prefix) the page paths are appended to.
	Base *url.URL
	// MarketplaceParam, when set, is added to every URL as ?mp=<Marketplace> (the sandbox reads
	// the marketplace from it when one server stands in for every marketplace).
	MarketplaceParam bool
}

// ResolveSite says where a job's marketplace is fetched from. A marketplace domain such as
// "amazon.de" is https://www.amazon.de, or override (e.g. the sandbox's URL, with ?mp= added)
// when override is set. A marketplace written as an absolute http(s) URL is fetched from that URL
// as given; whether its host may be fetched is the fetcher's guard's call, not this function's.
func ResolveSite(marketplace, override string) (Site, error) {
	mp := strings.ToLower(strings.TrimSpace(marketplace))
	if mp == "" {
		mp = "amazon.com"
	}
	if strings.Contains(mp, "://") {
		u, err := url.Parse(strings.TrimSpace(marketplace))
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return Site{}, fmt.Errorf("marketplace %q: not a domain nor an http(s) URL", marketplace)
		}
		u.RawQuery, u.Fragment = "", ""
		u.Path = strings.TrimSuffix(u.Path, "/")
		return Site{Base: u}, nil
	}
	mp = strings.TrimPrefix(mp, "www.")
	if !isDomain(mp) {
		return Site{}, fmt.Errorf("marketplace %q: want a domain such as amazon.com or an http(s) URL", marketplace)
	}
	if override != "" {
		u, err := url.Parse(override)
		if err != nil || u.Host == "" {
			return Site{}, fmt.Errorf("base URL %q: not an absolute URL", override)
		}
		u.Path = strings.TrimSuffix(u.Path, "/")
		return Site{Marketplace: mp, Base: u, MarketplaceParam: true}, nil
	}
	return Site{Marketplace: mp, Base: &url.URL{Scheme: "https", Host: "www." + mp}}, nil
}

// isDomain reports whether s is a lower-case DNS name of at least two labels of letters, digits
// and inner hyphens.
func isDomain(s string) bool {
	labels := strings.Split(s, ".")
	if len(s) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// Host is the lower-case host name the site's pages come from (the key of rate limits and
// circuit breakers).
func (s Site) Host() string { return strings.ToLower(s.Base.Hostname()) }

// SearchURL is the URL of a keyword's result page (1-based).
func (s Site) SearchURL(keyword string, page int) string {
	q := url.Values{"k": {NormalizeKeyword(keyword)}}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	return s.url("/s", q)
}

// ProductURL is the URL of a product's detail page.
func (s Site) ProductURL(asin string) string { return s.url("/dp/"+url.PathEscape(asin), url.Values{}) }

func (s Site) url(path string, q url.Values) string {
	u := *s.Base
	u.Path += path
	if s.MarketplaceParam && s.Marketplace != "" {
		q.Set("mp", s.Marketplace)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Terminal reports whether a status ends a job: no other status of the same attempt follows, and
// none at all unless it is RETRYING.
func Terminal(s marketv1.ScrapeStatus) bool {
	switch s {
	case marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED, marketv1.ScrapeStatus_SCRAPE_STATUS_FAILED,
		marketv1.ScrapeStatus_SCRAPE_STATUS_BLOCKED, marketv1.ScrapeStatus_SCRAPE_STATUS_CANCELLED,
		marketv1.ScrapeStatus_SCRAPE_STATUS_STALE:
		return true
	}
	return false
}
