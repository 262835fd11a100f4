package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/internal/heapwatch"
	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	"github.com/marketinsightspro/marketinsights/processors"
	"github.com/marketinsightspro/marketinsights/processors/anomalies"
	"github.com/marketinsightspro/marketinsights/processors/keywords"
	"github.com/marketinsightspro/marketinsights/processors/products"
	"github.com/marketinsightspro/marketinsights/projections"
	chproj "github.com/marketinsightspro/marketinsights/projections/clickhouse"
	redisproj "github.com/marketinsightspro/marketinsights/projections/redis"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Options configure a pipeline benchmark.
type Options struct {
	// Kafka is the cluster; topics and groups get a unique suffix, so a shared one is fine.
	Kafka config.Kafka
	// ClickHouse is the server; the benchmark creates and drops its own database.
	ClickHouse config.ClickHouse
	// Redis is the server; the benchmark writes under its own prefix and deletes it after.
	Redis config.Redis
	// Events is the number of input events (observations and search pages) in throughput mode.
	Events int
	// Keywords and Products shape the synthetic market.
	Keywords, Products int
	// Rate, when positive, switches to freshness mode: events are produced at this rate (per
	// second) for Duration while the pipeline runs, and freshness is measured.
	Rate     int
	Duration time.Duration
	// StorageDir holds goka's local storage (default: a temporary directory, removed after).
	StorageDir string
	// StorageCacheMB and StorageWriteBufferMB size each table partition's LevelDB store
	// (gokaenv.Env's BlockCacheMB and WriteBufferMB; zero: LevelDB's defaults).
	StorageCacheMB, StorageWriteBufferMB int
	// Log receives progress lines.
	Log *slog.Logger
}

