package products

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// codecStates returns states that cover the codec: random ones built by Apply and hand-made
// edge cases (zero and negative values, NaN, unknown fields at every level, empty strings).
func codecStates(t testing.TB) []*marketv1.ProductState {
	t.Helper()
	var out []*marketv1.ProductState
	for trial := range 50 {
		r := rand.New(rand.NewPCG(uint64(trial), 5))
		for name, cfg := range propertyConfigs() {
			st, _, err := applyAll(cfg, genObservations(r, 1+r.IntN(300))...)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out = append(out, st)
		}
	}
	unknown := protowire.AppendString(protowire.AppendTag(nil, 99, protowire.BytesType), "future")
	unknown = protowire.AppendVarint(protowire.AppendTag(unknown, 100, protowire.VarintType), 7)
	withUnknown := func(m proto.Message) proto.Message {
		m.ProtoReflect().SetUnknown(slices.Clone(unknown))
		return m
	}
	edge := &marketv1.ProductState{
		Asin:            "é-asin",
		Latest:          &marketv1.ProductAttributes{Title: proto.String(""), Rating: proto.Float64(0)},
		FieldTimeUnixMs: map[string]int64{"": 0, "b": -1, "a": math.MaxInt64},
		FieldEventId:    map[string]string{"x": "", "": "y"},
		FirstSeen:       &timestamppb.Timestamp{},
		LastSeen:        &timestamppb.Timestamp{Seconds: -5, Nanos: 999_999_999},
		PriceHistory: []*marketv1.PricePoint{
			{}, {AmountMinor: -3}, {Time: &timestamppb.Timestamp{Seconds: 1}},
			withUnknown(&marketv1.PricePoint{AmountMinor: 5}).(*marketv1.PricePoint),
			{Time: withUnknown(&timestamppb.Timestamp{Nanos: 1}).(*timestamppb.Timestamp)},
		},
		DailyPrices:           []*marketv1.DailyPrice{{}, {Day: -20250101, MinMinor: -1, Count: 1}, withUnknown(&marketv1.DailyPrice{Day: 1}).(*marketv1.DailyPrice)},
		PriceEwma:             proto.Float64(math.NaN()),
		ReviewVelocityPerDay:  proto.Float64(0),
		RankTrendPerDay:       proto.Float64(math.Inf(-1)),
		ObservationCount:      -1,
		Version:               math.MinInt64,
		RecentEventIds:        []string{"", "a", ""},
		RecentEventTimeUnixMs: []int64{0, -1, math.MaxInt64},
		ReviewHistory:         []*marketv1.SeriesPoint{{}, {TimeUnixMs: -1, Value: 1}},
		RankHistory:           []*marketv1.SeriesPoint{withUnknown(&marketv1.SeriesPoint{Value: 2}).(*marketv1.SeriesPoint)},
	}
	out = append(out, edge, withUnknown(proto.Clone(edge)).(*marketv1.ProductState), &marketv1.ProductState{})
	// Event ids the compact form cannot hold (upper case, braces: uuid.Parse takes them) keep
	// their list or map in text form; the other one is still compact.
	const id = "0193e1a2-0001-7000-8000-00000000002a"
	for _, odd := range []string{strings.ToUpper(id), "{" + id + "}", id[:35], id + "0", strings.ReplaceAll(id, "-", "")} {
		mixed := proto.Clone(out[0]).(*marketv1.ProductState)
		mixed.RecentEventIds[len(mixed.RecentEventIds)-1] = odd
		out = append(out, mixed)
		mixed = proto.Clone(out[0]).(*marketv1.ProductState)
		mixed.FieldEventId[FieldTitle] = odd
		out = append(out, mixed)
	}
	// Field ids that are all distinct, and more fields than the encoder's stack buffers hold.
	many := proto.Clone(out[0]).(*marketv1.ProductState)
	for i := range 40 {
		many.FieldEventId[fmt.Sprintf("field %d", i)] = fmt.Sprintf("%s%04x", id[:32], i)
	}
	out = append(out, many)
	// Keys Apply does not write beside the ones it does (the encoder looks the usual ones up).
	extra := proto.Clone(out[0]).(*marketv1.ProductState)
	extra.FieldTimeUnixMs["zz-future"] = 1
	extra.FieldEventId["aa-future"] = id
	out = append(out, extra)
	return out
}

