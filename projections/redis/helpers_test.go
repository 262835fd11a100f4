package redis

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/internal/testenv"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// t0 is the event time the test events are placed around.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ms(at time.Duration) int64 { return t0.Add(at).UnixMilli() }

func eventID(n int) string { return fmt.Sprintf("00000000-0000-7000-8000-%012d", n) }

func envelope(n int, at time.Duration) *marketv1.Envelope {
	return &marketv1.Envelope{EventId: eventID(n), EventTime: timestamppb.New(t0.Add(at)), Producer: "test", SchemaVersion: 1}
}

func productChange(n int, asin string, version int64, at time.Duration, a *marketv1.ProductAttributes) *marketv1.ProductStateChanged {
	return &marketv1.ProductStateChanged{Envelope: envelope(n, at), Asin: asin, Marketplace: "amazon.com", After: a,
		Version: version, ObservationCount: version}
}

func searchPage(n int, kw string, page int32, at time.Duration, ls ...*marketv1.Listing) *marketv1.SearchResultsObserved {
	return &marketv1.SearchResultsObserved{Envelope: envelope(n, at), Keyword: kw, Marketplace: "amazon.com", Page: page, Listings: ls}
}

func listingOf(asin string, pos int32, a *marketv1.ProductAttributes) *marketv1.Listing {
	return &marketv1.Listing{Asin: asin, Position: pos, Attributes: a}
}

func windowUpdate(n int, kw string, kind marketv1.WindowKind, size time.Duration, end time.Duration, version int64) *marketv1.KeywordWindowUpdated {
	return &marketv1.KeywordWindowUpdated{
		Envelope: envelope(n, end), Keyword: kw, Marketplace: "amazon.com", Version: version, PagesObserved: int32(version),
		Window: &marketv1.Window{Kind: kind, SizeSeconds: int64(size / time.Second), StepSeconds: int64(size / time.Second),
			Start: timestamppb.New(t0.Add(end - size)), End: timestamppb.New(t0.Add(end))},
		Stats: &marketv1.KeywordWindowStats{CompetitorCount: int32(version), Currency: "USD", PriceMinMinor: proto.Int64(999)},
	}
}

func anomalyOf(n int, id, kw string, at time.Duration) *marketv1.AnomalyDetected {
	return &marketv1.AnomalyDetected{Envelope: envelope(n, at), AnomalyId: id, Asin: "B0" + id, Keyword: kw,
		Kind: marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP, Score: 4.5, Severity: marketv1.Severity_SEVERITY_WARNING,
		Observed: 1999, Explanation: "price fell", Currency: "USD"}
}

// subscriptionChange upserts subscription id of user following kw at event time at; with
// deleted it deletes the subscription instead (a deletion names only the id).
func subscriptionChange(n int, id, user, kw string, at time.Duration, deleted bool) *marketv1.SubscriptionChanged {
	if deleted {
		return &marketv1.SubscriptionChanged{Envelope: envelope(n, at), Action: marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_DELETED,
			Subscription: &marketv1.Subscription{SubscriptionId: id}}
	}
	return &marketv1.SubscriptionChanged{Envelope: envelope(n, at), Action: marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_UPSERTED,
		Subscription: &marketv1.Subscription{SubscriptionId: id, UserId: user, Keyword: kw, MinSeverity: marketv1.Severity_SEVERITY_WARNING,
			Kinds: []marketv1.AnomalyKind{marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP}, Channel: marketv1.Channel_CHANNEL_IN_APP}}
}

// catalogTopic returns the catalog topic of an event.
func catalogTopic(m proto.Message) string {
	t, ok := topics.ForEvent(m)
	if !ok {
		panic(fmt.Sprintf("no topic for %T", m))
	}
	return t.Name
}

// record encodes an event as a record of its catalog topic (named name when not empty).
func record(t testing.TB, m proto.Message, name string) *kgo.Record {
	t.Helper()
	r, err := topics.NewEventRecord(topics.MustLookup(catalogTopic(m)), m)
	if err != nil {
		t.Fatal(err)
	}
	if name != "" {
		r.Topic = name
	}
	return r
}

// rig is a key space of one test with the sinks writing it.
type rig struct {
	env   *testenv.RedisEnv
	ks    *Keyspace
	sinks map[string]*Sink // by catalog topic
}

