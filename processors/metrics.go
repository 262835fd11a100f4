package processors

import (
	"time"

	"github.com/lovoo/goka"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the Prometheus metrics every processor reports. A nil *Metrics records nothing,
// so unit tests can pass nil.
type Metrics struct {
	messages    *prometheus.CounterVec
	errors      *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	stateBytes  *prometheus.HistogramVec
	stateItems  *prometheus.GaugeVec
	late        *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
	emitted     *prometheus.CounterVec
}

// NewMetrics registers the processor metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		messages: f.NewCounterVec(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "processor", Name: "messages_total",
			Help: "Messages consumed by a processor, by group and input topic."}, []string{"group", "topic"}),
		errors: f.NewCounterVec(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "processor", Name: "errors_total",
			Help: "Messages a processor could not apply, by group and reason."}, []string{"group", "reason"}),
		latency: f.NewHistogramVec(prometheus.HistogramOpts{Namespace: "marketinsights", Subsystem: "processor", Name: "latency_seconds",
			Help:    "Time from an event's event time to its processing, by group.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 3600}}, []string{"group"}),
		stateBytes: f.NewHistogramVec(prometheus.HistogramOpts{Namespace: "marketinsights", Subsystem: "processor", Name: "state_value_bytes",
			Help: "Size of the table values a processor writes, by group.", Buckets: prometheus.ExponentialBuckets(64, 4, 9)}, []string{"group"}),
		stateItems: f.NewGaugeVec(prometheus.GaugeOpts{Namespace: "marketinsights", Subsystem: "processor", Name: "state_items",
			Help: "Items held in a processor's state (open windows, window entries), by group and kind, as of the last update."}, []string{"group", "kind"}),
		late: f.NewCounterVec(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "processor", Name: "late_events_total",
			Help: "Events that arrived after their window's allowed lateness, by group."}, []string{"group"}),
		deadLetters: f.NewCounterVec(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "processor", Name: "dead_letters_total",
			Help: "Records a processor sent to the dead-letter topic, by group."}, []string{"group"}),
		emitted: f.NewCounterVec(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "processor", Name: "emitted_total",
			Help: "Events a processor emitted, by group and output topic."}, []string{"group", "topic"}),
	}
}

// Consumed records one consumed message and its latency from eventTime (zero: unknown).
func (m *Metrics) Consumed(group goka.Group, ctx goka.Context, eventTime time.Time) {
	if m == nil {
		return
	}
	m.messages.WithLabelValues(string(group), string(ctx.Topic())).Inc()
	if !eventTime.IsZero() {
		m.latency.WithLabelValues(string(group)).Observe(time.Since(eventTime).Seconds())
	}
}

// Error records a message that could not be applied.
func (m *Metrics) Error(group goka.Group, reason string) {
	if m == nil {
		return
	}
	m.errors.WithLabelValues(string(group), reason).Inc()
}

// StateWritten records the size of a table value written.
func (m *Metrics) StateWritten(group goka.Group, bytes int) {
	if m == nil {
		return
	}
	m.stateBytes.WithLabelValues(string(group)).Observe(float64(bytes))
}

// StateItems sets a gauge of items held in state.
func (m *Metrics) StateItems(group goka.Group, kind string, n float64) {
	if m == nil {
		return
	}
	m.stateItems.WithLabelValues(string(group), kind).Set(n)
}

// Late records an event later than the allowed lateness.
func (m *Metrics) Late(group goka.Group) {
	if m == nil {
		return
	}
	m.late.WithLabelValues(string(group)).Inc()
}

// DeadLettered records a record sent to the dead-letter topic.
func (m *Metrics) DeadLettered(group goka.Group) {
	if m == nil {
		return
	}
	m.deadLetters.WithLabelValues(string(group)).Inc()
}

// Emitted records an event emitted to topic.
func (m *Metrics) Emitted(group goka.Group, topic string) {
	if m == nil {
		return
	}
	m.emitted.WithLabelValues(string(group), topic).Inc()
}
