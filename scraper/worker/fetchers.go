package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/marketinsightspro/marketinsights/scraper/fetch"
)

// FetcherConfig says which fetcher a worker uses and how politely.
type FetcherConfig struct {
	// Kind is "chrome" (headless Chromium, default) or "http".
	Kind string
	// Tabs is the Chromium tab count (default 2).
	Tabs int
	// PageTimeout bounds one page load (default 30 s).
	PageTimeout time.Duration
	// UserAgent is sent with every request (default fetch.DefaultUserAgent).
	UserAgent string
	// AllowHosts is the host allowlist ("www.amazon.com", ".amazon.de"); empty allows every host.
	AllowHosts []string
	// AllowPrivate lets the scraper fetch loopback and private addresses (the sandbox).
	AllowPrivate bool
	// Robots makes the scraper respect robots.txt.
	Robots bool
	// Rate and Burst are the requests per second to one host (default 1 and 1).
	Rate  float64
	Burst int
	// Retries is the fetcher's retries of one page (default 3; negative: none).
	Retries int
	// BreakerFailures opens a host's breaker after that many failures in a row (default 5);
	// BreakerTimeout keeps it open that long (default 60 s).
	BreakerFailures uint32
	BreakerTimeout  time.Duration
	// ChromePath is the browser (default /usr/bin/chromium).
	ChromePath string
}

// Fetchers is the fetcher stack of a worker: the guard, the plain fetcher and Polite around it.
type Fetchers struct {
	// Polite is the fetcher to use; it is also the worker's BreakerStates.
	Polite *fetch.Polite
	// Guard is the URL policy shared by every layer.
	Guard *fetch.Guard
	close func() error
}

// NewFetchers builds the fetcher stack (starting Chromium for "chrome").
func NewFetchers(ctx context.Context, c FetcherConfig) (*Fetchers, error) {
	guard := &fetch.Guard{AllowHosts: c.AllowHosts, AllowPrivate: c.AllowPrivate}
	var next fetch.Fetcher
	closeFn := func() error { return nil }
	switch c.Kind {
	case "", "chrome":
		cf, err := fetch.NewChromeFetcher(ctx, fetch.ChromeConfig{ExecPath: c.ChromePath, Tabs: c.Tabs, PageTimeout: c.PageTimeout,
			UserAgent: c.UserAgent, Guard: guard})
		if err != nil {
			return nil, err
		}
		next, closeFn = cf, cf.Close
	case "http":
		hf := fetch.NewHTTPFetcher(fetch.HTTPConfig{Timeout: c.PageTimeout, UserAgent: c.UserAgent, Guard: guard})
		next, closeFn = hf, func() error { hf.Close(); return nil }
	default:
		return nil, fmt.Errorf("fetcher %q: want chrome or http", c.Kind)
	}
	ua := c.UserAgent
	if ua == "" {
		ua = fetch.DefaultUserAgent
	}
	p := fetch.NewPolite(next, fetch.PoliteConfig{Rate: c.Rate, Burst: c.Burst, MaxRetries: c.Retries, Guard: guard,
		Robots: c.Robots, UserAgent: ua, BreakerFailures: c.BreakerFailures, BreakerTimeout: c.BreakerTimeout})
	return &Fetchers{Polite: p, Guard: guard, close: closeFn}, nil
}

// Close stops the browser (if any) and closes idle connections.
func (f *Fetchers) Close() error { return f.close() }
