// Package ceilingbench measures goka processors against the framework's ceiling: a trivial goka
// processor that only counts records per key, run on the same input topic, with the same goka
// environment (LevelDB storage, the same sarama settings), in the same benchmark run.
//
// Run produces the input once, then, for every benchmark iteration, runs the counter and each
// contender one after the other on it, each in a group of its own reading the topic from its
// start. It reports per contender the rate (input records per second, from the first to the last
// input record whose callback started), the ratio to the counter's rate (the figure the
// processors are held to), the mean bytes of state per key (the last value of every key in the
// group's table topic), and heap allocations and CPU time per input record (the whole process:
// goka, sarama, LevelDB and the embedded broker included, so compare them between contenders,
// not to zero; CPU time is the steadier figure when other work shares the machine).
// Medians over the iterations are reported; run with -benchtime=Nx.
//
// Records are counted with goka's context wrapper, which sees a callback before it runs: the
// callbacks of one partition run one after the other, so the start of one is the end of the
// previous one, and the rate is exact up to one record per partition. A pass ends when every
// input record has been seen and the group has then run no callback for a quiet period, so
// work a contender defers through its loopback is waited for; the rate runs from the first
// input callback to the last callback of any topic.
package ceilingbench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/internal/testenv"
)

// Contender is a processor to measure.
type Contender struct {
	// Name prefixes the contender's metrics: "tracker" reports tracker-rec/s, tracker/counter,
	// tracker-state-B/key, tracker-allocs/rec and tracker-B/rec.
	Name string
	// New builds the processor in group (a name unique to the run) on env, reading the input
	// topic; it must pass opts (the harness's record counter) to goka.NewProcessor, after its
	// own options.
	New func(env gokaenv.Env, group goka.Group, opts ...goka.ProcessorOption) (*goka.Processor, error)
	// Before, when set, runs before the pass with the pass's env and group and is not measured:
	// it prepares state the input needs (the notifier's subscriptions), e.g. by running the
	// group on other topics until its table holds them.
	Before func(b *testing.B, env gokaenv.Env, group goka.Group)
	// Callbacks, when set, is the number of callbacks of every topic (input and loopback) the
	// pass waits for before its quiet period, for a contender whose loopback work is known: on a
	// loaded machine a pause longer than the quiet period could otherwise end the pass before
	// its loopback has drained.
	Callbacks int64
}

// Bench is the input of a run.
type Bench struct {
	// Kafka is the test's Kafka (the embedded broker, or MIP_TEST_KAFKA_BROKERS).
	Kafka *testenv.KafkaEnv
	// Input is the topic the contenders read; the caller creates it.
	Input string
	// Records are produced to Input once, in order, before the first iteration (their Topic is
	// set to Input).
	Records []*kgo.Record
	// Timeout bounds each contender's pass; zero allows 2 minutes plus 1 ms per record.
	Timeout time.Duration
}

// Result is one contender's pass over the input.
type Result struct {
	// Rate is input records per second from the first to the last input record processed.
	Rate float64
	// StateBytesPerKey is the mean size of the last value of each key of the group's table.
	StateBytesPerKey float64
	// Keys is the number of keys in the group's table.
	Keys int
	// AllocsPerRecord and BytesPerRecord are the process's heap allocations during the pass,
	// per input record.
	AllocsPerRecord, BytesPerRecord float64
	// CPUPerRecord is the process's CPU time (user and system) during the pass per input
	// record, in microseconds: less sensitive than Rate to other work on a shared machine.
	CPUPerRecord float64
}

// Counter is the baseline: a goka processor that only counts the records of each key in its
// table (an int64 per key).
func Counter(input string) Contender {
	return trivial("counter", input, new(codec.Int64), func(v any) any {
		n, _ := v.(int64)
		return n + 1
	})
}

// Blob is a goka processor that writes value as the table value of every record's key, with no
// decoding and no logic: what a state of that size costs in storage and changelog alone.
func Blob(name, input string, value []byte) Contender {
	return trivial(name, input, new(codec.Bytes), func(any) any { return value })
}

