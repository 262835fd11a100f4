package keywords

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/marketinsightspro/marketinsights/analytics/market"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// propertyConfig has short windows of both kinds, a sliding step above the resolution and the
// top check on 10-minute windows, so that a few hours of events close many windows of each.
func propertyConfig(lateness time.Duration) Config {
	cfg := DefaultConfig()
	cfg.Series = []Series{
		Tumbling(time.Minute), Tumbling(10 * time.Minute), Tumbling(time.Hour),
		Sliding(30*time.Minute, time.Minute), Sliding(2*time.Hour, 5*time.Minute),
	}
	cfg.TopChangeSeries = Tumbling(10 * time.Minute)
	cfg.TopN = 5
	cfg.AllowedLateness = lateness
	return cfg
}

// scenario is a seeded random sequence of search pages of one keyword.
type scenario struct {
	sim    *sim
	events []*marketv1.SearchResultsObserved // in event-time order
}

func newScenario(seed uint64, n int) scenario {
	s := newSim(seed, kw, 12, 30)
	s.churn = 0.05
	if seed%3 == 0 {
		s.pages = 2
	}
	rng := rand.New(rand.NewPCG(seed, 17))
	t := t0.Add(time.Duration(rng.IntN(3600)) * time.Second)
	var evs []*marketv1.SearchResultsObserved
	for range n {
		evs = append(evs, s.scrape(t)...)
		switch r := rng.Float64(); {
		case r < 0.2:
			t = t.Add(time.Duration(rng.IntN(20_000)) * time.Millisecond)
		case r < 0.9:
			t = t.Add(20*time.Second + time.Duration(rng.IntN(70_000))*time.Millisecond)
		default:
			t = t.Add(5*time.Minute + time.Duration(rng.IntN(35*60))*time.Second)
		}
	}
	slices.SortStableFunc(evs, func(a, b *marketv1.SearchResultsObserved) int {
		return a.GetEnvelope().GetEventTime().AsTime().Compare(b.GetEnvelope().GetEventTime().AsTime())
	})
	return scenario{sim: s, events: evs}
}

// arrival returns the events in the order of their event time plus a random delay of up to
// lateness: no event arrives after the watermark has passed it by more than the lateness.
// With copies, every event is delivered twice, each copy with a delay of its own.
func arrival(rng *rand.Rand, evs []*marketv1.SearchResultsObserved, lateness time.Duration, copies int) []*marketv1.SearchResultsObserved {
	type arr struct {
		at time.Time
		ev *marketv1.SearchResultsObserved
	}
	var as []arr
	for _, ev := range evs {
		for range copies {
			d := time.Duration(rng.Int64N(int64(lateness) + 1))
			if rng.IntN(10) == 0 {
				d = lateness // the boundary: exactly the allowed lateness behind
			}
			as = append(as, arr{at: ev.GetEnvelope().GetEventTime().AsTime().Add(d), ev: ev})
		}
	}
	slices.SortStableFunc(as, func(a, b arr) int { return a.at.Compare(b.at) })
	out := make([]*marketv1.SearchResultsObserved, len(as))
	for i, a := range as {
		out[i] = a.ev
	}
	return out
}

// redelivered returns the events in event-time order, each delivered a second time between
// lateness and lateness+within behind its event time: too late to change a window, recent enough to
// be recognised as a redelivery (within the longest window, 2 hours in propertyConfig).
func redelivered(rng *rand.Rand, evs []*marketv1.SearchResultsObserved, lateness, within time.Duration) []*marketv1.SearchResultsObserved {
	type arr struct {
		at time.Time
		ev *marketv1.SearchResultsObserved
	}
	var as []arr
	for _, ev := range evs {
		et := ev.GetEnvelope().GetEventTime().AsTime()
		as = append(as, arr{et, ev}, arr{et.Add(lateness + time.Duration(rng.Int64N(int64(within-time.Minute)))), ev})
	}
	slices.SortStableFunc(as, func(a, b arr) int { return a.at.Compare(b.at) })
	out := make([]*marketv1.SearchResultsObserved, len(as))
	for i, a := range as {
		out[i] = a.ev
	}
	return out
}

// outcome is what a run produced: the table after the events, the final updates and the
// anomalies after a tick has closed every window.
type outcome struct {
	state     []byte
	flushed   []byte // the table after the tick that closed every window
	finals    map[string][]byte
	anomalies map[string][]byte
	late      int
	updates   []*marketv1.KeywordWindowUpdated
	flushedAt time.Time
}

