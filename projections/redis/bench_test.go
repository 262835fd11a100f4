package redis

import (
	"context"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// benchBatch returns batch i of the benchmark: 100 product changes (a new version of 100 ASINs)
// and 10 search pages of 48 listings (a newer page of 10 keywords), so every write applies.
func benchBatch(i int) (prods []*marketv1.ProductStateChanged, pages []*marketv1.SearchResultsObserved) {
	at := time.Duration(i) * time.Second
	for a := range 100 {
		attrs := bottle()
		attrs.Price = &marketv1.Money{AmountMinor: int64(1000 + i%50 + a), Currency: "USD"}
		prods = append(prods, productChange(i*1000+a, fmt.Sprintf("B%04d", a), int64(i+1), at, attrs))
	}
	for k := range 10 {
		var ls []*marketv1.Listing
		for p := range 48 {
			attrs := bottle()
			attrs.ReviewCount = proto.Int64(int64(100 + i + p))
			ls = append(ls, listingOf(fmt.Sprintf("B%04d", (p+i+k)%100), int32(p+1), attrs))
		}
		pages = append(pages, searchPage(i*1000+100+k, fmt.Sprintf("keyword %d", k), 1, at, ls...))
	}
	return prods, pages
}

// bareOp is one plain write of the baseline.
type bareOp struct {
	cmd   string // hset, zadd, zrem, pexpire
	key   string
	args  []any
	score float64
	ttl   time.Duration
}

// bareOps returns the plain writes of the same keys as the sinks write (product hashes; per
// listing the seen, last and rows entries and the five sorted sets; TTLs) without scripts,
// guards or messages: the baseline of BenchmarkWrites. They are computed before the timing, as
// the sinks' rows are.
func bareOps(gen string, prods []*marketv1.ProductStateChanged, pages []*marketv1.SearchResultsObserved, opts Options) ([]bareOp, error) {
	var ops []bareOp
	for _, ev := range prods {
		fs, err := ProductFields(ev, opts.Sales)
		if err != nil {
			return nil, err
		}
		args := make([]any, 0, 2*len(fs))
		for _, f := range fs {
			args = append(args, f.Name, f.Value)
		}
		key := gen + ProductKey(ev.GetAsin())
		ops = append(ops, bareOp{cmd: "hset", key: key, args: args}, bareOp{cmd: "pexpire", key: key, ttl: opts.ProductTTL})
	}
	sets := []string{SuffixBySales, SuffixByRating, SuffixByPrice, SuffixByReviews, SuffixByPosition}
	for _, ev := range pages {
		ls, err := KeywordListings(ev, opts.PageSize, opts.Sales)
		if err != nil {
			return nil, err
		}
		kw := ev.GetKeyword()
		t := float64(ev.GetEnvelope().GetEventTime().AsTime().UnixMilli())
		for _, l := range ls {
			row, err := marshalJSON(l.Row)
			if err != nil {
				return nil, err
			}
			asin := l.Row.ASIN
			ops = append(ops,
				bareOp{cmd: "hset", key: gen + KeywordKey(kw, SuffixSeen), args: []any{asin, l.Guard}},
				bareOp{cmd: "zadd", key: gen + KeywordKey(kw, SuffixLast), args: []any{asin}, score: t},
				bareOp{cmd: "hset", key: gen + KeywordKey(kw, SuffixRows), args: []any{asin, string(row)}})
			for j, sc := range l.Scores {
				if sc == nil {
					ops = append(ops, bareOp{cmd: "zrem", key: gen + KeywordKey(kw, sets[j]), args: []any{asin}})
				} else {
					ops = append(ops, bareOp{cmd: "zadd", key: gen + KeywordKey(kw, sets[j]), args: []any{asin}, score: *sc})
				}
			}
		}
		for _, suffix := range append([]string{SuffixSeen, SuffixLast, SuffixRows}, sets...) {
			ops = append(ops, bareOp{cmd: "pexpire", key: gen + KeywordKey(kw, suffix), ttl: opts.KeywordTTL})
		}
	}
	return ops, nil
}

// bareWrite runs ops in one pipeline.
func bareWrite(ctx context.Context, rdb *goredis.Client, ops []bareOp) error {
	pipe := rdb.Pipeline()
	for _, op := range ops {
		switch op.cmd {
		case "hset":
			pipe.HSet(ctx, op.key, op.args...)
		case "zadd":
			pipe.ZAdd(ctx, op.key, goredis.Z{Score: op.score, Member: op.args[0]})
		case "zrem":
			pipe.ZRem(ctx, op.key, op.args...)
		case "pexpire":
			pipe.PExpire(ctx, op.key, op.ttl)
		}
	}
	_, err := pipe.Exec(ctx)
	return err
}

// BenchmarkWrites measures events written per second through the sinks (Lua scripts with
// guards, retention and messages, EVALSHA pipelined) against bare pipelined writes of the same
// keys, alternating batches in the same run; ratio = sink / bare (goal >= 0.5). Decoding is
// outside both timings: the sinks' Write is measured, as the projector calls it.
func BenchmarkWrites(b *testing.B) {
	opts := Options{}
	opts.defaults()
	r := newRig(b, opts)
	ctx := context.Background()
	gen := r.gen(b)
	bare := r.env.Prefix + "bare:"
	var sinkTime, bareTime time.Duration
	events := 0
	i := 0
	for b.Loop() {
		prods, pages := benchBatch(i)
		i++
		var prodRows, pageRows []Row
		for _, ev := range prods {
			rows, err := productRows(r.sinks[topics.ProductChanges], ev)
			if err != nil {
				b.Fatal(err)
			}
			prodRows = append(prodRows, rows...)
		}
		for _, ev := range pages {
			rows, err := keywordRows(r.sinks[topics.SearchResults], ev)
			if err != nil {
				b.Fatal(err)
			}
			pageRows = append(pageRows, rows...)
		}
		start := time.Now()
		if err := r.sinks[topics.ProductChanges].Write(ctx, prodRows); err != nil {
			b.Fatal(err)
		}
		if err := r.sinks[topics.SearchResults].Write(ctx, pageRows); err != nil {
			b.Fatal(err)
		}
		sinkTime += time.Since(start)
		ops, err := bareOps(bare, prods, pages, opts)
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if err := bareWrite(ctx, r.env.Client, ops); err != nil {
			b.Fatal(err)
		}
		bareTime += time.Since(start)
		events += len(prods) + len(pages)
	}
	// Both wrote every key: the sinks' keys are the bare ones plus nothing but the same content.
	if n, err := r.env.Client.Exists(ctx, gen+ProductKey("B0000"), bare+ProductKey("B0000")).Result(); err != nil || n != 2 {
		b.Fatalf("p:B0000 in %d of 2 key spaces (%v)", n, err)
	}
	sink := float64(events) / sinkTime.Seconds()
	base := float64(events) / bareTime.Seconds()
	b.ReportMetric(sink, "sink_events/s")
	b.ReportMetric(base, "bare_events/s")
	b.ReportMetric(sink/base, "ratio")
}
