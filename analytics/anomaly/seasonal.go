package anomaly

import (
	"math"
	"time"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// hoursPerDay is the season length of the seasonal baseline, in UTC hours.
const hoursPerDay = 24

// The seasonal model is x = level + offset[hour of day, UTC] + residual. The level is an EWMA of
// the deseasonalised values, each hour's offset an EWMA of what the level left, and the spread the
// square root of an EWMA of the squared residual. An hour never seen has no offset yet, so a
// value at that hour is not scored (it only teaches the offset).

func seasonalExpect(p *Params, s *marketv1.SeriesState, t time.Time) (Baseline, bool) {
	h := t.UTC().Hour()
	if s.Count < minEWMAPoints || len(s.HourlyMean) != hoursPerDay || len(s.HourlyCount) != hoursPerDay ||
		s.HourlyCount[h] == 0 || seenHours(s) >= s.Count { // no residual learned yet
		return Baseline{}, false
	}
	c := s.EwmaMean + s.HourlyMean[h]
	spread := p.floor(math.Sqrt(max(s.EwmaVariance, 0)), c)
	return Baseline{
		Method: MethodSeasonal,
		Center: c,
		Spread: spread,
		Low:    c - 2*spread,
		High:   c + 2*spread,
		Points: int(s.Count),
		Since:  unixMilli(s.FirstUnixMs),
	}, true
}

// seenHours is the number of hours of day with an offset.
func seenHours(s *marketv1.SeriesState) int64 {
	var n int64
	for _, c := range s.HourlyCount {
		if c > 0 {
			n++
		}
	}
	return n
}

func seasonalLearn(p *Params, s *marketv1.SeriesState, t time.Time, x float64) {
	if len(s.HourlyMean) != hoursPerDay || len(s.HourlyCount) != hoursPerDay {
		s.HourlyMean = make([]float64, hoursPerDay)
		s.HourlyCount = make([]int64, hoursPerDay)
	}
	h := t.UTC().Hour()
	if s.Count == 0 {
		s.EwmaMean, s.EwmaVariance = x, 0
	}
	if s.HourlyCount[h] == 0 {
		s.HourlyMean[h] = x - s.EwmaMean
		s.HourlyCount[h] = 1
		return
	}
	r := x - (s.EwmaMean + s.HourlyMean[h])
	residuals := s.Count - seenHours(s) // values learned as residuals before this one
	v := weight(p.Alpha, residuals)
	s.EwmaVariance = (1-v)*s.EwmaVariance + v*r*r
	a := weight(p.Alpha, s.Count)
	s.EwmaMean += a * (x - s.HourlyMean[h] - s.EwmaMean)
	g := weight(p.Gamma, s.HourlyCount[h])
	s.HourlyMean[h] += g * (x - s.EwmaMean - s.HourlyMean[h])
	s.HourlyCount[h]++
}

func unixMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
