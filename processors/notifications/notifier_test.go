package notifications

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/topics"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// gokaTest runs both notifier groups on one goka tester.
type gokaTest struct {
	tt            *tester.Tester
	notifications *tester.QueueTracker
	deadLetters   *tester.QueueTracker
}

func newGokaTest(t *testing.T) *gokaTest {
	t.Helper()
	tt := tester.New(t)
	cfg := DefaultConfig()
	cfg.Now = func() time.Time { return t0.Add(time.Hour) }
	n, err := New(gokaenv.Env{}, cfg, nil, goka.WithTester(tt))
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAnalyses(gokaenv.Env{}, cfg, nil, goka.WithTester(tt))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	for _, p := range []*goka.Processor{n, a} {
		go func() { errs <- p.Run(ctx) }()
	}
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-errs; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("processor: %v", err)
			}
		}
	})
	return &gokaTest{tt: tt, notifications: tt.NewQueueTracker(topics.Notifications), deadLetters: tt.NewQueueTracker(topics.DeadLetters)}
}

func (g *gokaTest) subscribe(ch *marketv1.SubscriptionChanged) {
	g.tt.Consume(topics.Subscriptions, ch.GetSubscription().GetSubscriptionId(), ch)
}

func (g *gokaTest) anomaly(a *marketv1.AnomalyDetected) {
	g.tt.Consume(topics.Anomalies, a.GetAsin(), a)
}

// drain returns the notifications emitted since the last call.
func (g *gokaTest) drain(t *testing.T) []*marketv1.NotificationRequested {
	t.Helper()
	var out []*marketv1.NotificationRequested
	for {
		h, key, v, ok := g.notifications.NextWithHeaders()
		if !ok {
			return out
		}
		n := v.(*marketv1.NotificationRequested)
		if key != n.GetSubscriptionId() {
			t.Fatalf("notification keyed %q, want its subscription id %q", key, n.GetSubscriptionId())
		}
		if string(h[topics.HeaderSchema]) != "market.v1.NotificationRequested" || string(h[topics.HeaderEventID]) != n.GetNotificationId() {
			t.Fatalf("notification headers %v", h)
		}
		out = append(out, n)
	}
}

func (g *gokaTest) expect(t *testing.T, want ...string) {
	t.Helper()
	var got []string
	for _, n := range g.drain(t) {
		got = append(got, n.GetSubscriptionId()+"/"+n.GetAnomalyId()+n.GetAnalysisId())
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("notifications %v, want %v", got, want)
	}
}

func (g *gokaTest) followers(t *testing.T, key string) []string {
	t.Helper()
	v := g.tt.TableValue(Table, key)
	if v == nil {
		return nil
	}
	var ids []string
	for _, s := range v.(*marketv1.NotifierState).GetSubscriptions() {
		ids = append(ids, s.GetSubscriptionId())
	}
	return ids
}

func TestNotifierSubscribeThenAnomaly(t *testing.T) {
	g := newGokaTest(t)
	g.subscribe(upsert(1, sub("s1", "B0ABC12345")))
	g.anomaly(anomaly(10, "x", "B0ABC12345", sevWarning, kindDrop))
	out := g.drain(t)
	if len(out) != 1 {
		t.Fatalf("%d notifications, want 1", len(out))
	}
	n := out[0]
	if n.GetNotificationId() != AnomalyNotificationID("s1", "x") || n.GetUserId() != "user-s1" || n.GetChannel() != marketv1.Channel_CHANNEL_IN_APP ||
		n.GetTitle() != "Price drop: Anker PowerCore 10000 (B0ABC12345)" {
		t.Fatalf("notification %v", n)
	}
	if got := g.followers(t, "asin:B0ABC12345"); !slices.Equal(got, []string{"s1"}) {
		t.Fatalf("followers %v", got)
	}
	entry := g.tt.TableValue(Table, "subscription:s1").(*marketv1.NotifierState)
	if len(entry.GetSubscriptions()) != 1 || len(entry.GetVersions()) != 1 {
		t.Fatalf("subscription entry %v", entry)
	}
}

func TestNotifierSameAnomalyTwice(t *testing.T) {
	g := newGokaTest(t)
	g.subscribe(upsert(1, sub("s1", "B0")))
	g.subscribe(upsert(1, sub("s2", "B0")))
	a := anomaly(10, "x", "B0", sevWarning, kindDrop)
	g.anomaly(a)
	g.anomaly(a)
	g.expect(t, "s1/x", "s2/x")
	g.anomaly(a)
	g.expect(t)
	// The same subscription change again changes nothing either.
	g.subscribe(upsert(1, sub("s1", "B0")))
	g.anomaly(a)
	g.expect(t)
}

func TestNotifierSeverityAndKindFilters(t *testing.T) {
	g := newGokaTest(t)
	g.subscribe(upsert(1, sub("warn", "B0", minSeverity(sevWarning))))
	g.subscribe(upsert(1, sub("stock", "B0", kinds(kindStock))))
	g.anomaly(anomaly(10, "info-drop", "B0", sevInfo, kindDrop))
	g.expect(t)
	g.anomaly(anomaly(11, "crit-drop", "B0", sevCritical, kindDrop))
	g.expect(t, "warn/crit-drop")
	g.anomaly(anomaly(12, "info-stock", "B0", sevInfo, kindStock))
	g.expect(t, "stock/info-stock")
}

