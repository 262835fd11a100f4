// Package apitest sets up what the API's tests and the report page's browser tests share: a
// Redis key space (and optionally a ClickHouse database and Kafka topics) filled through the
// real projection sinks, and a running api.Server on an httptest server.
package apitest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/api"
	"github.com/marketinsightspro/marketinsights/internal/testenv"
	chproj "github.com/marketinsightspro/marketinsights/projections/clickhouse"
	rproj "github.com/marketinsightspro/marketinsights/projections/redis"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Options choose the services of an Env beyond Redis.
type Options struct {
	// ClickHouse migrates a fresh database and projects written events into it too.
	ClickHouse bool
	// Kafka creates the test's own analysis-events, subscriptions and user-actions topics.
	Kafka bool
	// Redis, when set, is the key space used instead of one on the shared Redis (a private
	// server the test stops, testenv.StartPrivateRedis).
	Redis *testenv.RedisEnv
}

// Env is a test's read models and topics.
type Env struct {
	t        testing.TB
	Redis    *testenv.RedisEnv
	KS       *rproj.Keyspace
	sinks    map[string]*rproj.Sink
	CH       *testenv.ClickHouseEnv
	chSinks  map[string][]*chproj.Sink
	Kafka    *testenv.KafkaEnv
	Topics   map[string]string
	Producer *kgo.Client
}

