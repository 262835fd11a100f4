package clickhouse

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/internal/testenv"
	"github.com/marketinsightspro/marketinsights/projections"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

var t0 = time.Date(2026, 11, 20, 10, 30, 15, 0, time.UTC)

func env(id string, at time.Time) *marketv1.Envelope {
	return &marketv1.Envelope{EventId: id, EventTime: timestamppb.New(at), Producer: "test", SchemaVersion: 1}
}

func ptr[T any](v T) *T { return &v }

func money(minor int64) *marketv1.Money { return &marketv1.Money{AmountMinor: minor, Currency: "USD"} }

// observation is a ProductObserved of asin at t with price minor units.
func observation(id, asin string, at time.Time, price int64) *marketv1.ProductObserved {
	return &marketv1.ProductObserved{
		Envelope: env(id, at), Asin: asin, Marketplace: "amazon.com", Source: marketv1.ObservationSource_OBSERVATION_SOURCE_SEARCH_PAGE,
		Keyword: "usb c cable", Url: "https://www.amazon.com/s?k=usb+c+cable", JobId: "job-1", Sponsored: ptr(false), Position: ptr[int32](3),
		Attributes: &marketv1.ProductAttributes{
			Title: ptr("Anker USB C Cable"), Brand: ptr("Anker"), Price: money(price), Rating: ptr(4.6), ReviewCount: ptr[int64](12034),
			BoughtPastMonth: ptr[int64](1000), Ranks: []*marketv1.BestSellersRank{{Rank: 42, Category: "Electronics"}}, Prime: ptr(true),
			Availability: marketv1.Availability_AVAILABILITY_IN_STOCK,
		},
	}
}

// sample returns one event of every projected topic.
func sample() map[string][]proto.Message {
	w := &marketv1.Window{Kind: marketv1.WindowKind_WINDOW_KIND_TUMBLING, SizeSeconds: 3600, Start: timestamppb.New(t0.Truncate(time.Hour)), End: timestamppb.New(t0.Truncate(time.Hour).Add(time.Hour))}
	stats := &marketv1.KeywordWindowStats{
		CompetitorCount: 2, Currency: "USD", PriceMinMinor: ptr[int64](999), PriceMedianMinor: ptr(1249.0), RatingMean: ptr(4.4),
		RatingDistribution: []int32{0, 0, 0, 1, 1}, ReviewsTotal: 20000,
		ShareOfVoice: []*marketv1.BrandShare{{Brand: "Anker", Share: 0.6, Listings: 1}, {Brand: "Ugreen", Share: 0.4, Listings: 1}},
		NewEntrants:  []string{"B0NEW00001"},
		TopBySales:   []*marketv1.RankedProduct{{Asin: "B0TEST0001", Title: "Anker USB C Cable", Brand: "Anker", Sales: &marketv1.SalesEstimate{Units: 1000, Low: 1000, High: 1999, Method: "bought_past_month"}}},
	}
	return map[string][]proto.Message{
		topics.ProductObservations: {observation("obs-1", "B0TEST0001", t0, 1299)},
		topics.SearchResults: {&marketv1.SearchResultsObserved{Envelope: env("sr-1", t0), Keyword: "usb c cable", Marketplace: "amazon.com", Page: 1, JobId: "job-1", TotalResults: ptr[int64](2000),
			Listings: []*marketv1.Listing{
				{Asin: "B0TEST0001", Position: 1, Sponsored: ptr(true), Attributes: &marketv1.ProductAttributes{Title: ptr("Anker USB C Cable"), Price: money(1299)}},
				{Asin: "B0TEST0002", Position: 2, Attributes: &marketv1.ProductAttributes{Title: ptr("Ugreen Cable")}},
			}}},
		topics.ProductChanges: {&marketv1.ProductStateChanged{Envelope: env("chg-1", t0), Asin: "B0TEST0001", Marketplace: "amazon.com", Version: 7,
			Changes: []marketv1.ProductChangeKind{marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_PRICE},
			Before:  &marketv1.ProductAttributes{Price: money(1499)}, After: &marketv1.ProductAttributes{Title: ptr("Anker USB C Cable"), Price: money(1299)},
			ObservationCount: 7, PriceEwma: ptr(1350.5)}},
		topics.KeywordWindows: {&marketv1.KeywordWindowUpdated{Envelope: env("win-1", t0), Keyword: "usb c cable", Marketplace: "amazon.com", Window: w, Stats: stats, Version: 3, PagesObserved: 2}},
		topics.Anomalies: {&marketv1.AnomalyDetected{Envelope: env("an-ev-1", t0), AnomalyId: "an-1", Asin: "B0TEST0001", Keyword: "usb c cable", Marketplace: "amazon.com",
			Kind: marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP, Severity: marketv1.Severity_SEVERITY_WARNING, Score: 4.2, Observed: 1299,
			Baseline: &marketv1.Baseline{Method: "ewma", Center: 1499, Spread: 20, Points: 12}, Explanation: "Price fell 13% below its usual $14.99.", Currency: "USD"}},
		topics.NotificationDeliveries: {&marketv1.NotificationDelivered{Envelope: env("del-1", t0), NotificationId: "n-1", SubscriptionId: "s-1", Status: marketv1.DeliveryStatus_DELIVERY_STATUS_DELIVERED, Attempt: 1, HttpStatus: 200, LatencyMs: 12}},
		topics.ScrapeStatus:           {&marketv1.ScrapeStatusChanged{Envelope: env("st-1", t0), JobId: "job-1", Status: marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING, Attempt: 1, PagesDone: 1, PagesTotal: 3, Keyword: "usb c cable"}},
		topics.AnalysisEvents:         {&marketv1.AnalysisEvent{Envelope: env("ae-1", t0), AnalysisId: "a-1", Event: &marketv1.AnalysisEvent_Requested{Requested: &marketv1.AnalysisRequested{Keyword: "usb c cable", Pages: 3}}}},
		topics.UserActions: {&marketv1.UserAction{Envelope: env("ua-1", t0), UserId: "u-1", Kind: marketv1.UserActionKind_USER_ACTION_KIND_REPORT_VIEWED, Keyword: "usb c cable",
			Params: map[string]string{"sort": "sales", "order": "desc"}, Route: "/api/v1/keywords/{keyword}/report", Status: 200}},
	}
}

