// Package analyses is the analysis saga (goka group analysis-saga): an AnalysisRequested on
// market.analysis-events.v1 (key analysis id) requests a high-priority scrape of the keyword,
// waits for the scrape job to succeed and for the keyword's window (keyword-windows-table) to
// include the scraped pages, and completes the analysis with the window's statistics. Every step
// has a timeout; a failed, blocked or timed-out scrape is compensated: the pending scrape job is
// cancelled, the analysis fails with a reason, and the keyword's last window is served flagged
// stale when there is one. docs/analyses.md describes the states, timeouts, compensation and what
// the scrape workers must honour.
//
// # Topics and groups
//
//   - analysis-saga reads market.analysis-events.v1 (requests; its own transitions come back and
//     are ignored) and its loopback analysis-saga-loop (scrape statuses and ticks), keeps
//     AnalysisState in analysis-saga-table, looks up keyword-windows-table (a Lookup edge: not
//     co-partitioned), and writes transitions to market.analysis-events.v1, ScrapeRequested to
//     market.scrape-requests.high.v1 and cancellations (ScrapeStatusChanged CANCELLED) to
//     market.scrape-status.v1.
//   - analysis-saga-router reads market.scrape-status.v1 (2 partitions, key job id, so it cannot
//     be an input of the saga, whose topics have 3 partitions keyed by analysis id) and forwards
//     every status that carries an analysis id to analysis-saga-loop, key analysis id, as an
//     AnalysisEvent whose scrape_status member is the status.
//
// # Time
//
// goka has no timers. A Ticker beside the processor visits the saga's table every TickInterval
// (goka's VisitAll) with the current time; an analysis that is due (a step deadline passed, a
// window to look at again, or a finished analysis past its retention) gets a SagaTick through
// the loopback, so timeouts are records like any other.
//
// # Idempotency
//
// The state remembers the event ids of the latest inputs it applied (Config.SeenEvents) and the
// saga's step: a redelivered request or status changes nothing and emits nothing, a status of a
// job the analysis no longer waits for is ignored, and progress only grows. The events it emits
// have name-based ids (the analysis id and the state's version), so a transition re-emitted
// after a crash between the emit and the commit carries the same id as the first time.
package analyses

