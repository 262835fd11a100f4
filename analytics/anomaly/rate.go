package anomaly

import (
	"time"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// RatePerDay turns a cumulative count (such as a review count) observed at event time t into a
// rate per day, measured from the anchor kept in s (rate_anchor and rate_anchor_unix_ms) over at
// least minInterval, so that two observations minutes apart do not make a huge rate. It reports
// false, and measures nothing, for the first count (which becomes the anchor), for a count less
// than minInterval after the anchor, and for a count older than the anchor (which is ignored).
// After a measurement the count becomes the anchor.
func RatePerDay(s *marketv1.SeriesState, t time.Time, cumulative float64, minInterval time.Duration) (float64, bool) {
	ms := t.UnixMilli()
	if s.RateAnchorUnixMs == 0 {
		s.RateAnchor, s.RateAnchorUnixMs = cumulative, ms
		return 0, false
	}
	elapsed := ms - s.RateAnchorUnixMs
	if elapsed <= 0 || elapsed < minInterval.Milliseconds() {
		return 0, false
	}
	rate := (cumulative - s.RateAnchor) / (float64(elapsed) / float64(24*time.Hour/time.Millisecond))
	s.RateAnchor, s.RateAnchorUnixMs = cumulative, ms
	return rate, true
}