func trivial(name, input string, c goka.Codec, next func(any) any) Contender {
	return Contender{Name: name, New: func(env gokaenv.Env, group goka.Group, opts ...goka.ProcessorOption) (*goka.Processor, error) {
		g := goka.DefineGroup(group,
			goka.Input(goka.Stream(input), new(codec.Bytes), func(ctx goka.Context, _ any) {
				ctx.SetValue(next(ctx.Value()))
			}),
			goka.Persist(c),
		)
		return goka.NewProcessor(env.Brokers, g, env.ProcessorOptions(group, opts...)...)
	}}
}

// Run produces the input, then runs the counter and the contenders b.N times each and reports
// their medians; it returns them (the counter first) for callers that check or log more.
func Run(b *testing.B, bench Bench, contenders ...Contender) []Result {
	b.Helper()
	if len(bench.Records) == 0 {
		b.Fatal("ceilingbench: no input records")
	}
	for _, r := range bench.Records {
		r.Topic = bench.Input
	}
	produce(b, bench.Kafka, bench.Records)
	timeout := bench.Timeout
	if timeout == 0 {
		timeout = 2*time.Minute + time.Duration(len(bench.Records))*time.Millisecond
	}
	all := append([]Contender{Counter(bench.Input)}, contenders...)
	runs := make([][]Result, len(all))
	b.ResetTimer()
	for i := range b.N {
		for j, c := range all {
			group := goka.Group(fmt.Sprintf("%s-%s-run%d", bench.Input, c.Name, i))
			res := pass(b, bench, c, group, timeout)
			runs[j] = append(runs[j], res)
			b.Logf("run %d: %s %.0f records/s (%.2f of the counter), %.0f B of state per key (%d keys), %.1f allocs, %.0f B and %.1f us of CPU per record",
				i, c.Name, res.Rate, res.Rate/runs[0][i].Rate, res.StateBytesPerKey, res.Keys, res.AllocsPerRecord, res.BytesPerRecord, res.CPUPerRecord)
		}
	}
	b.StopTimer()
	out := make([]Result, len(all))
	for j, c := range all {
		out[j] = Result{
			Rate:             median(runs[j], func(r Result) float64 { return r.Rate }),
			StateBytesPerKey: median(runs[j], func(r Result) float64 { return r.StateBytesPerKey }),
			Keys:             runs[j][0].Keys,
			AllocsPerRecord:  median(runs[j], func(r Result) float64 { return r.AllocsPerRecord }),
			BytesPerRecord:   median(runs[j], func(r Result) float64 { return r.BytesPerRecord }),
			CPUPerRecord:     median(runs[j], func(r Result) float64 { return r.CPUPerRecord }),
		}
		b.ReportMetric(out[j].Rate, c.Name+"-rec/s")
		b.ReportMetric(out[j].StateBytesPerKey, c.Name+"-state-B/key")
		b.ReportMetric(out[j].AllocsPerRecord, c.Name+"-allocs/rec")
		b.ReportMetric(out[j].BytesPerRecord, c.Name+"-B/rec")
		b.ReportMetric(out[j].CPUPerRecord, c.Name+"-cpu-us/rec")
		if j > 0 {
			ratios := make([]float64, len(runs[j]))
			for i := range runs[j] {
				ratios[i] = runs[j][i].Rate / runs[0][i].Rate
			}
			b.ReportMetric(median(ratios, func(x float64) float64 { return x }), c.Name+"/counter")
		}
	}
	return out
}

