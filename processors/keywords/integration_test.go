package keywords

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/internal/testenv"
	"github.com/marketinsightspro/marketinsights/processors"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// kafkaRig is the processor's topics on the test Kafka, with the catalog's partition counts,
// cleanup policies and retention, under names unique to the test (the dead-letter topic keeps
// its name: processors.DeadLetter writes to it).
type kafkaRig struct {
	k   *testenv.KafkaEnv
	cfg Config
}

func newKafkaRig(t testing.TB) *kafkaRig {
	t.Helper()
	k := testenv.Kafka(t)
	cfg := DefaultConfig()
	cfg.Group = goka.Group(k.TopicName(t, topics.GroupKeywordWindows))
	cfg.Input = goka.Stream(k.TopicName(t, topics.SearchResults))
	cfg.Output = goka.Stream(k.TopicName(t, topics.KeywordWindows))
	cfg.LateEvents = goka.Stream(k.TopicName(t, topics.LateEvents))
	cfg.Anomalies = goka.Stream(k.TopicName(t, topics.Anomalies))
	cfg.ProductTable = goka.Table(k.TopicName(t, topics.ProductTrackerTable))
	names := map[string]string{
		topics.SearchResults:       string(cfg.Input),
		topics.KeywordWindowsTable: string(goka.GroupTable(cfg.Group)),
		topics.KeywordWindowsLoop:  string(cfg.Group) + "-loop",
		topics.KeywordWindows:      string(cfg.Output),
		topics.LateEvents:          string(cfg.LateEvents),
		topics.Anomalies:           string(cfg.Anomalies),
		topics.DeadLetters:         topics.DeadLetters,
		topics.ProductTrackerTable: string(cfg.ProductTable),
	}
	var ts []topics.Topic
	for catalogName, name := range names {
		tp := topics.MustLookup(catalogName)
		tp.Name = name
		ts = append(ts, tp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := topics.Apply(ctx, k.Admin(t), ts, topics.ApplyOptions{Replication: -1})
	if err != nil {
		t.Fatalf("create topics: %v (%v)", err, res)
	}
	for _, name := range names {
		k.CreateTopic(t, name, topics.MustLookup(catalogOf(names, name)).Partitions) // waits for leaders
	}
	t.Cleanup(func() {
		if os.Getenv("MIP_TEST_KEEP") == "1" {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = k.Admin(t).DeleteTopics(ctx, names[topics.KeywordWindowsTable], names[topics.KeywordWindowsLoop])
	})
	return &kafkaRig{k: k, cfg: cfg}
}

func catalogOf(names map[string]string, name string) string {
	for c, n := range names {
		if n == name {
			return c
		}
	}
	return ""
}

func (r *kafkaRig) env(dir string) gokaenv.Env {
	return gokaenv.Env{Brokers: r.k.Brokers, ClientID: "keywords-test", StorageDir: dir}
}

// emit writes values keyed by key to topic with a goka emitter (goka's partitioning).
func (r *kafkaRig) emit(t testing.TB, topic string, catalogName string, key func(proto.Message) string, values ...proto.Message) {
	t.Helper()
	em, err := goka.NewEmitter(r.k.Brokers, goka.Stream(topic), processors.Codec(catalogName), r.env("").EmitterOptions()...)
	if err != nil {
		t.Fatalf("emitter: %v", err)
	}
	tp := topics.MustLookup(catalogName)
	var failed atomic.Pointer[error]
	for _, v := range values {
		p, err := em.EmitWithHeaders(key(v), v, processors.EventHeaders(tp, v))
		if err != nil {
			t.Fatalf("emit to %s: %v", topic, err)
		}
		p.Then(func(err error) {
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		})
	}
	if err := em.Finish(); err != nil {
		t.Fatalf("emitter finish: %v", err)
	}
	if e := failed.Load(); e != nil {
		t.Fatalf("emit to %s: %v", topic, *e)
	}
}

// reader reads a topic from the start, decoding values of type T.
type reader[T proto.Message] struct {
	cl  *kgo.Client
	new func() T
	got []T
}

func newReader[T proto.Message](t *testing.T, k *testenv.KafkaEnv, topic string, newT func() T) *reader[T] {
	return &reader[T]{cl: k.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())), new: newT}
}

// until polls until cond holds on what was read, or fails the test after timeout.
func (rd *reader[T]) until(t *testing.T, timeout time.Duration, what string, cond func([]T) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for !cond(rd.got) {
		fs := rd.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: not after %v (%d records read)", what, timeout, len(rd.got))
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(rec *kgo.Record) {
			v := rd.new()
			if err := proto.Unmarshal(rec.Value, v); err != nil {
				t.Fatalf("record %d/%d: %v", rec.Partition, rec.Offset, err)
			}
			rd.got = append(rd.got, v)
		})
	}
}