func newRig(t testing.TB, opts Options) *rig {
	t.Helper()
	env := testenv.Redis(t)
	return newRigOn(t, env, env.Client, env.Prefix, opts)
}

func newRigOn(t testing.TB, env *testenv.RedisEnv, rdb *goredis.Client, prefix string, opts Options) *rig {
	t.Helper()
	ks := NewKeyspace(rdb, prefix)
	sinks, err := Sinks(context.Background(), ks, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{env: env, ks: ks, sinks: map[string]*Sink{}}
	for i, s := range sinks {
		r.sinks[Topics()[i]] = s
	}
	return r
}

// write projects events through their sinks' Rows and Write, one Write per sink, in order.
func (r *rig) write(t testing.TB, events ...proto.Message) {
	t.Helper()
	byTopic := map[string][]Row{}
	var order []string
	for _, ev := range events {
		top := catalogTopic(ev)
		rows, err := r.sinks[top].Rows(record(t, ev, ""))
		if err != nil {
			t.Fatalf("rows of %T: %v", ev, err)
		}
		if _, ok := byTopic[top]; !ok {
			order = append(order, top)
		}
		byTopic[top] = append(byTopic[top], rows...)
	}
	for _, top := range order {
		if err := r.sinks[top].Write(context.Background(), byTopic[top]); err != nil {
			t.Fatalf("write %s: %v", top, err)
		}
	}
}

func (r *rig) gen(t testing.TB) string {
	t.Helper()
	g, err := r.ks.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func (r *rig) hash(t testing.TB, key string) map[string]string {
	t.Helper()
	m, err := r.ks.rdb.HGetAll(context.Background(), r.gen(t)+key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (r *rig) zset(t testing.TB, key string) []goredis.Z {
	t.Helper()
	zs, err := r.ks.rdb.ZRangeWithScores(context.Background(), r.gen(t)+key, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	return zs
}

func (r *rig) checksum(t testing.TB) string {
	t.Helper()
	sum, _, err := Checksum(context.Background(), r.ks.rdb, r.gen(t))
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// messages collects what is published on a channel.
type messages struct {
	ps      *goredis.PubSub
	rdb     *goredis.Client
	channel string
	mu      sync.Mutex
	got     []string
	cond    *sync.Cond
	done    chan struct{}
}

// subscribe collects the messages of channel until the test ends.
func subscribe(t testing.TB, rdb *goredis.Client, channel string) *messages {
	t.Helper()
	ctx := context.Background()
	ps := rdb.Subscribe(ctx, channel)
	if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
		t.Fatalf("subscribe %s: %v", channel, err)
	}
	m := &messages{ps: ps, rdb: rdb, channel: channel, done: make(chan struct{})}
	m.cond = sync.NewCond(&m.mu)
	go func() {
		defer close(m.done)
		for msg := range ps.Channel() {
			m.mu.Lock()
			m.got = append(m.got, msg.Payload)
			m.cond.Broadcast()
			m.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ps.Close()
		<-m.done
	})
	return m
}

// drain returns the messages received since the last drain, after publishing a marker and
// waiting for it (messages of a channel arrive in the order Redis published them).
func (m *messages) drain(t testing.TB) []string {
	t.Helper()
	marker := fmt.Sprintf("marker-%d", time.Now().UnixNano())
	if err := m.rdb.Publish(context.Background(), m.channel, marker).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.AfterFunc(10*time.Second, func() { m.mu.Lock(); m.cond.Broadcast(); m.mu.Unlock() })
	defer deadline.Stop()
	start := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for !slices.Contains(m.got, marker) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("marker not received on %s within 10s", m.channel)
		}
		m.cond.Wait()
	}
	i := slices.Index(m.got, marker)
	out := slices.Clone(m.got[:i])
	m.got = m.got[i+1:]
	return out
}

// sortedKeys returns a map's keys in order, for messages.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// join renders zset entries as "member=score" for comparisons.
func join(zs []goredis.Z) string {
	parts := make([]string, len(zs))
	for i, z := range zs {
		parts[i] = fmt.Sprintf("%v=%s", z.Member, num(z.Score))
	}
	return strings.Join(parts, " ")
}

// num writes a float in decimal (no exponent), as the tests spell scores.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
