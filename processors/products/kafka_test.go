package products

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lovoo/goka"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/internal/testenv"
	"github.com/marketinsightspro/marketinsights/processors"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// rig is a tracker's topics on the test Kafka: its own input, changes and group names.
type rig struct {
	k   *testenv.KafkaEnv
	cfg Config
}

// newRig creates the tracker's topics with the catalog's partition counts, under names unique to
// the test (the group's table is created by goka and deleted when the test ends).
func newRig(t testing.TB) *rig {
	t.Helper()
	k := testenv.Kafka(t)
	cfg := DefaultConfig()
	cfg.Input = goka.Stream(k.TopicName(t, topics.ProductObservations))
	cfg.Changes = goka.Stream(k.TopicName(t, topics.ProductChanges))
	cfg.Group = goka.Group(k.TopicName(t, topics.GroupProductTracker))
	k.CreateTopic(t, string(cfg.Input), topics.MustLookup(topics.ProductObservations).Partitions)
	k.CreateTopic(t, string(cfg.Changes), topics.MustLookup(topics.ProductChanges).Partitions)
	k.CreateTopic(t, topics.DeadLetters, topics.MustLookup(topics.DeadLetters).Partitions)
	r := &rig{k: k, cfg: cfg}
	r.deleteAtEnd(t, string(cfg.TableOf()))
	return r
}

// deleteAtEnd deletes goka-created topics (whose names testenv cannot recognise) after the test.
func (r *rig) deleteAtEnd(t testing.TB, names ...string) {
	t.Cleanup(func() {
		if os.Getenv("MIP_TEST_KEEP") == "1" {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = r.k.Admin(t).DeleteTopics(ctx, names...)
	})
}

// env returns a goka environment on the test Kafka with table storage in dir.
func (r *rig) env(dir string) gokaenv.Env {
	return gokaenv.Env{Brokers: r.k.Brokers, ClientID: "products-test", StorageDir: dir}
}

// produce writes observations to topic, keyed by ASIN, with the catalog's headers, through a
// franz-go client with its default partitioner — as the scraper and `marketinsights produce`
// write them, so the tests also check that goka (gokaenv's hasher) finds keys where Kafka
// clients put them.
func (r *rig) produce(t testing.TB, topic goka.Stream, obs []*marketv1.ProductObserved) {
	t.Helper()
	r.produceRecords(t, records(t, topic, obs)...)
}

// records returns observations as records of topic, keyed by ASIN, with the catalog's headers.
func records(t testing.TB, topic goka.Stream, obs []*marketv1.ProductObserved) []*kgo.Record {
	t.Helper()
	h := topics.MustLookup(topics.ProductObservations)
	recs := make([]*kgo.Record, 0, len(obs))
	for _, o := range obs {
		b, err := proto.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		rec := &kgo.Record{Topic: string(topic), Key: []byte(o.GetAsin()), Value: b}
		for k, v := range processors.EventHeaders(h, o) {
			rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: k, Value: v})
		}
		recs = append(recs, rec)
	}
	return recs
}

// produceRaw writes raw bytes under key to topic.
func (r *rig) produceRaw(t testing.TB, topic goka.Stream, key string, value []byte) {
	t.Helper()
	r.produceRecords(t, &kgo.Record{Topic: string(topic), Key: []byte(key), Value: value})
}

func (r *rig) produceRecords(t testing.TB, recs ...*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := r.k.Client(t).ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce %d records: %v", len(recs), err)
	}
}

// running is a processor running in the background.
type running struct {
	p    *goka.Processor
	done chan error
	stop context.CancelFunc
	n    atomic.Int64 // input records processed
	// first and last are the unix nanos of the first and last processed record.
	first, last atomic.Int64
}

func (r *running) record() {
	now := time.Now().UnixNano()
	r.first.CompareAndSwap(0, now)
	r.last.Store(now)
	r.n.Add(1)
}

// start runs a processor built by build (given the hook to call after every record) until
// Stop or the end of the test.
func start(t testing.TB, build func(onDone func()) (*goka.Processor, error)) *running {
	t.Helper()
	r := &running{done: make(chan error, 1)}
	p, err := build(r.record)
	if err != nil {
		t.Fatal(err)
	}
	r.p = p
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() { r.done <- p.Run(ctx) }()
	t.Cleanup(func() { r.Stop(t) })
	return r
}