func (o *Options) defaults() {
	if o.Events <= 0 {
		o.Events = 100000
	}
	if o.Keywords <= 0 {
		o.Keywords = 50
	}
	if o.Products <= 0 {
		o.Products = 5000
	}
	if o.Duration <= 0 {
		o.Duration = time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Rate is a measured throughput.
type Rate struct {
	Records   int64   `json:"records"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
}

// Stage is one processor or projector of the pipeline.
type Stage struct {
	Name string `json:"name"`
	Rate
	// VsCounter and VsConsumer are the stage's rate over the ceilings'.
	VsCounter  float64 `json:"ratio_to_goka_counter"`
	VsConsumer float64 `json:"ratio_to_bare_consumer"`
}

// Latency are quantiles of event time to visible, in milliseconds.
type Latency struct {
	Samples int     `json:"samples"`
	P50     float64 `json:"p50_ms"`
	P95     float64 `json:"p95_ms"`
	P99     float64 `json:"p99_ms"`
	Max     float64 `json:"max_ms"`
}

// Report is the benchmark's result.
type Report struct {
	Mode         string   `json:"mode"`
	Events       int64    `json:"events"`
	Observations int64    `json:"observations"`
	Pages        int64    `json:"search_pages"`
	Counter      Rate     `json:"goka_counter"`
	Consumer     Rate     `json:"bare_consumer"`
	Stages       []Stage  `json:"stages"`
	EndToEnd     Stage    `json:"end_to_end"`
	Goal         float64  `json:"end_to_end_goal_ratio_to_counter"`
	FreshnessCH  *Latency `json:"freshness_clickhouse,omitempty"`
	FreshnessRD  *Latency `json:"freshness_redis,omitempty"`
	CPUSeconds   float64  `json:"cpu_seconds"`
	CPUCores     float64  `json:"cpu_cores_used"`
	PeakRSSMB    float64  `json:"peak_rss_mb"`
	// Memory, in freshness mode, samples the live heap and resident set about 30 times over the
	// run (a soak: --rate with --duration 10m says whether memory stays flat).
	Memory     *heapwatch.Report `json:"memory,omitempty"`
	LiveHeapMB float64           `json:"live_heap_mb_end"`
	CPUs       int               `json:"cpus"`
	GoVersion  string            `json:"go_version"`
}

// names are the run's topic and group names.
type names struct{ suffix string }

func (n names) topic(base string) string { return base + n.suffix }
func (n names) group(base string) goka.Group {
	return goka.Group(base + n.suffix)
}

// Pipeline runs the benchmark: it produces the stream, measures the two ceilings on the
// observations topic, then runs every processor and ClickHouse projector on it and reports.
func Pipeline(ctx context.Context, o Options) (Report, error) {
	o.defaults()
	rep := Report{Mode: "throughput", Goal: 0.25, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if o.Rate > 0 {
		rep.Mode = "freshness"
	}
	n := names{suffix: ".bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	if err := createTopics(ctx, o.Kafka, n); err != nil {
		return rep, err
	}
	storage := o.StorageDir
	if storage == "" {
		dir, err := os.MkdirTemp("", "mip-bench-goka-")
		if err != nil {
			return rep, err
		}
		defer os.RemoveAll(dir)
		storage = dir
	}
	env := gokaenv.Env{Brokers: o.Kafka.BootstrapBrokers(), ClientID: "mip-bench", Replication: o.Kafka.Replication, StorageDir: storage, Logger: o.Log,
		BlockCacheMB: o.StorageCacheMB, WriteBufferMB: o.StorageWriteBufferMB}
	stream := NewStream(o.Keywords, o.Products, 1)

	cl, err := kafkaclient.New(o.Kafka, nil, kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return rep, err
	}
	defer cl.Close()

	if o.Rate <= 0 {
		o.Log.Info("bench: producing the stream", "events", o.Events)
		obs, pages, err := produceN(ctx, cl, n, stream, o.Events)
		if err != nil {
			return rep, err
		}
		rep.Observations, rep.Pages, rep.Events = obs, pages, obs+pages
		o.Log.Info("bench: measuring the bare consumer")
		if rep.Consumer, err = bareConsumer(ctx, o.Kafka, n.topic(topics.ProductObservations), obs); err != nil {
			return rep, err
		}
		o.Log.Info("bench: measuring the goka counter")
		if rep.Counter, err = gokaCounter(ctx, env, n, obs); err != nil {
			return rep, err
		}
	}

	db := "bench_pipeline" + n.suffix[len(".bench-"):]
	conn, err := chproj.OpenMigrated(ctx, o.ClickHouse, db)
	if err != nil {
		return rep, err
	}
	defer func() { _ = chproj.DropDatabase(context.WithoutCancel(ctx), o.ClickHouse, db) }()
	defer conn.Close()

	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start := time.Now()
	p, err := startPipeline(ctx, o, env, n, conn)
	if err != nil {
		return rep, err
	}
	var watch *heapwatch.Watch
	if o.Rate > 0 {
		watch = heapwatch.Start(ctx, min(max(o.Duration/30, time.Second), 30*time.Second))
		o.Log.Info("bench: producing at a steady rate", "rate", o.Rate, "duration", o.Duration)
		obs, pages, err := produceAtRate(ctx, cl, n, stream, o.Rate, o.Duration)
		if err != nil {
			watch.Stop()
			p.stop()
			return rep, err
		}
		rep.Observations, rep.Pages, rep.Events = obs, pages, obs+pages
		start = time.Now().Add(-o.Duration)
	}
	stages, last, err := p.waitDone(ctx, o, n, start)
	p.stop()
	if watch != nil {
		mem := watch.Stop()
		rep.Memory = &mem
	}
	if err != nil {
		return rep, err
	}
	elapsed := last.Sub(start).Seconds()
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := tv(ru1.Utime) + tv(ru1.Stime) - tv(ru0.Utime) - tv(ru0.Stime)
	rep.CPUSeconds, rep.CPUCores = cpu, cpu/max(elapsed, 1e-9)
	rep.PeakRSSMB = float64(ru1.Maxrss) / 1024
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	rep.LiveHeapMB = float64(ms.HeapAlloc) / (1 << 20)

	ratio := func(s *Stage) {
		if rep.Counter.PerSecond > 0 {
			s.VsCounter = s.PerSecond / rep.Counter.PerSecond
		}
		if rep.Consumer.PerSecond > 0 {
			s.VsConsumer = s.PerSecond / rep.Consumer.PerSecond
		}
	}
	for i := range stages {
		ratio(&stages[i])
	}
	rep.Stages = stages
	rep.EndToEnd = Stage{Name: "end to end (every processor and projector)", Rate: Rate{Records: rep.Events, Seconds: elapsed, PerSecond: float64(rep.Events) / max(elapsed, 1e-9)}}
	ratio(&rep.EndToEnd)
	if o.Rate > 0 {
		rep.FreshnessCH = p.freshness.latency()
		rep.FreshnessRD = p.freshnessRedis.latency()
	}
	return rep, nil
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// createTopics creates the run's copies of the catalog's stream topics.
func createTopics(ctx context.Context, kcfg config.Kafka, n names) error {
	adm, err := kafkaclient.NewAdmin(kcfg, nil)
	if err != nil {
		return err
	}
	defer adm.Close()
	var ts []topics.Topic
	for _, t := range topics.All() {
		if t.Kind != topics.KindStream {
			continue // goka creates its tables and loops for the run's groups
		}
		t.Name = n.topic(t.Name)
		ts = append(ts, t)
	}
	res, err := topics.Apply(ctx, adm, ts, topics.ApplyOptions{Replication: kcfg.Replication})
	if err != nil {
		return fmt.Errorf("create bench topics: %w", err)
	}
	for _, r := range res {
		if r.Err != nil {
			return fmt.Errorf("create bench topic %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}

// produceN produces scrapes until at least events events (observations + pages) were written.
func produceN(ctx context.Context, cl *kgo.Client, n names, s *Stream, events int) (obs, pages int64, err error) {
	now := time.Now()
	for obs+pages < int64(events) {
		var recs []*kgo.Record
		for range 20 {
			page, os := s.Next(now)
			rs, err := records(n, page, os)
			if err != nil {
				return obs, pages, err
			}
			recs = append(recs, rs...)
			obs, pages = obs+int64(len(os)), pages+1
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return obs, pages, fmt.Errorf("produce the bench stream: %w", err)
		}
	}
	return obs, pages, nil
}

// produceAtRate produces scrapes with event time now at about rate events per second for d.
func produceAtRate(ctx context.Context, cl *kgo.Client, n names, s *Stream, rate int, d time.Duration) (obs, pages int64, err error) {
	const tick = 20 * time.Millisecond
	perTick := float64(rate) * tick.Seconds()
	t := time.NewTicker(tick)
	defer t.Stop()
	end := time.Now().Add(d)
	var owed float64
	var errs atomic.Value
	for time.Now().Before(end) {
		select {
		case <-ctx.Done():
			return obs, pages, ctx.Err()
		case <-t.C:
		}
		owed += perTick
		for owed >= PageSize+1 {
			page, os := s.Next(time.Now())
			rs, err := records(n, page, os)
			if err != nil {
				return obs, pages, err
			}
			for _, r := range rs {
				cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
					if err != nil {
						errs.Store(err)
					}
				})
			}
			obs, pages = obs+int64(len(os)), pages+1
			owed -= float64(len(os) + 1)
		}
		if e, ok := errs.Load().(error); ok {
			return obs, pages, fmt.Errorf("produce the bench stream: %w", e)
		}
	}
	if err := cl.Flush(ctx); err != nil {
		return obs, pages, err
	}
	return obs, pages, nil
}

func records(n names, page *marketv1.SearchResultsObserved, obs []*marketv1.ProductObserved) ([]*kgo.Record, error) {
	sr, po := topics.MustLookup(topics.SearchResults), topics.MustLookup(topics.ProductObservations)
	out := make([]*kgo.Record, 0, len(obs)+1)
	r, err := topics.NewEventRecord(sr, page)
	if err != nil {
		return nil, err
	}
	r.Topic = n.topic(sr.Name)
	r.Timestamp = page.GetEnvelope().GetEventTime().AsTime()
	out = append(out, r)
	for _, o := range obs {
		r, err := topics.NewEventRecord(po, o)
		if err != nil {
			return nil, err
		}
		r.Topic = n.topic(po.Name)
		r.Timestamp = o.GetEnvelope().GetEventTime().AsTime()
		out = append(out, r)
	}
	return out, nil
}

// bareConsumer reads want records of topic with a plain franz-go group consumer.
func bareConsumer(ctx context.Context, kcfg config.Kafka, topic string, want int64) (Rate, error) {
	cl, err := kafkaclient.New(kcfg, nil, kgo.ConsumerGroup("bench-consumer-"+topic), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return Rate{}, err
	}
	defer cl.Close()
	var got int64
	first := time.Now() // from the start, group join included, as for the counter and the pipeline
	for got < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return Rate{}, ctx.Err()
		}
		if err := fs.Err0(); err != nil {
			return Rate{}, fmt.Errorf("bare consumer: %w", err)
		}
		got += int64(fs.NumRecords())
	}
	d := time.Since(first).Seconds()
	return Rate{Records: got, Seconds: d, PerSecond: float64(got) / max(d, 1e-9)}, nil
}

// gokaCounter runs a goka processor that only counts per key on the observations topic until
// it has seen want records.
func gokaCounter(ctx context.Context, env gokaenv.Env, n names, want int64) (Rate, error) {
	group := n.group("bench-counter")
	var seen atomic.Int64
	g := goka.DefineGroup(group,
		goka.Input(goka.Stream(n.topic(topics.ProductObservations)), new(codec.Bytes), func(ctx goka.Context, _ any) {
			seen.Add(1)
			c, _ := ctx.Value().(int64)
			ctx.SetValue(c + 1)
		}),
		goka.Persist(new(codec.Int64)),
	)
	p, err := goka.NewProcessor(env.Brokers, g, env.ProcessorOptions(group)...)
	if err != nil {
		return Rate{}, fmt.Errorf("goka counter: %w", err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	first := time.Now() // from the start, group join and table recovery included, as for the pipeline
	go func() { done <- p.Run(rctx) }()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for seen.Load() < want {
		select {
		case err := <-done:
			cancel()
			return Rate{}, fmt.Errorf("goka counter stopped after %d of %d records: %v", seen.Load(), want, err)
		case <-ctx.Done():
			cancel()
			<-done
			return Rate{}, ctx.Err()
		case <-t.C:
		}
	}
	d := time.Since(first).Seconds()
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return Rate{}, err
	}
	return Rate{Records: want, Seconds: d, PerSecond: float64(want) / max(d, 1e-9)}, nil
}

// stage is a running part of the pipeline and how to tell it is done.
type stage struct {
	name     string
	inputs   []string // run's topic names whose records the stage consumes
	after    []string // stages whose outputs are among the inputs
	consumed func() int64
	doneAt   time.Time
}

// running is the started pipeline.
type running struct {
	stages         []*stage
	cancel         context.CancelFunc
	wg             sync.WaitGroup
	errs           chan error
	freshness      *samples
	freshnessRedis *samples
	closers        []func()
}

func (r *running) stop() {
	r.cancel()
	r.wg.Wait()
	for _, c := range r.closers {
		c()
	}
}

// startPipeline starts the processors and ClickHouse projectors of the run.
func startPipeline(ctx context.Context, o Options, env gokaenv.Env, n names, conn driver.Conn) (*running, error) {
	rctx, cancel := context.WithCancel(ctx)
	r := &running{cancel: cancel, errs: make(chan error, 32), freshness: &samples{}, freshnessRedis: &samples{}}
	m := processors.NewMetrics(prometheus.NewRegistry())

	count := func() (*atomic.Int64, goka.ProcessorOption) {
		var c atomic.Int64
		return &c, goka.WithContextWrapper(func(ctx goka.Context) goka.Context {
			if !isLoop(string(ctx.Topic())) {
				c.Add(1)
			}
			return ctx
		})
	}
	pc := products.DefaultConfig()
	pc.Group, pc.Input, pc.Changes = n.group(string(pc.Group)), goka.Stream(n.topic(string(pc.Input))), goka.Stream(n.topic(string(pc.Changes)))
	kc := keywords.DefaultConfig()
	kc.Group, kc.Input, kc.Output = n.group(string(kc.Group)), goka.Stream(n.topic(string(kc.Input))), goka.Stream(n.topic(string(kc.Output)))
	kc.LateEvents, kc.Anomalies = goka.Stream(n.topic(string(kc.LateEvents))), goka.Stream(n.topic(string(kc.Anomalies)))
	kc.ProductTable = goka.GroupTable(pc.Group)
	ac := anomalies.DefaultConfig()
	ac.Group, ac.Input, ac.Output = n.group(string(ac.Group)), n.topic(ac.Input), n.topic(ac.Output)

	var procs []*goka.Processor
	add := func(name string, inputs []string, after []string, build func(goka.ProcessorOption) (*goka.Processor, error)) error {
		c, opt := count()
		p, err := build(opt)
		if err != nil {
			return fmt.Errorf("build %s: %w", name, err)
		}
		procs = append(procs, p)
		r.stages = append(r.stages, &stage{name: name, inputs: inputs, after: after, consumed: c.Load})
		return nil
	}
	if err := add("products (goka)", []string{string(pc.Input)}, nil, func(opt goka.ProcessorOption) (*goka.Processor, error) {
		return products.New(env, pc, m, opt)
	}); err != nil {
		cancel()
		return nil, err
	}
	if err := add("keywords (goka)", []string{string(kc.Input)}, nil, func(opt goka.ProcessorOption) (*goka.Processor, error) {
		return keywords.New(env, kc, m, opt)
	}); err != nil {
		cancel()
		return nil, err
	}
	if err := add("anomalies (goka)", []string{ac.Input}, []string{"products (goka)"}, func(opt goka.ProcessorOption) (*goka.Processor, error) {
		return anomalies.New(env, ac, m, opt)
	}); err != nil {
		cancel()
		return nil, err
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := processors.Run(rctx, o.Log, procs...); err != nil {
			r.errs <- err
		}
	}()
	kwProc := procs[1]
	ticker := keywords.NewTicker(kwProc, kc.TickInterval, time.Now, o.Log)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if kwProc.WaitForReadyContext(rctx) == nil {
			_ = ticker.Run(rctx)
		}
	}()

	upstream := map[string][]string{
		topics.ProductObservations: nil, topics.SearchResults: nil,
		topics.ProductChanges: {"products (goka)"}, topics.KeywordWindows: {"keywords (goka)"}, topics.Anomalies: {"anomalies (goka)", "keywords (goka)"},
	}
	pm := projections.NewMetrics(prometheus.NewRegistry())
	for _, t := range chproj.Tables() {
		after, ok := upstream[t.Topic]
		if !ok {
			continue // scrape status, deliveries, analyses, user actions: not in this stream
		}
		opts := projections.Options{Group: "bench-projector" + n.suffix + "-", Log: o.Log, Metrics: pm, FlushInterval: 200 * time.Millisecond}
		if t.Name == "observations" {
			opts.OnWritten = r.freshness.observe
		}
		ps, err := chproj.NewProjectors(o.Kafka, conn, []chproj.Table{t}, n.topic, opts)
		if err != nil {
			r.stop()
			return nil, err
		}
		p := ps[0]
		r.stages = append(r.stages, &stage{name: "clickhouse/" + t.Name, inputs: []string{n.topic(t.Topic)}, after: after, consumed: p.Consumed})
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			if err := p.Run(rctx); err != nil {
				r.errs <- err
			}
		}()
	}
	rdb, err := redisproj.Open(ctx, o.Redis)
	if err != nil {
		r.stop()
		return nil, err
	}
	prefix := o.Redis.Prefix + "bench" + n.suffix[len(".bench-"):] + ":"
	r.closers = append(r.closers, func() {
		ks := redisproj.NewKeyspace(rdb, prefix)
		if gens, err := ks.Generations(context.WithoutCancel(ctx)); err == nil {
			for _, g := range gens {
				_ = rdb.Del(context.WithoutCancel(ctx), prefix+"current", prefix+"next").Err()
				_, _ = ks.DeleteGeneration(context.WithoutCancel(ctx), g)
			}
		}
		rdb.Del(context.WithoutCancel(ctx), prefix+"generation")
		rdb.Close()
	})
	tmap := map[string]string{}
	for _, t := range redisproj.Topics() {
		tmap[t] = n.topic(t)
	}
	sinks, err := redisproj.Sinks(ctx, redisproj.NewKeyspace(rdb, prefix), redisproj.Options{Topics: tmap})
	if err != nil {
		r.stop()
		return nil, err
	}
	// The synthetic market stream has no subscription changes: no projector waits on that topic.
	sinks = slices.DeleteFunc(sinks, func(s *redisproj.Sink) bool { return s.Topic() == n.topic(topics.Subscriptions) })
	rps, err := redisproj.Projectors(o.Kafka, sinks, func(s *redisproj.Sink) projections.Options {
		opts := projections.Options{Group: "bench-" + strings.ReplaceAll(s.Name(), "/", "-") + n.suffix, Log: o.Log, Metrics: pm, FlushInterval: 200 * time.Millisecond}
		if s.Name() == "redis/keywords" {
			opts.OnWritten = r.freshnessRedis.observe
		}
		return opts
	})
	if err != nil {
		r.stop()
		return nil, err
	}
	redisAfter := map[string][]string{
		n.topic(topics.ProductChanges): {"products (goka)"}, n.topic(topics.SearchResults): nil,
		n.topic(topics.KeywordWindows): {"keywords (goka)"}, n.topic(topics.Anomalies): {"anomalies (goka)", "keywords (goka)"},
	}
	for i, p := range rps {
		s := sinks[i]
		r.stages = append(r.stages, &stage{name: s.Name(), inputs: []string{s.Topic()}, after: redisAfter[s.Topic()], consumed: p.Consumed})
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			if err := p.Run(rctx); err != nil {
				r.errs <- err
			}
		}()
	}
	return r, nil
}

func isLoop(topic string) bool { return strings.HasSuffix(topic, "-loop") }

// waitDone waits until every stage consumed all the records of its inputs (inputs of a stage are
// final once the stages upstream of it are done) and returns the stages' rates.
func (r *running) waitDone(ctx context.Context, o Options, n names, start time.Time) ([]Stage, time.Time, error) {
	adm, err := kafkaclient.NewAdmin(o.Kafka, nil)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer adm.Close()
	done := map[string]bool{}
	deadline := time.Now().Add(30 * time.Minute)
	lastLog := time.Now()
	for len(done) < len(r.stages) {
		select {
		case err := <-r.errs:
			return nil, time.Time{}, err
		case <-ctx.Done():
			return nil, time.Time{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, time.Time{}, errors.New("pipeline did not finish in 30 minutes")
		}
		for _, s := range r.stages {
			if done[s.name] || !allDone(done, s.after) {
				continue
			}
			ends, err := adm.ListEndOffsets(ctx, s.inputs...)
			if err != nil {
				continue
			}
			var total int64
			ends.Each(func(lo kadm.ListedOffset) { total += lo.Offset })
			if s.consumed() >= total {
				s.doneAt = time.Now()
				done[s.name] = true
			}
		}
		if time.Since(lastLog) > 5*time.Second {
			lastLog = time.Now()
			o.Log.Info("bench: waiting for the pipeline", "done", len(done), "stages", len(r.stages))
		}
	}
	var out []Stage
	var last time.Time
	for _, s := range r.stages {
		d := s.doneAt.Sub(start).Seconds()
		c := s.consumed()
		out = append(out, Stage{Name: s.name, Rate: Rate{Records: c, Seconds: d, PerSecond: float64(c) / max(d, 1e-9)}})
		if s.doneAt.After(last) {
			last = s.doneAt
		}
	}
	return out, last, nil
}

func allDone(done map[string]bool, names []string) bool {
	for _, n := range names {
		if !done[n] {
			return false
		}
	}
	return true
}

// samples collects event-time-to-visible delays.
type samples struct {
	mu sync.Mutex
	ms []float64
}

// observe records, for every 10th record, the delay from its event time (the record timestamp
// the producer set to the event time) to when its rows were visible.
func (s *samples) observe(recs []*kgo.Record, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range recs {
		if i%10 == 0 && !r.Timestamp.IsZero() {
			s.ms = append(s.ms, float64(at.Sub(r.Timestamp).Microseconds())/1000)
		}
	}
}

func (s *samples) latency() *Latency {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ms) == 0 {
		return &Latency{}
	}
	v := slices.Clone(s.ms)
	slices.Sort(v)
	q := func(p float64) float64 { return v[min(len(v)-1, int(p*float64(len(v))))] }
	return &Latency{Samples: len(v), P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: v[len(v)-1]}
}
