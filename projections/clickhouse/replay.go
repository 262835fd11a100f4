package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	"github.com/marketinsightspro/marketinsights/projections"
)

// Replay rebuilds tables from their topics into a fresh database and swaps them in.
type Replay struct {
	// Kafka is the cluster to read.
	Kafka config.Kafka
	// ClickHouse is the server; its Database is the live database whose tables are replaced.
	ClickHouse config.ClickHouse
	// Tables are the tables to rebuild (all when empty).
	Tables []Table
	// TopicName maps catalog topics to the names read (nil: identity).
	TopicName func(string) string
	// FromMillis, when non-zero, starts every topic at the first record at or after this time
	// (milliseconds since the epoch); zero starts at the earliest record.
	FromMillis int64
	// Options set batching, logging, metrics and the dead-letter topic.
	Options projections.Options
	// KeepOld keeps the replaced tables in database <db>_old_<time> instead of dropping them.
	KeepOld bool
	// Progress, when set, receives the records read so far and the total to read.
	Progress *Progress
}

// Progress counts a replay's records; safe for concurrent use.
type Progress struct {
	done, total atomic.Int64
}

// Done returns the records read so far.
func (p *Progress) Done() int64 { return p.done.Load() }

// Total returns the records to read (known once the offsets are listed).
func (p *Progress) Total() int64 { return p.total.Load() }

// ReplayResult says what a replay did.
type ReplayResult struct {
	// Database is the live database that now holds the rebuilt tables.
	Database string
	// Old is the database holding the replaced tables (dropped unless KeepOld).
	Old string
	// Rows are the rows written per table, catch-up included.
	Rows map[string]int64
	// Records is the number of records read.
	Records int64
}

// Run rebuilds the tables: it projects every record up to the current end of each topic into
// <db>_replay_<time>, renames the live tables away and the rebuilt ones in with one RENAME
// statement, then projects what arrived meanwhile into the swapped-in tables (idempotent: the
// live projectors may write the same rows, which the tables' engines merge).
func (r Replay) Run(ctx context.Context) (ReplayResult, error) {
	tables := r.Tables
	if len(tables) == 0 {
		tables = Tables()
	}
	name := r.TopicName
	if name == nil {
		name = func(s string) string { return s }
	}
	if r.Progress == nil {
		r.Progress = &Progress{}
	}
	db := r.ClickHouse.Database
	stamp := time.Now().UTC().Format("20060102_150405")
	res := ReplayResult{Database: db, Old: db + "_old_" + stamp, Rows: map[string]int64{}}
	fresh := db + "_replay_" + stamp

	live, err := OpenMigrated(ctx, r.ClickHouse, db)
	if err != nil {
		return res, err
	}
	defer live.Close()
	target, err := OpenMigrated(ctx, r.ClickHouse, fresh)
	if err != nil {
		return res, err
	}
	defer target.Close()

	adm, err := kafkaclient.NewAdmin(r.Kafka, r.Options.Log)
	if err != nil {
		return res, err
	}
	defer adm.Close()
	var topicNames []string
	for _, t := range tables {
		topicNames = append(topicNames, name(t.Topic))
	}
	start, end, err := r.offsets(ctx, adm, topicNames)
	if err != nil {
		return res, err
	}
	var total int64
	for _, t := range tables {
		for p, e := range end[name(t.Topic)] {
			total += max(e-start[name(t.Topic)][p], 0)
		}
	}
	r.Progress.total.Store(total)
	r.Options.Log.Info("replay started", "tables", len(tables), "records", total, "into", fresh)

	if err := r.project(ctx, target, tables, name, start, end, &res); err != nil {
		return res, fmt.Errorf("replay into %s (left in place for inspection): %w", fresh, err)
	}

	// Swap: one RENAME statement moves every live table away and every rebuilt one in.
	if err := CreateDatabase(ctx, r.ClickHouse, res.Old); err != nil {
		return res, err
	}
	var renames []string
	for _, t := range tables {
		renames = append(renames,
			quoteIdent(db)+"."+quoteIdent(t.Name)+" TO "+quoteIdent(res.Old)+"."+quoteIdent(t.Name),
			quoteIdent(fresh)+"."+quoteIdent(t.Name)+" TO "+quoteIdent(db)+"."+quoteIdent(t.Name))
	}
	if err := live.Exec(ctx, "RENAME TABLE "+strings.Join(renames, ", ")); err != nil {
		return res, fmt.Errorf("swap rebuilt tables into %s: %w", db, err)
	}
	r.Options.Log.Info("rebuilt tables swapped in", "database", db, "old", res.Old)

	// Catch up with what arrived during the replay, into the swapped-in tables.
	_, end2, err := r.offsets(ctx, adm, topicNames)
	if err != nil {
		return res, err
	}
	for _, t := range tables {
		for p, e := range end2[name(t.Topic)] {
			r.Progress.total.Add(max(e-end[name(t.Topic)][p], 0))
		}
	}
	if err := r.project(ctx, live, tables, name, end, end2, &res); err != nil {
		return res, fmt.Errorf("catch up after the swap: %w", err)
	}
	if !r.KeepOld {
		for _, d := range []string{res.Old, fresh} {
			if err := live.Exec(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(d)); err != nil {
				return res, fmt.Errorf("drop %s after the swap: %w", d, err)
			}
		}
	} else if err := live.Exec(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(fresh)); err != nil {
		return res, fmt.Errorf("drop %s after the swap: %w", fresh, err)
	}
	res.Records = r.Progress.Done()
	return res, nil
}