// Stop stops the processor and waits for it (once).
func (r *running) Stop(t testing.TB) {
	t.Helper()
	if r.stop == nil {
		return
	}
	r.stop()
	r.stop = nil
	select {
	case err := <-r.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("processor %s: %v", r.p.Graph().Group(), err)
		}
	case <-time.After(60 * time.Second):
		t.Errorf("processor %s did not stop within 60 s", r.p.Graph().Group())
	}
}

// waitProcessed waits until the processor has processed n input records.
func (r *running) waitProcessed(t testing.TB, n int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for r.n.Load() < n {
		select {
		case err := <-r.done:
			t.Fatalf("processor %s stopped: %v", r.p.Graph().Group(), err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("processor %s processed %d of %d records in %v", r.p.Graph().Group(), r.n.Load(), n, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// rate is records per second between the first and the last record processed.
func (r *running) rate() float64 {
	d := time.Duration(r.last.Load() - r.first.Load())
	if d <= 0 {
		return 0
	}
	return float64(r.n.Load()-1) / d.Seconds()
}

// startTracker runs the product tracker of the rig with its storage in dir.
func (r *rig) startTracker(t testing.TB, dir string, m *processors.Metrics) *running {
	t.Helper()
	return start(t, func(onDone func()) (*goka.Processor, error) {
		return newProcessor(r.env(dir), r.cfg, m, onDone)
	})
}

// workload returns n observations of asins products, as a scraper would send them: event times
// about step apart per product with up to step*6 of disorder, prices, reviews and ranks
// that drift, optional fields sometimes missing, and about 3% of records delivered twice.
func workload(seed uint64, n, asins int, step time.Duration) []*marketv1.ProductObserved {
	r := rand.New(rand.NewPCG(seed, 99))
	type product struct {
		asin           string
		at             time.Time
		price, reviews int64
		rank           int64
		prime          bool
		avail          marketv1.Availability
	}
	ps := make([]*product, asins)
	for i := range ps {
		ps[i] = &product{asin: fmt.Sprintf("B0%08d", i), at: t0, price: int64(1000 + r.IntN(9000)), reviews: int64(r.IntN(5000)),
			rank: int64(1 + r.IntN(100000)), prime: r.IntN(2) == 0, avail: marketv1.Availability_AVAILABILITY_IN_STOCK}
	}
	out := make([]*marketv1.ProductObserved, 0, n)
	for len(out) < n {
		if len(out) > 0 && r.Float64() < 0.03 {
			out = append(out, proto.Clone(out[r.IntN(len(out))]).(*marketv1.ProductObserved))
			continue
		}
		p := ps[r.IntN(len(ps))]
		p.at = p.at.Add(step)
		if r.Float64() < 0.2 {
			p.price += int64(r.IntN(201) - 100)
			p.price = max(p.price, 1)
		}
		p.reviews += int64(r.IntN(3))
		p.rank = max(1, p.rank+int64(r.IntN(201)-100))
		if r.Float64() < 0.02 {
			p.prime = !p.prime
		}
		if r.Float64() < 0.02 {
			p.avail = marketv1.Availability(1 + r.IntN(3))
		}
		at := p.at.Add(-time.Duration(r.IntN(60)) * step / 10)
		var idb [16]byte
		for i := range idb {
			idb[i] = byte(r.UintN(256))
		}
		id, _ := uuid.FromBytes(idb[:])
		a := &marketv1.ProductAttributes{
			Title: proto.String("Product " + p.asin), Price: &marketv1.Money{AmountMinor: p.price, Currency: "USD"},
			Rating: proto.Float64(4.2), ReviewCount: proto.Int64(p.reviews), Prime: proto.Bool(p.prime), Availability: p.avail,
			Ranks: []*marketv1.BestSellersRank{{Rank: p.rank, Category: "Electronics"}},
		}
		if r.Float64() < 0.1 {
			a.Price = nil
		}
		if r.Float64() < 0.3 {
			a.Ranks = nil
		}
		out = append(out, &marketv1.ProductObserved{
			Envelope:    &marketv1.Envelope{EventId: id.String(), EventTime: timestamppb.New(at), Producer: "workload", SchemaVersion: marketv1.SchemaVersion},
			Asin:        p.asin,
			Marketplace: "amazon.com",
			Attributes:  a,
			Source:      marketv1.ObservationSource_OBSERVATION_SOURCE_SEARCH_PAGE,
			Keyword:     "usb charger",
		})
	}
	return out
}