func play(t *testing.T, cfg Config, sc scenario, order []*marketv1.SearchResultsObserved) outcome {
	t.Helper()
	a := newApplier(t, cfg, sc.sim.lookup)
	a.apply(order...)
	o := outcome{state: mustMarshal(t, a.st), late: len(a.late)}
	last := sc.events[len(sc.events)-1].GetEnvelope().GetEventTime().AsTime()
	var longest time.Duration
	for _, s := range cfg.Series {
		longest = max(longest, s.Size)
	}
	o.flushedAt = last.Add(longest + cfg.AllowedLateness + cfg.TickGrace + time.Minute) // every window closed
	defer func() {
		if _, open := NextDeadline(a.st, cfg); open {
			t.Errorf("windows still open after the flush tick")
		}
	}()
	a.tick(o.flushedAt)
	o.flushed = mustMarshal(t, a.st)
	o.finals = a.finals()
	o.anomalies = map[string][]byte{}
	for _, an := range a.anoms {
		o.anomalies[an.GetAnomalyId()] = mustMarshal(t, an)
	}
	o.updates = a.updates
	checkVersions(t, a.updates)
	return o
}

func sameOutcome(t *testing.T, what string, want, got outcome) {
	t.Helper()
	if !bytes.Equal(want.state, got.state) {
		t.Errorf("%s: the table differs from the in-order run (%d vs %d bytes)", what, len(got.state), len(want.state))
	}
	if !bytes.Equal(want.flushed, got.flushed) {
		t.Errorf("%s: the table after every window closed differs from the in-order run", what)
	}
	if got.late != 0 {
		t.Errorf("%s: %d late events", what, got.late)
	}
	if len(got.finals) != len(want.finals) {
		t.Errorf("%s: %d final updates, want %d", what, len(got.finals), len(want.finals))
	}
	for k, w := range want.finals {
		if g, ok := got.finals[k]; !ok || !bytes.Equal(g, w) {
			t.Errorf("%s: final update of %s differs", what, k)
		}
	}
	if len(got.anomalies) != len(want.anomalies) {
		t.Errorf("%s: %d anomalies, want %d", what, len(got.anomalies), len(want.anomalies))
	}
	for k, w := range want.anomalies {
		if g, ok := got.anomalies[k]; !ok || !bytes.Equal(g, w) {
			t.Errorf("%s: anomaly %s differs", what, k)
		}
	}
}

// TestPropertyRedeliveryAndShuffleWithinLateness checks, over seeded random sequences, that
// delivering every event twice and shuffling events within the allowed lateness give the same
// table (byte for byte) and the same final window results and anomalies as delivering them in
// event-time order, and that every final result matches a direct computation from the events.
func TestPropertyRedeliveryAndShuffleWithinLateness(t *testing.T) {
	iterations := 60
	if testing.Short() || raceEnabled {
		iterations = 10
	}
	var finals, anomalies int
	for seed := uint64(1); seed <= uint64(iterations); seed++ {
		lateness := []time.Duration{10 * time.Minute, 3 * time.Minute, 25 * time.Minute}[seed%3]
		cfg := propertyConfig(lateness)
		sc := newScenario(seed, 60+int(seed%5)*30)
		rng := rand.New(rand.NewPCG(seed, 99))
		t.Run(fmt.Sprintf("seed=%d/lateness=%v/events=%d", seed, lateness, len(sc.events)), func(t *testing.T) {
			base := play(t, cfg, sc, sc.events)
			checkAgainstOracle(t, cfg, sc, base)
			finals += len(base.finals)
			anomalies += len(base.anomalies)
			sameOutcome(t, "shuffled", base, play(t, cfg, sc, arrival(rng, sc.events, lateness, 1)))
			sameOutcome(t, "every event twice, shuffled", base, play(t, cfg, sc, arrival(rng, sc.events, lateness, 2)))
			sameOutcome(t, "every event again, later than the lateness", base, play(t, cfg, sc, redelivered(rng, sc.events, lateness, 2*time.Hour)))
		})
	}
	t.Logf("%d sequences: %d final window results and %d anomalies compared", iterations, finals, anomalies)
	if anomalies == 0 {
		t.Error("no sequence produced an anomaly: the check of new top competitors went untested")
	}
}

// TestPropertyDefaultWindows runs the property with the default windows (24-hour sliding
// windows included) on fewer, longer sequences.
func TestPropertyDefaultWindows(t *testing.T) {
	iterations := 4
	if testing.Short() || raceEnabled {
		iterations = 1
	}
	for seed := uint64(101); seed < 101+uint64(iterations); seed++ {
		cfg := DefaultConfig()
		sc := newScenario(seed, 150)
		rng := rand.New(rand.NewPCG(seed, 7))
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			base := play(t, cfg, sc, sc.events)
			checkAgainstOracle(t, cfg, sc, base)
			sameOutcome(t, "shuffled", base, play(t, cfg, sc, arrival(rng, sc.events, cfg.AllowedLateness, 1)))
			sameOutcome(t, "every event twice, shuffled", base, play(t, cfg, sc, arrival(rng, sc.events, cfg.AllowedLateness, 2)))
			t.Logf("%d events, %d final window results compared", len(sc.events), len(base.finals))
		})
	}
}

