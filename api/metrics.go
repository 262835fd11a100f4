package api

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/marketinsightspro/marketinsights/internal/spool"
)

// Metrics are the API's Prometheus metrics, registered on the registry given to New.
type Metrics struct {
	// Requests counts requests by route pattern, method and status code.
	Requests *prometheus.CounterVec
	// Duration observes request durations by route pattern.
	Duration *prometheus.HistogramVec
	// Cache counts lookups by cache, layer (l1, redis, clickhouse) and result (hit, miss).
	Cache *prometheus.CounterVec
	// Invalidations counts L1 entries dropped by change messages and admin requests, by cache.
	Invalidations *prometheus.CounterVec
	// RateLimited counts requests refused by the per-client rate limit.
	RateLimited prometheus.Counter
	// WSClients is the number of connected WebSocket clients.
	WSClients prometheus.Gauge
	// WSDropped counts WebSocket clients dropped for falling behind.
	WSDropped prometheus.Counter
	// Changes counts change messages received from Redis, by kind.
	Changes *prometheus.CounterVec
	// ActionsFailed counts user actions that could not be written to Kafka (or to the spool).
	ActionsFailed prometheus.Counter
}

// registerSpool registers the figures of the user actions' spool.
func registerSpool(reg prometheus.Registerer, sp *spool.Spool) {
	f := promauto.With(reg)
	f.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "marketinsights", Subsystem: "api", Name: "user_actions_spool_bytes",
		Help: "Bytes of user actions on disk waiting for Kafka (and of sent ones in segments not yet deleted)."},
		func() float64 { return float64(sp.Stats().Bytes) })
	f.NewCounterFunc(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "api", Name: "user_actions_spooled_total",
		Help: "User actions written to the spool."}, func() float64 { return float64(sp.Stats().Appended) })
	f.NewCounterFunc(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "api", Name: "user_actions_sent_total",
		Help: "User actions from the spool that Kafka acknowledged."}, func() float64 { return float64(sp.Stats().Sent) })
	f.NewCounterFunc(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "api", Name: "user_actions_dropped_total",
		Help: "User actions refused because the spool was full."}, func() float64 { return float64(sp.Stats().Dropped) })
}

// NewMetrics registers the API's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		Requests: f.NewCounterVec(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "api", Name: "requests_total",
			Help: "HTTP requests served, by route, method and status code."}, []string{"route", "method", "code"}),
		Duration: f.NewHistogramVec(prometheus.HistogramOpts{Namespace: "marketinsights", Subsystem: "api", Name: "request_duration_seconds",
			Help:    "Time to serve a request, by route.",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}}, []string{"route"}),
		Cache: f.NewCounterVec(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "api", Name: "cache_requests_total",
			Help: "Cache lookups by cache, layer (l1, redis, clickhouse) and result (hit, miss)."}, []string{"cache", "layer", "result"}),
		Invalidations: f.NewCounterVec(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "api", Name: "cache_invalidations_total",
			Help: "L1 entries dropped by change messages or admin requests, by cache."}, []string{"cache"}),
		RateLimited: f.NewCounter(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "api", Name: "rate_limited_total",
			Help: "Requests refused by the per-client rate limit."}),
		WSClients: f.NewGauge(prometheus.GaugeOpts{Namespace: "marketinsights", Subsystem: "api", Name: "websocket_clients",
			Help: "Connected WebSocket clients."}),
		WSDropped: f.NewCounter(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "api", Name: "websocket_dropped_total",
			Help: "WebSocket clients dropped because they fell behind."}),
		Changes: f.NewCounterVec(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "api", Name: "changes_total",
			Help: "Change messages received from the Redis change channel, by kind."}, []string{"kind"}),
		ActionsFailed: f.NewCounter(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "api", Name: "user_actions_failed_total",
			Help: "User actions that could not be written to Kafka."}),
	}
}
