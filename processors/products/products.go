// Package products is the product tracker (goka group product-tracker): it folds every
// ProductObserved (key ASIN) into a ProductState per product in its table — the latest value of
// every field with the time it was observed, first and last seen, bounded histories of prices,
// review counts and ranks with the statistics derived from them — and emits ProductStateChanged
// when a product changes materially.
//
// The state is a function of the set of observations, not of their arrival order:
//
//   - Every field of the latest values is last-writer-wins by (event time at millisecond
//     precision, event id): an observation older than a field's value does not overwrite it, and
//     an absent field never erases a known value.
//   - The histories take an observation only once: recent_event_ids keeps the ids of the
//     newest observations (Config.RecentEvents of them) ordered by event time, so a redelivered
//     one is recognised, and an observation older than all of a full list is late: it can still
//     update latest values (if they are older) and first/last seen, but not the histories or the
//     observation count. A redelivery of an observation that has left the list is late in the
//     same way, and the per-field times make it a no-op. Shuffles in which no observation arrives
//     after Config.RecentEvents newer ones therefore give identical states.
//   - Price EWMA, review velocity and rank trend are recomputed from the sorted, bounded histories
//     on every change, so they too depend only on the set.
package products

import (
	"errors"
	"fmt"
	"time"

	"github.com/lovoo/goka"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/processors"
	"github.com/marketinsightspro/marketinsights/processors/internal/statecache"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Group is the goka group of the product tracker.
const Group goka.Group = topics.GroupProductTracker

// Table is the product tracker's table: ProductState by ASIN.
const Table goka.Table = topics.ProductTrackerTable

// Config configures the product tracker. Topic names are configurable so tests can run the
// processor on topics of their own; the remaining fields shape the state and change only with
// care, since they decide what a replay rebuilds.
type Config struct {
	// Group is the goka group; its table is Group + "-table".
	Group goka.Group
	// Input is the topic of ProductObserved records, keyed by ASIN.
	Input goka.Stream
	// Changes is the topic ProductStateChanged records are emitted to, keyed by ASIN.
	Changes goka.Stream
	// Producer names the tracker in the envelopes of the events it emits.
	Producer string

	// PriceHistory is the number of price points kept (the newest by event time).
	PriceHistory int
	// DailyPrices is the number of UTC days of price aggregates kept (the newest).
	DailyPrices int
	// SeriesBucket is the time bucket of the review-count and main-rank series: each keeps one
	// point per bucket (aligned to the Unix epoch, so 24 h is a UTC day), the last observed in it
	// by event time, so that bursts of observations (one product on many keyword pages) do not
	// crowd older points out.
	SeriesBucket time.Duration
	// SeriesHistory is the number of review-count and main-rank buckets kept (the newest).
	SeriesHistory int
	// RecentEvents bounds recent_event_ids: the observations recognised as redelivered, and the
	// lateness horizon of the histories (an observation older than all of a full list is late:
	// it updates only the latest values and first/last seen).
	RecentEvents int
	// PriceEWMAAlpha is the weight of each price in the EWMA, applied per point over the price
	// history sorted by event time (oldest first, seeded with the oldest point).
	PriceEWMAAlpha float64
	// VelocityWindow is how far back from the newest review count the review velocity looks: it
	// is (last - first) / days between them over the points of the window.
	VelocityWindow time.Duration
	// TrendWindow is how far back from the newest main rank the rank trend looks: it is the
	// least-squares slope of rank over time (ranks per day) of the points of the window.
	TrendWindow time.Duration
	// MinSeriesSpan is the least time between the first and last point of a window for a
	// velocity or trend to be computed (closer points give noise, not a rate).
	MinSeriesSpan time.Duration

	// StateCache is the number of decoded product states the tracker keeps in memory, so that
	// the next observation of a product skips reading its state back from local storage
	// (0 turns it off). It changes no state, only the tracker's speed and memory: each entry
	// holds a decoded state and its bytes (about 30 KB for a product whose histories are full
	// at the default bounds, 8 KB after a month of daily observations), so the default, 2048,
	// holds up to about 60 MB, for the products encoded most recently across the instance's
	// partitions.
	StateCache int
}

// DefaultConfig returns the tracker's configuration on the catalog's topics: 90 price points,
// 90 days of daily prices, 30 daily review-count and rank points, 16 recent events, EWMA alpha
// 0.2, 30-day velocity and 14-day trend windows spanning at least an hour. Every observation
// rewrites the whole state to local storage and to the changelog, so the bounds are the
// tracker's cost: at these, a product observed for three months settles near 2.0 KB with the
// compact histories and event ids (each further recent event adds ~22 bytes, series point ~6,
// price point ~5, day ~7).
func DefaultConfig() Config {
	return Config{
		Group:          Group,
		Input:          goka.Stream(topics.ProductObservations),
		Changes:        goka.Stream(topics.ProductChanges),
		Producer:       string(Group),
		PriceHistory:   90,
		DailyPrices:    90,
		SeriesBucket:   24 * time.Hour,
		SeriesHistory:  30,
		RecentEvents:   16,
		PriceEWMAAlpha: 0.2,
		VelocityWindow: 30 * 24 * time.Hour,
		TrendWindow:    14 * 24 * time.Hour,
		MinSeriesSpan:  time.Hour,
		StateCache:     2048,
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.Group == "" {
		errs = append(errs, errors.New("group is empty"))
	}
	if c.Input == "" {
		errs = append(errs, errors.New("input topic is empty"))
	}
	if c.Changes == "" {
		errs = append(errs, errors.New("changes topic is empty"))
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"price history", c.PriceHistory}, {"daily prices", c.DailyPrices}, {"series history", c.SeriesHistory}, {"recent events", c.RecentEvents}} {
		if n.v < 1 {
			errs = append(errs, fmt.Errorf("%s must be at least 1, got %d", n.name, n.v))
		}
	}
	if c.StateCache < 0 {
		errs = append(errs, fmt.Errorf("state cache must not be negative, got %d", c.StateCache))
	}
	if !(c.PriceEWMAAlpha > 0 && c.PriceEWMAAlpha <= 1) {
		errs = append(errs, fmt.Errorf("price EWMA alpha must be in (0, 1], got %v", c.PriceEWMAAlpha))
	}
	if c.SeriesBucket <= 0 || c.VelocityWindow <= 0 || c.TrendWindow <= 0 || c.MinSeriesSpan <= 0 {
		errs = append(errs, errors.New("series bucket, velocity window, trend window and min series span must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("product tracker config: %w", err)
	}
	return nil
}

// TableOf returns the table of the group of cfg.
func (c Config) TableOf() goka.Table { return goka.GroupTable(c.Group) }

// Graph returns the tracker's group graph: ProductObserved in, ProductState persisted,
// ProductStateChanged and dead letters out.
func Graph(cfg Config) *goka.GroupGraph {
	return graph(cfg, nil, nil)
}

// graph builds the group graph with the callback of a tracker; onDone (tests and benchmarks
// only) is called after every input record.
func graph(cfg Config, m *processors.Metrics, onDone func()) *goka.GroupGraph {
	t := &tracker{cfg: cfg, m: m, onDone: onDone, changes: topics.MustLookup(topics.ProductChanges),
		codec: stateCodec{cache: statecache.New[*marketv1.ProductState](cfg.StateCache, 0)}}
	return goka.DefineGroup(cfg.Group,
		goka.Input(cfg.Input, processors.InputCodec(topics.ProductObservations), t.process),
		goka.Persist(t.codec), // the catalog's encoding, decoded faster (and cached)
		goka.Output(cfg.Changes, processors.Codec(topics.ProductChanges)),
		processors.DeadLetterEdge(),
	)
}

// New returns a product tracker processor; opts come last, so a test can pass goka.WithTester.
func New(env gokaenv.Env, cfg Config, m *processors.Metrics, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	return newProcessor(env, cfg, m, nil, opts...)
}

func newProcessor(env gokaenv.Env, cfg Config, m *processors.Metrics, onDone func(), opts ...goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p, err := goka.NewProcessor(env.Brokers, graph(cfg, m, onDone), env.ProcessorOptions(cfg.Group, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("create processor %s: %w", cfg.Group, err)
	}
	return p, nil
}
