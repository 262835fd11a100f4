// Package benchmark measures the projectors against bare clients writing the same rows in the
// same run, so the figures are ratios that survive a noisy machine: ClickHouse rows/s through a
// projector (Kafka fetch, decode, batch, insert, commit) over a bare clickhouse-go batch insert.
package benchmark

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	"github.com/marketinsightspro/marketinsights/projections"
	chproj "github.com/marketinsightspro/marketinsights/projections/clickhouse"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Options configure a projection benchmark.
type Options struct {
	// Kafka is the cluster the records are produced to and projected from.
	Kafka config.Kafka
	// ClickHouse is the server; the benchmark creates and drops its own databases.
	ClickHouse config.ClickHouse
	// Rows is the number of observations (one row each) per measurement (default 100000).
	Rows int
	// Runs is how many times each side is measured; medians are reported (default 3).
	Runs int
	// BatchRows and FlushInterval configure the projector and the bare insert's batch size.
	BatchRows     int
	FlushInterval time.Duration
	// Topic is the topic to produce to (default: a fresh bench topic); it is created if missing.
	Topic string
	// Log receives progress lines.
	Log *slog.Logger
}

// Side is one measured writer.
type Side struct {
	// RowsPerSec are the rates of every run.
	RowsPerSec []float64 `json:"rows_per_sec_runs"`
	// Median is the median rate.
	Median float64 `json:"rows_per_sec_median"`
}

// JoinSide is the projector measured from the start of Run, its consumer group's join included.
type JoinSide struct {
	Side
	// Seconds are the join times of every run: Run's start to the partitions' assignment.
	Seconds []float64 `json:"group_join_seconds_runs"`
}

// Report is the benchmark's result.
type Report struct {
	Rows      int `json:"rows"`
	Runs      int `json:"runs"`
	BatchRows int `json:"batch_rows"`
	// Bare is the idiomatic bare insert: batch.Append(row...) per row, then Send.
	Bare Side `json:"clickhouse_bare_insert"`
	// BareColumnar is the bare insert the projector's sink resembles: one typed slice per column,
	// batch.Column(i).Append(slice), then Send.
	BareColumnar Side `json:"clickhouse_bare_columnar_insert"`
	// Projector is the projector's rate from the moment its group assigned it the partitions.
	Projector Side `json:"clickhouse_projector"`
	// ProjectorJoin adds the time the projector's client took to join its consumer group.
	ProjectorJoin JoinSide `json:"clickhouse_projector_with_group_join"`
	// Ratio is the projector's median over the idiomatic bare insert's (the goal's baseline).
	Ratio float64 `json:"clickhouse_ratio"`
	// RatioWithJoin is ProjectorJoin's median over the idiomatic bare insert's.
	RatioWithJoin float64 `json:"clickhouse_ratio_with_group_join"`
	// RatioRuns are the projector's rate over the idiomatic bare insert's within each run, and
	// RatioRunsMedian their median: a pair measured seconds apart shares the machine's load.
	RatioRuns       []float64 `json:"clickhouse_ratio_runs"`
	RatioRunsMedian float64   `json:"clickhouse_ratio_runs_median"`
	// RatioColumnar is the projector's median over the columnar bare insert's.
	RatioColumnar float64 `json:"clickhouse_ratio_to_columnar"`
	Goal          float64 `json:"clickhouse_goal"`
	HeapPeakMB    float64 `json:"heap_peak_mb"`
	CPUs          int     `json:"cpus"`
	GoVersion     string  `json:"go_version"`
}