func TestNotifierSubscriptionMoved(t *testing.T) {
	g := newGokaTest(t)
	g.subscribe(upsert(1, sub("s1", "OLD")))
	g.subscribe(upsert(2, sub("s1", "NEW")))
	if got := g.followers(t, "asin:OLD"); len(got) != 0 {
		t.Fatalf("old target still has %v", got)
	}
	g.anomaly(anomaly(10, "on-old", "OLD", sevCritical, kindDrop))
	g.expect(t)
	g.anomaly(anomaly(11, "on-new", "NEW", sevCritical, kindDrop))
	g.expect(t, "s1/on-new")
	// Moving to a keyword: anomalies of the keyword reach it, the ASIN's do not.
	g.subscribe(upsert(3, sub("s1", "", onKeyword("USB C"))))
	g.anomaly(anomaly(12, "on-new-again", "NEW", sevCritical, kindDrop))
	g.expect(t)
	kw := anomaly(13, "kw", "OTHER", sevCritical, kindDrop)
	kw.Keyword = "usb  c"
	g.anomaly(kw)
	g.expect(t, "s1/kw")
	// An older change arriving late does not move it back.
	g.subscribe(upsert(2, sub("s1", "NEW")))
	if got := g.followers(t, "asin:NEW"); len(got) != 0 {
		t.Fatalf("a late, older change moved the subscription back: %v", got)
	}
}

func TestNotifierSubscriptionDeleted(t *testing.T) {
	g := newGokaTest(t)
	g.subscribe(upsert(1, sub("s1", "B0")))
	g.subscribe(upsert(1, sub("s2", "B0")))
	g.subscribe(deletion(2, "s1"))
	g.anomaly(anomaly(10, "x", "B0", sevCritical, kindDrop))
	g.expect(t, "s2/x")
	// A Kafka tombstone deletes the subscription of its key at the record's time.
	g.tt.Consume(topics.Subscriptions, "s2", nil, tester.WithTime(t0.Add(3*time.Second)))
	g.anomaly(anomaly(11, "y", "B0", sevCritical, kindDrop))
	g.expect(t)
	if got := g.followers(t, "asin:B0"); len(got) != 0 {
		t.Fatalf("followers after deletions: %v", got)
	}
}

func TestNotifierDeadLettersBadInput(t *testing.T) {
	g := newGokaTest(t)
	g.subscribe(upsert(1, sub("bad", "B0", webhook("ftp://example.com/"))))
	g.tt.Consume(topics.Anomalies, "B0", &marketv1.AnomalyDetected{Envelope: envAt(1, "no-id"), Asin: "B0"})
	var stages []string
	for {
		h, _, _, ok := g.deadLetters.NextWithHeaders()
		if !ok {
			break
		}
		stages = append(stages, string(h[topics.HeaderDLQStage]))
		if len(h[topics.HeaderDLQError]) == 0 {
			t.Fatal("dead letter without error header")
		}
	}
	if !slices.Equal(stages, []string{"notifier/subscriptions", "notifier/anomalies"}) {
		t.Fatalf("dead letters from %v", stages)
	}
	if got := g.followers(t, "asin:B0"); len(got) != 0 {
		t.Fatalf("invalid subscription followed: %v", got)
	}
}

func TestNotifierIgnoresStaleAnomalies(t *testing.T) {
	g := newGokaTest(t) // now is t0+1h, MaxAge 24h
	g.subscribe(upsert(1, sub("s1", "B0")))
	g.anomaly(anomaly(-25*3600, "old", "B0", sevCritical, kindDrop))
	g.expect(t)
}

func TestNotifierAnalyses(t *testing.T) {
	g := newGokaTest(t)
	g.subscribe(upsert(1, sub("wants", "", onKeyword("Portable Charger"), withAnalyses())))
	g.subscribe(upsert(1, sub("no-analyses", "", onKeyword("portable charger"))))
	g.subscribe(upsert(1, sub("other-keyword", "", onKeyword("usb c"), withAnalyses())))
	step := &marketv1.AnalysisEvent{Envelope: envAt(5, "step"), AnalysisId: "an-1",
		Event: &marketv1.AnalysisEvent_StepChanged{StepChanged: &marketv1.AnalysisStepChanged{Step: marketv1.AnalysisStep_ANALYSIS_STEP_SCRAPING}}}
	g.tt.Consume(topics.AnalysisEvents, "an-1", step)
	g.expect(t)
	ev := completed(10, "an-1", "portable  charger")
	g.tt.Consume(topics.AnalysisEvents, "an-1", ev)
	g.expect(t, "wants/an-1")
	g.tt.Consume(topics.AnalysisEvents, "an-1", ev)
	g.expect(t)
	if v := g.tt.TableValue(AnalysesTable, "an-1").(*marketv1.NotifierState); !bytes.Equal(v.GetRequestedHashes(), hashesOf(AnalysisNotificationID("wants", "an-1"))) {
		t.Fatalf("analyses table %v", v)
	}
}

func TestGraphsValidate(t *testing.T) {
	cfg := DefaultConfig()
	for _, g := range []*goka.GroupGraph{Graph(cfg), AnalysesGraph(cfg)} {
		if err := g.Validate(); err != nil {
			t.Fatalf("%s: %v", g.Group(), err)
		}
	}
	// The graph's derived names are the catalog's.
	if got := Graph(cfg).GroupTable().Topic(); got != topics.NotifierTable {
		t.Fatalf("table %s, want %s", got, topics.NotifierTable)
	}
	if got := Graph(cfg).LoopStream().Topic(); got != topics.NotifierLoop {
		t.Fatalf("loop %s, want %s", got, topics.NotifierLoop)
	}
	if got := AnalysesGraph(cfg).GroupTable().Topic(); got != topics.NotifierAnalysesTable {
		t.Fatalf("analyses table %s, want %s", got, topics.NotifierAnalysesTable)
	}
	bad := cfg
	bad.MaxFollowers = 0
	if _, err := New(gokaenv.Env{}, bad, nil); err == nil {
		t.Fatal("New accepted MaxFollowers 0")
	}
}
