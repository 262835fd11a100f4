//go:build race

package keywords

// raceEnabled is true when the tests run under the race detector, which slows the single-threaded
// property tests tenfold without finding anything in them: they run fewer sequences then.
const raceEnabled = true
