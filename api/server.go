package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/time/rate"

	"github.com/marketinsightspro/marketinsights/internal/spool"
	rproj "github.com/marketinsightspro/marketinsights/projections/redis"
)

// OpenAPI is the API's OpenAPI 3.1 document, served at /api/v1/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// Options configure a Server. Store is required; without History the ClickHouse endpoints
// answer 503, without Kafka the write endpoints answer 503 and no user action is written.
type Options struct {
	// Store reads the Redis read model.
	Store *Store
	// History reads ClickHouse (optional).
	History *History
	// Kafka writes user actions, analysis requests and subscription changes (optional).
	Kafka *kgo.Client
	// Spool, when set, takes the user actions instead of Kafka's buffer: they wait on disk
	// while Kafka is away and are sent, in order, once it takes them again (Run runs it; the
	// caller opens it, usually with Kafka as its producer, and closes it after Run returned).
	// Without it a user action Kafka cannot take at once is dropped and counted.
	Spool *spool.Spool
	// Tracker follows the analyses' events (optional; History answers otherwise).
	Tracker *Tracker
	// Topics maps catalog topic names to the names written (tests); absent: the catalog's.
	Topics map[string]string
	// APIKey guards the admin and write endpoints; empty refuses them.
	APIKey string
	// RateLimit is each client's sustained requests per second to /api/ (0: no limit), RateBurst its burst.
	RateLimit float64
	RateBurst int
	// RequestTimeout bounds the work of one API request.
	RequestTimeout time.Duration
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64
	// CORSOrigins are the origins allowed cross-origin requests and WebSocket connections
	// (exact, or "*"); empty: same origin only.
	CORSOrigins []string
	// CacheSize is the most entries of each L1 cache; CacheTTL how long a Redis-backed entry
	// lives; HistoryTTL how long a ClickHouse-backed one does.
	CacheSize  int
	CacheTTL   time.Duration
	HistoryTTL time.Duration
	// WarmKeywords is how many of the most viewed keywords are loaded at start.
	WarmKeywords int
	// Page serves everything outside /api/, /metrics, /healthz and /readyz (optional).
	Page http.Handler
	// Registry receives the API's metrics and is served at /metrics.
	Registry *prometheus.Registry
	// Logger logs; nil discards.
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 10 * time.Second
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 64 << 10
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 10000
	}
	if o.CacheTTL <= 0 {
		o.CacheTTL = time.Minute
	}
	if o.HistoryTTL <= 0 {
		o.HistoryTTL = 30 * time.Second
	}
	if o.RateBurst <= 0 {
		o.RateBurst = max(int(o.RateLimit*2), 1)
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Server is the API: its handler, caches, WebSocket hub and change follower.
type Server struct {
	opts    Options
	m       *Metrics
	hub     *Hub
	mux     *http.ServeMux
	limits  *LRU[string, *rate.Limiter]
	views   *viewCounter
	ready   chan struct{}
	readyMu sync.Once

	reports   *l1[*Snapshot]
	rendered  *LRU[renderKey, *rendered]
	keywords  *l1[[]KeywordSummary]
	windows   *l1[[]Window]
	products  *l1[map[string]string]
	phistory  *l1[[]ProductPoint]
	whistory  *l1[[]WindowPoint]
	anomalies *l1[[]Anomaly]
}

// New returns a server; Run starts its background work.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("api: Options.Store is required")
	}
	opts.defaults()
	m := NewMetrics(opts.Registry)
	if opts.Spool != nil {
		registerSpool(opts.Registry, opts.Spool)
	}
	s := &Server{
		opts: opts, m: m, hub: NewHub(m), mux: http.NewServeMux(),
		limits: NewLRU[string, *rate.Limiter](100_000, 10*time.Minute),
		views:  newViewCounter(),
		ready:  make(chan struct{}),

		reports:   newL1[*Snapshot]("report", opts.CacheSize, opts.CacheTTL, m),
		rendered:  NewLRU[renderKey, *rendered](renderedReports, 0),
		keywords:  newL1[[]KeywordSummary]("keywords", 16, opts.CacheTTL, m),
		windows:   newL1[[]Window]("windows", opts.CacheSize, opts.CacheTTL, m),
		products:  newL1[map[string]string]("product", opts.CacheSize, opts.CacheTTL, m),
		phistory:  newL1[[]ProductPoint]("product_history", opts.CacheSize, opts.HistoryTTL, m),
		whistory:  newL1[[]WindowPoint]("window_history", opts.CacheSize, opts.HistoryTTL, m),
		anomalies: newL1[[]Anomaly]("anomalies", 1024, opts.CacheTTL, m),
	}
	if opts.Tracker != nil {
		opts.Tracker.mu.Lock()
		opts.Tracker.onChange = func(st AnalysisStatus) {
			s.hub.Broadcast(Event{Change: rproj.Change{Kind: KindAnalysis, Keyword: st.Keyword}, Analysis: &st})
		}
		opts.Tracker.mu.Unlock()
	}
	s.routes()
	return s, nil
}

