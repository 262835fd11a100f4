package anomalies

import (
	"testing"

	"google.golang.org/protobuf/proto"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

func init() { checkStateCache = true }

// uncheckedCache turns the check of cache hits off for a benchmark: it decodes every hit.
func uncheckedCache(b *testing.B) {
	old := checkStateCache
	checkStateCache = false
	b.Cleanup(func() { checkStateCache = old })
}

// warmState returns a product's detector state after 50 ordinary changes.
func warmState(t *testing.T) *marketv1.DetectorState {
	t.Helper()
	a := analyzer(t)
	var st *marketv1.DetectorState
	for i := range 50 {
		out, err := a.Apply(asin, st, fullChange(i))
		if err != nil {
			t.Fatal(err)
		}
		st = out.State
	}
	return st
}

func TestStateCodec(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cache    int
		wantSame bool // Decode returns the encoded state itself
	}{
		{name: "cached", cache: 16, wantSame: true},
		{name: "no cache", cache: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newStateCodec(tc.cache)
			st := warmState(t)
			want := proto.Clone(st)
			raw, err := c.Encode(st)
			if err != nil {
				t.Fatal(err)
			}
			decode := func() *marketv1.DetectorState {
				t.Helper()
				v, err := c.Decode(raw)
				if err != nil {
					t.Fatal(err)
				}
				return v.(*marketv1.DetectorState)
			}
			got := decode()
			if (got == st) != tc.wantSame || !proto.Equal(got, want) {
				t.Fatalf("Decode: same pointer %v (want %v), equal %v", got == st, tc.wantSame, proto.Equal(got, want))
			}
			// The caller owns what Decode returned: changed and not written, it is not handed
			// out again for the same bytes.
			got.Version++
			if again := decode(); again == got || !proto.Equal(again, want) {
				t.Fatalf("second Decode: same pointer %v (want a fresh state), equal %v", again == got, proto.Equal(again, want))
			}
			if b, err := c.Encode(raw); err != nil || string(b) != string(raw) {
				t.Fatalf("Encode([]byte) = %d bytes, %v; want the bytes as they are", len(b), err)
			}
			if _, err := c.Encode(&marketv1.ProductState{}); err == nil {
				t.Fatal("Encode of another message: no error")
			}
		})
	}
}
