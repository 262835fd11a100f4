package redis

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/testenv"
	"github.com/marketinsightspro/marketinsights/projections"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// kafkaRig is the test's topics on the embedded broker.
type kafkaRig struct {
	k     *testenv.KafkaEnv
	names map[string]string // catalog name -> test topic
	dead  string
	cl    *kgo.Client
}

func newKafkaRig(t testing.TB) *kafkaRig {
	t.Helper()
	k := testenv.Kafka(t)
	kr := &kafkaRig{k: k, names: map[string]string{}, dead: k.TopicName(t, topics.DeadLetters)}
	for _, cat := range Topics() {
		kr.names[cat] = k.TopicName(t, cat)
		k.CreateTopic(t, kr.names[cat], 3)
	}
	k.CreateTopic(t, kr.dead, 1)
	kr.cl = k.Client(t)
	return kr
}

// produce writes events to their test topics, keyed as the catalog keys them.
func (kr *kafkaRig) produce(t testing.TB, events ...proto.Message) {
	t.Helper()
	recs := make([]*kgo.Record, len(events))
	for i, ev := range events {
		recs[i] = record(t, ev, kr.names[catalogTopic(ev)])
	}
	kr.produceRecords(t, recs...)
}

func (kr *kafkaRig) produceRecords(t testing.TB, recs ...*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kr.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce %d records: %v", len(recs), err)
	}
}

// running is a set of projectors running until the test stops them.
type running struct {
	ps     []*projections.Projector[Row]
	cancel context.CancelFunc
	done   chan error
}

