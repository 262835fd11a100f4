package keywords

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// TestCurrentWindow checks that CurrentWindow reports, without changing the state, what the
// processor emitted last for the current window of each series.
func TestCurrentWindow(t *testing.T) {
	cfg := DefaultConfig()
	a := newApplier(t, cfg, nil)
	a.apply(page(kw, t0.Add(10*time.Second), "e1", listings(item{asin: "A", pos: 1, price: 1000, badge: 100}, item{asin: "B", pos: 2, price: 2000})...))
	a.apply(page(kw, t0.Add(90*time.Second), "e2", listings(item{asin: "A", pos: 1, price: 1100, badge: 100}, item{asin: "C", pos: 2, price: 3000})...))
	before := proto.Clone(a.st)
	for _, s := range []Series{Sliding(time.Hour, time.Minute), Sliding(24*time.Hour, time.Minute), Tumbling(time.Hour)} {
		got, ok := CurrentWindow(a.st, s, cfg)
		if !ok {
			t.Fatalf("%v: no current window", s)
		}
		var want *marketv1.KeywordWindowUpdated
		for _, u := range a.updates {
			if u.GetWindow().GetSizeSeconds() == int64(s.Size/time.Second) && u.GetWindow().GetKind() == s.Kind {
				want = u
			}
		}
		if want == nil || !proto.Equal(got.GetStats(), want.GetStats()) || !proto.Equal(got.GetWindow(), want.GetWindow()) || got.GetPagesObserved() != 2 {
			t.Errorf("%v: current window %v, last emitted %v", s, got, want)
		}
	}
	if !proto.Equal(before, a.st) {
		t.Error("CurrentWindow changed the state")
	}
	if _, ok := CurrentWindow(a.st, Sliding(2*time.Hour, time.Minute), cfg); ok {
		t.Error("a series that is not configured has no current window")
	}
	if _, ok := CurrentWindow(nil, Sliding(time.Hour, time.Minute), cfg); ok {
		t.Error("an empty state has no current window")
	}
	if n := PagesBetween(a.st, t0, t0.Add(time.Minute)); n != 1 {
		t.Errorf("PagesBetween = %d, want 1", n)
	}
}
