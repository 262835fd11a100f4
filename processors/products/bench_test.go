package products

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/processors"
	"github.com/marketinsightspro/marketinsights/processors/internal/ceilingbench"
	"github.com/marketinsightspro/marketinsights/processors/internal/statecache"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

var (
	benchRecords = flag.Int("products.bench-records", 100_000, "records per run of BenchmarkProcessorVsCounter")
	benchASINs   = flag.Int("products.bench-asins", 100, "products in BenchmarkProcessorVsCounter's input")
	benchBounds  = flag.String("products.bench-bounds", "", "BenchmarkProcessorVsCounter's tracker bounds as price-points,days,series-points,recent-events (default: DefaultConfig's)")
)

// benchConfig returns DefaultConfig with the bounds of -products.bench-bounds.
func benchConfig(b *testing.B) Config {
	cfg := DefaultConfig()
	if *benchBounds != "" {
		if _, err := fmt.Sscanf(*benchBounds, "%d,%d,%d,%d", &cfg.PriceHistory, &cfg.DailyPrices, &cfg.SeriesHistory, &cfg.RecentEvents); err != nil {
			b.Fatalf("-products.bench-bounds %q: %v", *benchBounds, err)
		}
	}
	return cfg
}

// steadyState returns the state of a product after enough observations to fill every bounded
// history, and the next observations to apply to it.
func steadyState(b *testing.B, cfg Config) (*marketv1.ProductState, []*marketv1.ProductObserved) {
	b.Helper()
	obs := workload(7, 3000, 1, 2*time.Hour)
	st, _, err := applyAll(cfg, obs[:1000]...)
	if err != nil {
		b.Fatal(err)
	}
	return st, obs[1000:]
}

// BenchmarkApply measures Apply alone on a product whose histories are full: every iteration
// applies a new observation (the workload's attributes, event times one minute apart) to the
// same, evolving state.
func BenchmarkApply(b *testing.B) {
	cfg := DefaultConfig()
	st, next := steadyState(b, cfg)
	at := st.GetLastSeen().GetSeconds()
	changes := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		o := next[i%len(next)]
		at += 60
		o.Envelope.EventTime.Seconds = at // Apply copies what it keeps of the envelope
		res, err := Apply(cfg, st, o)
		if err != nil {
			b.Fatal(err)
		}
		if res.Change != nil {
			changes++
		}
		st = res.State
	}
	b.ReportMetric(float64(changes)/float64(b.N), "changes/op")
}

// BenchmarkRecord measures what the callback does per record, without goka: decode the
// observation and the stored state, Apply, encode the new state (which is stored for the next
// iteration) and the change event; every iteration applies a new observation (event times one
// minute apart) to the same, evolving product. The "catalog-codec" variant decodes and encodes
// the state with the generated code instead of the tracker's state codec, "state-codec" is the
// tracker's codec without its cache, "cached" with it (the tracker's: every decode is a hit).
func BenchmarkRecord(b *testing.B) {
	for _, bc := range []struct {
		name  string
		codec goka.Codec
	}{
		{"cached", stateCodec{cache: statecache.New[*marketv1.ProductState](16, 0)}},
		{"state-codec", stateCodec{}},
		{"catalog-codec", processors.Codec(topics.ProductTrackerTable)},
	} {
		b.Run(bc.name, func(b *testing.B) { benchmarkRecord(b, bc.codec) })
	}
}

func benchmarkRecord(b *testing.B, stateCodec goka.Codec) {
	withoutCacheCheck(b)
	cfg := DefaultConfig()
	st, next := steadyState(b, cfg)
	at := st.GetLastSeen().GetSeconds()
	inCodec, outCodec := processors.InputCodec(topics.ProductObservations), processors.Codec(topics.ProductChanges)
	stored, err := stateCodec.Encode(st)
	if err != nil {
		b.Fatal(err)
	}
	raws := make([][]byte, len(next))
	for i, o := range next {
		if raws[i], err = proto.Marshal(o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	defer func() { b.ReportMetric(float64(len(stored)), "state-bytes") }()
	for i := range b.N {
		v, _ := inCodec.Decode(raws[i%len(raws)])
		o := v.(*marketv1.ProductObserved)
		at += 60
		o.Envelope.EventTime.Seconds = at
		sv, err := stateCodec.Decode(stored)
		if err != nil {
			b.Fatal(err)
		}
		res, err := Apply(cfg, sv.(*marketv1.ProductState), o)
		if err != nil {
			b.Fatal(err)
		}
		if !res.Changed {
			continue
		}
		if stored, err = stateCodec.Encode(res.State); err != nil {
			b.Fatal(err)
		}
		if res.Change != nil {
			if _, err := outCodec.Encode(res.Change); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkStateCodec measures encoding and decoding a steady-state ProductState with the
// tracker's state codec and with the generated code.
func BenchmarkStateCodec(b *testing.B) {
	st, _ := steadyState(b, DefaultConfig())
	for _, bc := range []struct {
		name  string
		codec goka.Codec
	}{{"state-codec", stateCodec{}}, {"catalog-codec", processors.Codec(topics.ProductTrackerTable)}} {
		raw, err := bc.codec.Encode(st)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("encode/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := bc.codec.Encode(st); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("decode/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := bc.codec.Decode(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkProcessorVsCounter produces -products.bench-records observations of
// -products.bench-asins products (each observed about every 2 h, so histories fill up) to the
// embedded broker (or MIP_TEST_KAFKA_BROKERS) and runs ceilingbench over them: the trivial goka
// counter, then
//
//   - blob: a goka processor that writes a steady-state ProductState's bytes per record without
//     decoding or logic — what the state's size alone costs in storage and changelog;
//   - tracker: the product tracker.
//
// tracker/counter is the ratio the tracker is held to (>= 0.5), blob/counter the ceiling its
// state size allows. Run it with -benchtime=1x or more (medians are reported):
//
//	go test -run '^$' -bench ProcessorVsCounter -benchtime 3x ./processors/products/
func BenchmarkProcessorVsCounter(b *testing.B) {
	withoutCacheCheck(b)
	r := newRig(b)
	tcfg := benchConfig(b)
	st, _ := steadyState(b, tcfg)
	blob, err := stateCodec{}.Encode(st)
	if err != nil {
		b.Fatal(err)
	}
	ceilingbench.Run(b, ceilingbench.Bench{
		Kafka:   r.k,
		Input:   string(r.cfg.Input),
		Records: records(b, r.cfg.Input, workload(3, *benchRecords, *benchASINs, 2*time.Hour)),
	},
		ceilingbench.Blob("blob", string(r.cfg.Input), blob),
		ceilingbench.Contender{Name: "tracker", New: func(env gokaenv.Env, group goka.Group, opts ...goka.ProcessorOption) (*goka.Processor, error) {
			cfg := tcfg
			cfg.Group, cfg.Input, cfg.Changes = group, r.cfg.Input, r.cfg.Changes
			return New(env, cfg, nil, opts...)
		}},
	)
}
