package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketinsightspro/marketinsights/sandbox"
)

func TestHTTPFetcherSearchPage(t *testing.T) {
	_, u := startSandbox(t)
	f := NewHTTPFetcher(HTTPConfig{Guard: &Guard{AllowPrivate: true}, UserAgent: "mip-test/1"})
	defer f.Close()
	p, err := f.Fetch(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != 200 || bytes.Count(p.Body, []byte(cardMarker)) < 10 {
		t.Fatalf("status %d, %d cards", p.Status, bytes.Count(p.Body, []byte(cardMarker)))
	}
	if p.Header.Get("X-Sandbox-Time") == "" || p.Duration <= 0 || p.FetchedAt.IsZero() {
		t.Fatalf("page metadata missing: %+v", p.Header)
	}
}

func TestHTTPFetcherMaxBody(t *testing.T) {
	_, u := startSandbox(t)
	f := NewHTTPFetcher(HTTPConfig{Guard: &Guard{AllowPrivate: true}, MaxBodyBytes: 1000})
	p, err := f.Fetch(context.Background(), u)
	if !errors.Is(err, ErrBodyTooLarge) || p == nil || len(p.Body) != 1000 {
		t.Fatalf("want ErrBodyTooLarge with 1000 bytes, got %v", err)
	}
}

func TestBreakerOpensAndCloses(t *testing.T) {
	r, u := startSandbox(t)
	setFaults(t, r.URL, sandbox.FaultRule{PathPrefix: "/s", Rate503: 1})
	var changes []string
	var mu sync.Mutex
	p := NewPolite(NewHTTPFetcher(HTTPConfig{Guard: &Guard{AllowPrivate: true}}), PoliteConfig{
		Rate: 1000, Burst: 10, MaxRetries: -1, BreakerFailures: 3, BreakerTimeout: 300 * time.Millisecond,
		OnStateChange: func(host, from, to string) { mu.Lock(); changes = append(changes, from+">"+to); mu.Unlock() },
	})
	ctx := context.Background()
	for i := range 3 {
		pg, err := p.Fetch(ctx, u)
		var se *StatusError
		if !errors.As(err, &se) || se.Status != 503 || pg == nil || pg.Status != 503 {
			t.Fatalf("fetch %d: want a 503 StatusError with the page, got %v", i, err)
		}
	}
	if s := p.BreakerState("127.0.0.1"); s != "open" {
		t.Fatalf("breaker %s after 3 failures, want open", s)
	}
	if all := p.BreakerStates(); len(all) != 1 || all["127.0.0.1"] != "open" {
		t.Fatalf("BreakerStates %v, want 127.0.0.1 open only", all)
	}
	// Refused by the open breaker itself (its error names the state), so no request was made.
	_, err := p.Fetch(ctx, u)
	var ce *CircuitOpenError
	if !errors.Is(err, ErrCircuitOpen) || !errors.As(err, &ce) || ce.State != "open" {
		t.Fatalf("want ErrCircuitOpen from the open breaker, got %v", err)
	}
	setFaults(t, r.URL) // recovery
	time.Sleep(350 * time.Millisecond)
	if s := p.BreakerState("127.0.0.1"); s != "half-open" {
		t.Fatalf("breaker %s after the timeout, want half-open", s)
	}
	pg, err := p.Fetch(ctx, u)
	if err != nil || pg.Status != 200 {
		t.Fatalf("fetch after recovery: %v", err)
	}
	if s := p.BreakerState("127.0.0.1"); s != "closed" {
		t.Fatalf("breaker %s after recovery, want closed", s)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(changes, ","); got != "closed>open,open>half-open,half-open>closed" {
		t.Fatalf("transitions %s", got)
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	r, u := startSandbox(t)
	setFaults(t, r.URL, sandbox.FaultRule{PathPrefix: "/s", Rate429: 1, RetryAfter: 1, Limit: 1})
	p := NewPolite(NewHTTPFetcher(HTTPConfig{Guard: &Guard{AllowPrivate: true}}), PoliteConfig{
		Rate: 1000, MaxRetries: 2, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	})
	start := time.Now()
	pg, err := p.Fetch(context.Background(), u)
	if err != nil || pg.Status != 200 {
		t.Fatalf("fetch: %v", err)
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("retried after %v, want at least Retry-After 1s", d)
	}
	if st := r.Server.FaultStatus(); st.Rules[0].Injected != 1 || st.Rules[0].Matched != 2 {
		t.Fatalf("want 1 fault in 2 requests, got %+v", st.Rules[0])
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0}, {"3", 3 * time.Second}, {"600", time.Minute}, {"-5", 0}, {"soon", 0},
		{now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second},
		{now.Add(-10 * time.Second).Format(http.TimeFormat), 0},
	} {
		h := http.Header{}
		if c.v != "" {
			h.Set("Retry-After", c.v)
		}
		if got := retryAfter(h, now, time.Minute); got != c.want {
			t.Errorf("Retry-After %q: %v, want %v", c.v, got, c.want)
		}
	}
}

func TestRetriesOnlyRetryableStatuses(t *testing.T) {
	var hits atomic.Int64
	status := atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	p := NewPolite(NewHTTPFetcher(HTTPConfig{}), PoliteConfig{Rate: 1000, MaxRetries: 2, BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, BreakerFailures: 100})
	for _, c := range []struct {
		status, attempts int
		isErr            bool
	}{{404, 1, false}, {403, 1, false}, {408, 3, true}, {429, 3, true}, {500, 3, true}, {502, 3, true}} {
		hits.Store(0)
		status.Store(int64(c.status))
		pg, err := p.Fetch(context.Background(), srv.URL+"/x")
		if int(hits.Load()) != c.attempts || (err != nil) != c.isErr || pg == nil || pg.Status != c.status {
			t.Errorf("status %d: %d attempts (want %d), err %v", c.status, hits.Load(), c.attempts, err)
		}
	}
	// A refused connection is a network error: retried, then reported.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	if _, err := p.Fetch(context.Background(), deadURL); err == nil || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("dead server: %v", err)
	}
}

func TestBackoffFullJitter(t *testing.T) {
	p := NewPolite(nil, PoliteConfig{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	for attempt, ceil := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		for range 50 {
			if d := p.backoff(attempt); d < 0 || d > ceil*time.Millisecond {
				t.Fatalf("attempt %d: %v over %v", attempt, d, ceil*time.Millisecond)
			}
		}
	}
}

func TestRobotCheckPageIs200(t *testing.T) {
	r, u := startSandbox(t)
	setFaults(t, r.URL, sandbox.FaultRule{PathPrefix: "/s", RobotRate: 1})
	p := NewPolite(NewHTTPFetcher(HTTPConfig{Guard: &Guard{AllowPrivate: true}}), PoliteConfig{Rate: 1000})
	pg, err := p.Fetch(context.Background(), u)
	if err != nil || pg.Status != 200 || !bytes.Contains(pg.Body, []byte("validateCaptcha")) {
		t.Fatalf("want the captcha page with 200, got %v", err)
	}
	if p.BreakerState("127.0.0.1") != "closed" {
		t.Fatal("a robot check must not count against the breaker")
	}
}

func TestGuard(t *testing.T) {
	_, u := startSandbox(t)
	ctx := context.Background()
	strict := &Guard{}
	for _, c := range []struct{ url, want string }{
		{"http://127.0.0.1/", "loopback"},
		{"http://169.254.169.254/latest/meta-data/", "link-local"},
		{"http://10.1.2.3/", "private"},
		{"http://192.168.0.1/", "private"},
		{"http://[::1]:8080/", "loopback"},
		{"http://[fd00::1]/", "private"},
		{"http://0.0.0.0/", "unspecified"},
		{"http://[::ffff:127.0.0.1]/", "loopback"},
		{"http://100.64.0.1/", "shared"},
		{"http://localhost/", "loopback"},
		{"file:///etc/passwd", "scheme"},
		{"gopher://example.com/", "scheme"},
		{u, "loopback"},
	} {
		err := strict.Check(ctx, c.url)
		if !errors.Is(err, ErrForbiddenURL) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want ErrForbiddenURL naming %q, got %v", c.url, c.want, err)
		}
	}
	if err := (&Guard{AllowPrivate: true}).Check(ctx, u); err != nil {
		t.Errorf("sandbox with AllowPrivate: %v", err)
	}
	allow := &Guard{AllowHosts: []string{".amazon.com", "www.amazon.de"}, AllowPrivate: true}
	for h, ok := range map[string]bool{"amazon.com": true, "www.amazon.com": true, "evilamazon.com": false, "www.amazon.de": true, "amazon.de": false, "127.0.0.1": false} {
		err := allow.Check(ctx, "https://"+h+"/x")
		if (err == nil) != ok || (err != nil && !strings.Contains(err.Error(), "allowlist")) {
			t.Errorf("allowlist %s: %v", h, err)
		}
	}
	// Dial time: a fetcher with a strict guard cannot reach loopback even if Check were skipped.
	if err := strict.Control("tcp", "127.0.0.1:80", nil); !errors.Is(err, ErrForbiddenURL) {
		t.Errorf("dial control: %v", err)
	}
	if err := strict.Control("tcp", "93.184.215.14:443", nil); err != nil {
		t.Errorf("dial control public: %v", err)
	}
	f := NewHTTPFetcher(HTTPConfig{Guard: strict})
	if _, err := f.Fetch(ctx, u); !errors.Is(err, ErrForbiddenURL) {
		t.Errorf("http fetcher with strict guard: %v", err)
	}
}

func TestRedirectGuard(t *testing.T) {
	// The first hop is allowed by the allowlist (with AllowPrivate for the local server); the
	// redirect to a host outside the allowlist is refused.
	redir := httptest.NewServer(http.RedirectHandler("http://169.254.169.254/latest/", http.StatusFound))
	defer redir.Close()
	f := NewHTTPFetcher(HTTPConfig{Guard: &Guard{AllowHosts: []string{"127.0.0.1"}, AllowPrivate: true}})
	if _, err := f.Fetch(context.Background(), redir.URL); !errors.Is(err, ErrForbiddenURL) {
		t.Fatalf("redirect to metadata service: %v", err)
	}
}

func TestRobots(t *testing.T) {
	var robotsHits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			robotsHits.Add(1)
			fmt.Fprint(w, "User-agent: *\nDisallow: /private\nAllow: /private/ok\n\nUser-agent: mipbot\nDisallow: /s?*k=secret\nDisallow: /*.pdf$\n")
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	ctx := context.Background()
	for _, c := range []struct {
		ua, path string
		ok       bool
	}{
		{"other/1.0", "/private/x", false}, {"other/1.0", "/private/ok/x", true}, {"other/1.0", "/public", true},
		{"MIPBot/2.0", "/private/x", true}, {"MIPBot/2.0", "/s?k=secret", false}, {"MIPBot/2.0", "/s?k=open", true},
		{"MIPBot/2.0", "/a/b.pdf", false}, {"MIPBot/2.0", "/a/b.pdf?x", true},
	} {
		p := NewPolite(NewHTTPFetcher(HTTPConfig{}), PoliteConfig{Rate: 1000, Robots: true, UserAgent: c.ua})
		_, err := p.Fetch(ctx, srv.URL+c.path)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrDisallowed)) {
			t.Errorf("%s %s: %v", c.ua, c.path, err)
		}
	}
	robotsHits.Store(0)
	p := NewPolite(NewHTTPFetcher(HTTPConfig{}), PoliteConfig{Rate: 1000, Robots: true})
	for range 5 {
		_, _ = p.Fetch(ctx, srv.URL+"/public")
	}
	if robotsHits.Load() != 1 {
		t.Fatalf("robots.txt fetched %d times, want once", robotsHits.Load())
	}
}

func TestRateLimitPerHost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	p := NewPolite(NewHTTPFetcher(HTTPConfig{}), PoliteConfig{Rate: 20, Burst: 1})
	start := time.Now()
	for range 5 {
		if _, err := p.Fetch(context.Background(), srv.URL); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 190*time.Millisecond {
		t.Fatalf("5 fetches at 20/s took %v, want at least 200ms", d)
	}
}
