package notifications

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// DeliveryMetrics are the Deliverer's Prometheus metrics. A nil *DeliveryMetrics records
// nothing.
type DeliveryMetrics struct {
	attempts    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	deadLetters prometheus.Counter
	duplicates  prometheus.Counter
	remembered  prometheus.Gauge
}

// NewDeliveryMetrics registers the delivery metrics on reg.
func NewDeliveryMetrics(reg prometheus.Registerer) *DeliveryMetrics {
	f := promauto.With(reg)
	return &DeliveryMetrics{
		attempts: f.NewCounterVec(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "delivery", Name: "attempts_total",
			Help: "Notification delivery attempts, by channel and outcome (delivered, retrying, failed)."}, []string{"channel", "outcome"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{Namespace: "marketinsights", Subsystem: "delivery", Name: "attempt_duration_seconds",
			Help:    "Time of one webhook attempt, from request to response or error.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"channel"}),
		deadLetters: f.NewCounter(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "delivery", Name: "dead_letters_total",
			Help: "Notifications sent to the dead-letter topic after their last attempt, or undecodable."}),
		duplicates: f.NewCounter(prometheus.CounterOpts{Namespace: "marketinsights", Subsystem: "delivery", Name: "duplicates_skipped_total",
			Help: "Notifications skipped because their id was delivered already."}),
		remembered: f.NewGauge(prometheus.GaugeOpts{Namespace: "marketinsights", Subsystem: "delivery", Name: "remembered_ids",
			Help: "Delivered notification ids remembered for deduplication."}),
	}
}

func (m *DeliveryMetrics) attempt(ch marketv1.Channel, status marketv1.DeliveryStatus, d time.Duration) {
	if m == nil {
		return
	}
	c := channelLabel(ch)
	m.attempts.WithLabelValues(c, statusLabel(status)).Inc()
	if ch == marketv1.Channel_CHANNEL_WEBHOOK {
		m.duration.WithLabelValues(c).Observe(d.Seconds())
	}
}

func (m *DeliveryMetrics) deadLettered() {
	if m != nil {
		m.deadLetters.Inc()
	}
}

func (m *DeliveryMetrics) duplicate() {
	if m != nil {
		m.duplicates.Inc()
	}
}

func (m *DeliveryMetrics) rememberedIDs(n int) {
	if m != nil {
		m.remembered.Set(float64(n))
	}
}

func channelLabel(ch marketv1.Channel) string {
	switch ch {
	case marketv1.Channel_CHANNEL_WEBHOOK:
		return "webhook"
	case marketv1.Channel_CHANNEL_IN_APP:
		return "in_app"
	}
	return "unspecified"
}

func statusLabel(s marketv1.DeliveryStatus) string {
	switch s {
	case marketv1.DeliveryStatus_DELIVERY_STATUS_DELIVERED:
		return "delivered"
	case marketv1.DeliveryStatus_DELIVERY_STATUS_RETRYING:
		return "retrying"
	case marketv1.DeliveryStatus_DELIVERY_STATUS_FAILED:
		return "failed"
	}
	return "unspecified"
}
