package sandbox

import "math"

// Salts separate the independent random streams derived from one seed.
const (
	saltASIN uint64 = iota + 0x5a17_0000
	saltCatalog
	saltBrand
	saltTitle
	saltPrice
	saltWalk
	saltSale
	saltRating
	saltDemand
	saltSellers
	saltStock
	saltMembership
	saltRank
	saltAds
	saltAnomaly
	saltAnomalyPick
	saltFault
	saltUUID
	saltImage
	saltPageSize
	saltCarousel
	saltTruncate
)

// mix64 is the splitmix64 finalizer: a bijective avalanche of a 64-bit word.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hash3 derives a random word from the seed, a stream salt and three coordinates.
func hash3(seed, salt, a, b, c uint64) uint64 {
	x := mix64(seed ^ 0x9e3779b97f4a7c15)
	x = mix64(x ^ salt)
	x = mix64(x ^ a)
	x = mix64(x ^ (b + 0x632be59bd9b4e019))
	return mix64(x ^ (c + 0x8cb92ba72f3d8dd7))
}

// unit maps a random word to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// between maps a random word to [lo, hi).
func between(h uint64, lo, hi float64) float64 { return lo + (hi-lo)*unit(h) }

// pick returns an index in [0, n) from a random word.
func pick(h uint64, n int) int { return int(h % uint64(n)) }

// signed maps a random word to [-1, 1).
func signed(h uint64) float64 { return 2*unit(h) - 1 }

// valueNoise is smooth 1-D value noise in [-1, 1]: random values on the integer lattice,
// interpolated with a smoothstep. The same (seed, salt, id, x) always gives the same value.
func valueNoise(seed, salt, id uint64, x float64) float64 {
	fl := math.Floor(x)
	i := int64(fl)
	f := x - fl
	a := signed(hash3(seed, salt, id, uint64(i), 0))
	b := signed(hash3(seed, salt, id, uint64(i+1), 0))
	f = f * f * (3 - 2*f)
	return a + (b-a)*f
}

// floorDiv is integer division rounding toward negative infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
