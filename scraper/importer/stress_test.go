package importer

import (
	"strings"
	"testing"
	"time"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// hostileInputs are inputs shaped to make a reader quadratic or unbounded.
var hostileInputs = map[string]string{
	"many asin columns": strings.Repeat("asin,", 200000) + "\n" + strings.Repeat("B000000001,", 200000) + "\n",
	"long JSON line":    `{"asin":"B000000001","title":"` + strings.Repeat("x", 8<<20) + `"}` + "\n",
	"many JSON keys":    "{" + strings.Repeat(`"k":1,`, 100000) + `"asin":"B000000001"}`,
	"leading blanks":    strings.Repeat(" \n", 100000) + "asin\nB000000001\n",
	"long price":        "asin,price\nB000000001," + strings.Repeat("1", 100000) + "\n",
	"many bad rows":     "asin\n" + strings.Repeat("x\n", 200000),
}

// TestHostileInputsAreReadToTheEnd checks that every hostile input is read to its end (a bounded
// error or rows, never a hang or a panic); how fast is BenchmarkHostileInputs' business.
func TestHostileInputsAreReadToTheEnd(t *testing.T) {
	for name, in := range hostileInputs {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = Read(strings.NewReader(in), Auto, Options{DefaultTime: t0}, func(*marketv1.ProductObserved) error { return nil })
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Minute): // a hang, not a speed goal
			t.Fatalf("%s: Read did not return", name)
		}
	}
}

// BenchmarkHostileInputs reports, per hostile input, its read time per byte as a ratio to reading
// an ordinary CSV export of the same size in the same run (1 = as fast per byte):
//
//	go test -run '^$' -bench HostileInputs ./scraper/importer/
func BenchmarkHostileInputs(b *testing.B) {
	row := "B000000001,Portable Charger 10000mAh,Anker,$29.99,4.6,12034\n"
	for name, in := range hostileInputs {
		normal := "asin,title,brand,price,rating,reviews\n" + strings.Repeat(row, len(in)/len(row)+1)
		b.Run(name, func(b *testing.B) {
			var hostile, base time.Duration
			for b.Loop() {
				start := time.Now()
				_, _ = Read(strings.NewReader(in), Auto, Options{DefaultTime: t0}, func(*marketv1.ProductObserved) error { return nil })
				hostile += time.Since(start)
				start = time.Now()
				_, _ = Read(strings.NewReader(normal), Auto, Options{DefaultTime: t0}, func(*marketv1.ProductObserved) error { return nil })
				base += time.Since(start)
			}
			b.ReportMetric(float64(hostile)/float64(base), "x-ordinary-per-byte")
		})
	}
}
