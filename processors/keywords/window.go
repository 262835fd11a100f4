package keywords

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// Lookup returns the tracked state of a product, or nil when it is unknown.
type Lookup func(asin string) *marketv1.ProductState

// Outputs are what applying an event or a tick to a keyword's state produced.
type Outputs struct {
	// State is the keyword's state after the event (the one passed in, updated, or a new one).
	State *marketv1.KeywordWindowsState
	// Updates are the window updates to emit, key keyword, in order.
	Updates []*marketv1.KeywordWindowUpdated
	// Anomalies are the new top competitors to emit, key ASIN.
	Anomalies []*marketv1.AnomalyDetected
	// Late is set when the event fell only into closed windows; emit it, key keyword.
	Late *marketv1.LateEvent
	// Duplicate is true when the event had been applied already; nothing changed.
	Duplicate bool
	// Changed is true when State must be written.
	Changed bool
}

// Closing causes, the values of KeywordWindowUpdated.closed_by.
const (
	// ClosedByWatermark marks windows closed by the keyword's event-time watermark.
	ClosedByWatermark = "watermark"
	// ClosedByTick marks windows closed by a processing-time tick.
	ClosedByTick = "tick"
)

// ErrInvalidEvent is wrapped by the errors of events that cannot be applied.
var ErrInvalidEvent = errors.New("invalid search results event")

// run is one Apply or Tick on a keyword's state. It lives in a pooled scratch, so that a run
// allocates nothing of its own.
type run struct {
	memo   []estimateMemo // sales estimates by trail, valid for the statistics phase
	st     *marketv1.KeywordWindowsState
	cfg    Config
	sp     spans
	sc     *scratch
	out    Outputs
	lookup Lookup
	cause  *marketv1.Envelope // the event applied; nil for a tick
}

func newRun(st *marketv1.KeywordWindowsState, cfg *Config) *run {
	sc := scratchPool.Get().(*scratch)
	r := &sc.run
	r.st, r.cfg, r.sp, r.sc, r.out = st, *cfg, spansOf(cfg), sc, Outputs{State: st}
	r.memo = r.memo[:0]
	return r
}

// finish returns the run's outputs and puts its scratch back into the pool.
func (r *run) finish() Outputs {
	out := r.out
	sc := r.sc
	sc.cur, sc.prev = sc.cur[:0], sc.prev[:0]
	clear(sc.curAsins[:cap(sc.curAsins)])
	clear(sc.prevAsins[:cap(sc.prevAsins)])
	clear(sc.stats.entrants[:cap(sc.stats.entrants)])
	clear(sc.stats.leavers[:cap(sc.stats.leavers)])
	sc.attrs.Rating, sc.attrs.ReviewCount, sc.attrs.BoughtPastMonth, sc.attrs.Prime, sc.attrs.Price = nil, nil, nil, nil, nil
	sc.label.Title, sc.label.Brand, sc.label.Category = nil, nil, nil
	memo := r.memo[:0]
	*r = run{memo: memo}
	scratchPool.Put(sc)
	return out
}

// Apply folds a search-results page into its keyword's state (nil for a keyword not seen
// before) and returns the new state with the window updates, anomalies or late event to emit.
// The state is updated in place. lookup may be nil; it is called only for listings that show
// neither a bought-past-month badge nor a best-sellers rank, and only when the listing becomes
// the product's latest of its minute. The error wraps ErrInvalidEvent.
func Apply(st *marketv1.KeywordWindowsState, ev *marketv1.SearchResultsObserved, lookup Lookup, cfg Config) (Outputs, error) {
	if err := validateEvent(st, ev); err != nil {
		return Outputs{State: st}, err
	}
	t := unixMs(ev.GetEnvelope().GetEventTime())
	key := eventKey(ev.GetEnvelope().GetEventId())
	fresh := st == nil || st.Watermark == nil
	if st == nil {
		st = &marketv1.KeywordWindowsState{}
	}
	r := newRun(st, &cfg)
	r.lookup, r.cause = lookup, ev.GetEnvelope()
	if fresh {
		st.Keyword = ev.GetKeyword()
		st.ClosedThroughUnixMs = t - r.sp.late
		setUnixMs(&st.Watermark, t)
	}
	if m := ev.GetMarketplace(); m != "" && (st.Marketplace == "" || m < st.Marketplace) {
		st.Marketplace = m // the least name seen, so the value does not depend on arrival order
	}
	r.syncSeries()

	i, dup := findPage(st, t, key)
	if dup {
		r.out.Duplicate = true
		return r.finish(), nil
	}
	if r.late(t) {
		st.LateEvents++
		r.out.Late = r.lateEvent(ev, t)
		r.out.Changed = true
		return r.finish(), nil
	}
	st.PageTimesUnixMs = slices.Insert(st.PageTimesUnixMs, i, t)
	st.PageKeys = slices.Insert(st.PageKeys, i, key)

	wOld := unixMs(st.Watermark)
	wNew := max(wOld, t)
	setUnixMs(&st.Watermark, wNew)
	page := max(ev.GetPage(), 1)
	for _, l := range ev.GetListings() {
		if l.GetAsin() != "" {
			r.applyListing(t, key, page, l)
		}
	}
	r.memo = r.memo[:0] // the listings changed: estimates are computed afresh
	r.closeThrough(max(st.ClosedThroughUnixMs, wNew-r.sp.late), ClosedByWatermark)
	r.updatesFor(t, wOld, wNew, fresh)
	r.prune()
	r.out.Changed = true
	return r.finish(), nil
}

