package anomaly

import (
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

const (
	// madToSigma scales a median absolute deviation to a normal standard deviation.
	madToSigma = 1.4826
	// meanADToSigma scales a mean absolute deviation to a normal standard deviation; used when
	// MAD and interquartile range are both 0 (the modified z-score of Iglewicz and Hoaglin does
	// the same when the MAD is 0).
	meanADToSigma = 1.2533
	// iqrToSigma scales an interquartile range to a normal standard deviation.
	iqrToSigma = 1.349
	// minRobustPoints is the fewest values a robust baseline is computed from.
	minRobustPoints = 3
	// stackWindow is the window up to which the scratch space lives on the stack (no allocation).
	stackWindow = 64
)

func robustExpect(p *Params, s *marketv1.SeriesState) (Baseline, bool) {
	n := len(s.Values)
	if n < minRobustPoints {
		return Baseline{}, false
	}
	var stack [2 * stackWindow]float64
	var buf []float64
	if n <= stackWindow {
		buf = stack[:2*n]
	} else {
		buf = make([]float64, 2*n)
	}
	sorted, dev := buf[:n], buf[n:]
	copy(sorted, s.Values)
	slices.Sort(sorted)
	med := median(sorted)
	for i, v := range sorted {
		dev[i] = math.Abs(v - med)
	}
	slices.Sort(dev)
	// The MAD breaks down when a bit more than half the window sits on one level, as in a value
	// flickering between two levels with an uneven split; the interquartile range holds until a
	// level has less than a quarter of the window, so the larger of the two is the spread.
	iqr := stat.Quantile(0.75, stat.Empirical, sorted, nil) - stat.Quantile(0.25, stat.Empirical, sorted, nil)
	sigma := max(madToSigma*median(dev), iqr/iqrToSigma)
	if sigma == 0 {
		var sum float64 // stat.Mean would move the scratch space to the heap
		for _, v := range dev {
			sum += v
		}
		sigma = meanADToSigma * sum / float64(n)
	}
	return Baseline{
		Method: MethodRobustZ,
		Center: med,
		Spread: p.floor(sigma, med),
		Low:    stat.Quantile(0.1, stat.Empirical, sorted, nil),
		High:   stat.Quantile(0.9, stat.Empirical, sorted, nil),
		Points: n,
		Since:  time.UnixMilli(s.TimesUnixMs[0]).UTC(),
	}, true
}

// median of sorted values: the middle one, or the mean of the two middle ones.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func robustLearn(p *Params, s *marketv1.SeriesState, t time.Time, x float64) {
	if len(s.TimesUnixMs) != len(s.Values) { // a corrupt state: start the window afresh
		s.Values, s.TimesUnixMs = s.Values[:0], s.TimesUnixMs[:0]
	}
	s.Values = append(s.Values, x)
	s.TimesUnixMs = append(s.TimesUnixMs, t.UnixMilli())
	if over := len(s.Values) - p.Window; over > 0 {
		n := copy(s.Values, s.Values[over:])
		s.Values = s.Values[:n]
		n = copy(s.TimesUnixMs, s.TimesUnixMs[over:])
		s.TimesUnixMs = s.TimesUnixMs[:n]
	}
}