// Hub returns the server's WebSocket hub.
func (s *Server) Hub() *Hub { return s.hub }

// Metrics returns the server's metrics.
func (s *Server) Metrics() *Metrics { return s.m }

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.withCommon(s.mux) }

// route options.
type routeOpts struct {
	auth    bool // needs the API key
	noLimit bool // outside the rate limit
	stream  bool // no request timeout (WebSocket)
}

// handle registers an API route with its metrics, rate limit, key check, timeout and body limit.
func (s *Server) handle(pattern string, o routeOpts, h func(http.ResponseWriter, *http.Request) action) {
	route := pattern
	if _, p, ok := strings.Cut(pattern, " "); ok {
		route = p
	}
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			s.m.Requests.WithLabelValues(route, r.Method, strconv.Itoa(sw.status)).Inc()
			s.m.Duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		}()
		if !o.noLimit && !s.allow(r) {
			s.m.RateLimited.Inc()
			sw.Header().Set("Retry-After", "1")
			writeError(sw, r, http.StatusTooManyRequests, "rate_limited", "too many requests from this client; retry after a second")
			return
		}
		if o.auth && !s.authorized(r) {
			if s.opts.APIKey == "" {
				writeError(sw, r, http.StatusForbidden, "forbidden", "this server has no API key configured (--api-key), so admin and write endpoints are off")
				return
			}
			sw.Header().Set("WWW-Authenticate", `Bearer realm="marketinsights"`)
			writeError(sw, r, http.StatusUnauthorized, "unauthorized", "this endpoint needs the API key: Authorization: Bearer <key> or X-API-Key: <key>")
			return
		}
		if !o.stream {
			ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(sw, r.Body, s.opts.MaxBodyBytes)
		}
		act := h(sw, r)
		if act.kind != 0 {
			s.emitAction(r, route, sw.status, act)
		}
	})
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController and the WebSocket reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// authorized compares the request's key with the configured one in constant time.
func (s *Server) authorized(r *http.Request) bool {
	if s.opts.APIKey == "" {
		return false
	}
	key := r.Header.Get("X-API-Key")
	if a := r.Header.Get("Authorization"); key == "" && len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		key = strings.TrimSpace(a[7:])
	}
	want := sha256.Sum256([]byte(s.opts.APIKey))
	got := sha256.Sum256([]byte(key))
	return subtle.ConstantTimeCompare(want[:], got[:]) == 1
}

// clientOf names the client of a request for rate limiting: its remote IP.
func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clientHash is the client's address hashed, as user actions carry it.
func clientHash(r *http.Request) string {
	h := sha256.Sum256([]byte("marketinsights:" + clientOf(r)))
	return hex.EncodeToString(h[:8])
}

// allow applies the per-client token bucket.
func (s *Server) allow(r *http.Request) bool {
	if s.opts.RateLimit <= 0 {
		return true
	}
	c := clientOf(r)
	l, ok := s.limits.Get(c)
	if !ok {
		l = rate.NewLimiter(rate.Limit(s.opts.RateLimit), s.opts.RateBurst)
		s.limits.Add(c, l)
	}
	return l.Allow()
}

// withCommon adds what every response gets: panic recovery, CORS, security headers.
func (s *Server) withCommon(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.opts.Logger.Error("panic serving a request", "path", r.URL.Path, "panic", fmt.Sprint(v))
				writeError(w, r, http.StatusInternalServerError, "internal", "internal error")
			}
		}()
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if origin := r.Header.Get("Origin"); origin != "" && s.corsAllowed(origin) && strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
				h.Set("Access-Control-Allow-Headers", "Authorization, X-API-Key, X-User-Id, Content-Type, If-None-Match")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) corsAllowed(origin string) bool {
	return slices.Contains(s.opts.CORSOrigins, "*") || slices.Contains(s.opts.CORSOrigins, origin)
}

// topic returns the name written for a catalog topic.
func (s *Server) topic(name string) string {
	if n, ok := s.opts.Topics[name]; ok && n != "" {
		return n
	}
	return name
}

// Ready is closed when the server has warmed its caches and follows the change channel.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Run follows the change channel, warms the caches, flushes view counts and runs the tracker
// and the user actions' spool until ctx ends; it returns when all of them have stopped.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	subscribed := make(chan struct{})
	wg.Add(2)
	go func() { defer wg.Done(); errs <- s.followChanges(ctx, subscribed) }()
	go func() { defer wg.Done(); s.flushViews(ctx) }()
	if s.opts.Spool != nil {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- s.opts.Spool.Run(ctx) }()
	}
	if s.opts.Tracker != nil {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- s.opts.Tracker.Run(ctx) }()
	}
	select {
	case <-subscribed:
		if err := s.Warm(ctx); err != nil && ctx.Err() == nil {
			s.opts.Logger.Warn("warm the caches", "err", err)
		}
		s.readyMu.Do(func() { close(s.ready) })
	case <-ctx.Done():
	}
	<-ctx.Done()
	s.hub.Close()
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// metricsHandler serves the registry.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{Registry: s.opts.Registry})
}
