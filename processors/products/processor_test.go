package products

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/processors"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// startTester runs a tracker on goka's tester until the test ends.
func startTester(t *testing.T, m *processors.Metrics) (*tester.Tester, Config) {
	t.Helper()
	tt := tester.New(t)
	cfg := DefaultConfig()
	p, err := New(gokaenv.Env{}, cfg, m, goka.WithTester(tt))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("processor: %v", err)
		}
	})
	return tt, cfg
}

func tableState(t *testing.T, tt *tester.Tester, key string) *marketv1.ProductState {
	t.Helper()
	v := tt.TableValue(Table, key)
	if v == nil {
		return nil
	}
	return v.(*marketv1.ProductState)
}

func TestProcessorTracksProducts(t *testing.T) {
	reg := prometheus.NewRegistry()
	tt, cfg := startTester(t, processors.NewMetrics(reg))
	changes := tt.NewQueueTracker(string(cfg.Changes))
	in := string(cfg.Input)

	tt.Consume(in, asin, full(asin, 1, 0))
	st := tableState(t, tt, asin)
	if st.GetVersion() != 1 || st.GetLatest().GetPrice().GetAmountMinor() != 2999 {
		t.Fatalf("state after the first observation = %v", st)
	}
	h, key, v, ok := changes.NextWithHeaders()
	if !ok || key != asin {
		t.Fatalf("no change event for the new product (key %q, ok %v)", key, ok)
	}
	ev := v.(*marketv1.ProductStateChanged)
	if ev.GetChanges()[0] != marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_NEW_PRODUCT {
		t.Errorf("changes = %v", ev.GetChanges())
	}
	if string(h[topics.HeaderSchema]) != "market.v1.ProductStateChanged" || string(h[topics.HeaderEventID]) != ChangeEventID(eventID(1)) {
		t.Errorf("headers = %v", h)
	}

	// A price drop: one PRICE change with before and after.
	tt.Consume(in, asin, observation(asin, 2, time.Hour, price(1999)))
	_, _, v, ok = changes.NextWithHeaders()
	if !ok {
		t.Fatal("no change event for a price drop")
	}
	ev = v.(*marketv1.ProductStateChanged)
	if ev.GetBefore().GetPrice().GetAmountMinor() != 2999 || ev.GetAfter().GetPrice().GetAmountMinor() != 1999 || ev.GetVersion() != 2 {
		t.Errorf("price change = %v", ev)
	}

	// Redelivery and a late observation that changes no latest value: no event, no new version.
	tt.Consume(in, asin, observation(asin, 2, time.Hour, price(1999)))
	tt.Consume(in, asin, observation(asin, 3, 30*time.Minute, price(2500)))
	if _, _, ok := changes.Next(); ok {
		t.Errorf("an event was emitted for a redelivery or an out-of-date price")
	}
	st = tableState(t, tt, asin)
	if st.GetVersion() != 3 || st.GetObservationCount() != 3 || st.GetLatest().GetPrice().GetAmountMinor() != 1999 {
		t.Errorf("version %d count %d price %d, want 3 3 1999", st.GetVersion(), st.GetObservationCount(), st.GetLatest().GetPrice().GetAmountMinor())
	}
	if got := metricSum(t, reg, "marketinsights_processor_emitted_total"); got != 2 {
		t.Errorf("emitted_total = %v, want 2", got)
	}

	// Another product lives under its own key.
	tt.Consume(in, "B0OTHER000", full("B0OTHER000", 4, 0))
	if tableState(t, tt, "B0OTHER000").GetVersion() != 1 || tableState(t, tt, asin).GetVersion() != 3 {
		t.Errorf("products share state")
	}
}

func TestProcessorDeadLettersInvalidObservations(t *testing.T) {
	reg := prometheus.NewRegistry()
	tt, cfg := startTester(t, processors.NewMetrics(reg))
	dead := tt.NewQueueTracker(topics.DeadLetters)
	in := string(cfg.Input)

	noID := full(asin, 1, 0)
	noID.Envelope.EventId = ""
	tt.Consume(in, asin, noID)
	tt.Consume(in, "B0WRONGKEY", full(asin, 2, 0))
	for _, want := range []string{asin, "B0WRONGKEY"} {
		h, key, raw, ok := dead.NextRawWithHeaders()
		if !ok || key != want {
			t.Fatalf("dead letter key %q ok %v, want %q", key, ok, want)
		}
		if string(h[topics.HeaderDLQStage]) != stage || len(h[topics.HeaderDLQError]) == 0 {
			t.Errorf("dead letter headers = %v", h)
		}
		var o marketv1.ProductObserved
		if err := proto.Unmarshal(raw, &o); err != nil || o.GetAsin() != asin {
			t.Errorf("dead letter value: %v, asin %q", err, o.GetAsin())
		}
	}
	if tableState(t, tt, asin) != nil || tableState(t, tt, "B0WRONGKEY") != nil {
		t.Errorf("an invalid observation reached the table")
	}
	if got := metricSum(t, reg, "marketinsights_processor_dead_letters_total"); got != 2 {
		t.Errorf("dead_letters_total = %v, want 2", got)
	}
	// The processor goes on.
	tt.Consume(in, asin, full(asin, 3, 0))
	if tableState(t, tt, asin).GetVersion() != 1 {
		t.Errorf("a valid observation after invalid ones was not applied")
	}
}

func TestProcessorKeyFillsMissingASIN(t *testing.T) {
	tt, cfg := startTester(t, nil)
	o := full(asin, 1, 0)
	o.Asin = ""
	tt.Consume(string(cfg.Input), asin, o)
	if st := tableState(t, tt, asin); st.GetAsin() != asin {
		t.Errorf("state asin = %q, want the key", st.GetAsin())
	}
}

// metricSum returns the sum over its labels of a counter registered on reg.
func metricSum(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
