package processors_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/internal/testenv"
	"github.com/marketinsightspro/marketinsights/processors"
	"github.com/marketinsightspro/marketinsights/processors/anomalies"
	"github.com/marketinsightspro/marketinsights/processors/keywords"
	"github.com/marketinsightspro/marketinsights/processors/products"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// pipeline is the three chained processors on topics of the test's own.
type pipeline struct {
	env      gokaenv.Env
	products products.Config
	keywords keywords.Config
	anom     anomalies.Config
}

func newPipeline(t *testing.T, k *testenv.KafkaEnv) *pipeline {
	name := func(base string) string { return k.TopicName(t, base) }
	p := &pipeline{env: gokaenv.Env{Brokers: k.Brokers, ClientID: "pipeline-test", Replication: -1}}
	p.products = products.DefaultConfig()
	p.products.Group = goka.Group(name("product-tracker"))
	p.products.Input = goka.Stream(name(topics.ProductObservations))
	p.products.Changes = goka.Stream(name(topics.ProductChanges))
	p.keywords = keywords.DefaultConfig()
	p.keywords.Group = goka.Group(name("keyword-windows"))
	p.keywords.Input = goka.Stream(name(topics.SearchResults))
	p.keywords.Output = goka.Stream(name(topics.KeywordWindows))
	p.keywords.LateEvents = goka.Stream(name(topics.LateEvents))
	p.keywords.Anomalies = goka.Stream(name(topics.Anomalies))
	p.keywords.ProductTable = p.products.TableOf()
	p.anom = anomalies.DefaultConfig()
	p.anom.Group = goka.Group(name("anomaly-detector"))
	p.anom.Input = string(p.products.Changes)
	p.anom.Output = string(p.keywords.Anomalies)
	for _, tp := range []string{string(p.products.Input), string(p.products.Changes), string(p.keywords.Input),
		string(p.keywords.Output), string(p.keywords.LateEvents), string(p.keywords.Anomalies)} {
		k.CreateTopic(t, tp, topics.EntityPartitions)
	}
	k.CreateTopic(t, topics.DeadLetters, topics.MustLookup(topics.DeadLetters).Partitions)
	return p
}

// start runs the processors on a fresh storage directory until the returned stop is called.
func (p *pipeline) start(t *testing.T) (procs []*goka.Processor, stop func()) {
	t.Helper()
	env := p.env
	env.StorageDir = t.TempDir()
	pp, err := products.New(env, p.products, nil)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := keywords.New(env, p.keywords, nil)
	if err != nil {
		t.Fatal(err)
	}
	ap, err := anomalies.New(env, p.anom, nil)
	if err != nil {
		t.Fatal(err)
	}
	procs = []*goka.Processor{pp, kp, ap}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- processors.Run(ctx, slog.New(slog.DiscardHandler), procs...) }()
	readyCtx, cancelReady := context.WithTimeout(ctx, 60*time.Second)
	defer cancelReady()
	if err := processors.WaitReady(readyCtx, procs...); err != nil {
		cancel()
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("processors: %v", err)
		}
	}
	t.Cleanup(stop)
	return procs, stop
}

// observations returns n product observations over asins products and their search pages.
func observations(n, asins, kws int, start time.Time) ([]*marketv1.ProductObserved, []*marketv1.SearchResultsObserved) {
	rng := rand.New(rand.NewPCG(1, 2))
	var obs []*marketv1.ProductObserved
	var pages []*marketv1.SearchResultsObserved
	price := make([]int64, asins)
	for i := range price {
		price[i] = 1000 + int64(rng.IntN(9000))
	}
	for i := 0; len(obs) < n; i++ {
		at := start.Add(time.Duration(i) * time.Second)
		kw := fmt.Sprintf("keyword %d", i%kws)
		page := &marketv1.SearchResultsObserved{Envelope: marketv1.NewEnvelope("test", "", at), Keyword: kw,
			Marketplace: "amazon.com", Page: 1}
		for pos := 1; pos <= 48 && len(obs) < n; pos++ {
			a := (i*7 + pos*13) % asins
			if rng.IntN(20) == 0 {
				price[a] = price[a] * int64(85+rng.IntN(30)) / 100
			}
			attrs := &marketv1.ProductAttributes{Title: proto.String("Product " + strconv.Itoa(a)), Brand: proto.String("Brand " + strconv.Itoa(a%17)),
				Price: &marketv1.Money{AmountMinor: price[a], Currency: "USD"}, Rating: proto.Float64(3.5 + float64(a%15)/10),
				ReviewCount: proto.Int64(int64(100 + i/10 + a)), Prime: proto.Bool(a%3 == 0)}
			asin := fmt.Sprintf("B0PIPE%04d", a)
			page.Listings = append(page.Listings, &marketv1.Listing{Asin: asin, Position: int32(pos), Sponsored: proto.Bool(pos%8 == 0), Attributes: attrs})
			obs = append(obs, &marketv1.ProductObserved{Envelope: marketv1.NewEnvelope("test", "", at), Asin: asin, Marketplace: "amazon.com",
				Attributes: attrs, Position: proto.Int32(int32(pos)), Keyword: kw, Source: marketv1.ObservationSource_OBSERVATION_SOURCE_SEARCH_PAGE})
		}
		pages = append(pages, page)
	}
	return obs, pages
}

