package keywords

import (
	"time"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// CurrentWindow returns the update of series s's window that a keyword's state shows now
// without changing it: the window ending at the first step after the watermark (for a tumbling
// series, the window of the watermark), with its statistics as the processor would emit them
// (not final). It is what a reader of keyword-windows-table (the analysis saga) reports as the
// keyword's market. False when the state is empty, s is not one of cfg's series, or the state
// was written with other series than cfg's (run with the keyword processor's configuration),
// or its packed points are malformed. st is only read, but for packed points (a state read with
// the catalog's codec rather than Codec), which are unpacked in place.
func CurrentWindow(st *marketv1.KeywordWindowsState, s Series, cfg Config) (*marketv1.KeywordWindowUpdated, bool) {
	if st == nil || st.Watermark == nil || len(st.Series) != len(cfg.Series) || unpack(st) != nil {
		return nil, false
	}
	idx := -1
	for i, c := range cfg.Series {
		if !sameSeries(st.Series[i], c) {
			return nil, false
		}
		if c == s {
			idx = i
		}
	}
	if idx < 0 {
		return nil, false
	}
	step := ms(s.Step)
	end := alignDown(unixMs(st.Watermark), step) + step // a tumbling window's step is its size
	r := newRun(st, &cfg)
	r.compute(idx, end-ms(s.Size), end)
	u := r.build(idx, end-ms(s.Size), end, false, "")
	r.finish()
	return u, true
}

// PagesBetween returns how many search pages a keyword's state holds with event times in
// [from, to): the pages applied to its windows (the state keeps those of the longest window plus
// the allowed lateness); 0 when its packed page index is malformed. A packed page index (a state
// read with the catalog's codec rather than Codec) is unpacked in place.
func PagesBetween(st *marketv1.KeywordWindowsState, from, to time.Time) int {
	if st == nil || unpack(st) != nil {
		return 0
	}
	return countPages(st, from.UnixMilli(), to.UnixMilli())
}
