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
		name     string
		cache    int
		wantSame bool // Decode returns the encoded state itself
	}{
		{name: "cached", cache: 1 << 20, wantSame: true},
		{name: "no cache", cache: 0},
		{name: "state above the bound", cache: 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newStateCodec(tc.cache)
			st := codecState(t)
			want := proto.Clone(st)
			raw := mustEncode(t, c, st)
			if got := mustDecode(t, c, raw); (got == st) != tc.wantSame || !proto.Equal(got, want) {
				t.Fatalf("Decode: same pointer %v (want %v), equal %v", got == st, tc.wantSame, proto.Equal(got, want))
			}
			if got := mustDecode(t, c, raw); got == st || !proto.Equal(got, want) {
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
	raw := mustEncode(t, c, st)
	taken := mustDecode(t, c, raw)
	taken.LateEvents++ // the owner changes it and does not write it
	if got := mustDecode(t, c, raw); got == taken || got.GetLateEvents() != late {
		t.Fatalf("Decode handed out a state changed after its encoding (late events %d, want %d)", got.GetLateEvents(), late)
	}
	other, err := proto.Marshal(codecState(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := mustDecode(t, c, other); got.GetKeyword() != kw {
		t.Fatalf("Decode of bytes encoded elsewhere: keyword %q", got.GetKeyword())
	}
}

// TestStateCodecPacksPoints: the codec writes the trails' points packed, reads them back as
// they were, reads states written before packed_points (points as messages) and those the
// catalog's codec read, and refuses malformed packed points.
func TestStateCodecPacksPoints(t *testing.T) {
	st := codecState(t)
	st.Products[0].Points[0].Sponsored = boolTrue
	st.Products[1].Points[0].Sponsored = boolFalse
	st.Products[2].Points[0].Position = -3 // a corrupt value survives as it is
	want := proto.Clone(st).(*marketv1.KeywordWindowsState)
	c := newStateCodec(0)
	packed := mustEncode(t, c, st)
	if !proto.Equal(st, want) {
		t.Fatal("Encode changed the state")
	}
	unpacked, err := proto.MarshalOptions{Deterministic: true}.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	catalog := &marketv1.KeywordWindowsState{}
	if err := proto.Unmarshal(packed, catalog); err != nil {
		t.Fatal(err)
	}
	if len(catalog.GetPageTimesUnixMs()) != 0 || len(catalog.GetPageKeys()) != 0 || len(catalog.GetPackedPages()) == 0 {
		t.Fatal("the codec did not write the page index packed")
	}
	asMessages, asPacked := 0, 0
	for i, tr := range catalog.GetProducts() {
		if len(tr.GetPoints()) != 0 || len(tr.GetPackedPoints()) == 0 {
			t.Fatalf("trail %s: the codec did not write packed points", tr.GetAsin())
		}
		asPacked += len(tr.GetPackedPoints())
		for _, p := range want.GetProducts()[i].GetPoints() {
			asMessages += proto.Size(p) + 2
		}
	}
	t.Logf("state %d bytes packed, %d unpacked; the points alone %d and %d", len(packed), len(unpacked), asPacked, asMessages)
	if asPacked > asMessages/2 {
		t.Errorf("packed points take %d bytes, as messages %d: expected half at most", asPacked, asMessages)
	}
	malformed := func(f func(*marketv1.KeywordWindowsState)) []byte {
		corrupt := proto.Clone(catalog).(*marketv1.KeywordWindowsState)
		f(corrupt)
		bad, err := proto.Marshal(corrupt)
		if err != nil {
			t.Fatal(err)
		}
		return bad
	}
	truncatedPoints := malformed(func(st *marketv1.KeywordWindowsState) {
		st.Products[0].PackedPoints = st.Products[0].PackedPoints[:3]
	})
	truncatedPages := malformed(func(st *marketv1.KeywordWindowsState) { st.PackedPages = st.PackedPages[:len(st.PackedPages)-1] })
	noPages := malformed(func(st *marketv1.KeywordWindowsState) { st.PackedPages = nil }) // points refer to the pages' keys
	for _, tc := range []struct {
		name    string
		decode  func() (*marketv1.KeywordWindowsState, error)
		wantErr bool
	}{
		{name: "packed", decode: func() (*marketv1.KeywordWindowsState, error) { return decodeWith(c, packed) }},
		{name: "written before packed points", decode: func() (*marketv1.KeywordWindowsState, error) { return decodeWith(c, unpacked) }},
		{name: "read by the catalog's codec, unpacked in place", decode: func() (*marketv1.KeywordWindowsState, error) {
			return catalog, unpack(catalog)
		}},
		{name: "truncated points", decode: func() (*marketv1.KeywordWindowsState, error) { return decodeWith(c, truncatedPoints) }, wantErr: true},
		{name: "truncated pages", decode: func() (*marketv1.KeywordWindowsState, error) { return decodeWith(c, truncatedPages) }, wantErr: true},
		{name: "points without their pages", decode: func() (*marketv1.KeywordWindowsState, error) { return decodeWith(c, noPages) }, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.decode()
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, want) {
				t.Fatal("decoded state differs from the encoded one")
			}
		})
	}
}

func decodeWith(c stateCodec, b []byte) (*marketv1.KeywordWindowsState, error) {
	v, err := c.Decode(b)
	if err != nil {
		return nil, err
	}
	return v.(*marketv1.KeywordWindowsState), nil
}

func mustEncode(t *testing.T, c stateCodec, st *marketv1.KeywordWindowsState) []byte {
	t.Helper()
	raw, err := c.Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func mustDecode(t *testing.T, c stateCodec, raw []byte) *marketv1.KeywordWindowsState {
	t.Helper()
	st, err := decodeWith(c, raw)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
