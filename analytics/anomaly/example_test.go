package anomaly_test

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/analytics/anomaly"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// A robust detector of a price in cents: quiet on a flickering price, one alert on the drop,
// and its state saved and loaded in between.
func ExampleDetector() {
	p := anomaly.Params{
		Model: anomaly.Model{Method: anomaly.MethodRobustZ, Window: 20, MinSpread: 1, MinRelSpread: 0.02},
		Up:    anomaly.Sensitivity{Threshold: 3.5, Hysteresis: 1.5, Rearm: 2, WarmUp: 8, Cooldown: 6 * time.Hour},
		Down:  anomaly.Sensitivity{Threshold: 3.5, Hysteresis: 1.5, Rearm: 2, WarmUp: 8, Cooldown: 6 * time.Hour},
	}
	d, _ := anomaly.NewDetector(p)
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for i := range 14 {
		d.Observe(t0.Add(time.Duration(i)*time.Hour), float64(2500+150*(i%2)))
	}
	saved, _ := proto.Marshal(d.State()) // what the processor keeps in its table
	s := &marketv1.SeriesState{}
	_ = proto.Unmarshal(saved, s)
	d, _ = anomaly.LoadDetector(p, s)
	r := d.Observe(t0.Add(14*time.Hour), 1999)
	fmt.Printf("%s alert, score %.1f against a median of %.0f (usual %.0f-%.0f over %d values)\n",
		r.Alert, r.Score, r.Baseline.Center, r.Baseline.Low, r.Baseline.High, r.Baseline.Points)
	// Output: down alert, score -5.2 against a median of 2575 (usual 2500-2650 over 14 values)
}
