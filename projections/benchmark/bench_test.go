package benchmark

import (
	"context"
	"testing"
	"time"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/testenv"
)

// BenchmarkProjectClickHouse reports the projector's rows/s as a ratio to a bare batch insert of
// the same rows in the same run (goal >= 0.8), and to a columnar bare insert:
//
//	go test -run '^$' -bench ProjectClickHouse -benchtime 1x ./projections/benchmark/
func BenchmarkProjectClickHouse(b *testing.B) {
	k := testenv.Kafka(b)
	ch := testenv.ClickHouse(b)
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		rep, err := Project(ctx, Options{
			Kafka: k.Config(), ClickHouse: config.ClickHouse{Addr: ch.Addr, Username: "default"},
			Rows: 50000, Runs: 3, Topic: k.TopicName(b, "bench.project"),
		})
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(rep.Bare.Median, "bare-rows/s")
		b.ReportMetric(rep.Projector.Median, "projector-rows/s")
		b.ReportMetric(rep.BareColumnar.Median, "bare-columnar-rows/s")
		b.ReportMetric(rep.Ratio, "ratio")
		b.ReportMetric(rep.RatioColumnar, "ratio-to-columnar")
		b.ReportMetric(rep.HeapPeakMB, "heap-peak-MB")
	}
}

func TestObservationsAreDeterministicAndValid(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	a, b := Observations(3000, start), Observations(3000, start)
	ids := map[string]bool{}
	for i := range a {
		if a[i].GetEnvelope().GetEventId() != b[i].GetEnvelope().GetEventId() || a[i].GetAttributes().GetPrice().GetAmountMinor() != b[i].GetAttributes().GetPrice().GetAmountMinor() {
			t.Fatalf("observation %d differs between two calls", i)
		}
		ids[a[i].GetEnvelope().GetEventId()] = true
	}
	if len(ids) != len(a) {
		t.Errorf("%d distinct event ids for %d observations", len(ids), len(a))
	}
}
