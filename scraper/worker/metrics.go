package worker

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics are the worker's Prometheus metrics; a nil *metrics records nothing.
type metrics struct {
	jobs     *prometheus.CounterVec
	pages    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	queued   *prometheus.GaugeVec
	running  prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	f := promauto.With(reg)
	return &metrics{
		jobs: f.NewCounterVec(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "scrape", Name: "jobs_total",
			Help: "Job attempts ended, by final status of the attempt (succeeded, failed, blocked, retrying, stale, cancelled)."}, []string{"status"}),
		pages: f.NewCounterVec(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "scrape", Name: "pages_total",
			Help: "Pages fetched, by kind (search, product) and result (ok, blocked, failed, not_found)."}, []string{"kind", "result"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{Namespace: "marketinsights", Subsystem: "scrape", Name: "job_duration_seconds",
			Help: "Time a job attempt ran, by final status.", Buckets: []float64{.25, .5, 1, 2, 5, 10, 20, 30, 60, 120, 300}}, []string{"status"}),
		queued: f.NewGaugeVec(prometheus.GaugeOpts{Namespace: "marketinsights", Subsystem: "scrape", Name: "queued_jobs",
			Help: "Accepted jobs waiting for a worker slot, by priority."}, []string{"priority"}),
		running: f.NewGauge(prometheus.GaugeOpts{Namespace: "marketinsights", Subsystem: "scrape", Name: "running_jobs",
			Help: "Jobs running now."}),
	}
}

func (m *metrics) job(status string, seconds float64) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(status).Inc()
	m.duration.WithLabelValues(status).Observe(seconds)
}

func (m *metrics) page(kind, result string) {
	if m == nil {
		return
	}
	m.pages.WithLabelValues(kind, result).Inc()
}

func (m *metrics) depth(priority string, n int) {
	if m == nil {
		return
	}
	m.queued.WithLabelValues(priority).Set(float64(n))
}

func (m *metrics) setRunning(n int) {
	if m == nil {
		return
	}
	m.running.Set(float64(n))
}

// HostBreakers tells the breaker state of every host fetched so far; *fetch.Polite is one.
type HostBreakers interface {
	BreakerStates() map[string]string
}

// breakerValues are the values of marketinsights_scrape_breaker_state.
var breakerValues = map[string]float64{"closed": 0, "half-open": 1, "open": 2}

// BreakerCollector reports marketinsights_scrape_breaker_state{host} (0 closed, 1 half-open,
// 2 open) of every host b knows, read when Prometheus scrapes, so that an open breaker turning
// half-open after its timeout shows without a request.
type BreakerCollector struct {
	b    HostBreakers
	desc *prometheus.Desc
}

// NewBreakerCollector returns the collector of b's breaker states.
func NewBreakerCollector(b HostBreakers) *BreakerCollector {
	return &BreakerCollector{b: b, desc: prometheus.NewDesc("marketinsights_scrape_breaker_state",
		"Circuit breaker state of a host the scraper fetched: 0 closed, 1 half-open, 2 open.", []string{"host"}, nil)}
}

// Describe sends the breaker state's description.
func (c *BreakerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect sends one sample per known host.
func (c *BreakerCollector) Collect(ch chan<- prometheus.Metric) {
	for host, state := range c.b.BreakerStates() {
		v, ok := breakerValues[state]
		if !ok {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, host)
	}
}