// start runs a projector per sink of ks (consumer groups named after group) until stop.
func (kr *kafkaRig) start(t testing.TB, ks *Keyspace, opts Options, group string) *running {
	t.Helper()
	opts.Topics = kr.names
	sinks, err := Sinks(context.Background(), ks, opts)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := Projectors(kr.k.Config(), sinks, func(s *Sink) projections.Options {
		return projections.Options{
			Group:           group + "-" + strings.ReplaceAll(s.Name(), "/", "-"),
			BatchRows:       50,
			FlushInterval:   50 * time.Millisecond,
			MinBackoff:      50 * time.Millisecond,
			MaxBackoff:      time.Second,
			DeadLetterTopic: kr.dead,
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{ps: ps, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- Run(ctx, ps) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t testing.TB) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		t.Errorf("projectors: %v", err)
	}
}

func (r *running) written() int64 {
	var n int64
	for _, p := range r.ps {
		n += p.Written()
	}
	return n
}

func (r *running) consumed() int64 {
	var n int64
	for _, p := range r.ps {
		n += p.Consumed()
	}
	return n
}

// waitFor polls cond every 50ms until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mixedEvents returns n rounds of events of every topic: product versions, search pages,
// window updates, anomalies and subscription changes of a few products, keywords and users,
// ids from base.
func mixedEvents(base, n int) []proto.Message {
	var out []proto.Message
	id := base
	next := func() int { id++; return id }
	for i := range n {
		at := time.Duration(i) * time.Minute
		for a := range 4 {
			asin := fmt.Sprintf("B%03d", a)
			attrs := bottle()
			attrs.Price = &marketv1.Money{AmountMinor: int64(1000 + 10*i + a), Currency: "USD"}
			out = append(out, productChange(next(), asin, int64(i+1), at, attrs))
		}
		for k := range 2 {
			kw := fmt.Sprintf("keyword %d", k)
			var ls []*marketv1.Listing
			for p := range 6 {
				attrs := bottle()
				attrs.ReviewCount = proto.Int64(int64(100 + i + p))
				ls = append(ls, listingOf(fmt.Sprintf("B%03d", (p+i)%8), int32(p+1), attrs))
			}
			out = append(out, searchPage(next(), kw, 1, at, ls...))
			out = append(out, windowUpdate(next(), kw, marketv1.WindowKind_WINDOW_KIND_TUMBLING, time.Hour, time.Hour+at, int64(i+1)))
			out = append(out, anomalyOf(next(), fmt.Sprintf("an-%d-%d", i, k), kw, at))
		}
		// Subscriptions change owner and keyword from round to round; every third round deletes one.
		out = append(out, subscriptionChange(next(), fmt.Sprintf("sub-%d", i%3), fmt.Sprintf("user-%d", i%2), fmt.Sprintf("keyword %d", i%2), at, false))
		if i%3 == 2 {
			out = append(out, subscriptionChange(next(), fmt.Sprintf("sub-%d", i%2), "", "", at+time.Second, true))
		}
	}
	return out
}

func TestProjectorsEndToEnd(t *testing.T) {
	events := mixedEvents(0, 5)
	ref := newRig(t, Options{})
	ref.write(t, events...)
	want := ref.checksum(t)

	kr := newKafkaRig(t)
	env := testenv.Redis(t)
	ks := NewKeyspace(env.Client, env.Prefix)
	msgs := subscribe(t, env.Client, ks.Channel())
	kr.produce(t, events...)
	run := kr.start(t, ks, Options{}, "e2e")
	live := func() string {
		gen, err := ks.Current(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sum, _, err := Checksum(context.Background(), env.Client, gen)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	waitFor(t, 30*time.Second, "the projected keys to equal the directly written ones", func() bool { return live() == want })
	first := msgs.drain(t)
	if len(first) == 0 {
		t.Error("no change published")
	}

	// Everything again (a redelivery) and a poison record: same keys, nothing published, the
	// poison record dead-lettered.
	kr.produce(t, events...)
	kr.produceRecords(t, &kgo.Record{Topic: kr.names[topics.ProductChanges], Key: []byte("B000"), Value: []byte("not protobuf \xff")})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := kr.k.Client(t, kgo.ConsumeTopics(kr.dead), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	fs := cl.PollFetches(ctx)
	if recs := fs.Records(); len(recs) != 1 || string(recs[0].Value) != "not protobuf \xff" {
		t.Errorf("dead letters: %d records (%v)", len(recs), fs.Err())
	}
	waitFor(t, 30*time.Second, "the redelivered records to be written", func() bool { return run.written() == int64(2*len(events)) })
	run.stop(t)
	if got := live(); got != want {
		t.Error("redelivered events changed the keys")
	}
	if got := msgs.drain(t); len(got) != 0 {
		t.Errorf("%d messages published for redelivered events, e.g. %s", len(got), got[0])
	}
}

// TestProjectorsReplayEqualsLive rebuilds a generation from the topics while the live
// projectors run (Begin, replay with Until, Switch) and compares it with the live one.
func TestProjectorsReplayEqualsLive(t *testing.T) {
	kr := newKafkaRig(t)
	env := testenv.Redis(t)
	ks := NewKeyspace(env.Client, env.Prefix)
	ctx := context.Background()
	all := mixedEvents(0, 8)
	first, second := all[:len(all)/2], all[len(all)/2:]
	kr.produce(t, first...)
	live := kr.start(t, ks, Options{}, "live")
	waitFor(t, 30*time.Second, "the live projectors to write the first events", func() bool { return live.written() == int64(len(first)) })
	old, err := ks.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}

	gen, err := ks.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	adm := kr.k.Admin(t)
	ends, err := adm.ListEndOffsets(ctx, kr.topicNames()...)
	if err != nil {
		t.Fatal(err)
	}
	sinks, err := Sinks(ctx, ks, Options{Generation: gen, Topics: kr.names})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := Projectors(kr.k.Config(), sinks, func(s *Sink) projections.Options {
		until := map[int32]int64{}
		ends.Each(func(o kadm.ListedOffset) {
			if o.Topic == s.Topic() {
				until[o.Partition] = o.Offset
			}
		})
		return projections.Options{Until: until, BatchRows: 50, FlushInterval: 50 * time.Millisecond, DeadLetterTopic: kr.dead}
	})
	if err != nil {
		t.Fatal(err)
	}
	kr.produce(t, second...) // arrives while the replay runs: the live sinks write it into gen too
	if err := Run(ctx, ps); err != nil {
		t.Fatal(err)
	}
	var replayed int64
	for _, p := range ps {
		replayed += p.Written()
	}
	if replayed != int64(len(first)) {
		t.Errorf("replay wrote %d rows, want the %d of the first events", replayed, len(first))
	}
	waitFor(t, 30*time.Second, "the live projectors to write everything", func() bool {
		return live.written() == int64(len(all))
	})
	if _, err := ks.Switch(ctx, gen); err != nil {
		t.Fatal(err)
	}
	sumOld, nOld, err := Checksum(ctx, env.Client, old)
	if err != nil {
		t.Fatal(err)
	}
	sumNew, nNew, err := Checksum(ctx, env.Client, gen)
	if err != nil {
		t.Fatal(err)
	}
	if sumOld != sumNew || nOld == 0 {
		t.Errorf("replayed generation %s (%d keys) differs from the live one %s (%d keys)", sumNew, nNew, sumOld, nOld)
	}
}

func (kr *kafkaRig) topicNames() []string {
	out := make([]string, 0, len(kr.names))
	for _, cat := range Topics() {
		out = append(out, kr.names[cat])
	}
	return out
}
