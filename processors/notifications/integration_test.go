package notifications

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/internal/testenv"
	"github.com/marketinsightspro/marketinsights/processors"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// itEnv is the Kafka side of the integration test: per-test topic and group names.
type itEnv struct {
	k        *testenv.KafkaEnv
	cfg      Config
	dcfg     DeliveryConfig
	gokaEnv  gokaenv.Env
	producer *kgo.Client
}

func newITEnv(t testing.TB) *itEnv {
	t.Helper()
	k := testenv.Kafka(t)
	cfg := DefaultConfig()
	cfg.Group = goka.Group(k.TopicName(t, string(Group)))
	cfg.AnalysesGroup = goka.Group(k.TopicName(t, string(AnalysesGroup)))
	cfg.AnomaliesTopic = k.TopicName(t, topics.Anomalies)
	cfg.SubscriptionsTopic = k.TopicName(t, topics.Subscriptions)
	cfg.AnalysisEventsTopic = k.TopicName(t, topics.AnalysisEvents)
	cfg.NotificationsTopic = k.TopicName(t, topics.Notifications)
	dcfg := DefaultDeliveryConfig()
	dcfg.Group = k.TopicName(t, DeliveryGroup)
	dcfg.NotificationsTopic = cfg.NotificationsTopic
	dcfg.DeliveriesTopic = k.TopicName(t, topics.NotificationDeliveries)
	dcfg.DeadLetterTopic = k.TopicName(t, topics.DeadLetters)
	dcfg.Secret = testSecret
	dcfg.AllowPrivateAddresses = true
	dcfg.BackoffBase, dcfg.BackoffMax = 5*time.Millisecond, 20*time.Millisecond
	dcfg.SeedTimeout = 20 * time.Second

	for name, catalogName := range map[string]string{
		cfg.AnomaliesTopic:      topics.Anomalies,
		cfg.SubscriptionsTopic:  topics.Subscriptions,
		cfg.AnalysisEventsTopic: topics.AnalysisEvents,
		cfg.NotificationsTopic:  topics.Notifications,
		dcfg.DeliveriesTopic:    topics.NotificationDeliveries,
		dcfg.DeadLetterTopic:    topics.DeadLetters,
		topics.DeadLetters:      topics.DeadLetters, // the goka groups' dead letters
	} {
		k.CreateTopic(t, name, topics.MustLookup(catalogName).Partitions)
	}
	// goka creates its tables and loop (compacted, co-partitioned); their names do not end in
	// the test's suffix, so they are deleted here.
	gokaTopics := []string{string(goka.GroupTable(cfg.Group)), string(cfg.Group) + "-loop", string(goka.GroupTable(cfg.AnalysesGroup))}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := k.Admin(t).DeleteTopics(ctx, gokaTopics...); err != nil {
			t.Logf("delete %v: %v", gokaTopics, err)
		}
	})
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return &itEnv{
		k: k, cfg: cfg, dcfg: dcfg,
		gokaEnv:  gokaenv.Env{Brokers: k.Brokers, ClientID: "notifications-it", Replication: -1, StorageDir: t.TempDir(), Logger: log},
		producer: k.Client(t),
	}
}

// produce writes events to a topic of the test under the catalog topic catalogName.
func (e *itEnv) produce(t testing.TB, name, catalogName, key string, evs ...proto.Message) {
	t.Helper()
	topic := topics.MustLookup(catalogName)
	topic.Name = name
	var recs []*kgo.Record
	for _, ev := range evs {
		r, err := topics.NewRecord(topic, key, ev)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", name, err)
	}
}

// startProcessors runs both notifier groups until the test ends and waits until they are ready.
func (e *itEnv) startProcessors(t *testing.T) *goka.Processor {
	t.Helper()
	m := processors.NewMetrics(prometheus.NewRegistry())
	n, err := New(e.gokaEnv, e.cfg, m)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAnalyses(e.gokaEnv, e.cfg, m) // after New: its lookup needs the notifier's table
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- processors.Run(ctx, slog.New(slog.DiscardHandler), n, a) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("processors: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("processors did not stop within 60 s")
		}
	})
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	if err := processors.WaitReady(wctx, n, a); err != nil {
		t.Fatal(err)
	}
	return n
}

