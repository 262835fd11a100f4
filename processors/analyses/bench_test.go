package analyses

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/twmb/franz-go/pkg/kgo"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

var benchAnalyses = flag.Int("analyses.bench-analyses", 5000, "analyses in BenchmarkSagaVsCounter's input (7 records each)")

// benchWorkload returns the saga's loopback records of n analyses as they arrive in
// production: the request, then the job's statuses (queued, running 0..3 of 3, succeeded),
// each keyed by analysis id.
func benchWorkload(t testing.TB, topic string, n int) []*kgo.Record {
	tp := topics.MustLookup(topics.AnalysisSagaLoop)
	var recs []*kgo.Record
	add := func(id string, ev *marketv1.AnalysisEvent) {
		r, err := topics.NewRecord(tp, id, ev)
		if err != nil {
			t.Fatal(err)
		}
		r.Topic = topic
		recs = append(recs, r)
	}
	for i := range n {
		id := fmt.Sprintf("bench-%06d", i)
		kw := fmt.Sprintf("keyword %d", i%500)
		at := time.Now()
		add(id, request(id, kw, 3, at))
		job := JobID(id, 1)
		for j, s := range []struct {
			st   marketv1.ScrapeStatus
			done int32
		}{{queued, 0}, {running, 0}, {running, 1}, {running, 2}, {running, 3}, {succeeded, 3}} {
			ev, _ := Route(status(fmt.Sprintf("%s/%d", id, j), job, id, kw, s.st, s.done, 3, at), "")
			add(id, ev)
		}
	}
	return recs
}

// benchRun is a processor consuming the workload, counting the records it processed.
type benchRun struct {
	n           atomic.Int64
	first, last atomic.Int64
	done        chan error
	stop        context.CancelFunc
}

func (b *benchRun) record() {
	now := time.Now().UnixNano()
	b.first.CompareAndSwap(0, now)
	b.last.Store(now)
	b.n.Add(1)
}

func (b *benchRun) rate() float64 {
	d := time.Duration(b.last.Load() - b.first.Load())
	if d <= 0 {
		return 0
	}
	return float64(b.n.Load()-1) / d.Seconds()
}

func runBench(tb testing.TB, build func(onDone func()) (*goka.Processor, error), n int64) *benchRun {
	tb.Helper()
	b := &benchRun{done: make(chan error, 1)}
	p, err := build(b.record)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.stop = cancel
	go func() { b.done <- p.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Minute)
	for b.n.Load() < n {
		select {
		case err := <-b.done:
			tb.Fatalf("processor stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("processed %d of %d records", b.n.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-b.done; err != nil && !errors.Is(err, context.Canceled) {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkSagaVsCounter writes -analyses.bench-analyses analyses' loopback records (a request
// and six statuses each) to the saga's loopback topic on the embedded broker (or
// MIP_TEST_KAFKA_BROKERS), then consumes them, one after the other and each with LevelDB
// storage, with
//
//   - counter: a trivial goka processor that counts records per key in its table;
//   - saga: the analysis saga (its loop callback: decode, Apply, state write, transitions and
//     scrape requests emitted; the keyword table is empty, so each analysis ends waiting for
//     its window).
//
// It reports each rate (records/s from the first to the last record processed) and
// saga/counter (of the median rates, and the median of the runs' ratios). Run with -benchtime=1x or more (each iteration runs both; medians reported).
func BenchmarkSagaVsCounter(b *testing.B) {
	r := newKafkaRig(b)
	var counterRates, sagaRates, ratios []float64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		// A saga group of its own per run; its loopback topic carries the workload, which the
		// counter reads too.
		cfg := r.cfg
		cfg.Group = goka.Group(fmt.Sprintf("%s-run%d", r.cfg.Group, i))
		loop := string(cfg.LoopTopic())
		tp := topics.MustLookup(topics.AnalysisSagaLoop)
		tp.Name = loop
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if res, err := topics.Apply(ctx, r.k.Admin(b), []topics.Topic{tp}, topics.ApplyOptions{Replication: -1}); err != nil {
			b.Fatalf("create %s: %v (%v)", loop, err, res)
		}
		cancel()
		r.k.CreateTopic(b, loop, tp.Partitions) // waits for leaders
		r.deleteAtEnd(b, loop, string(cfg.TableOf()))
		recs := benchWorkload(b, loop, *benchAnalyses)
		r.produceRecords(b, recs...)
		n := int64(len(recs))
		b.StartTimer()

		group := goka.Group(fmt.Sprintf("%s-counter", cfg.Group))
		r.deleteAtEnd(b, string(goka.GroupTable(group)))
		c := runBench(b, func(onDone func()) (*goka.Processor, error) {
			g := goka.DefineGroup(group,
				goka.Input(goka.Stream(loop), new(codec.Bytes), func(ctx goka.Context, _ any) {
					v, _ := ctx.Value().(int64)
					ctx.SetValue(v + 1)
					onDone()
				}),
				goka.Persist(new(codec.Int64)),
			)
			return goka.NewProcessor(r.k.Brokers, g, r.env(b.TempDir()).ProcessorOptions(group)...)
		}, n)
		s := runBench(b, func(onDone func()) (*goka.Processor, error) {
			return newProcessor(r.env(b.TempDir()), cfg, nil, onDone)
		}, n)
		counterRates = append(counterRates, c.rate())
		sagaRates = append(sagaRates, s.rate())
		ratios = append(ratios, s.rate()/c.rate())
		b.Logf("run %d: %d records: counter %.0f, saga %.0f records/s: saga/counter %.2f", i, n, c.rate(), s.rate(), s.rate()/c.rate())
	}
	b.StopTimer()
	cr, sr := median(counterRates), median(sagaRates)
	b.ReportMetric(cr, "counter-records/s")
	b.ReportMetric(sr, "saga-records/s")
	b.ReportMetric(sr/cr, "saga/counter")
	b.ReportMetric(median(ratios), "median-run-saga/counter")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// deleteAtEnd deletes goka-created topics after the test.
func (r *kafkaRig) deleteAtEnd(tb testing.TB, names ...string) {
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = r.k.Admin(tb).DeleteTopics(ctx, names...)
	})
}
