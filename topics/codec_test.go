package topics

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// fill sets every field of m (recursively, to depth 3) to a value derived from seed, so a
// round trip that drops or mangles any field shows up.
func fill(m protoreflect.Message, seed int, depth int) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if oo := fd.ContainingOneof(); oo != nil && !oo.IsSynthetic() && m.WhichOneof(oo) != nil {
			continue // one member of a real oneof only
		}
		n := seed + i + 1
		switch {
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			k := scalar(fd.MapKey(), n)
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v := mp.NewValue()
				if depth > 0 {
					fill(v.Message(), n, depth-1)
				}
				mp.Set(k.MapKey(), v)
			} else {
				mp.Set(k.MapKey(), scalar(fd.MapValue(), n))
			}
		case fd.IsList():
			l := m.Mutable(fd).List()
			for j := 0; j < 2; j++ {
				if fd.Kind() == protoreflect.MessageKind {
					v := l.NewElement()
					if depth > 0 {
						fill(v.Message(), n+j, depth-1)
					}
					l.Append(v)
				} else {
					l.Append(scalar(fd, n+j))
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			if depth > 0 {
				fill(m.Mutable(fd).Message(), n, depth-1)
			}
		default:
			m.Set(fd, scalar(fd, n))
		}
	}
}

func scalar(fd protoreflect.FieldDescriptor, n int) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(fmt.Sprintf("%s-%d", fd.Name(), n))
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(n%2 == 0)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(n))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(n) * 1_000_000_007)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(n))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(uint64(n) << 40)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(float64(n) + 0.25)
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(n) + 0.5)
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		return protoreflect.ValueOfEnum(vals.Get(1 + n%(vals.Len()-1)).Number())
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte{byte(n), 0, 0xff})
	}
	panic(fmt.Sprintf("unhandled kind %v", fd.Kind()))
}

func filled(t Topic) proto.Message {
	m := t.NewValue()
	fill(m.ProtoReflect(), 7, 3)
	if ev, ok := m.(marketv1.Event); ok {
		ev.GetEnvelope().EventId = marketv1.NewEventID()
	}
	return m
}