// pipeline is one test's topics, database and producer.
type pipeline struct {
	kafka *testenv.KafkaEnv
	ch    *testenv.ClickHouseEnv
	conn  driver.Conn
	cl    *kgo.Client
	names map[string]string
	group string
	dlq   string
}

func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	k := testenv.Kafka(t)
	ch := testenv.ClickHouse(t)
	p := &pipeline{kafka: k, ch: ch, conn: ch.Conn, cl: k.Client(t), names: map[string]string{}, group: k.TopicName(t, "projector") + "-"}
	for _, tb := range Tables() {
		if _, ok := p.names[tb.Topic]; ok {
			continue
		}
		tp := topics.MustLookup(tb.Topic)
		p.names[tb.Topic] = k.TopicName(t, tb.Topic)
		k.CreateTopic(t, p.names[tb.Topic], tp.Partitions)
	}
	p.dlq = k.TopicName(t, topics.DeadLetters)
	k.CreateTopic(t, p.dlq, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := Migrate(ctx, ch.Conn); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *pipeline) topic(base string) string { return p.names[base] }

// produce writes events to the test's name of the catalog topic base.
func (p *pipeline) produce(t *testing.T, base string, evs ...proto.Message) {
	t.Helper()
	tp := topics.MustLookup(base)
	var recs []*kgo.Record
	for _, ev := range evs {
		r, err := topics.NewEventRecord(tp, ev)
		if err != nil {
			t.Fatal(err)
		}
		r.Topic = p.names[base]
		recs = append(recs, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", p.names[base], err)
	}
}

// run starts projectors of tables until the returned stop is called (also at cleanup).
func (p *pipeline) run(t *testing.T, conn driver.Conn, tables []Table, opts projections.Options) (stop func()) {
	t.Helper()
	if opts.Group == "" {
		opts.Group = p.group
	}
	opts.DeadLetterTopic = p.dlq
	if opts.FlushInterval == 0 {
		opts.FlushInterval = 100 * time.Millisecond
	}
	if opts.Metrics == nil {
		opts.Metrics = projections.NewMetrics(prometheus.NewRegistry())
	}
	procs, err := NewProjectors(p.kafka.Config(), conn, tables, p.topic, opts)
	if err != nil {
		t.Fatal(err)
	}
	runners := make([]projections.Runner, len(procs))
	for i, pr := range procs {
		runners[i] = pr
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- projections.RunAll(ctx, runners...) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("projectors: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("projectors did not stop within 60 s")
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitRows waits until query (a count) returns want, or fails after timeout.
func waitRows(t *testing.T, conn driver.Conn, query string, want uint64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got uint64
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := conn.QueryRow(ctx, query).Scan(&got)
		cancel()
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: got %d (err %v), want %d after %s", query, got, err, want, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
