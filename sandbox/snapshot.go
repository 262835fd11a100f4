package sandbox

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// Snapshot is the market's whole state at one simulated time (a multiple of the market's step):
// every product's state, the best-sellers ranks and the order of every keyword's results.
// It is immutable.
type Snapshot struct {
	m      *Market
	at     int64
	states []pstate
	kws    [][]*pstate // per keyword: organic results in order
}

// Time returns the simulated time of the snapshot.
func (s *Snapshot) Time() time.Time { return s.m.timeAt(s.at) }

// snapshotCacheSize bounds the snapshots kept for reuse.
const snapshotCacheSize = 16

// At returns the market's state at simulated time t (rounded down to the market's step; times
// before the epoch give the epoch's state).
func (m *Market) At(t time.Time) *Snapshot {
	at := m.quantize(t)
	m.snapMu.Lock()
	e, ok := m.snaps[at]
	if !ok {
		e = &snapEntry{}
		m.snaps[at] = e
		m.order = append(m.order, at)
		if len(m.order) > snapshotCacheSize {
			delete(m.snaps, m.order[0])
			m.order = m.order[1:]
		}
	}
	m.snapMu.Unlock()
	// Requests arriving together at a new step wait for one computation.
	e.once.Do(func() { e.s = m.compute(at) })
	return e.s
}

// snapEntry is a cached snapshot, computed once.
type snapEntry struct {
	once sync.Once
	s    *Snapshot
}

func (m *Market) compute(at int64) *Snapshot {
	m.ensureAnomalies(floorDiv(at, daySec) + 1)
	m.anomMu.RLock()
	defer m.anomMu.RUnlock()
	s := &Snapshot{m: m, at: at, states: make([]pstate, len(m.products))}
	for i, p := range m.products {
		s.states[i] = m.productAt(p, at)
	}
	m.rankBestSellers(s)
	s.kws = make([][]*pstate, len(m.keywords))
	type scored struct {
		st    *pstate
		score float64
	}
	var buf []scored
	for k, kw := range m.keywords {
		buf = buf[:0]
		for i := range kw.members {
			mb := &kw.members[i]
			st := &s.states[mb.p.idx]
			if !st.active || (at >= mb.gapFrom && at < mb.gapTo) {
				continue
			}
			buf = append(buf, scored{st, m.rankScore(st, mb, kw, at)})
		}
		slices.SortFunc(buf, func(a, b scored) int {
			if c := cmp.Compare(b.score, a.score); c != 0 {
				return c
			}
			return cmp.Compare(a.st.p.asin, b.st.p.asin)
		})
		list := make([]*pstate, len(buf))
		for i, x := range buf {
			list[i] = x.st
		}
		s.kws[k] = list
	}
	return s
}

// rankBestSellers sets the category and subcategory best-sellers ranks by demand. The simulated
// catalog is a sample of a larger one, so ranks are spread: rank i of the sample gets a rank in
// [i*scale+1, (i+1)*scale], unique and in order.
func (m *Market) rankBestSellers(s *Snapshot) {
	byCat := make([][]*pstate, len(categories))
	bySub := make([][]*pstate, len(m.keywords))
	for i := range s.states {
		st := &s.states[i]
		if !st.active {
			continue
		}
		byCat[st.p.cat] = append(byCat[st.p.cat], st)
		bySub[st.p.kw] = append(bySub[st.p.kw], st)
	}
	order := func(a, b *pstate) int {
		if c := cmp.Compare(b.demand, a.demand); c != 0 {
			return c
		}
		return cmp.Compare(a.p.asin, b.p.asin)
	}
	for _, list := range byCat {
		slices.SortFunc(list, order)
		for i, st := range list {
			st.bsr = i*37 + 1 + pick(hash3(m.seed, saltRank, uint64(st.p.idx), uint64(s.at/daySec), 1), 37)
		}
	}
	for _, list := range bySub {
		slices.SortFunc(list, order)
		for i, st := range list {
			st.subBSR = i*3 + 1 + pick(hash3(m.seed, saltRank, uint64(st.p.idx), uint64(s.at/daySec), 2), 3)
		}
	}
}

// slot is one result card of a search page.
type slot struct {
	st          *pstate
	sponsored   bool
	organicRank int // 1-based rank among the keyword's organic results; 0 for sponsored
}

// searchPage is one page of a keyword's results as rendered.
type searchPage struct {
	kw       *keyword
	page     int
	pages    int
	total    int // organic results of the keyword
	from, to int // organic ranks shown, 1-based inclusive; 0 when none
	slots    []slot
	carousel []*pstate // sponsored products in a non-result carousel widget (page 1 only)
}

// page composes page pg (1-based) of a keyword's results: its organic results with sponsored
// cards at the top, in the middle and at the end. Pages past the last have no results.
func (s *Snapshot) page(kw *keyword, pg int) searchPage {
	org := s.kws[kw.idx]
	size := kw.pageSize
	sp := searchPage{kw: kw, page: pg, total: len(org), pages: (len(org) + size - 1) / size}
	lo := (pg - 1) * size
	if pg < 1 || lo >= len(org) {
		return sp
	}
	hi := min(lo+size, len(org))
	onPage := org[lo:hi]
	sp.from, sp.to = lo+1, hi

	// Advertisers among the keyword's listed, in-stock products, not already on this page.
	onPageSet := make(map[*pstate]bool, len(onPage))
	for _, st := range onPage {
		onPageSet[st] = true
	}
	var ads []*pstate
	for _, st := range org {
		if st.p.advertiser && st.inStock && !onPageSet[st] {
			ads = append(ads, st)
		}
	}
	nAds := 0
	switch {
	case len(onPage) >= 8:
		nAds = 4
	case len(onPage) > 0:
		nAds = 2
	}
	rot := make([]*pstate, 0, len(ads))
	if len(ads) > 0 {
		start := pick(hash3(s.m.seed, saltAds, uint64(kw.idx), uint64(pg), uint64(s.at/hourSec)), len(ads))
		for i := range ads {
			rot = append(rot, ads[(start+i)%len(ads)])
		}
	}
	nAds = min(nAds, len(rot))
	// Sponsored cards go before organic offsets 0, 0, n/2 and n.
	at := []int{0, 0, len(onPage) / 2, len(onPage)}
	ad := 0
	for i := 0; i <= len(onPage); i++ {
		for ad < nAds && at[ad] == i {
			sp.slots = append(sp.slots, slot{st: rot[ad], sponsored: true})
			ad++
		}
		if i < len(onPage) {
			sp.slots = append(sp.slots, slot{st: onPage[i], organicRank: lo + i + 1})
		}
	}
	if pg == 1 && len(rot) > nAds {
		sp.carousel = rot[nAds:min(len(rot), nAds+3)]
	}
	return sp
}
