package fetch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"
)

// PoliteConfig configures a Polite fetcher.
type PoliteConfig struct {
	// Rate is the requests per second allowed to one host (default 1); Burst its burst (default 1).
	Rate  float64
	Burst int
	// MaxRetries is the number of retries after the first attempt (default 3; negative: none).
	MaxRetries int
	// BaseBackoff and MaxBackoff bound the exponential backoff with full jitter (defaults 500 ms, 30 s).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// MaxRetryAfter caps a server's Retry-After (default 60 s).
	MaxRetryAfter time.Duration
	// BreakerFailures is the streak of failed attempts that opens a host's breaker (default 5).
	BreakerFailures uint32
	// BreakerTimeout is how long a breaker stays open before going half-open (default 60 s).
	BreakerTimeout time.Duration
	// BreakerHalfOpenRequests is how many trial requests a half-open breaker lets through (default 1).
	BreakerHalfOpenRequests uint32
	// Guard, if set, checks every URL before anything else.
	Guard *Guard
	// Robots enables robots.txt: fetched once per host (with RobotsFetcher, default the wrapped
	// fetcher) and cached for RobotsTTL (default 24 h).
	Robots        bool
	RobotsFetcher Fetcher
	RobotsTTL     time.Duration
	// UserAgent is the agent name matched against robots.txt groups (besides "*").
	UserAgent string
	// OnStateChange, if set, is told of every breaker transition.
	OnStateChange func(host, from, to string)
}

// Polite wraps a Fetcher with per-host rate limits, retries with backoff, per-host circuit
// breakers and optional robots.txt.
type Polite struct {
	next  Fetcher
	cfg   PoliteConfig
	sleep func(ctx context.Context, d time.Duration) error

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	breakers map[string]*gobreaker.CircuitBreaker[*Page]
	robots   map[string]*robotsEntry
}

type robotsEntry struct {
	once    sync.Once
	rules   *robotsRules
	expires time.Time
}

// NewPolite wraps next.
func NewPolite(next Fetcher, cfg PoliteConfig) *Polite {
	if cfg.Rate <= 0 {
		cfg.Rate = 1
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 1
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 3
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = time.Minute
	}
	if cfg.BreakerFailures == 0 {
		cfg.BreakerFailures = 5
	}
	if cfg.BreakerTimeout <= 0 {
		cfg.BreakerTimeout = time.Minute
	}
	if cfg.BreakerHalfOpenRequests == 0 {
		cfg.BreakerHalfOpenRequests = 1
	}
	if cfg.RobotsFetcher == nil {
		cfg.RobotsFetcher = next
	}
	if cfg.RobotsTTL <= 0 {
		cfg.RobotsTTL = 24 * time.Hour
	}
	return &Polite{
		next: next, cfg: cfg, sleep: sleepCtx,
		limiters: map[string]*rate.Limiter{},
		breakers: map[string]*gobreaker.CircuitBreaker[*Page]{},
		robots:   map[string]*robotsEntry{},
	}
}

// retryable is the failure of one attempt with a retryable status; it counts against the breaker.
type retryable struct {
	status     int
	retryAfter time.Duration
}

func (r *retryable) Error() string { return fmt.Sprintf("status %d", r.status) }

// BreakerState returns the state of host's breaker: "closed", "half-open" or "open".
func (p *Polite) BreakerState(host string) string {
	p.mu.Lock()
	cb, ok := p.breakers[strings.ToLower(host)]
	p.mu.Unlock()
	if !ok {
		return gobreaker.StateClosed.String()
	}
	return cb.State().String()
}

// BreakerStates returns the state of the breaker of every host fetched so far, by host: "closed",
// "half-open" or "open".
func (p *Polite) BreakerStates() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]string, len(p.breakers))
	for host, cb := range p.breakers {
		out[host] = cb.State().String()
	}
	return out
}

func (p *Polite) host(host string) (*rate.Limiter, *gobreaker.CircuitBreaker[*Page]) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.limiters[host]
	if !ok {
		l = rate.NewLimiter(rate.Limit(p.cfg.Rate), p.cfg.Burst)
		p.limiters[host] = l
	}
	cb, ok := p.breakers[host]
	if !ok {
		failures := p.cfg.BreakerFailures
		onChange := p.cfg.OnStateChange
		cb = gobreaker.NewCircuitBreaker[*Page](gobreaker.Settings{
			Name:        host,
			MaxRequests: p.cfg.BreakerHalfOpenRequests,
			Timeout:     p.cfg.BreakerTimeout,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
			IsExcluded: func(err error) bool {
				// A cancelled caller or a refused URL says nothing about the host's health.
				return errors.Is(err, context.Canceled) || errors.Is(err, ErrForbiddenURL)
			},
			OnStateChange: func(name string, from, to gobreaker.State) {
				if onChange != nil {
					onChange(name, from.String(), to.String())
				}
			},
		})
		p.breakers[host] = cb
	}
	return l, cb
}