func (o *Options) defaults() {
	if o.Rows <= 0 {
		o.Rows = 100000
	}
	if o.Runs <= 0 {
		o.Runs = 3
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 5000
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 500 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Topic == "" {
		o.Topic = "bench.project." + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
}

// Observations returns n synthetic observations of 2,000 products drawn like the sandbox's
// market: prices, ratings and reviews vary per product and drift over time.
func Observations(n int, start time.Time) []*marketv1.ProductObserved {
	out := make([]*marketv1.ProductObserved, n)
	for i := range n {
		p := i % 2000
		at := start.Add(time.Duration(i) * 50 * time.Millisecond)
		price := int64(999 + p*37%9000 + (i/2000)%50)
		rating := 3.0 + float64(p%20)/10
		reviews := int64(10 + p*13 + i/2000)
		prime := p%3 != 0
		bought := int64(100 * (p % 10))
		out[i] = &marketv1.ProductObserved{
			Envelope: &marketv1.Envelope{EventId: fmt.Sprintf("0193e1a2-%04x-7000-8000-%012x", p, i), EventTime: timestamppb.New(at), Producer: "bench", SchemaVersion: 1},
			Asin:     fmt.Sprintf("B0BENCH%03d", p), Marketplace: "amazon.com", Keyword: fmt.Sprintf("keyword %d", p%50),
			Source: marketv1.ObservationSource_OBSERVATION_SOURCE_SEARCH_PAGE, JobId: "bench", Url: "https://www.amazon.com/s?k=bench",
			Attributes: &marketv1.ProductAttributes{
				Title: ptr(fmt.Sprintf("Bench product %d with a realistic, rather long title for a listing", p)), Brand: ptr(fmt.Sprintf("Brand%d", p%40)),
				Price: &marketv1.Money{AmountMinor: price, Currency: "USD"}, Rating: &rating, ReviewCount: &reviews, BoughtPastMonth: &bought, Prime: &prime,
				Ranks:        []*marketv1.BestSellersRank{{Rank: int64(1 + p*7), Category: "Electronics"}},
				Availability: marketv1.Availability_AVAILABILITY_IN_STOCK,
			},
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// Project measures ClickHouse projection against bare batch inserts of the same rows. Each run
// measures the three writers in a rotated order, each into a fresh database, after one round
// that warms up and is not recorded; a bare insert's rows
// are built before its clock starts and dropped after it, and the heap is collected between
// writers, so no writer pays for another's garbage.
func Project(ctx context.Context, o Options) (Report, error) {
	o.defaults()
	rep := Report{Rows: o.Rows, Runs: o.Runs, BatchRows: o.BatchRows, Goal: 0.8, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	table, _ := chproj.LookupTable("observations")
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

	o.Log.Info("bench: producing records", "rows", o.Rows, "topic", o.Topic)
	if err := produce(ctx, o, Observations(o.Rows, start)); err != nil {
		return rep, err
	}

	peak := startHeapSampler()
	defer peak.stop()
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	sides := []struct {
		name string
		side *Side
		run  func(db string, run int) (float64, error)
	}{
		{"bare insert", &rep.Bare, func(db string, _ int) (float64, error) {
			return bareInsert(ctx, o, db, table, start, appendRows)
		}},
		{"bare columnar insert", &rep.BareColumnar, func(db string, _ int) (float64, error) {
			return bareInsert(ctx, o, db, table, start, appendColumns)
		}},
		{"projector", &rep.Projector, func(db string, run int) (float64, error) {
			rate, startup, err := projector(ctx, o, db, table, "bench-projector-"+stamp+"-"+strconv.Itoa(run))
			if err == nil && run > 0 {
				rep.ProjectorJoin.Seconds = append(rep.ProjectorJoin.Seconds, startup)
				rep.ProjectorJoin.RowsPerSec = append(rep.ProjectorJoin.RowsPerSec, float64(o.Rows)/(float64(o.Rows)/rate+startup))
			}
			return rate, err
		}},
	}
	// Run 0 warms up and is not recorded: the first writer after the records were produced met
	// a server with nothing of ours to merge or delete, and was the fastest run in four of six
	// invocations.
	for run := range o.Runs + 1 {
		for k := range sides {
			s := sides[(k+run)%len(sides)]
			runtime.GC()
			db := "bench_" + stamp + "_" + strconv.Itoa(run) + "_" + strconv.Itoa(k)
			rate, err := s.run(db, run)
			if err != nil {
				return rep, fmt.Errorf("bench %s, run %d: %w", s.name, run, err)
			}
			o.Log.Info("bench: "+s.name, "run", run, "warm_up", run == 0, "rows_per_sec", int(rate))
			if run > 0 {
				s.side.RowsPerSec = append(s.side.RowsPerSec, rate)
			}
		}
	}
	for _, s := range sides {
		s.side.Median = median(s.side.RowsPerSec)
	}
	for run := range o.Runs {
		rep.RatioRuns = append(rep.RatioRuns, rep.Projector.RowsPerSec[run]/rep.Bare.RowsPerSec[run])
	}
	rep.RatioRunsMedian = median(rep.RatioRuns)
	rep.ProjectorJoin.Median = median(rep.ProjectorJoin.RowsPerSec)
	if rep.Bare.Median > 0 {
		rep.Ratio = rep.Projector.Median / rep.Bare.Median
		rep.RatioWithJoin = rep.ProjectorJoin.Median / rep.Bare.Median
	}
	if rep.BareColumnar.Median > 0 {
		rep.RatioColumnar = rep.Projector.Median / rep.BareColumnar.Median
	}
	rep.HeapPeakMB = peak.stop()
	return rep, nil
}

// produce writes the events to the benchmark topic (not measured).
func produce(ctx context.Context, o Options, evs []*marketv1.ProductObserved) error {
	cl, err := kafkaclient.New(o.Kafka, nil, kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		return fmt.Errorf("bench producer: %w", err)
	}
	defer cl.Close()
	tp := topics.MustLookup(topics.ProductObservations)
	if err := createTopic(ctx, o.Kafka, o.Topic, tp.Partitions); err != nil {
		return err
	}
	for i := 0; i < len(evs); i += 5000 {
		var recs []*kgo.Record
		for _, ev := range evs[i:min(i+5000, len(evs))] {
			r, err := topics.NewEventRecord(tp, ev)
			if err != nil {
				return fmt.Errorf("encode bench record: %w", err)
			}
			r.Topic = o.Topic
			recs = append(recs, r)
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return fmt.Errorf("produce bench records to %s: %w", o.Topic, err)
		}
	}
	return nil
}

// appendRows appends rows to a batch the idiomatic way: batch.Append(row...) per row.
func appendRows(b driver.Batch, rows [][]any) error {
	for i, row := range rows {
		if err := b.Append(row...); err != nil {
			return fmt.Errorf("append row %d: %w", i+1, err)
		}
	}
	return nil
}

// appendColumns appends rows column by column: one typed slice per column, built and appended
// in one call each (what the projector's sink does).
func appendColumns(b driver.Batch, rows [][]any) error {
	var cs chproj.Columns
	return cs.Append(b, rows)
}

// bareInsert inserts the observations' rows in batches of BatchRows with clickhouse-go alone
// (PrepareBatch, add, Send) and returns rows/s. The rows are built before the clock starts.
func bareInsert(ctx context.Context, o Options, db string, table chproj.Table, start time.Time, add func(driver.Batch, [][]any) error) (float64, error) {
	conn, err := chproj.OpenMigrated(ctx, o.ClickHouse, db)
	if err != nil {
		return 0, err
	}
	defer func() { _ = chproj.DropDatabase(context.WithoutCancel(ctx), o.ClickHouse, db) }()
	defer conn.Close()
	rows := make([][]any, 0, o.Rows)
	now := time.Now().UTC().Truncate(time.Second)
	for _, ev := range Observations(o.Rows, start) {
		rs, err := table.Rows(ev, now)
		if err != nil {
			return 0, fmt.Errorf("rows of a bench observation: %w", err)
		}
		rows = append(rows, rs...)
	}
	insert := "INSERT INTO " + table.Name + " (" + strings.Join(table.Columns, ", ") + ")"
	runtime.GC() // the garbage of building the rows is not the insert's
	begin := time.Now()
	for i := 0; i < len(rows); i += o.BatchRows {
		b, err := conn.PrepareBatch(ctx, insert)
		if err != nil {
			return 0, fmt.Errorf("prepare bare insert into %s: %w", table.Name, err)
		}
		if err := add(b, rows[i:min(i+o.BatchRows, len(rows))]); err != nil {
			_ = b.Abort()
			return 0, fmt.Errorf("bare insert into %s: %w", table.Name, err)
		}
		if err := b.Send(); err != nil {
			return 0, fmt.Errorf("send bare insert into %s: %w", table.Name, err)
		}
	}
	return float64(len(rows)) / time.Since(begin).Seconds(), nil
}

// projector runs a projector of the bench topic with a fresh group into db until every row is
// written. It returns rows/s from the moment the group assigned the partitions (as a bare
// insert's clock starts with its connection open) and the seconds the client took to join the
// group before that.
func projector(ctx context.Context, o Options, db string, table chproj.Table, group string) (rate, startup float64, err error) {
	conn, err := chproj.OpenMigrated(ctx, o.ClickHouse, db)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = chproj.DropDatabase(context.WithoutCancel(ctx), o.ClickHouse, db) }()
	defer conn.Close()
	var assigned atomic.Int64
	p, err := projections.New(o.Kafka, chproj.NewSink(conn, table), projections.Options{
		Topic: o.Topic, Group: group, BatchRows: o.BatchRows, FlushInterval: o.FlushInterval, Log: o.Log,
		Client: []kgo.Opt{kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
			assigned.CompareAndSwap(0, time.Now().UnixNano())
		})},
	})
	if err != nil {
		return 0, 0, err
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- p.Run(rctx) }()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for p.Written() < int64(o.Rows) {
		select {
		case err := <-done:
			cancel()
			return 0, 0, fmt.Errorf("projector stopped after %d of %d rows: %v", p.Written(), o.Rows, err)
		case <-ctx.Done():
			cancel()
			<-done
			return 0, 0, ctx.Err()
		case <-tick.C:
		}
	}
	end := time.Now()
	cancel()
	if err := <-done; err != nil {
		return 0, 0, err
	}
	joined := time.Unix(0, assigned.Load())
	if assigned.Load() == 0 || joined.Before(start) {
		joined = start
	}
	return float64(o.Rows) / end.Sub(joined).Seconds(), joined.Sub(start).Seconds(), nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// createTopic creates topic with partitions unless it exists.
func createTopic(ctx context.Context, cfg config.Kafka, topic string, partitions int32) error {
	adm, err := kafkaclient.NewAdmin(cfg, nil)
	if err != nil {
		return err
	}
	defer adm.Close()
	res, err := adm.CreateTopic(ctx, partitions, -1, nil, topic)
	if err == nil {
		err = res.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create bench topic %s: %w", topic, err)
	}
	// Metadata of a new topic can lag on a real cluster: wait until it lists every partition.
	for range 100 {
		md, err := adm.ListTopics(ctx, topic)
		if err == nil && md[topic].Err == nil && len(md[topic].Partitions) == int(partitions) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("bench topic %s has no metadata after 10 s", topic)
}

// heapSampler records the peak heap in use while it runs.
type heapSampler struct {
	done chan struct{}
	peak chan float64
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{done: make(chan struct{}), peak: make(chan float64, 1)}
	go func() {
		var peak uint64
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-h.done:
				h.peak <- float64(peak) / (1 << 20)
				return
			case <-t.C:
			}
		}
	}()
	return h
}

// stop ends sampling and returns the peak heap in use in MiB (0 on later calls).
func (h *heapSampler) stop() float64 {
	select {
	case <-h.done:
		return 0
	default:
	}
	close(h.done)
	return <-h.peak
}