import (
	"errors"
	"fmt"
	"time"

	"github.com/lovoo/goka"

	"github.com/marketinsightspro/marketinsights/processors/keywords"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Group is the goka group of the analysis saga.
const Group goka.Group = topics.GroupAnalysisSaga

// RouterGroup is the goka group of the router of scrape statuses to the saga's loopback.
const RouterGroup goka.Group = topics.GroupAnalysisSaga + "-router"

// Table is the saga's table: AnalysisState by analysis id.
const Table goka.Table = topics.AnalysisSagaTable

// Config configures the saga and its router. Topic and group names are configurable so tests
// can run them on topics of their own.
type Config struct {
	// Group is the saga's goka group; its table is Group + "-table", its loopback Group + "-loop".
	Group goka.Group
	// RouterGroup is the goka group of the router.
	RouterGroup goka.Group
	// Events is the topic of AnalysisEvent records, key analysis id: requests in, transitions out.
	Events goka.Stream
	// ScrapeStatus is the topic of ScrapeStatusChanged records, key job id: the router reads it,
	// the saga writes cancellations to it.
	ScrapeStatus goka.Stream
	// ScrapeRequests is the topic the saga's ScrapeRequested records go to, key job id.
	ScrapeRequests goka.Stream
	// KeywordTable is the keyword-windows table (KeywordWindowsState by keyword), looked up.
	KeywordTable goka.Table
	// Keywords is the keyword-windows processor's configuration, whose series the table's values
	// were written with.
	Keywords keywords.Config
	// SummarySeries is the window series whose current window is an analysis' result; it must be
	// one of Keywords.Series.
	SummarySeries keywords.Series
	// StaleSeries are tried, in order, for a stale result when the summary series' current
	// window has no page; each must be one of Keywords.Series.
	StaleSeries []keywords.Series
	// Producer names the saga in the envelopes of the events it emits.
	Producer string
	// Marketplace is the marketplace of requests that name none.
	Marketplace string
	// DefaultPages is the number of search pages of a request that asks for none.
	DefaultPages int32
	// MaxPages is the most search pages a request may ask for.
	MaxPages int32
	// ScrapeTimeout is how long the saga waits for the scrape job to succeed after requesting it.
	ScrapeTimeout time.Duration
	// AggregateTimeout is how long the saga waits, after the scrape succeeded, for the keyword's
	// window to include its pages.
	AggregateTimeout time.Duration
	// ClockSkew is how far the scrape workers' clocks may be from the saga's: a page counts as
	// the scrape's when its event time is within [requested - skew, succeeded + skew].
	ClockSkew time.Duration
	// TickInterval is how often the Ticker visits the analyses.
	TickInterval time.Duration
	// Retention is how long a finished analysis stays queryable in the table before a tick
	// deletes it (market.analysis-events.v1 keeps its events for 7 days).
	Retention time.Duration
	// SeenEvents is how many input event ids an analysis remembers to recognise redeliveries.
	SeenEvents int
	// Now is the clock of the callbacks (time.Now when nil); ticks carry their own time.
	Now func() time.Time
}

// DefaultConfig returns the saga on the catalog's topics: 3 pages by default (at most 20), the
// scrape given 2 minutes and the window 1 minute more, 5 s of clock skew, ticks every second,
// the current 1-hour sliding window as the result (the 24-hour one as a stale fallback),
// finished analyses kept for 7 days, 16 input ids remembered.
func DefaultConfig() Config {
	return Config{
		Group:            Group,
		RouterGroup:      RouterGroup,
		Events:           goka.Stream(topics.AnalysisEvents),
		ScrapeStatus:     goka.Stream(topics.ScrapeStatus),
		ScrapeRequests:   goka.Stream(topics.ScrapeRequestsHigh),
		KeywordTable:     goka.Table(topics.KeywordWindowsTable),
		Keywords:         keywords.DefaultConfig(),
		SummarySeries:    keywords.Sliding(time.Hour, time.Minute),
		StaleSeries:      []keywords.Series{keywords.Sliding(time.Hour, time.Minute), keywords.Sliding(24*time.Hour, time.Minute)},
		Producer:         string(Group),
		Marketplace:      "amazon.com",
		DefaultPages:     3,
		MaxPages:         20,
		ScrapeTimeout:    2 * time.Minute,
		AggregateTimeout: time.Minute,
		ClockSkew:        5 * time.Second,
		TickInterval:     time.Second,
		Retention:        7 * 24 * time.Hour,
		SeenEvents:       16,
	}
}

// Validate reports every setting that cannot work.
func (c Config) Validate() error {
	var errs []error
	for _, s := range []struct{ name, v string }{
		{"group", string(c.Group)}, {"router group", string(c.RouterGroup)}, {"events topic", string(c.Events)},
		{"scrape-status topic", string(c.ScrapeStatus)}, {"scrape-requests topic", string(c.ScrapeRequests)},
		{"keyword table", string(c.KeywordTable)}, {"marketplace", c.Marketplace},
	} {
		if s.v == "" {
			errs = append(errs, fmt.Errorf("%s is empty", s.name))
		}
	}
	if c.Group == c.RouterGroup {
		errs = append(errs, fmt.Errorf("the router needs a group of its own, not %q", c.Group))
	}
	if err := c.Keywords.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("keyword windows: %w", err))
	}
	for _, s := range append([]keywords.Series{c.SummarySeries}, c.StaleSeries...) {
		if !hasSeries(c.Keywords.Series, s) {
			errs = append(errs, fmt.Errorf("series %v is not one of the keyword windows' series", s))
		}
	}
	if c.DefaultPages < 1 || c.MaxPages < c.DefaultPages {
		errs = append(errs, fmt.Errorf("default pages must be at least 1 and at most max pages, got %d and %d", c.DefaultPages, c.MaxPages))
	}
	if c.ScrapeTimeout <= 0 || c.AggregateTimeout <= 0 || c.TickInterval <= 0 || c.Retention <= 0 {
		errs = append(errs, fmt.Errorf("scrape timeout, aggregate timeout, tick interval and retention must be positive, got %v, %v, %v and %v",
			c.ScrapeTimeout, c.AggregateTimeout, c.TickInterval, c.Retention))
	}
	if c.ClockSkew < 0 {
		errs = append(errs, fmt.Errorf("clock skew must not be negative, got %v", c.ClockSkew))
	}
	if c.SeenEvents < 1 {
		errs = append(errs, fmt.Errorf("seen events must be at least 1, got %d", c.SeenEvents))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("analysis saga config: %w", err)
	}
	return nil
}

func hasSeries(all []keywords.Series, s keywords.Series) bool {
	for _, x := range all {
		if x == s {
			return true
		}
	}
	return false
}

// LoopTopic returns the saga's loopback topic, which the router writes to.
func (c Config) LoopTopic() goka.Stream { return goka.Stream(string(c.Group) + "-loop") }

// TableOf returns the saga's table.
func (c Config) TableOf() goka.Table { return goka.GroupTable(c.Group) }

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
