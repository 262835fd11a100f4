package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	"github.com/marketinsightspro/marketinsights/projections"
	chproj "github.com/marketinsightspro/marketinsights/projections/clickhouse"
	redisproj "github.com/marketinsightspro/marketinsights/projections/redis"
)

// readModels are the read models `project` and `replay` know, in the order "all" starts them.
var readModels = []string{"clickhouse", "redis"}

type migrateCmd struct {
	Status bool `help:"Only list the migrations and whether each is applied."`
}

func (c *migrateCmd) Run(e *env) error {
	ch := e.cfg.ClickHouse
	if err := chproj.CreateDatabase(e.ctx, ch, ch.Database); err != nil {
		return err
	}
	conn, err := chproj.Open(e.ctx, ch, "")
	if err != nil {
		return err
	}
	defer conn.Close()
	if c.Status {
		applied, err := chproj.AppliedMigrations(e.ctx, conn)
		if err != nil {
			return err
		}
		done := map[int]chproj.Applied{}
		for _, a := range applied {
			done[a.Version] = a
		}
		migs, err := chproj.Migrations()
		if err != nil {
			return err
		}
		for _, m := range migs {
			state := "pending"
			if a, ok := done[m.Version]; ok {
				state = "applied " + a.AppliedAt.UTC().Format(time.RFC3339)
				if a.Checksum != m.Checksum {
					state += " (CHANGED since: write a new migration instead)"
				}
			}
			fmt.Fprintf(e.stdout, "%04d_%-24s %s\n", m.Version, m.Name, state)
		}
		return nil
	}
	res, err := chproj.Migrate(e.ctx, conn)
	if err != nil {
		return err
	}
	for _, m := range res.Applied {
		fmt.Fprintf(e.stdout, "applied %04d_%s\n", m.Version, m.Name)
	}
	fmt.Fprintf(e.stdout, "database %s at %s: %d migrations applied now, %d already applied\n", ch.Database, ch.Addr, len(res.Applied), len(res.Current))
	return nil
}

type projectCmd struct {
	Targets []string `arg:"" enum:"clickhouse,redis,all" help:"Read models to project into: clickhouse, redis, or all."`
	projectorFlags
	MetricsAddr string `default:"127.0.0.1:9465" placeholder:"HOST:PORT" help:"Serve /metrics, /healthz and /readyz here (empty: off)."`
}

// projectorFlags are the settings of the projectors, shared by `project`, `replay` and `demo`.
type projectorFlags struct {
	BatchRows        int           `default:"5000" help:"Write a batch when this many rows are pending."`
	FlushInterval    time.Duration `default:"500ms" help:"Write pending rows at least this often."`
	KeywordRetention time.Duration `default:"24h" help:"Redis: a product leaves a keyword's sorted sets when the keyword's newest page is this much newer (event time) than the last page listing it."`
	AnomalyCap       int           `default:"1000" help:"Redis: anomalies kept in the global feed and in each keyword's feed."`
}

func (f projectorFlags) redisOptions() redisproj.Options {
	return redisproj.Options{KeywordRetention: f.KeywordRetention, AnomalyCap: f.AnomalyCap}
}

// redisGroup is the consumer group of a Redis sink: projector-redis-<what>.
func redisGroup(s *redisproj.Sink) string {
	return "projector-" + strings.ReplaceAll(s.Name(), "/", "-")
}

func (f projectorFlags) options(e *env, m *projections.Metrics) projections.Options {
	return projections.Options{BatchRows: f.BatchRows, FlushInterval: f.FlushInterval, Log: e.log, Metrics: m}
}

func (c *projectCmd) Run(e *env) error {
	targets := c.Targets
	if slices.Contains(targets, "all") {
		targets = readModels
	}
	reg := newRegistry()
	kcfg := withClientMetrics(e.cfg.Kafka, reg)
	run, err := startProjectors(e, kcfg, targets, c.projectorFlags, reg)
	if err != nil {
		return err
	}
	defer run.close()
	stopLag, err := registerLag(e, kcfg, reg, run.groups)
	if err != nil {
		return err
	}
	defer stopLag()
	stopMetrics, err := serveMetrics(e, c.MetricsAddr, reg, func() bool { return true })
	if err != nil {
		return err
	}
	defer stopMetrics()
	return run.wait()
}

