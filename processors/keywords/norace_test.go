//go:build !race

package keywords

// raceEnabled is true when the tests run under the race detector.
const raceEnabled = false
