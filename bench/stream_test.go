package bench

import (
	"testing"
	"time"
)

func TestStreamIsDeterministicWithUniqueIDs(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	a, b := NewStream(5, 300, 7), NewStream(5, 300, 7)
	ids := map[string]bool{}
	for range 50 {
		pa, oa := a.Next(at)
		pb, ob := b.Next(at)
		if len(pa.GetListings()) != PageSize || len(oa) != PageSize {
			t.Fatalf("page of %d listings and %d observations, want %d", len(pa.GetListings()), len(oa), PageSize)
		}
		for i := range oa {
			if oa[i].GetAsin() != ob[i].GetAsin() || oa[i].GetAttributes().GetPrice().GetAmountMinor() != ob[i].GetAttributes().GetPrice().GetAmountMinor() {
				t.Fatal("two streams of the same seed differ")
			}
			if oa[i].GetKeyword() != pa.GetKeyword() || pa.GetListings()[i].GetAsin() != oa[i].GetAsin() {
				t.Fatal("observation does not match its page")
			}
			ids[oa[i].GetEnvelope().GetEventId()] = true
		}
		if pa.GetKeyword() != pb.GetKeyword() {
			t.Fatal("keywords differ")
		}
		ids[pa.GetEnvelope().GetEventId()] = true
	}
	if len(ids) != 50*(PageSize+1) {
		t.Errorf("%d distinct event ids for %d events", len(ids), 50*(PageSize+1))
	}
}

func TestStreamKeepsEveryKeywordsProductsApart(t *testing.T) {
	s := NewStream(4, 400, 1)
	owner := map[string]string{}
	for range 40 {
		page, _ := s.Next(time.Now())
		for _, l := range page.GetListings() {
			if kw, ok := owner[l.GetAsin()]; ok && kw != page.GetKeyword() {
				t.Fatalf("%s listed under %q and %q", l.GetAsin(), kw, page.GetKeyword())
			}
			owner[l.GetAsin()] = page.GetKeyword()
			if l.GetAttributes().GetPrice().GetAmountMinor() < 199 {
				t.Fatalf("price %d below the floor", l.GetAttributes().GetPrice().GetAmountMinor())
			}
		}
	}
}
