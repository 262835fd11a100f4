//go:build race

package processors_test

// raceEnabled is true when the tests run under the race detector, which slows the pipeline
// about tenfold; the heavy test then runs a smaller stream (make test runs it in full without it).
const raceEnabled = true
