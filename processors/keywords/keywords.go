// Package keywords is the keyword-windows processor (goka group keyword-windows): it folds every
// SearchResultsObserved (key keyword) into windows per keyword — tumbling 1 minute, 1 hour and
// 1 day, sliding 1 hour and 24 hours advancing every minute, by event time — and emits
// KeywordWindowUpdated with each window's competition statistics: competitor count, price min,
// median, mean and p90, rating mean and distribution, review total and median, Prime and
// sponsored shares, share of voice by brand weighted by position, new entrants and leavers
// against the previous window, and the top 10 by estimated monthly sales (analytics/market).
//
// # State: one store, every window computed from it
//
// A keyword's table value (KeywordWindowsState) does not hold the windows. It holds what every
// open window can be computed from:
//
//   - products: per ASIN a trail of its listings (page-adjusted position, sponsored, and
//     references to two deduplicated sets: the figures — price, rating, review count,
//     bought-past-month, Prime, main best-sellers rank — and the label — title, brand, rank
//     category; rank and badge come from product-tracker-table when the card shows neither). A
//     trail keeps at most one listing per minute (the latest of that minute: every window edge
//     is a whole minute, so nothing else can matter), only for minutes not older than the oldest
//     open window end minus one step, plus the latest older listing, which stands for everything
//     before it as long as it is recent enough to be in an open window.
//   - pages: the event time and a 32-bit key (FNV-1a of the event id) of every search page of
//     the longest window plus the allowed lateness, for pages_observed, for finding the windows
//     that have listings, and to recognise a redelivered event.
//   - series: per configured kind and size of window, the end up to which its windows are
//     closed, the hash of what its open tumbling windows last emitted, and a summary of the last
//     closed tumbling window (its ASINs and top list) for the window after it.
//
// A window [start, end) contains, per ASIN, the latest listing with event time before end, if
// that listing is at or after start. That is "per product, its latest listing inside the
// window", computed in one pass over the trails: linear in the products of the keyword, with
// no copy per window. The 1,440 overlapping 24-hour windows therefore cost nothing to store.
//
// Measured (TestStateSize): 48 listings scraped every minute for 24 hours, prices and review
// counts moving, take 37 KB per keyword as plain messages — 14.4 KB of page index (1,440 pages
// at 10 bytes), 11.8 KB of listing points (13 per product), 7.6 KB of figure sets and labels,
// 2.5 KB of series (mostly the ASINs of the last closed day) — and 41 KB when a tenth of the
// slots change product every hour (96 products). The table's codec writes the page index and
// the points packed (see stateCodec): 25.6 KB and 31.2 KB. A keyword whose windows have all
// closed keeps under 200 bytes: its watermark and closing marks, so that a very late page is
// still recognised.
//
// The processor keeps the states it wrote decoded (Config.StateCacheBytes), so a page reads its
// keyword's state from memory rather than from the bytes it wrote for the previous page.
//
// # What is emitted
//
// KeywordWindowUpdated, key keyword, identified downstream by (keyword, window kind, size,
// start); the highest version of a window is its latest word, and a final update is the last:
//
//   - Tumbling windows: an update whenever an event changes the statistics of an open window
//     (the window the event falls in, and the next one, whose entrants and leavers compare
//     with it), and one final update when the window closes.
//   - Sliding windows: at most one update per step (minute) per series — when the keyword's
//     watermark enters a step, the update of the window ending at the end of that step (the
//     current window), with everything applied up to that page — and one final update for every
//     window that has listings, when it closes (at most one per step too). Later pages of the same
//     step, and late pages, show in the next current window and in the finals.
//   - Windows without any search page emit nothing.
//
// Tumbling updates are emitted only when the statistics' hash changed (pages_observed alone
// does not count), so a redelivered or unchanged page emits nothing. The version of an update is twice the
// number of distinct pages that can influence the window (its own and, for entrants and leavers,
// the previous window's), plus one on the final update: it grows with every change, the final
// one is the highest, and it depends only on the set of events, not on their order. The event
// id is a name-based UUID of (keyword, kind, size, start, version), and a final update's
// envelope carries the window end as event time and no causation, so the final results are
// the same bytes whatever the arrival order. With the default series and a page a minute, an
// event emits five updates (three tumbling, two current sliding) and closes three windows
// (1-minute tumbling, both sliding), plus the hourly and daily finals: about 8 messages.
//
// New entrants and leavers compare with the previous window: for a sliding window the window
// one step earlier, for a tumbling window the one just before it. When that window had no page
// the lists are empty (there is nothing to compare with).
//
// # Event time, lateness, closing
//
// The watermark of a keyword is the highest event time it has seen. Its windows are closed
// through max(watermark - allowed lateness, latest tick - allowed lateness - tick grace): every
// window ending at or before that instant is closed, emits its final update and leaves the
// state. An event that falls only into closed windows (for every series) is late: it is counted
// in the state, sent to the late-events topic as LateEvent and counted by the metrics, never
// dropped silently. An event older than the lateness that still falls into an open window (a
// 24-hour sliding window, today's daily window) updates those and only those.
//
// goka has no timers, and a loopback message is delivered at once, so ticks come from outside
// the callbacks: the Ticker, run beside the processor by `process keywords`, calls
// (*goka.Processor).VisitAll with the current time every TickInterval. The visitor edge runs in
// each partition's goroutine, serialised with the records, over the keywords of the partitions
// this instance owns; for a keyword whose earliest window with listings is due (end + lateness
// + grace <= now) it sends a WindowTick with that time through the loopback topic
// keyword-windows-loop, and the loop callback closes the windows. The ticks are therefore
// records like any other (a replay of input and loop topics rebuilds the same table), only due
// keywords get one, and an in-memory cache of every keyword's next deadline, filled by the
// callbacks and cleared on every rebalance, spares the visitor the decoding of keywords that are
// not due. A view of the table or an emitter of broadcast ticks would work too, but would read
// every partition in every instance or tick every keyword; a tick re-looped to itself would spin.
// goka marks visitors experimental; a visit cut short by a rebalance is simply retried at the
// next interval.
//
// # Idempotency
//
// Every piece of the state is a function of the set of events applied and of the closing
// instant: trails keep per minute the greatest listing by (event time, event key, better
// position), the older listings are reduced to their greatest, pages are a set, and the hashes
// of the open windows are those of their current statistics. A redelivered event is recognised
// by its page key and changes nothing (one redelivered later than the longest window plus the
// lateness finds its page gone and is reported late: every window it could change is closed);
// events shuffled within the allowed lateness give the same table, byte for byte, and the same
// final updates (the property tests check both).
// Ties of event time are broken by a 32-bit hash of the event id rather than by the id itself, to
// keep the state small.
//
// # Guards
//
// The goka callback dead-letters pages it cannot apply (undecodable, no event id or time, a
// keyword other than the record key) and pages whose event time is more than MaxFutureSkew
// ahead of its clock: one such page would otherwise move the watermark past every window and
// make all later pages of the keyword late. Product states looked up are reused for LookupTTL
// by the processor instance (a product listed under several keywords every minute is decoded
// once a minute, not once per page).
//
// # Sales estimates
//
// A product's monthly sales come from its "bought in past month" badge when the card (or the
// product's state) shows one — the badge's bucket is the band — and otherwise from the main
// best-sellers rank in product-tracker-table through the category's power law in
// analytics/market, whose coefficients are documented estimates, with a multiplicative band.
// The closing 1-hour tumbling window's top 10 is compared with the previous hour's: a product new
// to it is reported as AnomalyDetected (ANOMALY_KIND_NEW_TOP10_COMPETITOR, key ASIN) with a
// deterministic anomaly id.
package keywords