// runningProjectors are started projectors.
type runningProjectors struct {
	wait   func() error
	close  func()
	groups []string // the consumer groups of the projectors
}

// startProjectors migrates ClickHouse (when projected into) and starts one projector per table
// and Redis key family; wait blocks until they all stopped after e.ctx ends.
func startProjectors(e *env, kcfg config.Kafka, targets []string, f projectorFlags, reg prometheus.Registerer) (*runningProjectors, error) {
	m := projections.NewMetrics(reg)
	var runners []projections.Runner
	var groups []string
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	for _, target := range targets {
		switch target {
		case "clickhouse":
			conn, err := chproj.OpenMigrated(e.ctx, e.cfg.ClickHouse, "")
			if err != nil {
				closeAll()
				return nil, err
			}
			closers = append(closers, func() { conn.Close() })
			procs, err := chproj.NewProjectors(kcfg, conn, chproj.Tables(), nil, f.options(e, m))
			if err != nil {
				closeAll()
				return nil, err
			}
			for _, p := range procs {
				runners = append(runners, p)
			}
			for _, t := range chproj.Tables() {
				groups = append(groups, chproj.GroupPrefix+t.Name)
			}
		case "redis":
			rdb, err := redisproj.Open(e.ctx, e.cfg.Redis)
			if err != nil {
				closeAll()
				return nil, err
			}
			closers = append(closers, func() { rdb.Close() })
			sinks, err := redisproj.Sinks(e.ctx, redisproj.NewKeyspace(rdb, e.cfg.Redis.Prefix), f.redisOptions())
			if err != nil {
				closeAll()
				return nil, err
			}
			procs, err := redisproj.Projectors(kcfg, sinks, func(s *redisproj.Sink) projections.Options {
				o := f.options(e, m)
				o.Group = redisGroup(s)
				return o
			})
			if err != nil {
				closeAll()
				return nil, err
			}
			for _, p := range procs {
				runners = append(runners, p)
			}
			for _, s := range sinks {
				groups = append(groups, redisGroup(s))
			}
		default:
			closeAll()
			return nil, usageError{fmt.Errorf("unknown read model %q: want one of %v or all", target, readModels)}
		}
	}
	e.log.Info("projectors starting", "read_models", targets, "projectors", len(runners), "brokers", kcfg.BootstrapBrokers())
	done := make(chan error, 1)
	go func() { done <- projections.RunAll(e.ctx, runners...) }()
	return &runningProjectors{wait: func() error { return <-done }, close: closeAll, groups: groups}, nil
}

type replayCmd struct {
	ReadModels []string `name:"read-models" required:"" enum:"clickhouse,redis" sep:"," help:"Read models to rebuild, comma-separated: clickhouse, redis."`
	From       string   `default:"earliest" placeholder:"earliest|RFC3339" help:"Rebuild from the first record (earliest) or from the first record at or after this time."`
	KeepOld    bool     `help:"Keep the replaced ClickHouse tables in database <db>_old_<time> instead of dropping them."`
	projectorFlags
}

func (c *replayCmd) Run(e *env) error {
	var fromMillis int64
	if c.From != "earliest" {
		t, err := time.Parse(time.RFC3339, c.From)
		if err != nil {
			return usageError{fmt.Errorf("--from %q: want earliest or an RFC 3339 time such as 2026-11-01T00:00:00Z", c.From)}
		}
		fromMillis = t.UnixMilli()
	}
	for _, model := range c.ReadModels {
		switch model {
		case "clickhouse":
			prog := &chproj.Progress{}
			r := chproj.Replay{Kafka: e.cfg.Kafka, ClickHouse: e.cfg.ClickHouse, FromMillis: fromMillis, KeepOld: c.KeepOld,
				Options: c.options(e, nil), Progress: prog}
			stop := showProgress(e, "replay clickhouse", prog.Done, prog.Total, func() string {
				return fmt.Sprintf("%d of %d records", prog.Done(), prog.Total())
			})
			res, err := r.Run(e.ctx)
			stop()
			if err != nil {
				return err
			}
			var rows int64
			for _, n := range res.Rows {
				rows += n
			}
			fmt.Fprintf(e.stdout, "clickhouse: rebuilt %d tables of %s from %d records (%d rows) and swapped them in", len(res.Rows), res.Database, res.Records, rows)
			if c.KeepOld {
				fmt.Fprintf(e.stdout, "; replaced tables kept in %s", res.Old)
			}
			fmt.Fprintln(e.stdout)
		case "redis":
			if err := c.replayRedis(e, fromMillis); err != nil {
				return err
			}
		}
	}
	return nil
}

