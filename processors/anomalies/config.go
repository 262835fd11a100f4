package anomalies

import (
	"errors"
	"fmt"
	"time"

	"github.com/lovoo/goka"

	"github.com/marketinsightspro/marketinsights/analytics/anomaly"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Metric names a series the detector keeps per product (a key of DetectorState.series).
type Metric string

const (
	// MetricPrice is the price a buyer pays, in minor units.
	MetricPrice Metric = "price"
	// MetricReviews is the review count's growth, in reviews per day (see Config.ReviewRateInterval).
	MetricReviews Metric = "reviews"
	// MetricRating is the average star rating.
	MetricRating Metric = "rating"
	// MetricRank is the natural log of the main best-sellers rank.
	MetricRank Metric = "rank"
	// MetricSellers is the number of sellers offering the product.
	MetricSellers Metric = "sellers"
)

// AllMetrics are the metrics in the order they are examined (and their anomalies emitted).
var AllMetrics = []Metric{MetricPrice, MetricReviews, MetricRating, MetricRank, MetricSellers}

// KindConfig is the sensitivity of one anomaly kind.
type KindConfig struct {
	// Off turns the kind off.
	Off bool
	// Threshold is the score that opens an alert (statistical kinds).
	Threshold float64
	// Hysteresis: an open alert closes once the score stayed below Threshold-Hysteresis for Rearm values.
	Hysteresis float64
	// Rearm is the number of consecutive calm values that close an open alert (>= 1).
	Rearm int
	// WarmUp is the number of values of the metric seen before the kind alerts.
	WarmUp int
	// Cooldown is the least event time between two alerts of the kind (per product, per direction);
	// for back in stock, also the time after its alert in which a new out of stock is not reported.
	Cooldown time.Duration
	// Warning is the score from which the severity is warning (below it: info).
	Warning float64
	// Critical is the score from which the severity is critical.
	Critical float64
	// Severity is the fixed severity of a state kind (out of stock, back in stock).
	Severity marketv1.Severity
}

// Config configures the anomaly-detector processor.
type Config struct {
	// Group is the goka group; its table is Group + "-table". Tests use unique names.
	Group goka.Group
	// Input is the topic of ProductStateChanged events.
	Input string
	// Output is the topic AnomalyDetected events go to.
	Output string
	// Producer is written into the envelopes of the events emitted.
	Producer string
	// RecentEventIDs is how many dedup keys of applied changes a product's state keeps.
	RecentEventIDs int
	// ReviewRateInterval is the least event time the review rate is measured over.
	ReviewRateInterval time.Duration
	// Models are the baselines of the metrics.
	Models map[Metric]anomaly.Model
	// Kinds are the sensitivities of the anomaly kinds; a kind without an entry is off.
	Kinds map[marketv1.AnomalyKind]KindConfig
	// StateCache is how many detector states the table codec keeps decoded, so the next change
	// of a product skips decoding its state (about 10 KB each in memory; 0: off).
	StateCache int
}

// Producer is the default envelope producer of the events the processor emits.
const Producer = "anomaly-detector"

// DefaultConfig returns the production configuration:
//
//	metric   baseline                                   floors of the spread
//	price    robust_z over the last 20 values           1 minor unit, 2% of the median
//	reviews  robust_z over the last 20 rates (per day,  2 reviews/day, 25% of the median
//	         each over >= 6 h)
//	rating   ewma, alpha 0.1                            0.05 stars
//	rank     seasonal on log(rank), alpha 0.05,         0.1 (about 10%)
//	         gamma 0.2
//	sellers  robust_z over the last 20 values           1 seller, 15% of the median
//
//	kind               threshold  hysteresis  rearm  warm-up  cooldown  warning  critical
//	price drop/spike   3.5        1.5         2      8        6h        5        8
//	review spike       4          1.5         2      8        24h       7        12
//	rating drop        3          1           2      8        24h       5        8
//	rank jump (both)   4          1.5         2      48       12h       7        12
//	seller-count jump  3.5        1.5         2      8        12h       6        10
//	out of stock       -          -           -      -        6h        severity warning
//	back in stock      -          -           -      -        6h        severity info
//
// With the price floor, a score of 3.5 is a 7% move from a steady price, 5 is 10% and 8 is 16%.
// The cooldown of back in stock is also the time after a back-in-stock alert during which going
// out of stock again counts as flapping and is not reported (see Analyzer.Apply).
func DefaultConfig() Config {
	k := func(th, hy float64, warm int, cool time.Duration, warn, crit float64) KindConfig {
		return KindConfig{Threshold: th, Hysteresis: hy, Rearm: 2, WarmUp: warm, Cooldown: cool, Warning: warn, Critical: crit}
	}
	return Config{
		Group:              Group,
		Input:              topics.ProductChanges,
		Output:             topics.Anomalies,
		Producer:           Producer,
		RecentEventIDs:     32,
		StateCache:         4096,
		ReviewRateInterval: 6 * time.Hour,
		Models: map[Metric]anomaly.Model{
			MetricPrice:   {Method: anomaly.MethodRobustZ, Window: 20, MinSpread: 1, MinRelSpread: 0.02},
			MetricReviews: {Method: anomaly.MethodRobustZ, Window: 20, MinSpread: 2, MinRelSpread: 0.25},
			MetricRating:  {Method: anomaly.MethodEWMA, Alpha: 0.1, MinSpread: 0.05},
			MetricRank:    {Method: anomaly.MethodSeasonal, Alpha: 0.05, Gamma: 0.2, MinSpread: 0.1},
			MetricSellers: {Method: anomaly.MethodRobustZ, Window: 20, MinSpread: 1, MinRelSpread: 0.15},
		},
		Kinds: map[marketv1.AnomalyKind]KindConfig{
			marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP:        k(3.5, 1.5, 8, 6*time.Hour, 5, 8),
			marketv1.AnomalyKind_ANOMALY_KIND_PRICE_SPIKE:       k(3.5, 1.5, 8, 6*time.Hour, 5, 8),
			marketv1.AnomalyKind_ANOMALY_KIND_REVIEW_SPIKE:      k(4, 1.5, 8, 24*time.Hour, 7, 12),
			marketv1.AnomalyKind_ANOMALY_KIND_RATING_DROP:       k(3, 1, 8, 24*time.Hour, 5, 8),
			marketv1.AnomalyKind_ANOMALY_KIND_RANK_JUMP:         k(4, 1.5, 48, 12*time.Hour, 7, 12),
			marketv1.AnomalyKind_ANOMALY_KIND_SELLER_COUNT_JUMP: k(3.5, 1.5, 8, 12*time.Hour, 6, 10),
			marketv1.AnomalyKind_ANOMALY_KIND_OUT_OF_STOCK:      {Cooldown: 6 * time.Hour, Severity: marketv1.Severity_SEVERITY_WARNING},
			marketv1.AnomalyKind_ANOMALY_KIND_BACK_IN_STOCK:     {Cooldown: 6 * time.Hour, Severity: marketv1.Severity_SEVERITY_INFO},
		},
	}
}

// seriesKinds says which kind each direction of a metric raises (UNSPECIFIED: none).
var seriesKinds = map[Metric][2]marketv1.AnomalyKind{ // [up, down]
	MetricPrice:   {marketv1.AnomalyKind_ANOMALY_KIND_PRICE_SPIKE, marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP},
	MetricReviews: {marketv1.AnomalyKind_ANOMALY_KIND_REVIEW_SPIKE, marketv1.AnomalyKind_ANOMALY_KIND_UNSPECIFIED},
	MetricRating:  {marketv1.AnomalyKind_ANOMALY_KIND_UNSPECIFIED, marketv1.AnomalyKind_ANOMALY_KIND_RATING_DROP},
	MetricRank:    {marketv1.AnomalyKind_ANOMALY_KIND_RANK_JUMP, marketv1.AnomalyKind_ANOMALY_KIND_RANK_JUMP},
	MetricSellers: {marketv1.AnomalyKind_ANOMALY_KIND_SELLER_COUNT_JUMP, marketv1.AnomalyKind_ANOMALY_KIND_SELLER_COUNT_JUMP},
}

// ErrInvalidConfig is wrapped by every error of Config.Validate.
var ErrInvalidConfig = errors.New("invalid anomaly-detector configuration")

// Validate reports the first setting out of range.
func (c Config) Validate() error {
	_, err := compile(c)
	return err
}

// sensitivity returns the detector sensitivity of kind (off when the kind is off or missing).
func (c Config) sensitivity(kind marketv1.AnomalyKind) anomaly.Sensitivity {
	k, ok := c.Kinds[kind]
	if !ok || k.Off || kind == marketv1.AnomalyKind_ANOMALY_KIND_UNSPECIFIED {
		return anomaly.Sensitivity{}
	}
	return anomaly.Sensitivity{Threshold: k.Threshold, Hysteresis: k.Hysteresis, Rearm: k.Rearm, WarmUp: k.WarmUp, Cooldown: k.Cooldown}
}

// compiled is a validated configuration with the detector parameters of every metric.
type compiled struct {
	cfg    Config
	params map[Metric]*anomaly.Params
}

func compile(c Config) (*compiled, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, a...))
	}
	switch {
	case c.Group == "":
		return nil, bad("group: empty")
	case c.Input == "":
		return nil, bad("input topic: empty")
	case c.Output == "":
		return nil, bad("output topic: empty")
	case c.StateCache < 0:
		return nil, bad("state cache %d: want >= 0", c.StateCache)
	case c.RecentEventIDs < 1:
		return nil, bad("recent event ids %d: want >= 1", c.RecentEventIDs)
	case c.ReviewRateInterval <= 0:
		return nil, bad("review rate interval %v: want > 0", c.ReviewRateInterval)
	}
	for kind, k := range c.Kinds {
		if k.Off {
			continue
		}
		if _, ok := marketv1.AnomalyKind_name[int32(kind)]; !ok || kind == marketv1.AnomalyKind_ANOMALY_KIND_UNSPECIFIED {
			return nil, bad("kind %v: unknown", kind)
		}
		if k.Cooldown < 0 {
			return nil, bad("%v: cooldown %v: want >= 0", kind, k.Cooldown)
		}
		if isStateKind(kind) {
			if _, ok := marketv1.Severity_name[int32(k.Severity)]; !ok || k.Severity == marketv1.Severity_SEVERITY_UNSPECIFIED {
				return nil, bad("%v: severity %v: want info, warning or critical", kind, k.Severity)
			}
			continue
		}
		if k.Threshold <= 0 || k.Warning < k.Threshold || k.Critical < k.Warning {
			return nil, bad("%v: want 0 < threshold %v <= warning %v <= critical %v", kind, k.Threshold, k.Warning, k.Critical)
		}
	}
	out := &compiled{cfg: c, params: map[Metric]*anomaly.Params{}}
	for _, m := range AllMetrics {
		model, ok := c.Models[m]
		if !ok {
			return nil, bad("metric %s: no model", m)
		}
		kinds := seriesKinds[m]
		p := &anomaly.Params{Model: model, Up: c.sensitivity(kinds[0]), Down: c.sensitivity(kinds[1])}
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("%w: metric %s: %w", ErrInvalidConfig, m, err)
		}
		out.params[m] = p
	}
	return out, nil
}

func isStateKind(k marketv1.AnomalyKind) bool {
	return k == marketv1.AnomalyKind_ANOMALY_KIND_OUT_OF_STOCK || k == marketv1.AnomalyKind_ANOMALY_KIND_BACK_IN_STOCK
}

// kindOn returns the configuration of kind and whether the kind is on.
func (c *compiled) kindOn(kind marketv1.AnomalyKind) (KindConfig, bool) {
	k, ok := c.cfg.Kinds[kind]
	return k, ok && !k.Off
}

// severity grades a score of kind: critical from Critical, warning from Warning, else info.
func (k KindConfig) severity(score float64) marketv1.Severity {
	switch {
	case score >= k.Critical:
		return marketv1.Severity_SEVERITY_CRITICAL
	case score >= k.Warning:
		return marketv1.Severity_SEVERITY_WARNING
	default:
		return marketv1.Severity_SEVERITY_INFO
	}
}
