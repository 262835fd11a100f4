package anomaly

import (
	"testing"
	"time"
)

// benchObserve measures Observe on a warmed-up state (a full window, every hour of day seen).
func benchObserve(b *testing.B, p Params, series []float64) {
	d, err := NewDetector(p)
	if err != nil {
		b.Fatal(err)
	}
	for i, x := range series {
		d.Observe(at(i), x)
	}
	n := len(series)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		d.Observe(at(n+i), series[i%n])
	}
}

func BenchmarkObserveRobustZ(b *testing.B) { benchObserve(b, priceParams(), noisy(500, 2500, 8, 50)) }

func BenchmarkObserveRobustZWindow200(b *testing.B) {
	p := priceParams()
	p.Window = 200
	benchObserve(b, p, noisy(500, 2500, 8, 50))
}

func BenchmarkObserveEWMA(b *testing.B) { benchObserve(b, ewmaPriceParams(), noisy(500, 2500, 8, 51)) }

func BenchmarkObserveSeasonal(b *testing.B) {
	benchObserve(b, seasonalParams(), daily(500, 0.5, 0.04, 52))
}

func BenchmarkRatePerDay(b *testing.B) {
	d, _ := NewDetector(priceParams())
	s := d.State()
	b.ReportAllocs()
	for i := range b.N {
		RatePerDay(s, t0.Add(time.Duration(i)*time.Hour), float64(i), 6*time.Hour)
	}
}
