package anomalies

import (
	"context"
	"log/slog"
	"os"
	"slices"
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

// runProcessor starts the processor of cfg on env and waits until it is ready; the returned stop
// function stops it and waits for it to return.
func runProcessor(t *testing.T, env gokaenv.Env, cfg Config) (stop func()) {
	t.Helper()
	proc, err := New(env, cfg, processors.NewMetrics(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- proc.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	if err := processors.WaitReady(wctx, proc); err != nil {
		cancel()
		t.Fatalf("processor not ready: %v (run: %v)", err, <-done)
	}
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("processor: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("processor did not stop within 60 s")
		}
	}
	t.Cleanup(stop)
	return stop
}

func produce(t *testing.T, cl *kgo.Client, topic string, evs ...*marketv1.ProductStateChanged) {
	t.Helper()
	var recs []*kgo.Record
	for _, ev := range evs {
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(ev.GetAsin()), Value: b})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// consumeUntil reads topic from cl until n records arrived, or fails after 60 s.
func consumeUntil(t *testing.T, cl *kgo.Client, n int, keep func(*kgo.Record) bool) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records in 60 s", len(got), n)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if keep(r) {
				got = append(got, r)
			}
		})
	}
	return got
}

// forProduct returns the changes of pricesThen for product a.
func forProduct(a string, n int, then ...int64) []*marketv1.ProductStateChanged {
	evs := pricesThen(n, then...)
	for _, ev := range evs {
		ev.Asin = a
		ev.ObservationEventId = a + "/" + ev.GetObservationEventId()
	}
	return evs
}

// The processor on a Kafka broker: changes of two products in, anomalies out, identical to what
// the pure logic computes; a processor restarted on an empty storage directory recovers its
// detectors from the table's changelog and goes on exactly where the first one stopped, ignoring
// redelivered changes; garbage goes to the dead-letter topic.
func TestIntegrationKafka(t *testing.T) {
	k := testenv.Kafka(t)
	cfg := DefaultConfig()
	cfg.Group = goka.Group(k.TopicName(t, string(Group)))
	cfg.Input = k.TopicName(t, topics.ProductChanges)
	cfg.Output = k.TopicName(t, topics.Anomalies)
	k.CreateTopic(t, cfg.Input, topics.MustLookup(topics.ProductChanges).Partitions)
	k.CreateTopic(t, cfg.Output, topics.MustLookup(topics.Anomalies).Partitions)
	k.CreateTopic(t, topics.DeadLetters, topics.MustLookup(topics.DeadLetters).Partitions)
	table := string(goka.GroupTable(cfg.Group))
	t.Cleanup(func() { // the group table's name does not end in the test's suffix
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := k.Admin(t).DeleteTopics(ctx, table); err != nil {
			t.Logf("delete %s: %v", table, err)
		}
	})
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	env := gokaenv.Env{Brokers: k.Brokers, ClientID: "anomalies-it", Replication: -1, StorageDir: t.TempDir(), Logger: log}
	cl := k.Client(t, kgo.ConsumeTopics(cfg.Output), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))

	products := []string{"B0ITEST001", "B0ITEST002", "B0ITEST003"}
	var first, second []*marketv1.ProductStateChanged
	for _, a := range products {
		evs := forProduct(a, 30, 1999, 1999, 3900) // a drop, then a spike back past the flicker
		first = append(first, evs[:30]...)
		second = append(second, evs[25:]...) // five redelivered, then the new ones
	}
	// What the pure logic says, product by product.
	var want []*marketv1.AnomalyDetected
	a := analyzer(t)
	for _, p := range products {
		var st *marketv1.DetectorState
		for _, ev := range forProduct(p, 30, 1999, 1999, 3900) {
			out, err := a.Apply(p, st, ev)
			if err != nil {
				t.Fatal(err)
			}
			st = out.State
			want = append(want, out.Anomalies...)
		}
	}
	if len(want) != 2*len(products) {
		t.Fatalf("the pure logic gives %d anomalies, want %d", len(want), 2*len(products))
	}

	stop := runProcessor(t, env, cfg)
	producer := k.Client(t) // franz-go's default partitioner: gokaenv hashes keys the same way
	produce(t, producer, cfg.Input, first...)
	// Wait until the first processor applied everything: its table holds version 30 for each product.
	waitTable(t, k, table, products, 30)
	stop()

	env.StorageDir = t.TempDir() // the restarted processor recovers from Kafka alone
	runProcessor(t, env, cfg)
	produce(t, producer, cfg.Input, second...)
	garbage := &kgo.Record{Topic: cfg.Input, Key: []byte("B0GARBAGE-" + cfg.Input), Value: []byte{0x0a, 0xff}}
	if err := producer.ProduceSync(context.Background(), garbage).FirstErr(); err != nil {
		t.Fatal(err)
	}

	recs := consumeUntil(t, cl, len(want), func(*kgo.Record) bool { return true })
	byID := map[string]*marketv1.AnomalyDetected{}
	for _, r := range recs {
		d := &marketv1.AnomalyDetected{}
		if err := proto.Unmarshal(r.Value, d); err != nil {
			t.Fatal(err)
		}
		if string(r.Key) != d.GetAsin() {
			t.Errorf("record key %q for asin %q", r.Key, d.GetAsin())
		}
		byID[d.GetAnomalyId()] = d
	}
	for _, w := range want {
		if g := byID[w.GetAnomalyId()]; !proto.Equal(g, w) {
			t.Errorf("anomaly %s (%s %v): got %v, want %v", w.GetAnomalyId(), w.GetAsin(), w.GetKind(), g, w)
		}
	}
	// Nothing more arrives: the redelivered changes emitted nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if extra := cl.PollFetches(ctx); extra.NumRecords() > 0 {
		t.Fatalf("%d anomalies more than expected", extra.NumRecords())
	}

	dl := k.Client(t, kgo.ConsumeTopics(topics.DeadLetters), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	dead := consumeUntil(t, dl, 1, func(r *kgo.Record) bool { return string(r.Key) == string(garbage.Key) })
	if string(dead[0].Value) != string(garbage.Value) {
		t.Fatalf("dead letter value %x, want %x", dead[0].Value, garbage.Value)
	}
}

// waitTable reads the group table's changelog until every product's latest value has version v.
func waitTable(t *testing.T, k *testenv.KafkaEnv, table string, products []string, v int64) {
	t.Helper()
	cl := k.Client(t, kgo.ConsumeTopics(table), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	latest := map[string]int64{}
	for {
		done := true
		for _, p := range products {
			done = done && latest[p] >= v
		}
		if done {
			return
		}
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("table %s: versions %v, want %d for %v", table, latest, v, products)
		}
		fs.EachRecord(func(r *kgo.Record) {
			st := &marketv1.DetectorState{}
			if err := proto.Unmarshal(r.Value, st); err == nil && slices.Contains(products, string(r.Key)) {
				latest[string(r.Key)] = st.GetVersion()
			}
		})
	}
}
