package benchmark

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/heapwatch"
	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	"github.com/marketinsightspro/marketinsights/projections"
	chproj "github.com/marketinsightspro/marketinsights/projections/clickhouse"
	"github.com/marketinsightspro/marketinsights/topics"
)

// SoakReport is the memory behaviour of a projector under a steady load.
type SoakReport struct {
	Duration   string `json:"duration"`
	RatePerSec int    `json:"target_events_per_sec"`
	Produced   int64  `json:"produced"`
	Written    int64  `json:"rows_written"`
	// Memory is the process's live heap and resident set over the run; flat when the last
	// third's mean live heap is within heapwatch.FlatGrowthPercent of the first third's.
	Memory heapwatch.Report `json:"memory"`
}

// Soak produces rate observations per second for d while a ClickHouse projector writes them,
// sampling the live heap (after each GC) and the resident set every interval (see heapwatch).
func Soak(ctx context.Context, o Options, d time.Duration, rate int, interval time.Duration) (SoakReport, error) {
	o.defaults()
	rep := SoakReport{Duration: d.String(), RatePerSec: rate}
	table, _ := chproj.LookupTable("observations")
	tp := topics.MustLookup(topics.ProductObservations)
	if err := createTopic(ctx, o.Kafka, o.Topic, tp.Partitions); err != nil {
		return rep, err
	}
	db := "bench_soak_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	conn, err := chproj.OpenMigrated(ctx, o.ClickHouse, db)
	if err != nil {
		return rep, err
	}
	defer func() { _ = chproj.DropDatabase(context.WithoutCancel(ctx), o.ClickHouse, db) }()
	defer conn.Close()
	p, err := projections.New(o.Kafka, chproj.NewSink(conn, table), projections.Options{
		Topic: o.Topic, Group: "bench-soak-" + db, BatchRows: o.BatchRows, FlushInterval: o.FlushInterval, Log: o.Log,
	})
	if err != nil {
		return rep, err
	}
	cl, err := kafkaclient.New(o.Kafka, nil)
	if err != nil {
		p.Close()
		return rep, err
	}
	defer cl.Close()

	rctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(rctx) }()

	pool := Observations(2000, time.Now().UTC())
	watch := heapwatch.Start(rctx, interval)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	nextLog := time.Now().Add(interval)
	perTick := max(rate/10, 1)
	var produced int64
loop:
	for {
		select {
		case <-rctx.Done():
			break loop
		case <-tick.C:
		}
		recs := make([]*kgo.Record, 0, perTick)
		for range perTick {
			ev := pool[produced%int64(len(pool))]
			ev.Envelope.EventId = fmt.Sprintf("0193e1a2-0000-7000-9000-%012x", produced) // every event new
			r, err := topics.NewEventRecord(tp, ev)
			if err != nil {
				return rep, err
			}
			r.Topic = o.Topic
			recs = append(recs, r)
			produced++
		}
		if err := cl.ProduceSync(rctx, recs...).FirstErr(); err != nil && rctx.Err() == nil {
			return rep, fmt.Errorf("produce soak records: %w", err)
		}
		if s, ok := watch.Last(); ok && time.Now().After(nextLog) {
			o.Log.Info("bench soak", "elapsed", d-time.Until(deadline(rctx)), "produced", produced, "written", p.Written(), "live_heap_mb", s.LiveHeapMB)
			nextLog = nextLog.Add(interval)
		}
	}
	rep.Memory = watch.Stop()
	if err := <-done; err != nil {
		return rep, err
	}
	rep.Produced, rep.Written = produced, p.Written()
	return rep, nil
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}