// replayRedis rebuilds the Redis read models into a new generation: Begin makes the live
// projectors write every change to it as well, the replay fills it from the topics up to their
// end offsets, and Switch makes it current; the old generation is then deleted.
func (c *replayCmd) replayRedis(e *env, fromMillis int64) error {
	rdb, err := redisproj.Open(e.ctx, e.cfg.Redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	ks := redisproj.NewKeyspace(rdb, e.cfg.Redis.Prefix)
	gen, err := ks.Begin(e.ctx)
	if err != nil {
		return err
	}
	abort := func(cause error) error {
		ctx := context.WithoutCancel(e.ctx)
		if err := ks.Abort(ctx, gen); err != nil {
			e.log.Warn("abort the replay's generation", "generation", gen, "err", err)
		}
		if _, err := ks.DeleteGeneration(ctx, gen); err != nil {
			e.log.Warn("delete the replay's generation", "generation", gen, "err", err)
		}
		return cause
	}
	opts := c.redisOptions()
	opts.Generation = gen
	sinks, err := redisproj.Sinks(e.ctx, ks, opts)
	if err != nil {
		return abort(err)
	}
	adm, err := kafkaclient.NewAdmin(e.cfg.Kafka, e.log)
	if err != nil {
		return abort(err)
	}
	defer adm.Close()
	starts, ends := map[string]map[int32]int64{}, map[string]map[int32]int64{}
	var total int64
	for _, s := range sinks {
		from, until, err := replayOffsets(e.ctx, adm, s.Topic(), fromMillis)
		if err != nil {
			return abort(err)
		}
		starts[s.Topic()], ends[s.Topic()] = from, until
		for p, end := range until {
			total += max(end-from[p], 0)
		}
	}
	procs, err := redisproj.Projectors(e.cfg.Kafka, sinks, func(s *redisproj.Sink) projections.Options {
		o := c.options(e, nil)
		o.From, o.Until = starts[s.Topic()], ends[s.Topic()]
		return o
	})
	if err != nil {
		return abort(err)
	}
	done := func() int64 {
		var n int64
		for _, p := range procs {
			n += p.Consumed()
		}
		return n
	}
	stop := showProgress(e, "replay redis", done, func() int64 { return total }, func() string {
		return fmt.Sprintf("%d of %d records", done(), total)
	})
	err = redisproj.Run(e.ctx, procs)
	stop()
	if err == nil && e.ctx.Err() != nil {
		err = e.ctx.Err()
	}
	if err != nil {
		return abort(fmt.Errorf("replay into Redis generation %s: %w", gen, err))
	}
	old, err := ks.Switch(e.ctx, gen)
	if err != nil {
		return abort(err)
	}
	removed := int64(0)
	if old != "" {
		// A live batch that read the pointers just before the switch may still write the old
		// generation: give it a moment before deleting.
		time.Sleep(2 * c.FlushInterval)
		if removed, err = ks.DeleteGeneration(e.ctx, old); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "redis: rebuilt generation %s from %d records and made it current", gen, done())
	if old != "" {
		fmt.Fprintf(e.stdout, "; deleted %d keys of %s", removed, old)
	}
	fmt.Fprintln(e.stdout)
	return nil
}

// replayOffsets lists topic's start offsets (earliest, or at fromMillis when non-zero) and end
// offsets per partition.
func replayOffsets(ctx context.Context, adm *kadm.Client, topic string, fromMillis int64) (from, until map[int32]int64, err error) {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	var starts kadm.ListedOffsets
	if fromMillis != 0 {
		starts, err = adm.ListOffsetsAfterMilli(ctx, fromMillis, topic)
	} else {
		starts, err = adm.ListStartOffsets(ctx, topic)
	}
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list start offsets of %s: %w", topic, err)
	}
	from, until = map[int32]int64{}, map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { until[o.Partition] = o.Offset })
	starts.Each(func(o kadm.ListedOffset) { from[o.Partition] = o.Offset })
	return from, until, nil
}
