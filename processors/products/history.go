package products

import (
	"sort"
	"time"

	"gonum.org/v1/gonum/stat"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

const dayMs = float64(24 * time.Hour / time.Millisecond)

// pricePointLess orders price points by event time, then amount (points equal in both are
// interchangeable, so the order of a set is unique).
func pricePointLess(a, b *marketv1.PricePoint) bool {
	if ta, tb := a.GetTime(), b.GetTime(); ta.GetSeconds() != tb.GetSeconds() || ta.GetNanos() != tb.GetNanos() {
		return tsLess(ta, tb)
	}
	return a.GetAmountMinor() < b.GetAmountMinor()
}

// insertPricePoint inserts p in order and keeps the newest keep points.
func insertPricePoint(h []*marketv1.PricePoint, p *marketv1.PricePoint, keep int) []*marketv1.PricePoint {
	i := sort.Search(len(h), func(i int) bool { return !pricePointLess(h[i], p) })
	return insertAt(h, i, p, keep)
}

// seriesPointLess orders series points by event time, then value.
func seriesPointLess(a, b *marketv1.SeriesPoint) bool {
	return a.GetTimeUnixMs() < b.GetTimeUnixMs() || a.GetTimeUnixMs() == b.GetTimeUnixMs() && a.GetValue() < b.GetValue()
}

// bucketOf returns the index of the bucket of width w (ms) that holds ms.
func bucketOf(ms, w int64) int64 {
	b := ms / w
	if ms%w < 0 {
		b--
	}
	return b
}

// addSeriesPoint puts the point (ms, v) in its bucket of width bucket: a bucket holds the
// greatest point by (time, value) seen in it. It keeps the newest keep buckets, and reports
// whether h changed.
func addSeriesPoint(h []*marketv1.SeriesPoint, ms, v int64, bucket time.Duration, keep int) ([]*marketv1.SeriesPoint, bool) {
	w := max(bucket.Milliseconds(), 1)
	b := bucketOf(ms, w)
	i := sort.Search(len(h), func(i int) bool { return bucketOf(h[i].GetTimeUnixMs(), w) >= b })
	if i < len(h) && bucketOf(h[i].GetTimeUnixMs(), w) == b {
		if cur := h[i]; seriesPointLess(cur, &marketv1.SeriesPoint{TimeUnixMs: ms, Value: v}) {
			cur.TimeUnixMs, cur.Value = ms, v // the state's own point: nothing else holds it
			return h, true
		}
		return h, false
	}
	if len(h) >= keep && i == 0 {
		return h, false // older than every bucket kept
	}
	return insertAt(h, i, &marketv1.SeriesPoint{TimeUnixMs: ms, Value: v}, keep), true
}

// utcDay returns the UTC day of t as YYYYMMDD.
func utcDay(t *timestamppb.Timestamp) int32 {
	y, m, d := time.Unix(t.GetSeconds(), int64(t.GetNanos())).UTC().Date()
	return int32(y*10000 + int(m)*100 + d)
}

// addDailyPrice adds a price to its day's aggregate and keeps the newest keep days.
func addDailyPrice(days []*marketv1.DailyPrice, day int32, amount int64, keep int) []*marketv1.DailyPrice {
	i := sort.Search(len(days), func(i int) bool { return days[i].GetDay() >= day })
	if i < len(days) && days[i].GetDay() == day {
		d := days[i]
		d.MinMinor = min(d.MinMinor, amount)
		d.MaxMinor = max(d.MaxMinor, amount)
		d.SumMinor += amount
		d.Count++
		return days
	}
	return insertAt(days, i, &marketv1.DailyPrice{Day: day, MinMinor: amount, MaxMinor: amount, SumMinor: amount, Count: 1}, keep)
}

// priceEWMA is the exponentially weighted moving average of the price history (oldest first),
// seeded with the oldest price, each newer price weighted alpha.
func priceEWMA(h []*marketv1.PricePoint, alpha float64) (float64, bool) {
	if len(h) == 0 {
		return 0, false
	}
	e := float64(h[0].GetAmountMinor())
	for _, p := range h[1:] {
		e += alpha * (float64(p.GetAmountMinor()) - e)
	}
	return e, true
}

// windowStart returns the index of the first point of h within window of its newest point.
func windowStart(h []*marketv1.SeriesPoint, window time.Duration) int {
	from := h[len(h)-1].GetTimeUnixMs() - window.Milliseconds()
	return sort.Search(len(h), func(i int) bool { return h[i].GetTimeUnixMs() >= from })
}

// reviewVelocity is (last - first review count) per day over the points within the velocity
// window of the newest one, when they span at least MinSeriesSpan.
func reviewVelocity(h []*marketv1.SeriesPoint, cfg Config) (float64, bool) {
	if len(h) < 2 {
		return 0, false
	}
	first, last := h[windowStart(h, cfg.VelocityWindow)], h[len(h)-1]
	span := last.GetTimeUnixMs() - first.GetTimeUnixMs()
	if span < cfg.MinSeriesSpan.Milliseconds() {
		return 0, false
	}
	return float64(last.GetValue()-first.GetValue()) / (float64(span) / dayMs), true
}

// rankTrend is the least-squares slope of the main rank over time, in ranks per day, of the
// points within the trend window of the newest one, when they span at least MinSeriesSpan.
func rankTrend(h []*marketv1.SeriesPoint, cfg Config) (float64, bool) {
	if len(h) < 2 {
		return 0, false
	}
	pts := h[windowStart(h, cfg.TrendWindow):]
	newest := pts[len(pts)-1].GetTimeUnixMs()
	if newest-pts[0].GetTimeUnixMs() < cfg.MinSeriesSpan.Milliseconds() {
		return 0, false
	}
	var xb, yb [64]float64
	xs, ys := xb[:0], yb[:0]
	for _, p := range pts {
		xs = append(xs, float64(p.GetTimeUnixMs()-newest)/dayMs)
		ys = append(ys, float64(p.GetValue()))
	}
	_, slope := stat.LinearRegression(xs, ys, nil, false)
	return slope, true
}