func produceAll[T marketv1.Event](t *testing.T, cl *kgo.Client, topic string, key func(T) string, evs []T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	recs := make([]*kgo.Record, 0, len(evs))
	for _, ev := range evs {
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(key(ev)), Value: b})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce %d records to %s: %v", len(recs), topic, err)
	}
}

// TestPipelineRecoversSameState runs 100k observations (and their search pages) through the
// product tracker, the keyword windows and the anomaly detector, then restarts all three on
// empty local storage and checks every table value recovered from Kafka equals the one before.
func TestPipelineRecoversSameState(t *testing.T) {
	n := 100_000
	if raceEnabled {
		n = 10_000 // the full stream runs in `make test`'s pass without the race detector
	}
	if v, err := strconv.Atoi(os.Getenv("MIP_TEST_PIPELINE_EVENTS")); err == nil && v > 0 {
		n = v
	}
	k := testenv.Kafka(t)
	p := newPipeline(t, k)
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	obs, pages := observations(n, 2000, 20, start)
	cl := k.Client(t)
	produceAll(t, cl, string(p.products.Input), func(o *marketv1.ProductObserved) string { return o.GetAsin() }, obs)
	produceAll(t, cl, string(p.keywords.Input), func(s *marketv1.SearchResultsObserved) string { return s.GetKeyword() }, pages)

	procs, stop := p.start(t)
	asins := map[string]bool{}
	kws := map[string]bool{}
	for _, o := range obs {
		asins[o.GetAsin()] = true
	}
	for _, pg := range pages {
		kws[pg.GetKeyword()] = true
	}
	// Wait until every observation is in the product table.
	wantCount := map[string]int64{}
	for _, o := range obs {
		wantCount[o.GetAsin()]++
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		done := 0
		for asin, want := range wantCount {
			v, err := procs[0].Get(asin)
			if err == nil && v != nil && v.(*marketv1.ProductState).GetObservationCount() == want {
				done++
			}
		}
		if done == len(wantCount) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 minutes %d of %d products have all their observations", done, len(wantCount))
		}
		time.Sleep(500 * time.Millisecond)
	}
	// The downstream processors drain: their tables stop changing.
	snapshot := func(procs []*goka.Processor) map[string][]byte {
		out := map[string][]byte{}
		for i, keys := range []map[string]bool{asins, kws, asins} {
			for key := range keys {
				v, err := procs[i].Get(key)
				if err != nil {
					t.Fatalf("get %s from %s: %v", key, procs[i].Graph().Group(), err)
				}
				if v == nil {
					continue
				}
				b, err := proto.MarshalOptions{Deterministic: true}.Marshal(v.(proto.Message))
				if err != nil {
					t.Fatal(err)
				}
				out[fmt.Sprintf("%s/%s", procs[i].Graph().Group(), key)] = b
			}
		}
		return out
	}
	var before map[string][]byte
	for stable := 0; stable < 3; {
		time.Sleep(time.Second)
		s := snapshot(procs)
		if equalSnapshots(s, before) {
			stable++
		} else {
			stable = 0
		}
		before = s
	}
	stop()

	procs2, _ := p.start(t) // empty storage: every table comes back from its changelog
	after := snapshot(procs2)
	if len(after) != len(before) {
		t.Fatalf("recovered %d table values, had %d", len(after), len(before))
	}
	diff := 0
	for k, v := range before {
		if string(after[k]) != string(v) {
			diff++
			if diff <= 3 {
				t.Errorf("%s differs after recovery", k)
			}
		}
	}
	if diff > 0 {
		t.Fatalf("%d of %d table values differ after recovery", diff, len(before))
	}
	t.Logf("%d observations, %d pages: %d table values recovered identically", len(obs), len(pages), len(before))
}

func equalSnapshots(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if string(b[k]) != string(v) {
			return false
		}
	}
	return true
}