// Tick closes the windows of a keyword that a processing-time tick at now makes due: every
// window ending at or before now - allowed lateness - tick grace. A nil or empty state stays
// as it is.
func Tick(st *marketv1.KeywordWindowsState, now time.Time, cfg Config) Outputs {
	if st == nil || st.Watermark == nil {
		return Outputs{State: st}
	}
	r := newRun(st, &cfg)
	r.syncSeries()
	through := now.UnixMilli() - r.sp.late - r.sp.grace
	if through <= st.ClosedThroughUnixMs {
		return r.finish()
	}
	r.closeThrough(through, ClosedByTick)
	r.prune()
	r.out.Changed = true
	return r.finish()
}

// NextDeadline returns the processing time at which a tick would close a window of the
// keyword that has listings (its end + allowed lateness + tick grace), and false when no such
// window is open.
func NextDeadline(st *marketv1.KeywordWindowsState, cfg Config) (time.Time, bool) {
	if st == nil || st.Watermark == nil {
		return time.Time{}, false
	}
	sp := spansOf(&cfg)
	best := int64(math.MaxInt64)
	for i, s := range cfg.Series {
		if i >= len(st.Series) || !sameSeries(st.Series[i], s) {
			continue
		}
		if e, ok := nextEnd(st, s, st.Series[i].GetClosedUntilUnixMs()); ok {
			best = min(best, e+sp.late+sp.grace)
		}
	}
	if best == math.MaxInt64 {
		return time.Time{}, false
	}
	return time.UnixMilli(best), true
}

func validateEvent(st *marketv1.KeywordWindowsState, ev *marketv1.SearchResultsObserved) error {
	if ev == nil {
		return fmt.Errorf("%w: nil", ErrInvalidEvent)
	}
	if ev.GetKeyword() == "" {
		return fmt.Errorf("%w: keyword is empty", ErrInvalidEvent)
	}
	if st != nil && st.GetKeyword() != "" && st.GetKeyword() != ev.GetKeyword() {
		return fmt.Errorf("%w: keyword %q applied to the state of %q", ErrInvalidEvent, ev.GetKeyword(), st.GetKeyword())
	}
	env := ev.GetEnvelope()
	if env.GetEventId() == "" {
		return fmt.Errorf("%w: envelope.event_id is empty", ErrInvalidEvent)
	}
	if env.GetEventTime() == nil {
		return fmt.Errorf("%w: envelope.event_time is missing", ErrInvalidEvent)
	}
	if err := env.GetEventTime().CheckValid(); err != nil {
		return fmt.Errorf("%w: envelope.event_time: %w", ErrInvalidEvent, err)
	}
	return nil
}

func sameSeries(ws *marketv1.WindowSeries, s Series) bool {
	return ws.GetKind() == s.Kind && ws.GetSizeSeconds() == int64(s.Size/time.Second) && ws.GetStepSeconds() == int64(s.Step/time.Second)
}

// syncSeries makes st.Series match the configured series one for one, keeping the progress of
// those that stay and starting new ones closed through the state's closing instant.
func (r *run) syncSeries() {
	st, cfg := r.st, &r.cfg
	if len(st.Series) == len(cfg.Series) {
		same := true
		for i, s := range cfg.Series {
			same = same && sameSeries(st.Series[i], s)
		}
		if same {
			return
		}
	}
	old := st.Series
	st.Series = make([]*marketv1.WindowSeries, len(cfg.Series))
	for i, s := range cfg.Series {
		for _, o := range old {
			if sameSeries(o, s) {
				st.Series[i] = o
			}
		}
		if st.Series[i] == nil {
			st.Series[i] = &marketv1.WindowSeries{
				Kind:              s.Kind,
				SizeSeconds:       int64(s.Size / time.Second),
				StepSeconds:       int64(s.Step / time.Second),
				ClosedUntilUnixMs: alignDown(st.ClosedThroughUnixMs, ms(s.Step)),
			}
		}
	}
}

func tumbling(s Series) bool { return s.Kind == marketv1.WindowKind_WINDOW_KIND_TUMBLING }

