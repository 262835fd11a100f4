package clickhouse

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kgo"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// recordingBatch is a driver.Batch that records what each column received.
type recordingBatch struct {
	driver.Batch
	cols map[int]*recordingColumn
}

type recordingColumn struct {
	appended []any // the values passed to Append (one slice per call)
	rows     []any // the values passed to AppendRow
	refuse   bool
}

func (b *recordingBatch) Column(i int) driver.BatchColumn {
	if b.cols[i] == nil {
		b.cols[i] = &recordingColumn{}
	}
	return b.cols[i]
}

func (c *recordingColumn) Append(v any) error {
	if c.refuse {
		return fmt.Errorf("refused %T", v)
	}
	// Copy: Columns reuses its slices after the call.
	rv := reflect.ValueOf(v)
	cp := reflect.MakeSlice(rv.Type(), rv.Len(), rv.Len())
	reflect.Copy(cp, rv)
	c.appended = append(c.appended, cp.Interface())
	return nil
}

func (c *recordingColumn) AppendRow(v any) error { c.rows = append(c.rows, v); return nil }

func TestColumnsAppendTypedSlicesPerColumn(t *testing.T) {
	title := "a"
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	rows := [][]any{
		{"e1", at, &title, []string{"x"}},
		{"e2", at, (*string)(nil), []string{}},
	}
	var cs Columns
	for range 2 { // the second batch reuses the slices of the first
		b := &recordingBatch{cols: map[int]*recordingColumn{}}
		if err := cs.Append(b, rows); err != nil {
			t.Fatal(err)
		}
		want := []any{
			[]string{"e1", "e2"},
			[]time.Time{at, at},
			[]*string{&title, nil},
			[][]string{{"x"}, {}},
		}
		for j, w := range want {
			if got := b.cols[j].appended; len(got) != 1 || !reflect.DeepEqual(got[0], w) {
				t.Errorf("column %d got %#v, want one Append of %#v", j, got, w)
			}
		}
	}
}

func TestColumnsFallBackToRowsForMixedTypes(t *testing.T) {
	rows := [][]any{{int64(1)}, {nil}, {int64(3)}}
	var cs Columns
	b := &recordingBatch{cols: map[int]*recordingColumn{}}
	if err := cs.Append(b, rows); err != nil {
		t.Fatal(err)
	}
	if got, want := b.cols[0].rows, []any{int64(1), nil, int64(3)}; !reflect.DeepEqual(got, want) {
		t.Errorf("AppendRow got %#v, want %#v", got, want)
	}
}

func TestColumnsReportRefusedValuesAndRaggedRows(t *testing.T) {
	var cs Columns
	b := &recordingBatch{cols: map[int]*recordingColumn{0: {refuse: true}}}
	if err := cs.Append(b, [][]any{{"x"}}); err == nil {
		t.Error("a refused column gave no error")
	}
	b = &recordingBatch{cols: map[int]*recordingColumn{}}
	if err := cs.Append(b, [][]any{{"x", "y"}, {"z"}}); err == nil {
		t.Error("a short row gave no error")
	}
}

func TestEnumNameStripsTheTypePrefix(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{EnumName(marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP), "price_drop"},
		{EnumName(marketv1.Availability_AVAILABILITY_IN_STOCK), "in_stock"},
		{EnumName(marketv1.Availability_AVAILABILITY_UNSPECIFIED), ""},
		{EnumName(marketv1.Availability(99)), "99"},
	} {
		if c.got != c.want {
			t.Errorf("EnumName = %q, want %q", c.got, c.want)
		}
	}
}

// BenchmarkObservationSink measures the projector's client-side work per observation, without
// Kafka or ClickHouse: decode, rows, and the column appends of a 5,000-row batch.
//
//	go test -run '^$' -bench ObservationSink -benchmem ./projections/clickhouse/
func BenchmarkObservationSink(b *testing.B) {
	tp := topics.MustLookup(topics.ProductObservations)
	table, _ := LookupTable("observations")
	s := NewSink(nil, table)
	const batch = 5000
	recs := make([]*kgo.Record, batch)
	for i := range recs {
		ev := observation(fmt.Sprintf("0193e1a2-0000-7000-8000-%012x", i), fmt.Sprintf("B0BENCH%03d", i%2000), t0, int64(1000+i))
		r, err := topics.NewEventRecord(tp, ev)
		if err != nil {
			b.Fatal(err)
		}
		recs[i] = r
	}
	var cs Columns
	rows := make([][]any, 0, batch)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		rs, err := s.Rows(recs[i%batch])
		if err != nil {
			b.Fatal(err)
		}
		rows = append(rows, rs...)
		if len(rows) == batch {
			if err := cs.Append(discardBatch{}, rows); err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
	}
}

// discardBatch is a driver.Batch whose columns take and drop everything.
type discardBatch struct{ driver.Batch }

func (discardBatch) Column(int) driver.BatchColumn { return discardColumn{} }

type discardColumn struct{}

func (discardColumn) Append(any) error    { return nil }
func (discardColumn) AppendRow(any) error { return nil }