// TestStateCodecRoundTrip: what the codec writes, the codec reads back, and so does the
// generated code followed by Unpack (the catalog's readers); the message form that earlier
// trackers wrote (deterministic Protobuf of the lists, no compact fields) still reads the same.
func TestStateCodecRoundTrip(t *testing.T) {
	for i, st := range codecStates(t) {
		want, err := stateMarshal.Marshal(st) // the message form: what earlier trackers wrote
		if err != nil {
			t.Fatal(err)
		}
		got, err := stateCodec{}.Encode(st)
		if err != nil {
			t.Fatalf("state %d: encode: %v", i, err)
		}
		for _, c := range []struct {
			name string
			b    []byte
		}{{"compact", got}, {"message form", want}} {
			v, err := stateCodec{}.Decode(c.b)
			if err != nil {
				t.Fatalf("state %d: decode the %s: %v", i, c.name, err)
			}
			again, err := stateMarshal.Marshal(v.(*marketv1.ProductState))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, want) { // bytes, not proto.Equal: NaN is not equal to itself
				t.Fatalf("state %d: the %s decodes to another state:\n%s", i, c.name, cmpDiff(st, v.(*marketv1.ProductState)))
			}
		}
		var gen marketv1.ProductState
		if err := proto.Unmarshal(got, &gen); err != nil {
			t.Fatalf("state %d: the generated code cannot read the compact form: %v", i, err)
		}
		if err := Unpack(&gen); err != nil {
			t.Fatalf("state %d: unpack: %v", i, err)
		}
		if again, _ := stateMarshal.Marshal(&gen); !bytes.Equal(again, want) {
			t.Fatalf("state %d: the generated code and Unpack read another state:\n%s", i, cmpDiff(st, &gen))
		}
		// Encoding a state read by the generated code (compact fields set) gives the same bytes.
		var raw marketv1.ProductState
		_ = proto.Unmarshal(got, &raw)
		if again, err := (stateCodec{}).Encode(&raw); err != nil || !bytes.Equal(again, got) {
			t.Fatalf("state %d: re-encoding the generated code's reading: %v, %x, want %x", i, err, again, got)
		}
	}
}

// TestStateCodecCompact: a product observed for months (every history full) takes at most 50%
// of the bytes of the message form (the histories shrink to about a third, event ids to 16 bytes
// each, written once in the field map; field times are kept as they are).
func TestStateCodecCompact(t *testing.T) {
	st, _, err := applyAll(DefaultConfig(), workload(7, 1000, 1, 2*time.Hour)...)
	if err != nil {
		t.Fatal(err)
	}
	compact, err := stateCodec{}.Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	full := proto.Size(st)
	t.Logf("steady state: %d bytes compact, %d in the message form", len(compact), full)
	if 2*len(compact) > full {
		t.Errorf("compact state of %d bytes, message form %d: want at most 50%%", len(compact), full)
	}
}

// TestStateCodecReadsOtherEncodings: non-canonical but valid encodings (unpacked repeated
// scalars, repeated singular fields that merge, fields out of order) decode as proto decodes them.
func TestStateCodecReadsOtherEncodings(t *testing.T) {
	var b []byte
	b = protowire.AppendTag(b, fVersion, protowire.VarintType)
	b = protowire.AppendVarint(b, 3)
	b = protowire.AppendTag(b, fRecentTimes, protowire.VarintType) // unpacked
	b = protowire.AppendVarint(b, 11)
	b = protowire.AppendTag(b, fRecentTimes, protowire.BytesType) // packed
	b = protowire.AppendBytes(b, protowire.AppendVarint(protowire.AppendVarint(nil, 12), 13))
	b = protowire.AppendTag(b, fFirstSeen, protowire.BytesType)
	b = protowire.AppendBytes(b, protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 100))
	b = protowire.AppendTag(b, fFirstSeen, protowire.BytesType) // merges: nanos added, seconds kept
	b = protowire.AppendBytes(b, protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.VarintType), 5))
	b = protowire.AppendTag(b, fLatest, protowire.BytesType)
	b = protowire.AppendBytes(b, protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "t"))
	b = protowire.AppendTag(b, fLatest, protowire.BytesType)
	b = protowire.AppendBytes(b, protowire.AppendString(protowire.AppendTag(nil, 2, protowire.BytesType), "brand"))
	b = protowire.AppendTag(b, fAsin, protowire.VarintType) // wrong wire type: unknown
	b = protowire.AppendVarint(b, 1)
	b = protowire.AppendTag(b, fVersion, protowire.VarintType) // last one wins
	b = protowire.AppendVarint(b, 4)
	checkDecodesLikeProto(t, b)
}