// Fetch gets rawURL through the guard, robots.txt, the host's rate limiter and breaker, retrying
// network errors, 408, 429 and 5xx. When the retries run out on a status, it returns the last
// page with a *StatusError; when the breaker refuses, a *CircuitOpenError.
func (p *Polite) Fetch(ctx context.Context, rawURL string) (*Page, error) {
	if p.cfg.Guard != nil {
		if err := p.cfg.Guard.Check(ctx, rawURL); err != nil {
			return nil, err
		}
	}
	host, err := hostOf(rawURL)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if p.cfg.Robots {
		if err := p.checkRobots(ctx, host, rawURL); err != nil {
			return nil, err
		}
	}
	lim, cb := p.host(host)
	var last *Page
	for attempt := 0; ; attempt++ {
		if err := lim.Wait(ctx); err != nil {
			return nil, fmt.Errorf("fetch %s: rate limit wait: %w", rawURL, err)
		}
		page, err := cb.Execute(func() (*Page, error) {
			pg, err := p.next.Fetch(ctx, rawURL)
			if err != nil {
				return pg, err
			}
			if retryableStatus(pg.Status) {
				return pg, &retryable{status: pg.Status, retryAfter: retryAfter(pg.Header, time.Now(), p.cfg.MaxRetryAfter)}
			}
			return pg, nil
		})
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			return last, &CircuitOpenError{Host: host, State: cb.State().String()}
		}
		if page != nil {
			last = page
		}
		if err == nil {
			return page, nil
		}
		var rt *retryable
		isStatus := errors.As(err, &rt)
		if !isStatus && (errors.Is(err, ErrForbiddenURL) || errors.Is(err, ErrBodyTooLarge) || ctx.Err() != nil) {
			return page, err
		}
		if p.cfg.MaxRetries < 0 || attempt >= p.cfg.MaxRetries {
			if isStatus {
				return last, &StatusError{URL: rawURL, Status: rt.status, Attempts: attempt + 1}
			}
			return nil, fmt.Errorf("fetch %s after %d attempts: %w", rawURL, attempt+1, err)
		}
		delay := p.backoff(attempt)
		if isStatus && rt.retryAfter > delay {
			delay = rt.retryAfter
		}
		if err := p.sleep(ctx, delay); err != nil {
			return last, fmt.Errorf("fetch %s: waiting to retry: %w", rawURL, err)
		}
	}
}

// backoff is the full-jitter exponential delay before retry attempt+1.
func (p *Polite) backoff(attempt int) time.Duration {
	ceil := p.cfg.BaseBackoff << min(attempt, 30)
	if ceil <= 0 || ceil > p.cfg.MaxBackoff {
		ceil = p.cfg.MaxBackoff
	}
	return rand.N(ceil + 1)
}

func retryableStatus(s int) bool {
	return s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500
}

// retryAfter reads Retry-After (seconds or an HTTP date), capped at limit; 0 if absent.
func retryAfter(h http.Header, now time.Time, limit time.Duration) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), limit)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Polite) checkRobots(ctx context.Context, host, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("fetch: parse %q: %w", rawURL, err)
	}
	key := u.Scheme + "://" + u.Host
	p.mu.Lock()
	e, ok := p.robots[key]
	if !ok || (!e.expires.IsZero() && time.Now().After(e.expires)) {
		e = &robotsEntry{}
		p.robots[key] = e
	}
	p.mu.Unlock()
	e.once.Do(func() {
		e.rules = &robotsRules{}
		pg, err := p.cfg.RobotsFetcher.Fetch(ctx, key+"/robots.txt")
		// Missing or unreadable robots.txt allows everything (RFC 9309 for 4xx; 5xx kept lenient).
		if err == nil && pg.Status == http.StatusOK {
			e.rules = parseRobots(string(pg.Body), p.cfg.UserAgent)
		}
		e.expires = time.Now().Add(p.cfg.RobotsTTL)
	})
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	if !e.rules.allowed(path) {
		return fmt.Errorf("fetch %s: %w (host %s)", rawURL, ErrDisallowed, host)
	}
	return nil
}
