package anomalies

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// startTester runs the processor of DefaultConfig on goka's tester until the test ends.
func startTester(t *testing.T) *tester.Tester {
	t.Helper()
	tt := tester.New(t)
	proc, err := New(gokaenv.Env{ClientID: "test"}, DefaultConfig(), nil, goka.WithTester(tt))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- proc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("processor: %v", err)
		}
	})
	return tt
}

func tableState(t *testing.T, tt *tester.Tester, key string) *marketv1.DetectorState {
	t.Helper()
	v := tt.TableValue(Table, key)
	if v == nil {
		return nil
	}
	return v.(*marketv1.DetectorState)
}

func TestProcessorEmitsAnomalies(t *testing.T) {
	tt := startTester(t)
	out := tt.NewQueueTracker(topics.Anomalies)
	evs := pricesThen(30, 1999)
	evs[29].After.Availability = marketv1.Availability_AVAILABILITY_IN_STOCK
	evs[30].After.Availability = marketv1.Availability_AVAILABILITY_OUT_OF_STOCK
	for _, ev := range evs {
		tt.Consume(topics.ProductChanges, asin, ev)
	}
	var got []*marketv1.AnomalyDetected
	for {
		h, key, v, ok := out.NextWithHeaders()
		if !ok {
			break
		}
		d := v.(*marketv1.AnomalyDetected)
		if key != asin {
			t.Errorf("key %q, want %q", key, asin)
		}
		if string(h[topics.HeaderSchema]) != "market.v1.AnomalyDetected" || string(h[topics.HeaderEventID]) != d.GetEnvelope().GetEventId() {
			t.Errorf("headers %v", h)
		}
		got = append(got, d)
	}
	want := []marketv1.AnomalyKind{marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP, marketv1.AnomalyKind_ANOMALY_KIND_OUT_OF_STOCK}
	if len(got) != 2 || got[0].GetKind() != want[0] || got[1].GetKind() != want[1] {
		t.Fatalf("emitted %v, want %v", kinds(got), want)
	}
	// The table holds exactly what the pure logic computes.
	wantState, _ := feed(t, analyzer(t), nil, evs...)
	if st := tableState(t, tt, asin); !proto.Equal(st, wantState) {
		t.Fatalf("table value differs from Analyzer.Apply's state")
	}
}

func TestProcessorIgnoresRedelivery(t *testing.T) {
	tt := startTester(t)
	out := tt.NewQueueTracker(topics.Anomalies)
	evs := pricesThen(30, 1999)
	for _, ev := range evs {
		tt.Consume(topics.ProductChanges, asin, ev)
	}
	st := tableState(t, tt, asin)
	emitted := out.Hwm()
	for _, ev := range evs[20:] { // the tail again, as after a crash before the commit
		tt.Consume(topics.ProductChanges, asin, ev)
	}
	if again := tableState(t, tt, asin); !proto.Equal(st, again) {
		t.Fatal("redelivered changes changed the table")
	}
	if out.Hwm() != emitted {
		t.Fatalf("redelivery emitted %d more anomalies", out.Hwm()-emitted)
	}
	if emitted != 1 {
		t.Fatalf("emitted %d anomalies, want 1", emitted)
	}
}

func TestProcessorDeadLettersBadInput(t *testing.T) {
	tt := startTester(t)
	dlq := tt.NewQueueTracker(topics.DeadLetters)

	// Bytes that do not decode: an envelope field whose length is cut off.
	garbage := &marketv1.ProductStateChanged{}
	garbage.ProtoReflect().SetUnknown(protoreflect.RawFields{0x0a, 0xff})
	tt.Consume(topics.ProductChanges, asin, garbage)
	// A decodable change without an envelope.
	tt.Consume(topics.ProductChanges, asin, &marketv1.ProductStateChanged{Asin: asin})
	// A change filed under another product's key.
	tt.Consume(topics.ProductChanges, "B0OTHER", change(0, priced(2500)))

	wantErr := []string{"decode market.v1.ProductStateChanged", "envelope: missing", "differs from asin"}
	for i, want := range wantErr {
		h, key, v, ok := dlq.NextWithHeaders()
		if !ok {
			t.Fatalf("dead letter %d missing", i)
		}
		if e := string(h[topics.HeaderDLQError]); !strings.Contains(e, want) || string(h[topics.HeaderDLQStage]) != stage ||
			string(h[topics.HeaderDLQTopic]) != topics.ProductChanges {
			t.Errorf("dead letter %d: headers %v, want error containing %q", i, h, want)
		}
		if i == 0 && string(v.([]byte)) != "\x0a\xff" {
			t.Errorf("dead letter %d: value %x, want the original bytes", i, v)
		}
		if i > 0 && len(v.([]byte)) == 0 && i == 2 { // the re-encoded change
			t.Errorf("dead letter %d: empty value", i)
		}
		if want := []string{asin, asin, "B0OTHER"}[i]; key != want {
			t.Errorf("dead letter %d: key %q, want %q", i, key, want)
		}
	}
	if _, _, ok := dlq.Next(); ok {
		t.Fatal("more dead letters than bad records")
	}
	if tableState(t, tt, asin) != nil || tableState(t, tt, "B0OTHER") != nil {
		t.Fatal("bad input wrote state")
	}
	// The processor goes on.
	tt.Consume(topics.ProductChanges, asin, change(0, priced(2500)))
	if st := tableState(t, tt, asin); st.GetVersion() != 1 {
		t.Fatalf("state after a good change: %v", st)
	}
}

func TestGraph(t *testing.T) {
	g := Graph(DefaultConfig())
	if g.Group() != Group || string(Table) != topics.AnomalyDetectorTable || g.GroupTable().Topic() != topics.AnomalyDetectorTable {
		t.Fatalf("group %s, table %s", g.Group(), g.GroupTable().Topic())
	}
	if in := g.InputStreams(); len(in) != 1 || in[0].Topic() != topics.ProductChanges {
		t.Fatalf("inputs %v", in.Topics())
	}
	if out := g.OutputStreams().Topics(); len(out) != 2 || !slices.Contains(out, topics.Anomalies) || !slices.Contains(out, topics.DeadLetters) {
		t.Fatalf("outputs %v", out)
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.RecentEventIDs = 0
	if _, err := New(gokaenv.Env{}, cfg, nil); err == nil {
		t.Fatal("New accepted an invalid configuration")
	}
}
