package market

import (
	"slices"
	"testing"
)

func BenchmarkQuantileP90Of48(b *testing.B) {
	xs := make([]float64, 48)
	for i := range xs {
		xs[i] = float64((i * 7919) % 48 * 100)
	}
	slices.Sort(xs)
	b.ReportAllocs()
	var s float64
	for b.Loop() {
		s += Quantile(xs, 0.9)
	}
	_ = s
}

func BenchmarkFromRankKnownCategory(b *testing.B) {
	m := DefaultSalesModel()
	b.ReportAllocs()
	var s float64
	for i := 0; b.Loop(); i++ {
		e, _ := m.FromRank(int64(1+i%100_000), "home and kitchen")
		s += e.Units
	}
	_ = s
}

func BenchmarkEstimateBadge(b *testing.B) {
	m := DefaultSalesModel()
	b.ReportAllocs()
	var s float64
	for b.Loop() {
		e, _ := m.Estimate(1000, 0, "")
		s += e.Units
	}
	_ = s
}

func BenchmarkPositionWeight(b *testing.B) {
	b.ReportAllocs()
	var s float64
	for i := 0; b.Loop(); i++ {
		s += PositionWeight(1+i%144, 48)
	}
	_ = s
}