// New sets up an Env.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	red := o.Redis
	if red == nil {
		red = testenv.Redis(t)
	}
	e := &Env{t: t, Redis: red, sinks: map[string]*rproj.Sink{}, chSinks: map[string][]*chproj.Sink{}, Topics: map[string]string{}}
	e.KS = rproj.NewKeyspace(e.Redis.Client, e.Redis.Prefix)
	sinks, err := rproj.Sinks(context.Background(), e.KS, rproj.Options{KeywordRetention: 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sinks {
		e.sinks[rproj.Topics()[i]] = s
	}
	if o.ClickHouse {
		e.CH = testenv.ClickHouse(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := chproj.Migrate(ctx, e.CH.Conn); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		for _, tb := range chproj.Tables() {
			e.chSinks[tb.Topic] = append(e.chSinks[tb.Topic], chproj.NewSink(e.CH.Conn, tb))
		}
	}
	if o.Kafka {
		e.Kafka = testenv.Kafka(t)
		for _, base := range []string{topics.AnalysisEvents, topics.Subscriptions, topics.UserActions} {
			name := e.Kafka.TopicName(t, base)
			e.Kafka.CreateTopic(t, name, 3)
			e.Topics[base] = name
		}
		e.Producer = e.Kafka.Client(t)
	}
	return e
}

// topicOf is the catalog topic of an event.
func topicOf(m proto.Message) string {
	t, ok := topics.ForEvent(m)
	if !ok {
		panic(fmt.Sprintf("apitest: no topic for %T", m))
	}
	return t.Name
}

// Write projects events through the real sinks: the Redis sinks (which publish changes) and,
// with ClickHouse, the tables fed by the event's topic.
func (e *Env) Write(events ...proto.Message) {
	e.t.Helper()
	e.write(true, events...)
}

// WriteClickHouse projects events into the ClickHouse tables only, as if the Redis projection
// had not seen them (a Redis emptied or behind).
func (e *Env) WriteClickHouse(events ...proto.Message) {
	e.t.Helper()
	e.write(false, events...)
}

func (e *Env) write(toRedis bool, events ...proto.Message) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, ev := range events {
		top := topicOf(ev)
		rec, err := topics.NewEventRecord(topics.MustLookup(top), ev)
		if err != nil {
			e.t.Fatalf("encode %T: %v", ev, err)
		}
		if s, ok := e.sinks[top]; ok && toRedis {
			rows, err := s.Rows(rec)
			if err != nil {
				e.t.Fatalf("redis rows of %T: %v", ev, err)
			}
			if err := s.Write(ctx, rows); err != nil {
				e.t.Fatalf("redis write of %T: %v", ev, err)
			}
		}
		for _, s := range e.chSinks[top] {
			rows, err := s.Rows(rec)
			if err != nil {
				e.t.Fatalf("clickhouse rows of %T: %v", ev, err)
			}
			if err := s.Write(ctx, rows); err != nil {
				e.t.Fatalf("clickhouse write of %T: %v", ev, err)
			}
		}
	}
}

// Server starts an api.Server over the Env (Store, History, Kafka, Topics and a Tracker filled
// in unless set) on an httptest server, waits until it is ready, and stops both at the end.
func (e *Env) Server(o api.Options) (*api.Server, *httptest.Server) {
	e.t.Helper()
	if o.Store == nil {
		o.Store = api.NewStore(e.KS)
	}
	if o.History == nil && e.CH != nil {
		o.History = api.NewHistory(e.CH.Conn)
	}
	if e.Kafka != nil {
		if o.Kafka == nil {
			o.Kafka = e.Producer
		}
		if o.Topics == nil {
			o.Topics = e.Topics
		}
		if o.Tracker == nil {
			cl := e.Kafka.Client(e.t, kgo.ConsumeTopics(e.Topics[topics.AnalysisEvents]), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			o.Tracker = api.NewTracker(cl, 1000, nil)
		}
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	srv, err := api.New(o)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	hs := httptest.NewServer(srv.Handler())
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("server run: %v", err)
		}
		hs.Close()
	})
	select {
	case <-srv.Ready():
	case err := <-done:
		e.t.Fatalf("server stopped before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		e.t.Fatal("server not ready within 30 s")
	}
	return srv, hs
}

// T0 is the time the fixture's events are placed around.
var T0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Envelope returns a valid envelope at a time with a fresh event id.
func Envelope(at time.Time) *marketv1.Envelope {
	return &marketv1.Envelope{EventId: marketv1.NewEventID(), EventTime: timestamppb.New(at), Producer: "apitest", SchemaVersion: 1}
}

// Item describes a listing of a search page.
type Item struct {
	ASIN     string
	Title    string
	Brand    string
	Category string
	// Price in minor units (0: absent).
	Price   int64
	Rating  float64 // 0: absent
	Reviews int64   // 0: absent
	Prime   bool
	// Bought is the bought-past-month badge (0: absent); it drives estimated sales.
	Bought int64
}

// SearchPage builds page 1 of a keyword's search results at a time, listings in the given order.
func SearchPage(kw string, at time.Time, items ...Item) *marketv1.SearchResultsObserved {
	ev := &marketv1.SearchResultsObserved{Envelope: Envelope(at), Keyword: kw, Marketplace: "amazon.com", Page: 1}
	for i, it := range items {
		a := &marketv1.ProductAttributes{Title: proto.String(it.Title), Prime: proto.Bool(it.Prime),
			Availability: marketv1.Availability_AVAILABILITY_IN_STOCK}
		if it.Brand != "" {
			a.Brand = proto.String(it.Brand)
		}
		if it.Category != "" {
			a.Category = proto.String(it.Category)
		}
		if it.Price > 0 {
			a.Price = &marketv1.Money{AmountMinor: it.Price, Currency: "USD"}
		}
		if it.Rating > 0 {
			a.Rating = proto.Float64(it.Rating)
		}
		if it.Reviews > 0 {
			a.ReviewCount = proto.Int64(it.Reviews)
		}
		if it.Bought > 0 {
			a.BoughtPastMonth = proto.Int64(it.Bought)
		}
		ev.Listings = append(ev.Listings, &marketv1.Listing{Asin: it.ASIN, Position: int32(i + 1), Attributes: a})
	}
	return ev
}

// WindowUpdate builds a keyword's window update.
func WindowUpdate(kw string, kind marketv1.WindowKind, size time.Duration, end time.Time, version int64, competitors int32, medianPrice float64) *marketv1.KeywordWindowUpdated {
	return &marketv1.KeywordWindowUpdated{
		Envelope: Envelope(end), Keyword: kw, Marketplace: "amazon.com", Version: version, PagesObserved: int32(version),
		Window: &marketv1.Window{Kind: kind, SizeSeconds: int64(size / time.Second), StepSeconds: int64(size / time.Second),
			Start: timestamppb.New(end.Add(-size)), End: timestamppb.New(end)},
		Stats: &marketv1.KeywordWindowStats{CompetitorCount: competitors, Currency: "USD", PriceMedianMinor: proto.Float64(medianPrice),
			PriceMinMinor: proto.Int64(int64(medianPrice / 2)), RatingMean: proto.Float64(4.2), PrimeShare: proto.Float64(0.5)},
	}
}

// AnomalyOf builds an anomaly.
func AnomalyOf(id, asin, kw string, kind marketv1.AnomalyKind, sev marketv1.Severity, at time.Time) *marketv1.AnomalyDetected {
	return &marketv1.AnomalyDetected{Envelope: Envelope(at), AnomalyId: id, Asin: asin, Keyword: kw, Marketplace: "amazon.com",
		Kind: kind, Severity: sev, Score: 4.5, Observed: 1999, Explanation: "price fell below its usual range", Title: "Steel Bottle", Currency: "USD",
		Baseline: &marketv1.Baseline{Method: "ewma", Center: 2999, Spread: 100, Points: 20}}
}

// ProductChange builds a product's state change with the given price and rank.
func ProductChange(asin string, version int64, at time.Time, title string, price int64, rank int64) *marketv1.ProductStateChanged {
	return &marketv1.ProductStateChanged{Envelope: Envelope(at), Asin: asin, Marketplace: "amazon.com", Version: version, ObservationCount: version,
		After: &marketv1.ProductAttributes{Title: proto.String(title), Price: &marketv1.Money{AmountMinor: price, Currency: "USD"},
			Ranks: []*marketv1.BestSellersRank{{Rank: rank, Category: "Sports & Outdoors"}}, Rating: proto.Float64(4.5), ReviewCount: proto.Int64(120)}}
}

// Observation builds a product page observation.
func Observation(asin string, at time.Time, price, rank, reviews int64) *marketv1.ProductObserved {
	return &marketv1.ProductObserved{Envelope: Envelope(at), Asin: asin, Marketplace: "amazon.com", Source: marketv1.ObservationSource_OBSERVATION_SOURCE_PRODUCT_PAGE,
		Attributes: &marketv1.ProductAttributes{Title: proto.String("Steel Bottle"), Price: &marketv1.Money{AmountMinor: price, Currency: "USD"},
			Ranks: []*marketv1.BestSellersRank{{Rank: rank, Category: "Sports & Outdoors"}}, ReviewCount: proto.Int64(reviews), Rating: proto.Float64(4.4)}}
}

// Get performs a GET with headers (name, value pairs) and returns the response.
func Get(t testing.TB, url string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
