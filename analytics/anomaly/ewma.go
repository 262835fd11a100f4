package anomaly

import (
	"math"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

const minEWMAPoints = 2

func ewmaExpect(p *Params, s *marketv1.SeriesState) (Baseline, bool) {
	if s.Count < minEWMAPoints {
		return Baseline{}, false
	}
	c := s.EwmaMean
	spread := p.floor(math.Sqrt(max(s.EwmaVariance, 0)), c)
	return Baseline{
		Method: MethodEWMA,
		Center: c,
		Spread: spread,
		Low:    c - 2*spread,
		High:   c + 2*spread,
		Points: int(min(s.Count, effectiveMemory(p.Alpha))),
		Since:  unixMilli(s.FirstUnixMs),
	}, true
}

// effectiveMemory is the number of values an EWMA of weight alpha mostly rests on
// (the N of an N-point moving average with the same centre of mass).
func effectiveMemory(alpha float64) int64 {
	return int64(math.Ceil(2/alpha - 1))
}

// weight returns alpha, or 1/(n+1) while that is larger, so that the first values are averaged
// evenly rather than the first one dominating.
func weight(alpha float64, n int64) float64 {
	return max(alpha, 1/float64(n+1))
}

func ewmaLearn(p *Params, s *marketv1.SeriesState, x float64) {
	if s.Count == 0 {
		s.EwmaMean, s.EwmaVariance = x, 0
		return
	}
	a := weight(p.Alpha, s.Count)
	d := x - s.EwmaMean
	s.EwmaMean += a * d
	s.EwmaVariance = (1 - a) * (s.EwmaVariance + a*d*d)
}
