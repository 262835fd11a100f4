package keywords

import (
	"testing"
	"time"

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

// codecState returns a keyword's state after a few pages.
func codecState(t *testing.T) *marketv1.KeywordWindowsState {
	t.Helper()
	s := newSim(7, kw, 12, 30)
	var st *marketv1.KeywordWindowsState
	for _, ev := range s.run(t0, 5, time.Minute, 0) {
		out, err := Apply(st, ev, s.lookup, DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		st = out.State
	}
	return st
}

func TestStateCodec(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cache     int
		wantSame  bool // Decode returns the encoded state itself
		wantTwice bool // a second Decode of the same bytes returns it too
	}{
		{name: "cached", cache: 1 << 20, wantSame: true},
		{name: "no cache", cache: 0},
		{name: "state above the bound", cache: 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newStateCodec(tc.cache)
			st := codecState(t)
			want := proto.Clone(st)
			raw, err := c.Encode(st)
			if err != nil {
				t.Fatal(err)
			}
			v, err := c.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.(*marketv1.KeywordWindowsState); (got == st) != tc.wantSame || !proto.Equal(got, want) {
				t.Fatalf("Decode: same pointer %v (want %v), equal %v", got == st, tc.wantSame, proto.Equal(got, want))
			}
			v, err = c.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.(*marketv1.KeywordWindowsState); got == st || !proto.Equal(got, want) {
				t.Fatalf("second Decode: same pointer %v (want a fresh state), equal %v", got == st, proto.Equal(got, want))
			}
			if b, err := c.Encode(raw); err != nil || string(b) != string(raw) {
				t.Fatalf("Encode([]byte) = %d bytes, %v; want the bytes as they are", len(b), err)
			}
		})
	}
}

// TestStateCodecMissOnOtherBytes: bytes the codec did not encode (another instance's, a
// recovered table) decode normally, and a state changed after its encoding is never handed out
// for the old bytes.
func TestStateCodecMissOnOtherBytes(t *testing.T) {
	c := newStateCodec(1 << 20)
	st := codecState(t)
	late := st.GetLateEvents()
	raw, err := c.Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	taken := v.(*marketv1.KeywordWindowsState)
	taken.LateEvents++ // the owner changes it and does not write it
	v, err = c.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(*marketv1.KeywordWindowsState); got == taken || got.GetLateEvents() != late {
		t.Fatalf("Decode handed out a state changed after its encoding (late events %d, want %d)", got.GetLateEvents(), late)
	}
	other, err := proto.Marshal(codecState(t))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c.Decode(other); err != nil || v.(*marketv1.KeywordWindowsState).GetKeyword() != kw {
		t.Fatalf("Decode of bytes encoded elsewhere: %v", err)
	}
}