// pass runs one contender in group over the whole input and measures it.
func pass(b *testing.B, bench Bench, c Contender, group goka.Group, timeout time.Duration) Result {
	b.Helper()
	k := bench.Kafka
	table := string(goka.GroupTable(group))
	b.Cleanup(func() {
		if os.Getenv("MIP_TEST_KEEP") == "1" {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = k.Admin(b).DeleteTopics(ctx, table, string(group)+"-loop") // goka's default loop suffix
	})
	m := &meter{input: goka.Stream(bench.Input)}
	env := gokaenv.Env{Brokers: k.Brokers, ClientID: "ceilingbench", StorageDir: b.TempDir()}
	if c.Before != nil {
		c.Before(b, env, group)
	}
	p, err := c.New(env, group, goka.WithContextWrapper(m.wrap))
	if err != nil {
		b.Fatalf("build %s: %v", c.Name, err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpuBefore := cpuTime()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	n := int64(len(bench.Records))
	deadline := time.Now().Add(timeout)
	for m.n.Load() < n || m.all.Load() < c.Callbacks || time.Since(time.Unix(0, m.last.Load())) < quiet {
		select {
		case err := <-done:
			cancel()
			b.Fatalf("%s stopped after %d of %d records: %v", c.Name, m.n.Load(), n, err)
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			b.Fatalf("%s processed %d of %d records (%d of %d callbacks) in %v", c.Name, m.n.Load(), n, m.all.Load(), c.Callbacks, timeout)
		}
	}
	runtime.ReadMemStats(&after)
	cpu := cpuTime() - cpuBefore
	cancel()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			b.Fatalf("%s: %v", c.Name, err)
		}
	case <-time.After(time.Minute):
		b.Fatalf("%s did not stop within a minute", c.Name)
	}
	res := Result{
		Rate:            m.rate(),
		AllocsPerRecord: float64(after.Mallocs-before.Mallocs) / float64(n),
		BytesPerRecord:  float64(after.TotalAlloc-before.TotalAlloc) / float64(n),
		CPUPerRecord:    float64(cpu.Microseconds()) / float64(n),
	}
	res.StateBytesPerKey, res.Keys = tableBytes(b, k, table)
	return res
}

// quiet is how long a group must run no callback after its last input record for its pass to
// end (its loopback drained).
const quiet = 300 * time.Millisecond

// meter counts the input records whose callbacks started, and all callbacks.
type meter struct {
	input  goka.Stream
	n, all atomic.Int64
	// first is the unix nanos at which the first input callback started, last that of the
	// latest callback of any topic.
	first, last atomic.Int64
}

func (m *meter) wrap(ctx goka.Context) goka.Context {
	now := time.Now().UnixNano()
	if ctx.Topic() == m.input {
		m.first.CompareAndSwap(0, now)
		m.n.Add(1)
	}
	m.all.Add(1)
	if m.first.Load() != 0 {
		m.last.Store(now)
	}
	return ctx
}

// rate is input records per second between the first input callback and the last callback.
func (m *meter) rate() float64 {
	d := time.Duration(m.last.Load() - m.first.Load())
	if d <= 0 {
		return 0
	}
	return float64(m.n.Load()-1) / d.Seconds()
}

// produce writes the records synchronously, in batches.
func produce(b *testing.B, k *testenv.KafkaEnv, recs []*kgo.Record) {
	b.Helper()
	cl := k.Client(b, kgo.ProducerBatchMaxBytes(1<<20))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for batch := range slices.Chunk(recs, 10_000) {
		if err := cl.ProduceSync(ctx, batch...).FirstErr(); err != nil {
			b.Fatalf("produce %d input records: %v", len(batch), err)
		}
	}
}

// tableBytes reads the table topic from its start to its end and returns the mean size of the
// last value of each key (a nil value deletes the key) and the number of keys.
func tableBytes(b *testing.B, k *testenv.KafkaEnv, table string) (float64, int) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ends, err := k.Admin(b).ListEndOffsets(ctx, table)
	if err != nil {
		b.Fatalf("end offsets of %s: %v", table, err)
	}
	if err := ends.Error(); err != nil {
		b.Fatalf("end offsets of %s: %v", table, err)
	}
	remaining := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			remaining[o.Partition] = o.Offset
		}
	})
	sizes := map[string]int{}
	if len(remaining) > 0 {
		cl := k.Client(b, kgo.ConsumeTopics(table), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		for len(remaining) > 0 {
			fs := cl.PollFetches(ctx)
			if err := fs.Err0(); err != nil {
				b.Fatalf("read %s: %v", table, err)
			}
			fs.EachRecord(func(r *kgo.Record) {
				if r.Value == nil {
					delete(sizes, string(r.Key))
				} else {
					sizes[string(r.Key)] = len(r.Value)
				}
				if end, ok := remaining[r.Partition]; ok && r.Offset+1 >= end {
					delete(remaining, r.Partition)
				}
			})
		}
		cl.Close()
	}
	if len(sizes) == 0 {
		return 0, 0
	}
	total := 0
	for _, n := range sizes {
		total += n
	}
	return float64(total) / float64(len(sizes)), len(sizes)
}

func median[T any](xs []T, f func(T) float64) float64 {
	vs := make([]float64, len(xs))
	for i, x := range xs {
		vs[i] = f(x)
	}
	slices.Sort(vs)
	return vs[len(vs)/2]
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
