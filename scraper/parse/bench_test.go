package parse

import (
	"bytes"
	"testing"
)

// benchmarkPage parses one page per iteration and reports pages/s beside ns/op and MB/s.
func benchmarkPage(b *testing.B, path string, parse func([]byte) error) {
	raw := readFixture(b, path)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := parse(raw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}

// BenchmarkSearch parses the real 1.5 MB amazon.com search page (22 result cards).
func BenchmarkSearch(b *testing.B) {
	benchmarkPage(b, realSearchPage, func(raw []byte) error {
		p, err := Search(bytes.NewReader(raw), Options{})
		if err == nil && len(p.Listings) != 22 {
			b.Fatalf("%d listings", len(p.Listings))
		}
		return err
	})
}

// BenchmarkProduct parses the real 2 MB amazon.com product page.
func BenchmarkProduct(b *testing.B) {
	benchmarkPage(b, realProductPage, func(raw []byte) error {
		p, err := Product(bytes.NewReader(raw), Options{})
		if err == nil && p.Attributes.Price == nil {
			b.Fatal("no price")
		}
		return err
	})
}

// BenchmarkParsePrice reads a handful of price formats per iteration.
func BenchmarkParsePrice(b *testing.B) {
	texts := []struct{ text, marketplace string }{
		{"$1,299.99", "amazon.com"}, {"1.299,99\u00a0€", "amazon.de"}, {"₹1,23,456.00", "amazon.in"},
		{"VND 339,065", ""}, {"￥1,280", "amazon.co.jp"},
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range texts {
			if _, err := ParsePrice(c.text, c.marketplace); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkBaselineHTMLParse only builds the DOM of the real search page, the floor under Search:
// compare its ns/op with BenchmarkSearch's (the machines are noisy; ratios in one run are what count).
func BenchmarkBaselineHTMLParse(b *testing.B) {
	benchmarkPage(b, realSearchPage, func(raw []byte) error {
		_, _, err := load(bytes.NewReader(raw))
		return err
	})
}
