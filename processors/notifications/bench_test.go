package notifications

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/processors/internal/ceilingbench"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// targetWith returns a target's state with n followers and ids remembered notification ids.
func targetWith(n, ids int) *marketv1.NotifierState {
	var st *marketv1.NotifierState
	for i := range n {
		st, _, _ = ApplyAtTarget(st, "asin:B0", upsert(0, sub(fmt.Sprintf("sub-%05d", i), "B0", minSeverity(sevWarning))), 0)
	}
	for i := range ids {
		st.RequestedHashes = binary.LittleEndian.AppendUint64(st.RequestedHashes, requestedHash(AnomalyNotificationID("old", fmt.Sprint(i))))
	}
	return st
}

func reportRate(b *testing.B, perOp int) {
	b.ReportMetric(float64(b.N*perOp)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkMatchAnomaly(b *testing.B) {
	for _, c := range []struct{ followers, ids int }{{1, 0}, {10, 1000}, {100, 1000}} {
		b.Run(fmt.Sprintf("followers=%d/ids=%d", c.followers, c.ids), func(b *testing.B) {
			st := targetWith(c.followers, c.ids)
			anomalies := make([]*marketv1.AnomalyDetected, 1024)
			for i := range anomalies {
				anomalies[i] = anomaly(i, fmt.Sprint("a", i), "B0", sevCritical, kindDrop)
			}
			opt := MatchOptions{Producer: "notifier", MaxRequestedIDs: 1000}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				_, out := MatchAnomaly(st, anomalies[i%len(anomalies)], opt)
				if len(out) != c.followers {
					b.Fatalf("%d notifications", len(out))
				}
			}
			reportRate(b, 1)
		})
	}
}

func BenchmarkMatchAnomalyDuplicate(b *testing.B) {
	st := targetWith(10, 0)
	a := anomaly(1, "dup", "B0", sevCritical, kindDrop)
	st, _ = MatchAnomaly(st, a, MatchOptions{MaxRequestedIDs: 1000})
	b.ReportAllocs()
	for b.Loop() {
		if _, out := MatchAnomaly(st, a, MatchOptions{MaxRequestedIDs: 1000}); len(out) != 0 {
			b.Fatal("duplicate notified")
		}
	}
	reportRate(b, 1)
}

func BenchmarkRoute(b *testing.B) {
	st, _, _ := Route(nil, upsert(1, sub("s", "A")))
	changes := []*marketv1.SubscriptionChanged{upsert(2, sub("s", "B")), upsert(3, sub("s", "A"))}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, routed, err := Route(st, changes[i%2])
		if err != nil || len(routed) == 0 {
			b.Fatal(routed, err)
		}
	}
	reportRate(b, 1)
}

func BenchmarkApplyAtTarget(b *testing.B) {
	st := targetWith(100, 0)
	ch := upsert(5, sub("sub-00050", "B0", minSeverity(sevCritical)))
	b.ReportAllocs()
	for b.Loop() {
		if _, changed, err := ApplyAtTarget(st, "asin:B0", ch, 0); err != nil || !changed {
			b.Fatal(changed, err)
		}
	}
	reportRate(b, 1)
}

func BenchmarkNotificationID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = AnomalyNotificationID("0f4c3a5e-7d4b-4a8e-9b61-3c2d1e0f9a87", "a1b2c3d4e5f60718")
	}
}

// BenchmarkNotifierTester measures the notifier's callbacks end to end on goka's tester: one
// anomaly in, its loop command matched at a target with 10 followers, 10 notifications out.
func BenchmarkNotifierTester(b *testing.B) {
	tt := tester.New(b)
	cfg := DefaultConfig()
	cfg.MaxAge = 0
	p, err := New(gokaenv.Env{}, cfg, nil, goka.WithTester(tt))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for i := range 10 {
		ch := upsert(0, sub(fmt.Sprintf("sub-%02d", i), "B0"))
		tt.Consume(topics.Subscriptions, ch.GetSubscription().GetSubscriptionId(), ch)
	}
	track := tt.NewQueueTracker(topics.Notifications)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tt.Consume(topics.Anomalies, "B0", anomaly(i, fmt.Sprint("a", i), "B0", sevCritical, kindDrop))
	}
	b.StopTimer()
	n := 0
	for {
		if _, _, ok := track.NextRaw(); !ok {
			break
		}
		n++
	}
	if n != 10*b.N {
		b.Fatalf("%d notifications for %d anomalies", n, b.N)
	}
	reportRate(b, 1)
}

