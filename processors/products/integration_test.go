package products

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/processors"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// expectation is what the tracker must make of a sequence of observations: per product, the
// state and the ids of the change events, in order.
type expectation struct {
	states  map[string]*marketv1.ProductState
	changes map[string][]string
	total   int
}

// expect applies obs in order, per product, as the tracker does (one partition keeps a product's
// records in order).
func expect(t testing.TB, cfg Config, prev *expectation, obs []*marketv1.ProductObserved) *expectation {
	t.Helper()
	e := &expectation{states: map[string]*marketv1.ProductState{}, changes: map[string][]string{}}
	if prev != nil {
		for k, v := range prev.states {
			e.states[k] = proto.Clone(v).(*marketv1.ProductState)
		}
		for k, v := range prev.changes {
			e.changes[k] = slices.Clone(v)
		}
		e.total = prev.total
	}
	for _, o := range obs {
		res, err := Apply(cfg, e.states[o.GetAsin()], proto.Clone(o).(*marketv1.ProductObserved))
		if err != nil {
			t.Fatal(err)
		}
		e.states[o.GetAsin()] = res.State
		if res.Change != nil {
			e.changes[o.GetAsin()] = append(e.changes[o.GetAsin()], res.Change.GetEnvelope().GetEventId())
			e.total++
		}
	}
	return e
}

// checkTable compares every expected product with what get returns.
func checkTable(t *testing.T, what string, e *expectation, get func(string) (any, error)) {
	t.Helper()
	bad := 0
	for asin, want := range e.states {
		v, err := get(asin)
		if err != nil {
			t.Fatalf("%s: get %s: %v", what, asin, err)
		}
		got, _ := v.(*marketv1.ProductState)
		if diff := cmpDiff(want, got); diff != "" {
			if bad++; bad <= 2 {
				t.Errorf("%s: product %s differs from the expected state:\n%s", what, asin, diff)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d products differ", what, bad, len(e.states))
	}
}

// readChanges reads n records of the changes topic and returns their event ids by key.
func readChanges(t *testing.T, r *rig, n int) map[string][]string {
	t.Helper()
	cl := r.k.Client(t, kgo.ConsumeTopics(string(r.cfg.Changes)), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got := map[string][]string{}
	seen := 0
	for seen < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d change events", seen, n)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(rec *kgo.Record) {
			seen++
			var ev marketv1.ProductStateChanged
			if err := proto.Unmarshal(rec.Value, &ev); err != nil {
				t.Fatalf("change event at %d/%d: %v", rec.Partition, rec.Offset, err)
			}
			if string(rec.Key) != ev.GetAsin() {
				t.Errorf("change event key %q for asin %q", rec.Key, ev.GetAsin())
			}
			got[ev.GetAsin()] = append(got[ev.GetAsin()], ev.GetEnvelope().GetEventId())
		})
	}
	// Nothing more may come: give the broker a moment to show a surplus.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	cl.PollFetches(ctx2).EachRecord(func(rec *kgo.Record) {
		t.Errorf("surplus change event for %s at %d/%d", rec.Key, rec.Partition, rec.Offset)
	})
	return got
}

// TestIntegrationTracksAndRecoversFromChangelog runs the tracker on the embedded broker over
// ~10k observations of 25 products (with redeliveries and one undecodable record), checks the
// table and the change events against Apply, then restarts it with an empty storage directory
// and checks it recovers exactly the same table from the changelog and carries on from there.
func TestIntegrationTracksAndRecoversFromChangelog(t *testing.T) {
	r := newRig(t)
	obs := workload(1, 10_000, 25, 10*time.Minute)
	want := expect(t, r.cfg, nil, obs)

	r.produceRaw(t, r.cfg.Input, "B0GARBAGE0", []byte("\xffnot a protobuf"))
	r.produce(t, r.cfg.Input, obs)

	first := r.startTracker(t, t.TempDir(), nil)
	first.waitProcessed(t, int64(len(obs)+1), 120*time.Second)
	t.Logf("first run: %d records at %.0f records/s", first.n.Load(), first.rate())
	checkTable(t, "first run", want, first.p.Get)

	gotChanges := readChanges(t, r, want.total)
	for asin, ids := range want.changes {
		if !slices.Equal(gotChanges[asin], ids) {
			t.Errorf("change events of %s: got %d ids, want %d (or another order)", asin, len(gotChanges[asin]), len(ids))
		}
	}
	checkDeadLetter(t, r, "B0GARBAGE0")
	first.Stop(t)

	// Restart with an empty storage directory: the table comes back from the changelog.
	second := r.startTracker(t, t.TempDir(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := processors.WaitReady(ctx, second.p); err != nil {
		t.Fatal(err)
	}
	checkTable(t, "after a restart with empty storage", want, second.p.Get)

	// A view of the table (what other groups look up) holds the same.
	view, err := goka.NewView(r.k.Brokers, r.cfg.TableOf(), Codec(), r.env(t.TempDir()).ViewOptions("products-test")...)
	if err != nil {
		t.Fatal(err)
	}
	vctx, vcancel := context.WithCancel(context.Background())
	vdone := make(chan error, 1)
	go func() { vdone <- view.Run(vctx) }()
	defer func() { vcancel(); <-vdone }()
	for !view.Recovered() {
		select {
		case err := <-vdone:
			t.Fatalf("view stopped: %v", err)
		case <-ctx.Done():
			t.Fatal("view did not recover")
		case <-time.After(10 * time.Millisecond):
		}
	}
	checkTable(t, "view", want, view.Get)

	// The restarted tracker goes on from the recovered state and the committed offsets: new
	// observations apply on top, and nothing already emitted is emitted again.
	var more []*marketv1.ProductObserved
	for i, asin := range slices.Sorted(maps.Keys(want.states)) {
		more = append(more, observation(asin, 1_000_000+i, 365*24*time.Hour, price(int64(7+i)), rank(int64(3+i), "Electronics")))
	}
	want = expect(t, r.cfg, want, more)
	r.produce(t, r.cfg.Input, more)
	deadline := time.Now().Add(60 * time.Second)
	for asin, st := range want.states {
		for {
			v, err := second.p.Get(asin)
			if err != nil {
				t.Fatal(err)
			}
			if v.(*marketv1.ProductState).GetVersion() >= st.GetVersion() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("product %s did not reach version %d", asin, st.GetVersion())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	checkTable(t, "after new observations", want, second.p.Get)
	gotChanges = readChanges(t, r, want.total)
	for asin, ids := range want.changes {
		if !slices.Equal(gotChanges[asin], ids) {
			t.Errorf("change events of %s after the restart: got %d ids, want %d (or another order)", asin, len(gotChanges[asin]), len(ids))
		}
	}
}

// checkDeadLetter finds the record of key in the dead-letter topic, with its origin in headers.
func checkDeadLetter(t *testing.T, r *rig, key string) {
	t.Helper()
	cl := r.k.Client(t, kgo.ConsumeTopics(topics.DeadLetters), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("no dead letter with key %s", key)
		}
		found := false
		fs.EachRecord(func(rec *kgo.Record) {
			if string(rec.Key) != key {
				return
			}
			h := map[string]string{}
			for _, kv := range rec.Headers {
				h[kv.Key] = string(kv.Value)
			}
			if h[topics.HeaderDLQTopic] != string(r.cfg.Input) || h[topics.HeaderDLQStage] != stage || h[topics.HeaderDLQError] == "" {
				return // another test's record with the same key
			}
			found = true
		})
		if found {
			return
		}
	}
}