import (
	"errors"
	"fmt"
	"time"

	"github.com/lovoo/goka"

	"github.com/marketinsightspro/marketinsights/analytics/market"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Group is the goka group of the keyword windows.
const Group goka.Group = topics.GroupKeywordWindows

// Table is the keyword windows' table: KeywordWindowsState by keyword.
const Table goka.Table = topics.KeywordWindowsTable

// Series is one kind and size of window.
type Series struct {
	// Kind is tumbling or sliding.
	Kind marketv1.WindowKind
	// Size is the window's length.
	Size time.Duration
	// Step is how far consecutive windows are apart: Size for tumbling windows.
	Step time.Duration
}

// Tumbling returns the series of tumbling windows of a size.
func Tumbling(size time.Duration) Series {
	return Series{Kind: marketv1.WindowKind_WINDOW_KIND_TUMBLING, Size: size, Step: size}
}

// Sliding returns the series of sliding windows of a size advancing by step.
func Sliding(size, step time.Duration) Series {
	return Series{Kind: marketv1.WindowKind_WINDOW_KIND_SLIDING, Size: size, Step: step}
}

// Config configures the keyword windows. Topic names are configurable so tests can run the
// processor on topics of their own; the windows, resolution and lateness decide what the state
// holds and change only with care (a changed series starts afresh; the others keep theirs).
type Config struct {
	// Group is the goka group; its table is Group + "-table" and its loopback Group + "-loop".
	Group goka.Group
	// Input is the topic of SearchResultsObserved records, keyed by keyword.
	Input goka.Stream
	// Output is the topic KeywordWindowUpdated records are emitted to, keyed by keyword.
	Output goka.Stream
	// LateEvents is the topic LateEvent records are emitted to, keyed by keyword.
	LateEvents goka.Stream
	// Anomalies is the topic AnomalyDetected records are emitted to, keyed by ASIN.
	Anomalies goka.Stream
	// ProductTable is the table of ProductState by ASIN looked up for best-sellers ranks; empty
	// disables the lookup (sales then come from badges only).
	ProductTable goka.Table
	// Producer names the processor in the envelopes of the events it emits.
	Producer string
	// LookupTTL is how long a product state looked up in ProductTable is reused (by processing
	// time, per processor instance); 0 looks up every time.
	LookupTTL time.Duration
	// MaxFutureSkew is how far ahead of the processor's clock an event time may be; a page
	// further in the future is dead-lettered rather than allowed to push the watermark past every
	// window (one bad clock would otherwise make all later pages of the keyword late). 0 accepts
	// any event time.
	MaxFutureSkew time.Duration

	// Series are the windows kept per keyword. Every size and step is a whole multiple of
	// Resolution, a sliding window's size a multiple of its step, and no two series are equal.
	Series []Series
	// Resolution is the granularity of window edges: a trail keeps one listing per Resolution.
	Resolution time.Duration
	// AllowedLateness is how far behind the watermark an event may be and still update its
	// windows; a window closes when the watermark passes its end by this much.
	AllowedLateness time.Duration
	// TickGrace is added to the lateness before a processing-time tick closes a window, so that
	// ticks do not close windows whose events are merely delayed in the pipeline.
	TickGrace time.Duration
	// TickInterval is how often the Ticker visits the keywords.
	TickInterval time.Duration
	// TopN is the length of a window's top list by estimated sales.
	TopN int
	// MaxBrands is the number of brands listed in a share of voice; the others are summed into
	// one entry named OtherBrands.
	MaxBrands int
	// PageSize is the number of listings of a full page: a listing's page-adjusted position is
	// (page-1) * PageSize + position, and an unknown position counts as PageSize.
	PageSize int
	// TopChangeSeries is the tumbling series whose closing windows are checked for products new
	// to the top list; a zero Series disables the check.
	TopChangeSeries Series
	// Sales estimates monthly unit sales.
	Sales *market.SalesModel
	// StateCacheBytes bounds the encoded bytes of the keyword states the processor keeps decoded
	// between records (see stateCodec; in memory a decoded state takes a few times its encoded
	// size); 0 keeps none.
	StateCacheBytes int
}

// OtherBrands names the share-of-voice entry that sums the brands beyond Config.MaxBrands.
const OtherBrands = "(other brands)"

// UnknownBrand names the share-of-voice entry of listings without a brand.
const UnknownBrand = "(unknown)"

// DefaultConfig returns the windows of the issue on the catalog's topics: tumbling 1 minute,
// 1 hour and 1 day, sliding 1 hour and 24 hours advancing every minute, a 1-minute resolution,
// 10 minutes of allowed lateness, 1 minute of tick grace, ticks every 15 s, product states reused
// for a minute, event times at most an hour ahead of the clock, a top 10, 20 brands, 48 listings per page, new top-10 competitors checked on the
// 1-hour tumbling windows, the default sales model, and 32 MiB of encoded states kept decoded.
func DefaultConfig() Config {
	return Config{
		Group:         Group,
		Input:         goka.Stream(topics.SearchResults),
		Output:        goka.Stream(topics.KeywordWindows),
		LateEvents:    goka.Stream(topics.LateEvents),
		Anomalies:     goka.Stream(topics.Anomalies),
		ProductTable:  goka.Table(topics.ProductTrackerTable),
		Producer:      string(Group),
		LookupTTL:     time.Minute,
		MaxFutureSkew: time.Hour,
		Series: []Series{
			Tumbling(time.Minute),
			Tumbling(time.Hour),
			Tumbling(24 * time.Hour),
			Sliding(time.Hour, time.Minute),
			Sliding(24*time.Hour, time.Minute),
		},
		Resolution:      time.Minute,
		AllowedLateness: 10 * time.Minute,
		TickGrace:       time.Minute,
		TickInterval:    15 * time.Second,
		TopN:            10,
		MaxBrands:       20,
		PageSize:        48,
		TopChangeSeries: Tumbling(time.Hour),
		Sales:           market.DefaultSalesModel(),
		StateCacheBytes: 32 << 20,
	}
}

// Validate reports every setting that cannot work.
func (c Config) Validate() error {
	var errs []error
	for _, s := range []struct{ name, v string }{
		{"group", string(c.Group)}, {"input topic", string(c.Input)}, {"output topic", string(c.Output)},
		{"late-events topic", string(c.LateEvents)}, {"anomalies topic", string(c.Anomalies)},
	} {
		if s.v == "" {
			errs = append(errs, fmt.Errorf("%s is empty", s.name))
		}
	}
	if c.Resolution <= 0 || c.Resolution%time.Millisecond != 0 {
		errs = append(errs, fmt.Errorf("resolution must be a positive whole number of milliseconds, got %v", c.Resolution))
	}
	if len(c.Series) == 0 {
		errs = append(errs, errors.New("no window series"))
	}
	for i, s := range c.Series {
		if err := c.validateSeries(s); err != nil {
			errs = append(errs, fmt.Errorf("series %d: %w", i, err))
		}
		for _, o := range c.Series[:i] {
			if o == s {
				errs = append(errs, fmt.Errorf("series %d repeats %v", i, s))
			}
		}
	}
	if c.TopChangeSeries != (Series{}) {
		found := false
		for _, s := range c.Series {
			found = found || s == c.TopChangeSeries
		}
		if !found || c.TopChangeSeries.Kind != marketv1.WindowKind_WINDOW_KIND_TUMBLING {
			errs = append(errs, fmt.Errorf("top-change series %v must be one of the tumbling series", c.TopChangeSeries))
		}
	}
	if c.AllowedLateness < 0 || c.TickGrace < 0 || c.LookupTTL < 0 || c.MaxFutureSkew < 0 {
		errs = append(errs, fmt.Errorf("allowed lateness, tick grace, lookup TTL and future skew must not be negative, got %v, %v, %v and %v",
			c.AllowedLateness, c.TickGrace, c.LookupTTL, c.MaxFutureSkew))
	}
	if c.StateCacheBytes < 0 {
		errs = append(errs, fmt.Errorf("state cache bytes must not be negative, got %d", c.StateCacheBytes))
	}
	if c.TickInterval <= 0 {
		errs = append(errs, fmt.Errorf("tick interval must be positive, got %v", c.TickInterval))
	}
	if c.TopN < 1 || c.MaxBrands < 1 || c.PageSize < 1 {
		errs = append(errs, fmt.Errorf("top N, max brands and page size must be at least 1, got %d, %d, %d", c.TopN, c.MaxBrands, c.PageSize))
	}
	if c.Sales == nil {
		errs = append(errs, errors.New("no sales model"))
	}
	return errors.Join(errs...)
}

func (c Config) validateSeries(s Series) error {
	switch s.Kind {
	case marketv1.WindowKind_WINDOW_KIND_TUMBLING:
		if s.Step != s.Size {
			return fmt.Errorf("a tumbling window's step must equal its size, got %v and %v", s.Step, s.Size)
		}
	case marketv1.WindowKind_WINDOW_KIND_SLIDING:
		if s.Step <= 0 || s.Size%s.Step != 0 {
			return fmt.Errorf("a sliding window's size must be a multiple of its step, got %v and %v", s.Size, s.Step)
		}
	default:
		return fmt.Errorf("unknown window kind %v", s.Kind)
	}
	if c.Resolution > 0 && (s.Size <= 0 || s.Size%c.Resolution != 0 || s.Step%c.Resolution != 0) {
		return fmt.Errorf("size %v and step %v must be positive multiples of the resolution %v", s.Size, s.Step, c.Resolution)
	}
	if s.Size%time.Second != 0 || s.Step%time.Second != 0 {
		return fmt.Errorf("size %v and step %v must be whole seconds", s.Size, s.Step)
	}
	return nil
}

// String renders a series as "tumbling 1h0m0s" or "sliding 24h0m0s/1m0s".
func (s Series) String() string {
	if s.Kind == marketv1.WindowKind_WINDOW_KIND_SLIDING {
		return fmt.Sprintf("sliding %v/%v", s.Size, s.Step)
	}
	return fmt.Sprintf("tumbling %v", s.Size)
}