// TestIntegrationKafka runs the processor on the test Kafka with the catalog's topics: search
// pages of a dozen keywords (every page delivered twice, one undecodable record, one late page,
// ranks in the product table), then the Ticker with a fake clock two days on. Every update, the
// anomaly, the late event, the dead letter and every keyword's table value must be what the pure
// Apply and Tick give for the same records in the same order.
func TestIntegrationKafka(t *testing.T) {
	began := time.Now()
	r := newKafkaRig(t)
	cfg := r.cfg
	t.Logf("topics created in %v", time.Since(began))

	// Workload: 12 keywords x 20 scrapes a minute apart, and one keyword whose top 10 changes.
	var evs []*marketv1.SearchResultsObserved
	var sims []*sim
	for i := range 12 {
		s := newSim(uint64(1000+i), fmt.Sprintf("keyword %02d", i), 10, 20)
		s.churn = 0.05
		sims = append(sims, s)
		evs = append(evs, s.run(t0, 20, time.Minute, 20*time.Second)...)
	}
	var hour8, hour9 []item
	for i := range 11 {
		asin := fmt.Sprintf("TOP%02d", i)
		hour8 = append(hour8, item{asin: asin, pos: int32(i + 1), brand: "Brand", badge: int64(1000 - 50*i)})
		hour9 = append(hour9, hour8[i])
	}
	hour9[10].badge = 5000
	const topKw = "top ten keyword"
	evs = append(evs,
		page(topKw, t0.Add(55*time.Minute), "top-1", listings(hour8...)...),
		page(topKw, t0.Add(65*time.Minute), "top-2", listings(hour9...)...),
		page(topKw, t0.Add(131*time.Minute), "top-3", listings(hour9...)...),
		page("keyword 00", t0.Add(-48*time.Hour), "late-1", listings(item{asin: "OLD", pos: 1})...), // late
	)
	var delivered []proto.Message
	for _, ev := range evs {
		delivered = append(delivered, ev, ev) // every page twice
	}
	lookup := func(asin string) *marketv1.ProductState {
		for _, s := range sims {
			if ps := s.lookup(asin); ps != nil {
				return ps
			}
		}
		return nil
	}
	var states []proto.Message
	for _, s := range sims {
		for _, p := range s.products {
			if ps := lookup(p.asin); ps != nil {
				states = append(states, ps)
			}
		}
	}

	// Expected: the pure core over each keyword's records in order (one partition keeps them so).
	now := t0.Add(50 * time.Hour)
	want := map[string]*applier{}
	for _, m := range delivered {
		ev := m.(*marketv1.SearchResultsObserved)
		a := want[ev.GetKeyword()]
		if a == nil {
			a = newApplier(t, cfg, lookup)
			want[ev.GetKeyword()] = a
		}
		a.apply(ev)
	}
	beforeTick := map[string]int{}
	wantUpdates := 0
	for k, a := range want {
		beforeTick[k] = len(a.updates)
		if _, due := NextDeadline(a.st, cfg); due {
			a.tick(now)
		}
		wantUpdates += len(a.updates)
	}

	r.emit(t, string(cfg.ProductTable), topics.ProductTrackerTable, func(m proto.Message) string { return m.(*marketv1.ProductState).GetAsin() }, states...)
	r.emit(t, string(cfg.Input), topics.SearchResults, func(m proto.Message) string { return m.(*marketv1.SearchResultsObserved).GetKeyword() }, delivered...)
	raw, err := goka.NewEmitter(r.k.Brokers, cfg.Input, rawCodec{}, r.env("").EmitterOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.EmitSync("garbage keyword", []byte("\xffnot a protobuf")); err != nil {
		t.Fatal(err)
	}
	_ = raw.Finish()

	t.Logf("records produced after %v", time.Since(began))
	reg := prometheus.NewRegistry()
	proc, err := New(r.env(t.TempDir()), cfg, processors.NewMetrics(reg))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- proc.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("processor: %v", err)
		}
	}()
	rctx, rcancel := context.WithTimeout(ctx, 60*time.Second)
	defer rcancel()
	if err := processors.WaitReady(rctx, proc); err != nil {
		t.Fatal(err)
	}
	t.Logf("processor ready after %v", time.Since(began))

	out := newReader(t, r.k, string(cfg.Output), func() *marketv1.KeywordWindowUpdated { return new(marketv1.KeywordWindowUpdated) })
	var wantBefore int
	for _, n := range beforeTick {
		wantBefore += n
	}
	start := time.Now()
	out.until(t, 90*time.Second, "updates of the pages", func(us []*marketv1.KeywordWindowUpdated) bool { return len(us) >= wantBefore })
	t.Logf("%d pages (%d records with redeliveries) -> %d updates in %v", len(evs), len(delivered), len(out.got), time.Since(start))

	// The ticker, two days of processing time on: every keyword's windows close through the loopback.
	ticker := NewTicker(proc, cfg.TickInterval, func() time.Time { return now }, nil)
	if _, err := ticker.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	out.until(t, 90*time.Second, "final updates of the ticks", func(us []*marketv1.KeywordWindowUpdated) bool { return len(us) >= wantUpdates })

	t.Logf("ticks done after %v", time.Since(began))
	got := map[string][]string{}
	for _, u := range out.got {
		got[u.GetKeyword()] = append(got[u.GetKeyword()], u.GetEnvelope().GetEventId())
	}
	for k, a := range want {
		var ids []string
		for _, u := range a.updates {
			ids = append(ids, u.GetEnvelope().GetEventId())
		}
		if !slices.Equal(got[k], ids) {
			t.Errorf("%s: %d updates on the topic, want %d (or other ones)", k, len(got[k]), len(ids))
		}
		v, err := proc.Get(k)
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := v.(*marketv1.KeywordWindowsState); !proto.Equal(st, a.st) {
			t.Errorf("%s: table value differs from the pure core's", k)
		}
	}
	if len(out.got) != wantUpdates {
		t.Errorf("%d updates, want %d", len(out.got), wantUpdates)
	}

	anoms := newReader(t, r.k, string(cfg.Anomalies), func() *marketv1.AnomalyDetected { return new(marketv1.AnomalyDetected) })
	anoms.until(t, 30*time.Second, "the new top-10 competitor", func(as []*marketv1.AnomalyDetected) bool { return len(as) >= 1 })
	if a := anoms.got[0]; a.GetAsin() != "TOP10" || a.GetKeyword() != topKw || !proto.Equal(a, want[topKw].anoms[0]) {
		t.Errorf("anomaly %v", a)
	}
	lates := newReader(t, r.k, string(cfg.LateEvents), func() *marketv1.LateEvent { return new(marketv1.LateEvent) })
	lates.until(t, 30*time.Second, "the late page", func(ls []*marketv1.LateEvent) bool { return len(ls) >= 2 })
	if l := lates.got[0]; l.GetLateEventId() != "late-1" || len(lates.got) != 2 { // delivered twice: late twice
		t.Errorf("late events %v", lates.got)
	}
	dl := r.k.Client(t, kgo.ConsumeTopics(topics.DeadLetters), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
	defer dcancel()
	for found := false; !found; {
		fs := dl.PollFetches(dctx)
		if dctx.Err() != nil {
			t.Fatal("no dead letter for the undecodable record")
		}
		fs.EachRecord(func(rec *kgo.Record) {
			for _, h := range rec.Headers {
				found = found || h.Key == topics.HeaderDLQTopic && string(h.Value) == string(cfg.Input)
			}
		})
	}
	if n := counter(t, reg, "marketinsights_processor_late_events_total"); n != 2 {
		t.Errorf("late_events_total %v, want 2", n)
	}
}

// rawCodec writes bytes as they are.
type rawCodec struct{}

func (rawCodec) Encode(v any) ([]byte, error) { return v.([]byte), nil }
func (rawCodec) Decode(b []byte) (any, error) { return b, nil }