func TestCodecRoundTripEveryTopic(t *testing.T) {
	for _, tp := range All() {
		if tp.Value == nil {
			continue
		}
		t.Run(tp.Name, func(t *testing.T) {
			want := filled(tp)
			c := tp.Codec()
			b, err := c.Encode(want)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, err := c.Decode(b)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmpDiff(want, got.(proto.Message)); diff != "" {
				t.Fatalf("goka codec round trip differs (-want +got):\n%s", diff)
			}
			// Deterministic: the same value encodes to the same bytes.
			b2, _ := c.Encode(got)
			if string(b) != string(b2) {
				t.Fatalf("encoding is not deterministic")
			}

			j, err := MarshalJSON(want)
			if err != nil {
				t.Fatalf("MarshalJSON: %v", err)
			}
			fromJSON, err := UnmarshalJSON(tp, j)
			if err != nil {
				t.Fatalf("UnmarshalJSON(%s): %v", j, err)
			}
			if diff := cmpDiff(want, fromJSON); diff != "" {
				t.Fatalf("JSON round trip differs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecordRoundTripWithHeaders(t *testing.T) {
	for _, tp := range All() {
		if tp.Value == nil || tp.KeyField == "" {
			continue
		}
		t.Run(tp.Name, func(t *testing.T) {
			want := filled(tp)
			r, err := NewEventRecord(tp, want)
			if err != nil {
				t.Fatalf("NewEventRecord: %v", err)
			}
			if len(r.Key) == 0 {
				t.Fatalf("record has no key")
			}
			if s, _ := Header(r, HeaderSchema); s != tp.Schema() {
				t.Fatalf("schema header = %q, want %q", s, tp.Schema())
			}
			if ev, ok := want.(marketv1.Event); ok {
				if id, _ := Header(r, HeaderEventID); id != ev.GetEnvelope().GetEventId() {
					t.Fatalf("event-id header = %q, want %q", id, ev.GetEnvelope().GetEventId())
				}
			}
			got, err := DecodeRecord(tp, r)
			if err != nil {
				t.Fatalf("DecodeRecord: %v", err)
			}
			if diff := cmpDiff(want, got); diff != "" {
				t.Fatalf("record round trip differs (-want +got):\n%s", diff)
			}
			rendered := Render(r)
			if rendered.Error != "" || rendered.Value == nil {
				t.Fatalf("Render: error %q, value %s", rendered.Error, rendered.Value)
			}
		})
	}
}

func TestOptionalFieldsDistinguishZeroFromAbsent(t *testing.T) {
	zero := &marketv1.ProductAttributes{Rating: proto.Float64(0), ReviewCount: proto.Int64(0), Prime: proto.Bool(false),
		Price: &marketv1.Money{AmountMinor: 0, Currency: "USD"}}
	absent := &marketv1.ProductAttributes{}
	for _, m := range []*marketv1.ProductAttributes{zero, absent} {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var got marketv1.ProductAttributes
		if err := proto.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if (got.Rating != nil) != (m.Rating != nil) || (got.ReviewCount != nil) != (m.ReviewCount != nil) ||
			(got.Prime != nil) != (m.Prime != nil) || (got.Price != nil) != (m.Price != nil) {
			t.Fatalf("presence lost in round trip: sent %v, got %v", m, &got)
		}
	}
}

func TestCodecRejectsWrongType(t *testing.T) {
	tp := MustLookup(SearchResults)
	_, err := tp.Codec().Encode(&marketv1.ProductObserved{})
	if !errors.Is(err, ErrSchemaMismatch) {
		t.Fatalf("Encode(wrong type) error = %v, want ErrSchemaMismatch", err)
	}
	r, _ := NewEventRecord(MustLookup(ProductObservations), &marketv1.ProductObserved{Asin: "B0X"})
	r.Topic = SearchResults
	if _, err := DecodeRecord(tp, r); !errors.Is(err, ErrSchemaMismatch) {
		t.Fatalf("DecodeRecord(other schema header) error = %v, want ErrSchemaMismatch", err)
	}
	if _, err := tp.Codec().Decode([]byte{0xff, 0xff, 0xff}); err == nil {
		t.Fatalf("Decode(garbage) succeeded")
	}
}

func TestRenderKeepsUndecodableRecords(t *testing.T) {
	cases := []struct {
		name    string
		rec     *kgo.Record
		wantErr string
	}{
		{"garbage value", &kgo.Record{Topic: SearchResults, Key: []byte("k"), Value: []byte{0xff, 0x01}}, "decode"},
		{"unknown topic", &kgo.Record{Topic: "someone-elses-topic", Value: []byte("hello")}, "not in the catalog"},
		{"dead letter (raw by design)", &kgo.Record{Topic: DeadLetters, Value: []byte("raw")}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Render(tc.rec)
			if got.ValueBase64 == "" || got.Value != nil {
				t.Fatalf("Render = %+v, want base64 value", got)
			}
			if !strings.Contains(got.Error, tc.wantErr) || (tc.wantErr == "" && got.Error != "") {
				t.Fatalf("Render error = %q, want it to contain %q", got.Error, tc.wantErr)
			}
		})
	}
}

func TestKeyOf(t *testing.T) {
	sub := MustLookup(Subscriptions)
	k, err := KeyOf(sub, &marketv1.SubscriptionChanged{Subscription: &marketv1.Subscription{SubscriptionId: "s-1"}})
	if err != nil || k != "s-1" {
		t.Fatalf("KeyOf(nested) = %q, %v", k, err)
	}
	var fe *FieldError
	if _, err := KeyOf(sub, &marketv1.SubscriptionChanged{}); !errors.As(err, &fe) || fe.Field != "subscription.subscription_id" {
		t.Fatalf("KeyOf(missing nested) error = %v, want FieldError on subscription.subscription_id", err)
	}
	if _, err := KeyOf(MustLookup(DeadLetters), &marketv1.Envelope{}); err == nil {
		t.Fatalf("KeyOf(raw topic) succeeded")
	}
}

func TestDeadLetterKeepsOriginal(t *testing.T) {
	orig := &kgo.Record{Topic: ProductObservations, Partition: 4, Offset: 99, Key: []byte("B0X"), Value: []byte{1, 2, 3},
		Headers: []kgo.RecordHeader{{Key: HeaderSchema, Value: []byte("market.v1.ProductObserved")}}}
	dl := DeadLetter(orig, "project/clickhouse", errors.New("boom"), time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	if dl.Topic != DeadLetters || string(dl.Key) != "B0X" || string(dl.Value) != "\x01\x02\x03" {
		t.Fatalf("dead letter lost the original: %+v", dl)
	}
	want := map[string]string{HeaderSchema: "market.v1.ProductObserved", HeaderDLQError: "boom", HeaderDLQStage: "project/clickhouse",
		HeaderDLQTopic: ProductObservations, HeaderDLQPartition: "4", HeaderDLQOffset: "99", HeaderDLQTime: "2026-11-25T00:00:00Z"}
	for k, v := range want {
		if got, _ := Header(dl, k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
}

func TestCatalogIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, tp := range All() {
		if seen[tp.Name] {
			t.Errorf("%s appears twice", tp.Name)
		}
		seen[tp.Name] = true
		if tp.Partitions < 1 || tp.Summary == "" || tp.Key == "" {
			t.Errorf("%s: partitions, summary and key are required", tp.Name)
		}
		if tp.Cleanup == CleanupDelete && tp.Retention == 0 {
			t.Errorf("%s: delete policy needs a retention", tp.Name)
		}
		if tp.Kind != KindStream && tp.Group == "" {
			t.Errorf("%s: goka topics name their group", tp.Name)
		}
		if tp.Kind == KindTable && tp.Cleanup != CleanupCompact {
			t.Errorf("%s: goka tables must be compacted", tp.Name)
		}
		if tp.Kind == KindStream && tp.Value != nil {
			if _, ok := tp.Value.(marketv1.Event); !ok {
				t.Errorf("%s: stream values must carry an envelope", tp.Name)
			}
		}
		if tp.KeyField != "" {
			if _, err := KeyOf(tp, filled(tp)); err != nil {
				t.Errorf("%s: key field %q: %v", tp.Name, tp.KeyField, err)
			}
		}
	}
	// The original plan's three topics, with their settings.
	for _, want := range []struct {
		orig       string
		partitions int32
		retention  time.Duration
	}{{"market-analysis-events", 3, 7 * day}, {"scraping-status-updates", 2, day}, {"user-notifications", 1, 3 * day}} {
		found := false
		for _, tp := range All() {
			if tp.OriginalName == want.orig {
				found = true
				if tp.Partitions != want.partitions || tp.Retention != want.retention {
					t.Errorf("%s (%s): %d partitions, %v; want %d, %v", tp.Name, want.orig, tp.Partitions, tp.Retention, want.partitions, want.retention)
				}
			}
		}
		if !found {
			t.Errorf("no topic for the original plan's %s", want.orig)
		}
	}
	// Co-partitioning: a goka group's table has as many partitions as the streams keyed like it.
	for _, pair := range [][2]string{{ProductObservations, ProductTrackerTable}, {SearchResults, KeywordWindowsTable},
		{SearchResults, KeywordWindowsLoop}, {ProductChanges, AnomalyDetectorTable}, {AnalysisEvents, AnalysisSagaTable}} {
		if a, b := MustLookup(pair[0]), MustLookup(pair[1]); a.Partitions != b.Partitions {
			t.Errorf("%s has %d partitions, %s %d: goka needs them co-partitioned", a.Name, a.Partitions, b.Name, b.Partitions)
		}
	}
}

func cmpDiff(want, got proto.Message) string {
	if proto.Equal(want, got) {
		return ""
	}
	w, _ := MarshalJSON(want)
	g, _ := MarshalJSON(got)
	return fmt.Sprintf("want %s\ngot  %s", w, g)
}
