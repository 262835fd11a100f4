// Package fetch gets web pages for the scraper: a plain HTTP fetcher, a headless Chromium
// fetcher with a pool of tabs, a URL guard against server-side request forgery and a polite
// decorator with per-host rate limits, retries, circuit breakers and robots.txt.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Fetcher gets one page.
type Fetcher interface {
	// Fetch gets the page at url. A page with an HTTP error status is returned with a nil
	// error by the plain fetchers; Polite turns retryable statuses into errors.
	Fetch(ctx context.Context, url string) (*Page, error)
}

// Page is a fetched page.
type Page struct {
	// URL is the final URL of the page (after redirects).
	URL string
	// Status is the HTTP status of the main response.
	Status int
	// Header is the header of the main response.
	Header http.Header
	// Body is the page: the bytes received (HTTPFetcher) or the rendered DOM (ChromeFetcher).
	Body []byte
	// FetchedAt is when the fetch started.
	FetchedAt time.Time
	// Duration is how long the fetch took.
	Duration time.Duration
}

// ErrForbiddenURL is wrapped by the errors of URLs that the Guard refuses.
var ErrForbiddenURL = errors.New("forbidden url")

// ErrCircuitOpen is wrapped by the errors of fetches refused because the host's breaker is open.
var ErrCircuitOpen = errors.New("circuit open")

// ErrDisallowed is wrapped by the errors of fetches that robots.txt disallows.
var ErrDisallowed = errors.New("disallowed by robots.txt")

// ErrBodyTooLarge is wrapped when a body exceeds the fetcher's maximum size.
var ErrBodyTooLarge = errors.New("body too large")

// CircuitOpenError is the error of a fetch refused by an open (or saturated half-open) breaker.
type CircuitOpenError struct {
	// Host is the host whose breaker refused.
	Host string
	// State is the breaker state: "open" or "half-open".
	State string
}

// Error describes the refusal.
func (e *CircuitOpenError) Error() string {
	return fmt.Sprintf("fetch %s: circuit breaker %s", e.Host, e.State)
}

// Unwrap returns ErrCircuitOpen.
func (e *CircuitOpenError) Unwrap() error { return ErrCircuitOpen }

// StatusError is the error of a fetch whose last attempt had a retryable status (408, 429, 5xx).
type StatusError struct {
	// URL is the fetched URL.
	URL string
	// Status is the HTTP status of the last attempt.
	Status int
	// Attempts is how many attempts were made.
	Attempts int
}

// Error describes the status.
func (e *StatusError) Error() string {
	return fmt.Sprintf("fetch %s: status %d after %d attempts", e.URL, e.Status, e.Attempts)
}

// hostOf returns the lower-case host name (without port) of a URL.
func hostOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parse url %q: %w", raw, err)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("url %q has no host", raw)
	}
	return strings.ToLower(u.Hostname()), nil
}
