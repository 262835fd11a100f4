package anomalies

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// fullChange is change i of a product with every metric set: price, reviews, rating, rank,
// sellers and availability, with ordinary variation and no anomaly.
func fullChange(i int) *marketv1.ProductStateChanged {
	at := priced(2500 + 150*int64(i%2))
	at.ReviewCount = proto.Int64(1000 + int64(i/2))
	at.Rating = proto.Float64(4.5 + 0.1*float64(i%2))
	at.Ranks = []*marketv1.BestSellersRank{{Rank: int64(5000 * math.Exp(0.3*math.Sin(float64(i%24)))), Category: "Electronics"}}
	at.SellerCount = proto.Int32(3 + int32(i%2))
	at.Availability = marketv1.Availability_AVAILABILITY_IN_STOCK
	return change(i, at)
}

// benchEvents returns a warmed-up state and a function that turns ev into change n (new time and
// ids, no allocation), so an iteration measures one Apply.
func benchEvents(b *testing.B, a *Analyzer) (*marketv1.DetectorState, *marketv1.ProductStateChanged, func(n int)) {
	const warm = 200
	var st *marketv1.DetectorState
	for i := range warm {
		out, err := a.Apply(asin, st, fullChange(i))
		if err != nil {
			b.Fatal(err)
		}
		st = out.State
	}
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = fmt.Sprintf("bench-observation-%d", i)
	}
	ev := fullChange(warm)
	base := ev.GetEnvelope().GetEventTime().GetSeconds()
	return st, ev, func(n int) {
		ev.Envelope.EventTime.Seconds = base + int64(n)*3600
		ev.ObservationEventId = ids[n%len(ids)]
		*ev.After.Price = marketv1.Money{AmountMinor: 2500 + 150*int64(n%2), Currency: "USD"}
		*ev.After.ReviewCount = 1100 + int64(n/2)
	}
}

// BenchmarkApply is the processor's logic for one change carrying every metric, on a warm state.
func BenchmarkApply(b *testing.B) {
	a := analyzer(b)
	st, ev, next := benchEvents(b, a)
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		next(n)
		out, err := a.Apply(asin, st, ev)
		if err != nil || out.Duplicate {
			b.Fatal(err, out.Duplicate)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkApplyCodec adds what goka does around the callback: decode the state and the change,
// apply, encode the state.
func BenchmarkApplyCodec(b *testing.B) {
	a := analyzer(b)
	st, ev, next := benchEvents(b, a)
	stateCodec := topics.MustLookup(topics.AnomalyDetectorTable).Codec()
	changeCodec := topics.MustLookup(topics.ProductChanges).Codec()
	raw, err := stateCodec.Encode(st)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		next(n)
		evBytes, _ := changeCodec.Encode(ev) // stands for the record read from Kafka
		v, err := changeCodec.Decode(evBytes)
		if err != nil {
			b.Fatal(err)
		}
		s, err := stateCodec.Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		out, err := a.Apply(asin, s.(*marketv1.DetectorState), v.(*marketv1.ProductStateChanged))
		if err != nil || out.Duplicate {
			b.Fatal(err, out.Duplicate)
		}
		if raw, err = stateCodec.Encode(out.State); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(raw)), "state-bytes")
}

// BenchmarkCallback is the goka callback end to end on goka's tester (one partition, in memory):
// codecs, table read and write, emits.
func BenchmarkCallback(b *testing.B) {
	tt := tester.New(b)
	proc, err := New(gokaenv.Env{ClientID: "bench"}, DefaultConfig(), nil, goka.WithTester(tt))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- proc.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	a := analyzer(b)
	st, ev, next := benchEvents(b, a)
	tt.SetTableValue(Table, asin, st)
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		next(n)
		tt.Consume(topics.ProductChanges, asin, ev)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if got := tt.TableValue(Table, asin).(*marketv1.DetectorState).GetVersion(); got != st.GetVersion()+int64(b.N) {
		b.Fatalf("version %d after %d changes from %d", got, b.N, st.GetVersion())
	}
}