// lastEnd returns the end of the last window of a series that contains event time t.
func lastEnd(s Series, t int64) int64 {
	if tumbling(s) {
		return alignDown(t, ms(s.Step)) + ms(s.Step)
	}
	return alignDown(t+ms(s.Size), ms(s.Step))
}

// late reports whether every window that contains t is closed.
func (r *run) late(t int64) bool {
	for i, s := range r.cfg.Series {
		if lastEnd(s, t) > r.st.Series[i].GetClosedUntilUnixMs() {
			return false
		}
	}
	return true
}

// nextEnd returns the end of the first window of a series ending after `after` that contains a
// page, and false when there is none.
func nextEnd(st *marketv1.KeywordWindowsState, s Series, after int64) (int64, bool) {
	size, step := ms(s.Size), ms(s.Step)
	i, _ := slices.BinarySearch(st.PageTimesUnixMs, after+step-size)
	if i == len(st.PageTimesUnixMs) {
		return 0, false
	}
	return max(after+step, alignDown(st.PageTimesUnixMs[i], step)+step), true
}

// closeThrough closes every window ending at or before through: a final update for each that
// has pages, in order, per series; then the series' emitted hashes of closed windows go.
func (r *run) closeThrough(through int64, by string) {
	st := r.st
	if through <= st.ClosedThroughUnixMs {
		return
	}
	for i, s := range r.cfg.Series {
		sr := st.Series[i]
		step := ms(s.Step)
		limit := alignDown(through, step)
		if limit <= sr.ClosedUntilUnixMs {
			continue
		}
		for {
			e, ok := nextEnd(st, s, sr.ClosedUntilUnixMs)
			if !ok || e > limit {
				break
			}
			r.final(i, e-ms(s.Size), e, by)
			sr.ClosedUntilUnixMs = e
		}
		sr.ClosedUntilUnixMs = limit
		k := 0
		for k < len(sr.Emitted) && sr.Emitted[k].GetEndUnixMs() <= limit {
			k++
		}
		sr.Emitted = slices.Delete(sr.Emitted, 0, k)
		if lc := sr.LastClosed; lc != nil && lc.GetStartUnixMs()+2*step <= limit {
			sr.LastClosed = nil // the window after it is closed too: nothing compares with it any more
		}
	}
	st.ClosedThroughUnixMs = through
}

// updatesFor emits the updates an event at t calls for: for tumbling series the window of t and
// the one after it (whose entrants compare with it), if their statistics changed; for sliding
// series the current window, once per step, when the watermark enters the step.
func (r *run) updatesFor(t, wOld, wNew int64, fresh bool) {
	for i, s := range r.cfg.Series {
		sr := r.st.Series[i]
		size, step := ms(s.Size), ms(s.Step)
		if tumbling(s) {
			ws := alignDown(t, step)
			if ws+step > sr.ClosedUntilUnixMs {
				r.maybeEmit(i, ws, ws+step)
			}
			ns := ws + step
			if ns+step > sr.ClosedUntilUnixMs && countPages(r.st, ns, ns+step) > 0 {
				r.maybeEmit(i, ns, ns+step)
			}
			continue
		}
		ce := alignDown(wNew, step) + step // the current window ends at the first step after the watermark
		if ce > sr.ClosedUntilUnixMs && (fresh || alignDown(wOld, step) != alignDown(wNew, step)) {
			r.compute(i, ce-size, ce)
			r.out.Updates = append(r.out.Updates, r.build(i, ce-size, ce, false, ""))
		}
	}
}

// compute fills the scratch with the statistics of window [start, end) of series i, its
// entrants and leavers, and its page counts.
func (r *run) compute(i int, start, end int64) {
	st, sc, s, sr := r.st, r.sc, r.cfg.Series[i], r.st.Series[i]
	step := ms(s.Step)
	sc.cur = collect(st, sc.cur, start, end)
	sc.pages = countPages(st, start, end)
	r.computeStats(sc.cur)
	x := &sc.stats
	sc.curAsins = asinsOf(st, sc.curAsins, sc.cur)

	var prev []string
	if tumbling(s) {
		ps := start - step
		prevPages := 0
		switch lc := sr.GetLastClosed(); {
		case start > sr.GetClosedUntilUnixMs(): // the previous window is open: compute it
			if prevPages = countPages(st, ps, start); prevPages > 0 {
				sc.prev = collect(st, sc.prev, ps, start)
				sc.prevAsins = asinsOf(st, sc.prevAsins, sc.prev)
				prev, x.hasPrev = sc.prevAsins, true
			}
		case lc != nil && lc.GetStartUnixMs() == ps:
			prevPages = int(lc.GetPagesObserved())
			prev, x.hasPrev = lc.GetAsins(), true
		}
		sc.versionPages = sc.pages + prevPages
	} else {
		if countPages(st, start-step, end-step) > 0 {
			sc.prev = collect(st, sc.prev, start-step, end-step)
			sc.prevAsins = asinsOf(st, sc.prevAsins, sc.prev)
			prev, x.hasPrev = sc.prevAsins, true
		}
		sc.versionPages = countPages(st, start-step, end)
	}
	if x.hasPrev {
		x.entrants, x.leavers = diffSorted(sc.curAsins, prev, x.entrants, x.leavers)
	} else {
		x.entrants, x.leavers = x.entrants[:0], x.leavers[:0]
	}
}