func BenchmarkSign(b *testing.B) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	for _, size := range []int{512, 4096} {
		body := []byte(strings.Repeat("x", size))
		b.Run(fmt.Sprint("bytes=", size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				_ = Sign(secret, 1795176000, body)
			}
		})
	}
}

func BenchmarkVerifySignature(b *testing.B) {
	secret, body := []byte("0123456789abcdef"), []byte(strings.Repeat("x", 2048))
	now := time.Unix(1795176000, 0)
	sig := Sign(secret, now.Unix(), body)
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifySignature(secret, sig, "1795176000", body, now, DefaultSignatureTolerance); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeliverInApp is the deliverer's cost per notification without any network: decode,
// dedup, log record.
func BenchmarkDeliverInApp(b *testing.B) {
	d := testDeliverer(b, func(c *DeliveryConfig) { c.RememberIDs = 1 << 20 })
	st, _, _ := ApplyAtTarget(nil, "asin:B0", upsert(0, sub("s1", "B0")), 0)
	out := &countSink{}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, ns := MatchAnomaly(st, anomaly(1, fmt.Sprint("a", i), "B0", sevCritical, kindDrop), MatchOptions{})
		rec := notificationRecord(b, ns[0], int64(i))
		if !d.deliver(context.Background(), context.Background(), rec, ns[0], nil, out) {
			b.Fatal("no outcome")
		}
	}
	reportRate(b, 1)
}

// BenchmarkDeliverWebhook POSTs signed webhooks to a loopback server with keep-alive: the
// deliverer's per-notification cost with one worker, plus the server's.
func BenchmarkDeliverWebhook(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()
	d := testDeliverer(b, func(c *DeliveryConfig) { c.RememberIDs = 1 << 20 })
	out := &countSink{}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		n := webhookNotification(srv.URL, fmt.Sprint("a", i))
		rec := notificationRecord(b, n, int64(i))
		if !d.deliver(context.Background(), context.Background(), rec, n, nil, out) {
			b.Fatal("no outcome")
		}
	}
	reportRate(b, 1)
}

// BenchmarkDeliverBatchWebhook delivers batches of 256 with the default concurrency (16).
func BenchmarkDeliverBatchWebhook(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()
	d := testDeliverer(b, func(c *DeliveryConfig) { c.RememberIDs = 1 << 22 })
	out := &countSink{}
	const batch = 256
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		recs := make([]*marketv1.NotificationRequested, batch)
		krecs := make([]*kgo.Record, batch)
		for j := range recs {
			recs[j] = webhookNotification(srv.URL, fmt.Sprint("a", i, "-", j))
			krecs[j] = notificationRecord(b, recs[j], int64(i*batch+j))
		}
		done := d.deliverBatch(context.Background(), context.Background(), krecs, out)
		for _, ok := range done {
			if !ok {
				b.Fatal("no outcome")
			}
		}
	}
	reportRate(b, batch)
}

// countSink counts what it is given.
type countSink struct{ n atomic.Int64 }

func (c *countSink) write(_ context.Context, recs ...*kgo.Record) error {
	c.n.Add(int64(len(recs)))
	return nil
}

var (
	benchRecords = flag.Int("notifications.bench-records", 50_000, "anomalies per run of BenchmarkProcessorVsCounter")
	benchASINs   = flag.Int("notifications.bench-asins", 200, "products in BenchmarkProcessorVsCounter's input, each followed by two subscriptions")
)

