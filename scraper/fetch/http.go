package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// HTTPConfig configures an HTTPFetcher.
type HTTPConfig struct {
	// Timeout bounds one fetch, body included (default 30 s).
	Timeout time.Duration
	// UserAgent is sent with every request.
	UserAgent string
	// MaxBodyBytes bounds the body (default 8 MiB); a larger body is an error wrapping
	// ErrBodyTooLarge.
	MaxBodyBytes int64
	// Guard, if set, checks every URL and redirect and every dialled address.
	Guard *Guard
	// MaxConnsPerHost bounds the connections to one host (default 16).
	MaxConnsPerHost int
}

// DefaultUserAgent is the user agent when none is configured.
const DefaultUserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// HTTPFetcher fetches pages that need no JavaScript with net/http (gzip handled by the transport).
type HTTPFetcher struct {
	cfg    HTTPConfig
	client *http.Client
}

// NewHTTPFetcher returns an HTTPFetcher.
func NewHTTPFetcher(cfg HTTPConfig) *HTTPFetcher {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 8 << 20
	}
	if cfg.MaxConnsPerHost <= 0 {
		cfg.MaxConnsPerHost = 16
	}
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if cfg.Guard != nil {
		d.Control = cfg.Guard.Control
	}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would bypass the dial-time guard
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   cfg.MaxConnsPerHost,
		MaxConnsPerHost:       cfg.MaxConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	client := &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			if cfg.Guard != nil {
				return cfg.Guard.Check(req.Context(), req.URL.String())
			}
			return nil
		},
	}
	return &HTTPFetcher{cfg: cfg, client: client}
}

// Fetch gets url with a GET request.
func (f *HTTPFetcher) Fetch(ctx context.Context, url string) (*Page, error) {
	start := time.Now()
	if f.cfg.Guard != nil {
		if err := f.cfg.Guard.Check(ctx, url); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	req.Header.Set("User-Agent", f.cfg.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	req.Header.Set("Accept-Language", "en-US,en;q=0.9")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: read body: %w", url, err)
	}
	p := &Page{URL: resp.Request.URL.String(), Status: resp.StatusCode, Header: resp.Header, Body: body, FetchedAt: start, Duration: time.Since(start)}
	if int64(len(body)) > f.cfg.MaxBodyBytes {
		p.Body = body[:f.cfg.MaxBodyBytes]
		return p, fmt.Errorf("fetch %s: %w (over %d bytes)", url, ErrBodyTooLarge, f.cfg.MaxBodyBytes)
	}
	return p, nil
}

// Close closes the idle connections.
func (f *HTTPFetcher) Close() { f.client.CloseIdleConnections() }
