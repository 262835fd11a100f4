package redis

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/analytics/market"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

func TestKeywordListingsGuards(t *testing.T) {
	sales := market.DefaultSalesModel()
	guard := func(n int, at time.Duration, pos int32) string {
		ls, err := KeywordListings(searchPage(n, "kw", 1, at, listingOf("A", pos, nil)), 48, sales)
		if err != nil || len(ls) != 1 {
			t.Fatalf("listings: %v, %v", ls, err)
		}
		return ls[0].Guard
	}
	// Later event time wins, then the better position, then the greater event id.
	order := []string{guard(9, 0, 7), guard(1, 0, 3), guard(2, 0, 3), guard(1, time.Millisecond, 48)}
	if !slices.IsSorted(order) || len(slices.Compact(slices.Clone(order))) != len(order) {
		t.Errorf("guards not strictly increasing: %q", order)
	}
	if got := guard(1, 0, 1); !strings.HasPrefix(got, "001772366400000|999998|") {
		t.Errorf("guard %q", got)
	}
}

func TestKeywordListingsPositions(t *testing.T) {
	tests := []struct {
		name      string
		page      int32
		listings  []*marketv1.Listing
		wantASINs []string
		wantPos   []int32
	}{
		{"page 1", 1, []*marketv1.Listing{listingOf("A", 1, nil), listingOf("B", 2, nil)}, []string{"A", "B"}, []int32{1, 2}},
		{"page 3", 3, []*marketv1.Listing{listingOf("A", 1, nil)}, []string{"A"}, []int32{97}},
		{"page 0 counts as 1", 0, []*marketv1.Listing{listingOf("A", 5, nil)}, []string{"A"}, []int32{5}},
		{"unknown position is the page size", 2, []*marketv1.Listing{listingOf("A", 0, nil)}, []string{"A"}, []int32{96}},
		{"duplicate keeps the better position", 1, []*marketv1.Listing{listingOf("A", 9, nil), listingOf("B", 2, nil), listingOf("A", 3, nil)}, []string{"A", "B"}, []int32{3, 2}},
		{"no ASIN skipped", 1, []*marketv1.Listing{listingOf("", 1, nil)}, nil, nil},
		{"huge page clamps", 1 << 30, []*marketv1.Listing{listingOf("A", 1, nil)}, []string{"A"}, []int32{1<<31 - 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ls, err := KeywordListings(searchPage(1, "kw", tc.page, 0, tc.listings...), 48, market.DefaultSalesModel())
			if err != nil {
				t.Fatal(err)
			}
			var asins []string
			var pos []int32
			for _, l := range ls {
				asins, pos = append(asins, l.Row.ASIN), append(pos, l.Row.Position)
				if *l.Scores[4] != float64(l.Row.Position) {
					t.Errorf("position score %v for position %d", *l.Scores[4], l.Row.Position)
				}
			}
			if !slices.Equal(asins, tc.wantASINs) || !slices.Equal(pos, tc.wantPos) {
				t.Errorf("got %v at %v, want %v at %v", asins, pos, tc.wantASINs, tc.wantPos)
			}
		})
	}
}

func TestRowsRefuseInvalidEvents(t *testing.T) {
	sinks := newSinks(NewKeyspace(nil, "mip:"), Options{})
	byTopic := map[string]*Sink{}
	for i, s := range sinks {
		byTopic[Topics()[i]] = s
	}
	noTime := productChange(1, "B01", 1, 0, nil)
	noTime.Envelope.EventTime = nil
	tests := []struct {
		name string
		ev   proto.Message
	}{
		{"product without asin", productChange(1, "", 1, 0, nil)},
		{"product without version", productChange(1, "B01", 0, 0, nil)},
		{"product without event time", noTime},
		{"page without keyword", searchPage(1, "", 1, 0)},
		{"page before 1970", searchPage(1, "kw", 1, -time.Duration(t0.UnixNano())-time.Hour, listingOf("A", 1, nil))},
		{"window without window", &marketv1.KeywordWindowUpdated{Envelope: envelope(1, 0), Keyword: "kw"}},
		{"anomaly without id", anomalyOf(1, "", "kw", 0)},
		{"subscription change without action", &marketv1.SubscriptionChanged{Envelope: envelope(1, 0), Subscription: &marketv1.Subscription{SubscriptionId: "s"}}},
		{"subscription change without envelope", &marketv1.SubscriptionChanged{Action: marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_DELETED}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := topics.NewRecord(topics.MustLookup(catalogTopic(tc.ev)), "key", tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			if rows, err := byTopic[catalogTopic(tc.ev)].Rows(rec); err == nil {
				t.Errorf("accepted: %d rows", len(rows))
			}
		})
	}
	// A record of another schema is refused by its header.
	r := record(t, anomalyOf(1, "a", "", 0), "")
	if _, err := byTopic[topics.ProductChanges].Rows(r); !errors.Is(err, topics.ErrSchemaMismatch) {
		t.Errorf("anomaly on the product topic: %v", err)
	}
}

func TestWindowSeriesNames(t *testing.T) {
	tum, sli := marketv1.WindowKind_WINDOW_KIND_TUMBLING, marketv1.WindowKind_WINDOW_KIND_SLIDING
	for _, tc := range []struct {
		kind marketv1.WindowKind
		size int64
		want string
	}{{tum, 60, "tumbling:1m"}, {tum, 3600, "tumbling:1h"}, {tum, 86400, "tumbling:1d"}, {sli, 3600, "sliding:1h"}, {sli, 86400, "sliding:1d"}, {sli, 90, "sliding:90s"}, {tum, 5400, "tumbling:90m"}} {
		if got := WindowSeries(tc.kind, tc.size); got != tc.want {
			t.Errorf("WindowSeries(%v, %d) = %q, want %q", tc.kind, tc.size, got, tc.want)
		}
	}
	if got := KeywordKey("a:b%c", SuffixRows); got != "k:a%3Ab%25c:rows" {
		t.Errorf("escaped key %q", got)
	}
}

func TestCheckGeneration(t *testing.T) {
	ks := NewKeyspace(nil, "mip:")
	for gen, ok := range map[string]bool{"mip:g1:": true, "mip:g42:": true, "mip:g0:": false, "mip:g01:": false,
		"mip:g1": false, "mip:gx:": false, "other:g1:": false, "mip:g-1:": false, "": false} {
		if err := ks.CheckGeneration(gen); (err == nil) != ok {
			t.Errorf("CheckGeneration(%q) = %v", gen, err)
		}
	}
}

// FuzzRows feeds arbitrary record values to every sink: Rows returns rows or an error, never panics.
func FuzzRows(f *testing.F) {
	for _, ev := range mixedEvents(0, 1) {
		b, _ := proto.Marshal(ev)
		f.Add(b)
	}
	f.Add([]byte("not protobuf"))
	sinks := newSinks(NewKeyspace(nil, "mip:"), Options{})
	f.Fuzz(func(t *testing.T, value []byte) {
		for _, s := range sinks {
			rows, err := s.Rows(&kgo.Record{Topic: s.Topic(), Value: value})
			if err == nil {
				for _, r := range rows {
					if len(r.keys) == 0 || len(r.args) < 3 {
						t.Fatalf("%s: row without keys or arguments", s.Name())
					}
				}
			}
		}
	})
}