// maybeEmit emits an update of open window [start, end) of series i if its statistics differ
// from those it last emitted.
func (r *run) maybeEmit(i int, start, end int64) {
	sr := r.st.Series[i]
	r.compute(i, start, end)
	h := r.hash()
	k, found := slices.BinarySearchFunc(sr.Emitted, end, func(w *marketv1.EmittedWindow, e int64) int {
		return cmpInt(w.GetEndUnixMs(), e)
	})
	if found && sr.Emitted[k].GetStatsHash() == h {
		return
	}
	if found {
		sr.Emitted[k].StatsHash = h
	} else {
		sr.Emitted = slices.Insert(sr.Emitted, k, &marketv1.EmittedWindow{EndUnixMs: end, StatsHash: h})
	}
	r.out.Updates = append(r.out.Updates, r.build(i, start, end, false, ""))
}

// final emits the final update of window [start, end) of series i as it closes; for tumbling
// series it reports new top competitors and remembers the window for the next one.
func (r *run) final(i int, start, end int64, by string) {
	sc, s, sr := r.sc, r.cfg.Series[i], r.st.Series[i]
	r.compute(i, start, end)
	r.out.Updates = append(r.out.Updates, r.build(i, start, end, true, by))
	if !tumbling(s) {
		return
	}
	if s == r.cfg.TopChangeSeries {
		r.topChanges(sr, start, end, ms(s.Step))
	}
	lc := sr.LastClosed
	if lc == nil {
		lc = &marketv1.ClosedWindow{}
		sr.LastClosed = lc
	}
	lc.StartUnixMs = start
	lc.PagesObserved = int32(sc.pages)
	lc.Asins = append(lc.Asins[:0], sc.curAsins...)
	lc.TopAsins = lc.TopAsins[:0]
	lc.TopLastUnits = 0
	for _, t := range sc.stats.top {
		lc.TopAsins = append(lc.TopAsins, r.st.Products[t.m.tr].GetAsin())
		lc.TopLastUnits = t.est.Units
	}
}

// build returns the update of window [start, end) of series i from the scratch.
func (r *run) build(i int, start, end int64, final bool, by string) *marketv1.KeywordWindowUpdated {
	s := r.cfg.Series[i]
	version := 2 * int64(r.sc.versionPages)
	env := &marketv1.Envelope{Producer: r.cfg.Producer, SchemaVersion: marketv1.SchemaVersion}
	if final {
		version++
		env.EventTime = tsOf(end)
	} else {
		env.EventTime = tsOf(min(unixMs(r.st.Watermark), end))
		if r.cause != nil {
			env.CorrelationId, env.CausationId = r.cause.GetCorrelationId(), r.cause.GetEventId()
		}
	}
	env.EventId = r.windowEventID(s, start, version)
	return &marketv1.KeywordWindowUpdated{
		Envelope:    env,
		Keyword:     r.st.GetKeyword(),
		Marketplace: r.st.GetMarketplace(),
		Window: &marketv1.Window{
			Kind:        s.Kind,
			SizeSeconds: int64(s.Size / time.Second),
			StepSeconds: int64(s.Step / time.Second),
			Start:       tsOf(start),
			End:         tsOf(end),
		},
		Stats:         r.buildStats(),
		Final:         final,
		Version:       version,
		PagesObserved: int32(r.sc.pages),
		ClosedBy:      by,
	}
}

// lateEvent returns the LateEvent of an event that fell only into closed windows.
func (r *run) lateEvent(ev *marketv1.SearchResultsObserved, t int64) *marketv1.LateEvent {
	env := ev.GetEnvelope()
	wm := unixMs(r.st.Watermark)
	return &marketv1.LateEvent{
		Envelope: &marketv1.Envelope{
			EventId:       nameUUID(nsLate, r.sc.idBuf[:0], env.GetEventId()),
			EventTime:     tsOf(wm),
			Producer:      r.cfg.Producer,
			SchemaVersion: marketv1.SchemaVersion,
			CorrelationId: env.GetCorrelationId(),
			CausationId:   env.GetEventId(),
		},
		Keyword:       ev.GetKeyword(),
		LateEventId:   env.GetEventId(),
		LateEventTime: tsOf(t),
		Watermark:     tsOf(wm),
		Observed:      ev,
	}
}
