package anomalies

import (
	"context"
	"flag"
	"fmt"
	"math"
	"testing"

	"github.com/google/uuid"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/internal/testenv"
	"github.com/marketinsightspro/marketinsights/processors"
	"github.com/marketinsightspro/marketinsights/processors/internal/ceilingbench"
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
	uncheckedCache(b)
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
	v0 := st.GetVersion()
	tt.SetTableValue(Table, asin, st) // st is the table codec's cache's from here
	st = nil
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		next(n)
		tt.Consume(topics.ProductChanges, asin, ev)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if got := tt.TableValue(Table, asin).(*marketv1.DetectorState).GetVersion(); got != v0+int64(b.N) {
		b.Fatalf("version %d after %d changes from %d", got, b.N, v0)
	}
}

var (
	benchRecords  = flag.Int("anomalies.bench-records", 50_000, "records per run of BenchmarkProcessorVsCounter")
	benchProducts = flag.Int("anomalies.bench-products", 100, "products in BenchmarkProcessorVsCounter's input")
)

// BenchmarkProcessorVsCounter runs ceilingbench on -anomalies.bench-records product changes of
// -anomalies.bench-products products, interleaved, each carrying every metric an hour apart
// (fullChange: ordinary variation, anomalies only where the detectors find them): the trivial
// goka counter, then the anomaly detector, on the same product-changes topic.
// anomalies/counter is the ratio the detector is held to (>= 0.5). Run it with -benchtime=1x or
// more:
//
//	go test -run '^$' -bench ProcessorVsCounter -benchtime 3x ./processors/anomalies/
func BenchmarkProcessorVsCounter(b *testing.B) {
	uncheckedCache(b)
	k := testenv.Kafka(b)
	input := k.TopicName(b, topics.ProductChanges)
	output := k.TopicName(b, topics.Anomalies)
	k.CreateTopic(b, input, topics.MustLookup(topics.ProductChanges).Partitions)
	k.CreateTopic(b, output, topics.MustLookup(topics.Anomalies).Partitions)
	k.CreateTopic(b, topics.DeadLetters, topics.MustLookup(topics.DeadLetters).Partitions)
	tp := topics.MustLookup(topics.ProductChanges)
	recs := make([]*kgo.Record, 0, *benchRecords)
	for j := range *benchRecords {
		p, i := j%*benchProducts, j / *benchProducts
		ev := fullChange(i)
		ev.Asin = fmt.Sprintf("B0BENCH%03d", p)
		ev.Envelope.EventId = uuid.NewSHA1(testNS, fmt.Appendf(nil, "change-%d-%d", p, i)).String()
		ev.ObservationEventId = uuid.NewSHA1(testNS, fmt.Appendf(nil, "obs-%d-%d", p, i)).String()
		v, err := proto.Marshal(ev)
		if err != nil {
			b.Fatal(err)
		}
		rec := &kgo.Record{Key: []byte(ev.GetAsin()), Value: v}
		for k, h := range processors.EventHeaders(tp, ev) {
			rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: k, Value: h})
		}
		recs = append(recs, rec)
	}
	ceilingbench.Run(b, ceilingbench.Bench{Kafka: k, Input: input, Records: recs},
		ceilingbench.Contender{Name: "anomalies", New: func(env gokaenv.Env, group goka.Group, opts ...goka.ProcessorOption) (*goka.Processor, error) {
			cfg := DefaultConfig()
			cfg.Group, cfg.Input, cfg.Output = group, input, output
			return New(env, cfg, nil, opts...)
		}},
	)
}