// BenchmarkProcessorVsCounter runs ceilingbench on -notifications.bench-records anomalies of
// -notifications.bench-asins products (and 20 keywords), each product followed by two in-app
// subscriptions and each keyword by one, loaded into the notifier's table before the pass: the
// trivial goka counter, then the notifier, on the same anomalies topic (each anomaly goes through
// the loopback to its product's and its keyword's targets and notifies three subscribers).
// notifier/counter is the ratio the notifier is held to (>= 0.5). Run it with -benchtime=1x or
// more:
//
//	go test -run '^$' -bench ProcessorVsCounter -benchtime 3x ./processors/notifications/
func BenchmarkProcessorVsCounter(b *testing.B) {
	e := newITEnv(b)
	asinOf := func(i int) string { return fmt.Sprintf("B0BENCH%04d", i) }
	keywordOf := func(i int) string { return fmt.Sprintf("bench keyword %02d", i%20) }
	var subs []*marketv1.SubscriptionChanged
	for i := range *benchASINs {
		for j := range 2 {
			subs = append(subs, upsert(0, sub(fmt.Sprintf("sub-%04d-%d", i, j), asinOf(i), minSeverity(sevWarning))))
		}
	}
	for i := range 20 {
		subs = append(subs, upsert(0, sub(fmt.Sprintf("sub-kw-%02d", i), "", onKeyword(keywordOf(i)))))
	}
	for _, s := range subs {
		e.produce(b, e.cfg.SubscriptionsTopic, topics.Subscriptions, s.GetSubscription().GetSubscriptionId(), s)
	}
	tp := topics.MustLookup(topics.Anomalies)
	tp.Name = e.cfg.AnomaliesTopic
	recs := make([]*kgo.Record, 0, *benchRecords)
	for i := range *benchRecords {
		p := i % *benchASINs
		a := anomaly(i / *benchASINs * 3600, fmt.Sprintf("bench-%d", i), asinOf(p), sevCritical, kindDrop)
		a.Keyword = keywordOf(p)
		rec, err := topics.NewRecord(tp, a.GetAsin(), a)
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, rec)
	}
	config := func(group goka.Group) Config {
		cfg := e.cfg
		cfg.Group, cfg.MaxAge = group, 0
		return cfg
	}
	ceilingbench.Run(b, ceilingbench.Bench{Kafka: e.k, Input: e.cfg.AnomaliesTopic, Records: recs},
		ceilingbench.Contender{
			Name: "notifier",
			// Each anomaly, then its command at its product's and at its keyword's target.
			Callbacks: 3 * int64(len(recs)),
			New: func(env gokaenv.Env, group goka.Group, opts ...goka.ProcessorOption) (*goka.Processor, error) {
				return New(env, config(group), nil, opts...)
			},
			// The subscriptions, by the same group on an empty anomalies topic: each reaches its
			// own entry, then its target, through the loopback.
			Before: func(b *testing.B, env gokaenv.Env, group goka.Group) {
				cfg := config(group)
				cfg.AnomaliesTopic = e.k.TopicName(b, topics.Anomalies+".empty")
				e.k.CreateTopic(b, cfg.AnomaliesTopic, tp.Partitions)
				var loops atomic.Int64
				p, err := New(env, cfg, nil, goka.WithContextWrapper(func(ctx goka.Context) goka.Context {
					if string(ctx.Topic()) == string(group)+"-loop" {
						loops.Add(1)
					}
					return ctx
				}))
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- p.Run(ctx) }()
				deadline := time.Now().Add(2 * time.Minute)
				for loops.Load() < int64(2*len(subs)) && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				time.Sleep(100 * time.Millisecond) // the last loop callback's table write
				cancel()
				if err := <-done; err != nil {
					b.Fatalf("loading subscriptions: %v", err)
				}
				if n := loops.Load(); n < int64(2*len(subs)) {
					b.Fatalf("loading subscriptions: %d of %d loop commands applied", n, 2*len(subs))
				}
			},
		},
	)
}