// startDeliverer runs a deliverer of group until stop is called or the test ends.
func (e *itEnv) startDeliverer(t *testing.T, group string, m *DeliveryMetrics) (stop func()) {
	t.Helper()
	cfg := e.dcfg
	cfg.Group = group
	d, err := NewDeliverer(e.k.Config(), cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), m)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("deliverer: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("deliverer did not stop within 30 s")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond every 50 ms for up to 60 s.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 60 s; %s", what, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readAll reads every record of topic up to its end offsets as of the call.
func (e *itEnv) readAll(t *testing.T, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := e.k.Admin(t).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	cl := e.k.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var out []*kgo.Record
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %d records, partitions %v not read to their end in 30 s", topic, len(out), want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if end, ok := want[r.Partition]; ok && r.Offset < end {
				out = append(out, r)
				if r.Offset+1 >= end {
					delete(want, r.Partition)
				}
			}
		})
	}
	return out
}

func (e *itEnv) committed(t *testing.T, group, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := e.k.Admin(t).FetchOffsets(ctx, group)
	if err != nil {
		return -1
	}
	o, ok := offs.Lookup(topic, 0)
	if !ok || o.Err != nil {
		return -1
	}
	return o.At
}

// TestIntegrationEndToEnd runs both goka groups and the deliverer on Kafka: subscriptions and a
// twice-produced anomaly and analysis in, one signed POST per notification out (a 400 one
// dead-lettered), every outcome in the delivery log, offsets committed; a second deliverer with
// a fresh group re-reads every notification and POSTs none of the delivered ones again.
func TestIntegrationEndToEnd(t *testing.T) {
	e := newITEnv(t)
	var mu sync.Mutex
	posts := map[string][]string{} // path -> notification ids
	h := newHook(t, func(i int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		posts[r.URL.Path] = append(posts[r.URL.Path], r.Header.Get(HeaderNotificationID))
		mu.Unlock()
		if r.URL.Path == "/bad" {
			http.Error(w, "no such hook", http.StatusBadRequest)
		}
	})
	postsTo := func(path string) []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(posts[path])
	}

	n := e.startProcessors(t)
	reg := prometheus.NewRegistry()
	dm := NewDeliveryMetrics(reg)
	stop := e.startDeliverer(t, e.dcfg.Group, dm)

	const asin = "B0E2E00001"
	now := time.Now().UTC()
	at := func(ms int) *marketv1.Envelope {
		return marketv1.NewEnvelope("it", "", now.Add(time.Duration(ms)*time.Millisecond))
	}
	subs := []*marketv1.Subscription{
		sub("s-ok", asin, webhook(h.srv.URL+"/ok"), minSeverity(sevWarning)),
		sub("s-bad", asin, webhook(h.srv.URL+"/bad")),
		sub("s-inapp", asin),
		sub("s-critical-only", asin, minSeverity(sevCritical)),
		sub("s-kw", "", onKeyword("usb c"), withAnalyses(), webhook(h.srv.URL+"/ok")),
	}
	for _, s := range subs {
		e.produce(t, e.cfg.SubscriptionsTopic, topics.Subscriptions, s.GetSubscriptionId(),
			&marketv1.SubscriptionChanged{Envelope: at(0), Action: marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_UPSERTED, Subscription: s})
	}
	followers := func(key string) int {
		v, err := n.Get(key)
		if err != nil || v == nil {
			return 0
		}
		return len(v.(*marketv1.NotifierState).GetSubscriptions())
	}
	eventually(t, "subscriptions at their targets", func() (bool, string) {
		a, k := followers("asin:"+asin), followers("keyword:usb c")
		return a == 4 && k == 1, fmt.Sprintf("%d ASIN followers, %d keyword followers", a, k)
	})

	x := &marketv1.AnomalyDetected{Envelope: at(10), AnomalyId: "anomaly-x", Asin: asin, Keyword: "USB C", Kind: kindDrop,
		Severity: sevWarning, Score: 5, Observed: 19.99, Explanation: "Price fell to $19.99."}
	e.produce(t, e.cfg.AnomaliesTopic, topics.Anomalies, asin, x)
	// The same fact again (a producer retry, a replay): nothing more may reach anybody.
	e.produce(t, e.cfg.AnomaliesTopic, topics.Anomalies, asin, x)
	wantOK := []string{AnomalyNotificationID("s-ok", "anomaly-x"), AnomalyNotificationID("s-kw", "anomaly-x")}
	slices.Sort(wantOK)
	badID := AnomalyNotificationID("s-bad", "anomaly-x")
	eventually(t, "webhooks of the anomaly", func() (bool, string) {
		ok := postsTo("/ok")
		slices.Sort(ok)
		return slices.Equal(ok, wantOK) && len(postsTo("/bad")) == 1, strings.Join(ok, ",")
	})

	// The analyses notifier reads the keyword's followers through a goka lookup (a view of
	// notifier-table fed by Kafka), which trails the notifier's own storage that n.Get reads;
	// by the time the anomaly went through three more topics it has caught up.
	an := &marketv1.AnalysisEvent{Envelope: at(20), AnalysisId: "analysis-1", Event: &marketv1.AnalysisEvent_Completed{
		Completed: &marketv1.AnalysisCompleted{Keyword: "usb c", Summary: &marketv1.KeywordWindowStats{CompetitorCount: 7}}}}
	e.produce(t, e.cfg.AnalysisEventsTopic, topics.AnalysisEvents, "analysis-1", an)
	e.produce(t, e.cfg.AnalysisEventsTopic, topics.AnalysisEvents, "analysis-1", an)
	wantOK = append(wantOK, AnalysisNotificationID("s-kw", "analysis-1"))
	slices.Sort(wantOK)
	eventually(t, "webhook of the analysis", func() (bool, string) {
		ok := postsTo("/ok")
		slices.Sort(ok)
		return slices.Equal(ok, wantOK), strings.Join(ok, ",")
	})
	eventually(t, "offsets committed", func() (bool, string) {
		c := e.committed(t, e.dcfg.Group, e.dcfg.NotificationsTopic)
		return c == 5, fmt.Sprintf("committed offset %d", c)
	})

	notes := e.readAll(t, e.cfg.NotificationsTopic)
	var ids []string
	for _, r := range notes {
		ids = append(ids, string(r.Key))
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"s-bad", "s-inapp", "s-kw", "s-kw", "s-ok"}) {
		t.Fatalf("notifications for %v, want one per matching subscription and cause", ids)
	}
	if got := postsTo("/bad"); !slices.Equal(got, []string{badID}) {
		t.Fatalf("/bad got %v", got)
	}

	log := e.readAll(t, e.dcfg.DeliveriesTopic)
	outcome := map[string]marketv1.DeliveryStatus{}
	for _, r := range log {
		m, err := topics.DecodeRecord(topics.MustLookup(topics.NotificationDeliveries), r)
		if err != nil {
			t.Fatal(err)
		}
		d := m.(*marketv1.NotificationDelivered)
		outcome[d.GetNotificationId()] = d.GetStatus()
	}
	delivered := marketv1.DeliveryStatus_DELIVERY_STATUS_DELIVERED
	for _, id := range append(slices.Clone(wantOK), AnomalyNotificationID("s-inapp", "anomaly-x")) {
		if outcome[id] != delivered {
			t.Errorf("delivery log says %v for %s, want DELIVERED", outcome[id], id)
		}
	}
	if outcome[badID] != marketv1.DeliveryStatus_DELIVERY_STATUS_FAILED {
		t.Errorf("delivery log says %v for the 400, want FAILED", outcome[badID])
	}
	dead := e.readAll(t, e.dcfg.DeadLetterTopic)
	if len(dead) != 1 || string(dead[0].Key) != "s-bad" {
		t.Fatalf("%d dead letters, want the one of s-bad", len(dead))
	}
	var metric dto.Metric
	if err := dm.deadLetters.Write(&metric); err != nil || metric.GetCounter().GetValue() != 1 {
		t.Errorf("dead letters metric %v (%v), want 1", metric.GetCounter().GetValue(), err)
	}
	stop()

	// A fresh group reads every notification again; the delivered ones are known from the log.
	e.startDeliverer(t, e.dcfg.Group+"-second", nil)
	eventually(t, "second deliverer done", func() (bool, string) {
		c := e.committed(t, e.dcfg.Group+"-second", e.dcfg.NotificationsTopic)
		return c == 5, fmt.Sprintf("committed offset %d", c)
	})
	ok := postsTo("/ok")
	slices.Sort(ok)
	if !slices.Equal(ok, wantOK) {
		t.Fatalf("after a restart /ok got %v, want each of %v once", ok, wantOK)
	}
	// The failed one is tried again (a failure is not remembered: replays of dead letters work).
	if got := len(postsTo("/bad")); got != 2 {
		t.Fatalf("/bad got %d requests after the restart, want 2", got)
	}
}