// TestStateCodecCompactIDErrors: malformed compact event ids fail as they fail Unpack after the
// generated code; odd but valid ones read as the generated code and Unpack read them.
func TestStateCodecCompactIDErrors(t *testing.T) {
	u := bytes.Repeat([]byte{0xab}, 16)
	packed := func(uuids []byte, fields []string, index ...uint32) []byte {
		b, _ := proto.Marshal(&marketv1.ProductState{PackedFieldEventId: &marketv1.PackedFieldEventIds{Uuids: uuids, Fields: fields, UuidIndex: index}})
		return b
	}
	recent := func(uuids []byte) []byte {
		b, _ := proto.Marshal(&marketv1.ProductState{RecentEventUuids: uuids, RecentEventTimeUnixMs: make([]int64, len(uuids)/16)})
		return b
	}
	for _, tc := range []struct {
		name    string
		b       []byte
		wantErr bool
	}{
		{"recent ids", recent(append(slices.Clone(u), u...)), false},
		{"recent ids of 15 bytes", recent(u[:15]), true},
		{"recent ids of 17 bytes", recent(append(slices.Clone(u), 1)), true},
		{"recent ids twice: the last wins", append(recent(u), recent(append(slices.Clone(u), u...))...), false},
		{"field ids", packed(u, []string{"a", "b"}, 0, 0), false},
		{"field ids twice: they merge", append(packed(u, []string{"a"}, 0), packed(append(slices.Clone(u), u...), []string{"b"}, 1)...), false},
		{"field index out of range", packed(u, []string{"a"}, 1), true},
		{"fewer indexes than fields", packed(u, []string{"a", "b"}, 0), true},
		{"field uuids of 20 bytes", packed(append(slices.Clone(u), 1, 2, 3, 4), []string{"a"}, 0), true},
		{"invalid UTF-8 field", packed(u, []string{"\xff"}, 0), true},
		{"no fields", packed(u, nil), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stateCodec{}.Decode(tc.b)
			if (err != nil) != tc.wantErr {
				t.Fatalf("decode: error %v, want an error: %v", err, tc.wantErr)
			}
			checkDecodesLikeProto(t, tc.b)
		})
	}
}

// checkDecodesLikeProto fails unless the codec and proto.Unmarshal agree on b.
func checkDecodesLikeProto(t *testing.T, b []byte) {
	t.Helper()
	var want marketv1.ProductState
	wantErr := proto.Unmarshal(b, &want)
	if wantErr == nil {
		wantErr = Unpack(&want)
	}
	v, err := stateCodec{}.Decode(b)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decode %x: codec error %v, proto error %v", b, err, wantErr)
	}
	if err != nil {
		return
	}
	got := v.(*marketv1.ProductState)
	wb, _ := stateMarshal.Marshal(&want)
	gb, _ := stateMarshal.Marshal(got)
	if !bytes.Equal(wb, gb) {
		t.Fatalf("decode %x: codec and proto disagree:\n%s", b, cmpDiff(&want, got))
	}
}

// FuzzStateCodecDecode: on any input, the codec fails exactly when proto.Unmarshal and Unpack
// fail and otherwise yields the same message.
func FuzzStateCodecDecode(f *testing.F) {
	for _, st := range append(codecStates(f)[:10], codecStates(f)[100:]...) {
		b, _ := stateMarshal.Marshal(st)
		f.Add(b)
		b, _ = stateCodec{}.Encode(st)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecodesLikeProto(t, b) })
}

// TestStateCodecKnowsEveryField fails when products.proto gains a field the hand-written codec
// does not write: add it to codec.go (and to codecStates) when this fails.
func TestStateCodecKnowsEveryField(t *testing.T) {
	known := map[protoreflect.FullName][]protowire.Number{
		"market.v1.ProductState": {fAsin, fMarketplace, fLatest, fFieldTime, fFirstSeen, fLastSeen, fPriceHistory, fDailyPrices,
			fPriceEWMA, fReviewVelocity, fRankTrend, fObservationCount, fVersion, fRecentIDs, fRecentTimes, fFieldEventID, fReviewHistory, fRankHistory,
			fPackedPrices, fPackedDaily, fPackedReviews, fPackedRanks, fRecentUUIDs, fPackedFieldIDs},
		"market.v1.PackedFieldEventIds": {fPackedIDsUUIDs, fPackedIDsFields, fPackedIDsIndex},
		"market.v1.PackedPrices":        {1, 2, 3},
		"market.v1.PackedDailyPrices":   {1, 2, 3, 4, 5},
		"market.v1.PackedSeries":        {1, 2},
		"market.v1.PricePoint":          {1, 2},
		"market.v1.DailyPrice":          {1, 2, 3, 4, 5},
		"market.v1.SeriesPoint":         {1, 2},
		"google.protobuf.Timestamp":     {1, 2},
	}
	for _, m := range []proto.Message{&marketv1.ProductState{}, &marketv1.PricePoint{}, &marketv1.DailyPrice{}, &marketv1.SeriesPoint{}, &timestamppb.Timestamp{},
		&marketv1.PackedPrices{}, &marketv1.PackedDailyPrices{}, &marketv1.PackedSeries{}, &marketv1.PackedFieldEventIds{}} {
		d := m.ProtoReflect().Descriptor()
		var nums []protowire.Number
		for i := range d.Fields().Len() {
			nums = append(nums, d.Fields().Get(i).Number())
		}
		slices.Sort(nums)
		if want := known[d.FullName()]; !slices.Equal(nums, want) {
			t.Errorf("%s has fields %v, the state codec knows %v", d.FullName(), nums, want)
		}
	}
}
