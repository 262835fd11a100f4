// Package market is the pure computation behind the keyword windows: order statistics, rating
// buckets, the position weights of share of voice, and monthly unit sales estimated from a
// product's "bought in past month" badge or, failing that, from its best-sellers rank through a
// per-category power law. It imports no Kafka, storage or clock; every function is safe for
// concurrent use and allocation-free (but NormalizeCategory of a name not yet normalised).
package market

import (
	"math"
)

// Quantile returns the p-quantile (0 <= p <= 1) of values sorted ascending, interpolating
// linearly between order statistics (Hyndman and Fan's type 7, the default of R and NumPy):
// h = (n-1)p, Q = x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]). It returns NaN when
// there are no values; p outside [0, 1] is clamped.
func Quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	switch {
	case !(p > 0): // also NaN
		return sorted[0]
	case p >= 1:
		return sorted[n-1]
	}
	h := float64(n-1) * p
	lo := int(h)
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// Median returns the median of values sorted ascending (the mean of the two middle values for
// an even count); NaN when there are none.
func Median(sorted []float64) float64 { return Quantile(sorted, 0.5) }

// Mean returns the arithmetic mean of xs, summed in order; NaN when there are none.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// RatingBuckets is the number of star buckets of RatingBucket.
const RatingBuckets = 5

// RatingBucket returns the star bucket of an average rating: 0 is [1,2), 1 is [2,3), 2 is
// [3,4), 3 is [4,4.5), 4 is [4.5,5]. Ratings below 1 fall in bucket 0 and above 5 in bucket 4.
func RatingBucket(r float64) int {
	switch {
	case r >= 4.5:
		return 4
	case r >= 4:
		return 3
	case r >= 3:
		return 2
	case r >= 2:
		return 1
	default:
		return 0
	}
}

// PositionWeight is the weight of a listing at a page-adjusted position (1 is the top) in a
// share of voice: 1/log2(1+pos), the discount of discounted cumulative gain, so #1 weighs 1,
// #2 0.63, #10 0.29 and #48 0.18. A position below 1 (unknown) weighs as lastPos, the last
// position of a first page, so an unknown position neither wins nor vanishes.
func PositionWeight(pos, lastPos int) float64 {
	if pos < 1 {
		pos = max(lastPos, 1)
	}
	if pos < len(positionWeights) {
		return positionWeights[pos]
	}
	return 1 / math.Log2(1+float64(pos))
}

// positionWeights caches PositionWeight for the positions of the first pages.
var positionWeights = func() [256]float64 {
	var w [256]float64
	for i := 1; i < len(w); i++ {
		w[i] = 1 / math.Log2(1+float64(i))
	}
	return w
}()