// offsets lists the start (earliest, or at FromMillis) and end offsets of every partition.
func (r Replay) offsets(ctx context.Context, adm *kadm.Client, names []string) (start, end map[string]map[int32]int64, err error) {
	ends, err := adm.ListEndOffsets(ctx, names...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list end offsets of %v: %w", names, err)
	}
	var starts kadm.ListedOffsets
	if r.FromMillis != 0 {
		starts, err = adm.ListOffsetsAfterMilli(ctx, r.FromMillis, names...)
	} else {
		starts, err = adm.ListStartOffsets(ctx, names...)
	}
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list start offsets of %v: %w", names, err)
	}
	start, end = map[string]map[int32]int64{}, map[string]map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if end[o.Topic] == nil {
			end[o.Topic] = map[int32]int64{}
		}
		end[o.Topic][o.Partition] = o.Offset
	})
	starts.Each(func(o kadm.ListedOffset) {
		if start[o.Topic] == nil {
			start[o.Topic] = map[int32]int64{}
		}
		start[o.Topic][o.Partition] = o.Offset
	})
	return start, end, nil
}

// project runs one replay-mode projector per table from start to end into conn's database.
func (r Replay) project(ctx context.Context, conn driver.Conn, tables []Table, name func(string) string, start, end map[string]map[int32]int64, res *ReplayResult) error {
	var procs []*projections.Projector[[]any]
	for _, t := range tables {
		opts := r.Options
		opts.Group = ""
		opts.From = start[name(t.Topic)]
		opts.Until = end[name(t.Topic)]
		if opts.Until == nil {
			opts.Until = map[int32]int64{}
		}
		ps, err := NewProjectors(r.Kafka, conn, []Table{t}, name, opts)
		if err != nil {
			for _, p := range procs {
				p.Close()
			}
			return err
		}
		procs = append(procs, ps...)
	}
	runners := make([]projections.Runner, len(procs))
	for i, p := range procs {
		runners[i] = p
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	var last int64
	go func() {
		defer close(stopped)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			var sum int64
			for _, p := range procs {
				sum += p.Consumed()
			}
			r.Progress.done.Add(sum - last)
			last = sum
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	err := projections.RunAll(ctx, runners...)
	close(stop)
	<-stopped
	var sum int64
	for i, p := range procs {
		sum += p.Consumed()
		res.Rows[tables[i].Name] += p.Written()
	}
	r.Progress.done.Add(sum - last)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return err
}
