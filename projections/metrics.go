package projections

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Metrics are the Prometheus metrics of the projectors. A nil *Metrics records nothing.
type Metrics struct {
	consumedTotal *prometheus.CounterVec
	rowsTotal     *prometheus.CounterVec
	writeErrors   *prometheus.CounterVec
	retries       *prometheus.CounterVec
	deadLetters   *prometheus.CounterVec
	batchRows     *prometheus.HistogramVec
	writeSeconds  *prometheus.HistogramVec
	freshness     *prometheus.HistogramVec
}

// NewMetrics registers the projector metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	const ns, sub = "marketinsights", "projector"
	return &Metrics{
		consumedTotal: f.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "records_consumed_total",
			Help: "Records consumed by a projector, by sink and topic."}, []string{"sink", "topic"}),
		rowsTotal: f.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "rows_written_total",
			Help: "Rows (or keys) written to a read model, by sink."}, []string{"sink"}),
		writeErrors: f.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "write_errors_total",
			Help: "Failed batch writes, by sink."}, []string{"sink"}),
		retries: f.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "write_retries_total",
			Help: "Batch writes retried after a transient failure, by sink."}, []string{"sink"}),
		deadLetters: f.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "dead_letters_total",
			Help: "Poison records a projector sent to the dead-letter topic, by sink."}, []string{"sink"}),
		batchRows: f.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "batch_rows",
			Help: "Rows per batch write, by sink.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}, []string{"sink"}),
		writeSeconds: f.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "write_duration_seconds",
			Help: "Duration of a batch write, by sink.", Buckets: prometheus.DefBuckets}, []string{"sink"}),
		freshness: f.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "freshness_seconds",
			Help:    "Time from a record's timestamp to its consumption by a projector, by sink.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}}, []string{"sink"}),
	}
}

func (m *Metrics) consumed(sink string, r *kgo.Record) {
	if m == nil {
		return
	}
	m.consumedTotal.WithLabelValues(sink, r.Topic).Inc()
	if !r.Timestamp.IsZero() {
		m.freshness.WithLabelValues(sink).Observe(time.Since(r.Timestamp).Seconds())
	}
}

func (m *Metrics) wrote(sink string, rows int, d time.Duration, err error) {
	if m == nil {
		return
	}
	m.writeSeconds.WithLabelValues(sink).Observe(d.Seconds())
	if err != nil {
		m.writeErrors.WithLabelValues(sink).Inc()
		return
	}
	m.rowsTotal.WithLabelValues(sink).Add(float64(rows))
	m.batchRows.WithLabelValues(sink).Observe(float64(rows))
}

func (m *Metrics) retried(sink string) {
	if m != nil {
		m.retries.WithLabelValues(sink).Inc()
	}
}

func (m *Metrics) deadLettered(sink string) {
	if m != nil {
		m.deadLetters.WithLabelValues(sink).Inc()
	}
}

// Retries returns the retries counter of sink, for tests and the benchmark.
func (m *Metrics) Retries(sink string) prometheus.Counter { return m.retries.WithLabelValues(sink) }