// checkAgainstOracle recomputes every final result's products, pages, prices, entrants,
// leavers and top list directly from the events, the slow way.
func checkAgainstOracle(t *testing.T, cfg Config, sc scenario, o outcome) {
	t.Helper()
	type listing struct {
		t   int64
		key uint32
		pos int32
		l   *marketv1.Listing
	}
	latest := func(from, to int64) map[string]listing {
		m := map[string]listing{}
		for _, ev := range sc.events {
			et := unixMs(ev.GetEnvelope().GetEventTime())
			if et < from || et >= to {
				continue
			}
			k := eventKey(ev.GetEnvelope().GetEventId())
			for _, l := range ev.GetListings() {
				c := listing{t: et, key: k, pos: effPos(ev.GetPage(), l.GetPosition(), cfg.PageSize), l: l}
				if p, ok := m[l.GetAsin()]; !ok || greater(c.t, c.key, c.pos, p.t, p.key, p.pos) {
					m[l.GetAsin()] = c
				}
			}
		}
		return m
	}
	pages := func(from, to int64) int {
		n := 0
		for _, ev := range sc.events {
			if et := unixMs(ev.GetEnvelope().GetEventTime()); et >= from && et < to {
				n++
			}
		}
		return n
	}
	keys := func(m map[string]listing) []string {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	checked := 0
	for _, u := range o.updates {
		if !u.GetFinal() {
			continue
		}
		w := u.GetWindow()
		s, e := unixMs(w.GetStart()), unixMs(w.GetEnd())
		step := w.GetStepSeconds() * 1000
		cur := latest(s, e)
		name := windowKey(u)
		st := u.GetStats()
		if int(st.GetCompetitorCount()) != len(cur) || int(u.GetPagesObserved()) != pages(s, e) {
			t.Fatalf("%s: %d products, %d pages; the events say %d and %d", name, st.GetCompetitorCount(), u.GetPagesObserved(), len(cur), pages(s, e))
		}
		var prices []int64
		for _, l := range cur {
			if p := l.l.GetAttributes().GetPrice(); p != nil {
				prices = append(prices, p.GetAmountMinor())
			}
		}
		if len(prices) > 0 && st.GetPriceMinMinor() != slices.Min(prices) {
			t.Fatalf("%s: price min %d, the events say %d", name, st.GetPriceMinMinor(), slices.Min(prices))
		}
		ps, pe := s-step, e-step
		var wantIn, wantOut []string
		if pages(ps, pe) > 0 {
			prev := latest(ps, pe)
			for _, a := range keys(cur) {
				if _, ok := prev[a]; !ok {
					wantIn = append(wantIn, a)
				}
			}
			for _, a := range keys(prev) {
				if _, ok := cur[a]; !ok {
					wantOut = append(wantOut, a)
				}
			}
		}
		if !slices.Equal(st.GetNewEntrants(), wantIn) || !slices.Equal(st.GetLeavers(), wantOut) {
			t.Fatalf("%s: entrants %v leavers %v, the events say %v %v", name, st.GetNewEntrants(), st.GetLeavers(), wantIn, wantOut)
		}
		type est struct {
			asin  string
			units float64
		}
		var ests []est
		for asin, l := range cur {
			var rank int64
			var cat string
			bought := l.l.GetAttributes().GetBoughtPastMonth()
			if ps := sc.sim.lookup(asin); ps != nil && bought == 0 {
				rank, cat = ps.GetLatest().GetRanks()[0].GetRank(), ps.GetLatest().GetRanks()[0].GetCategory()
			}
			if x, ok := cfg.Sales.Estimate(bought, rank, market.NormalizeCategory(cat)); ok {
				ests = append(ests, est{asin, x.Units})
			}
		}
		slices.SortFunc(ests, func(a, b est) int {
			if a.units != b.units {
				if a.units > b.units {
					return -1
				}
				return 1
			}
			return strings.Compare(a.asin, b.asin)
		})
		var wantTop, gotTop []string
		for i, x := range ests {
			if i < cfg.TopN {
				wantTop = append(wantTop, x.asin)
			}
		}
		for _, p := range st.GetTopBySales() {
			gotTop = append(gotTop, p.GetAsin())
		}
		if !slices.Equal(gotTop, wantTop) {
			t.Fatalf("%s: top %v, the events say %v", name, gotTop, wantTop)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no final result to check")
	}
}
