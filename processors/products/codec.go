package products

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/lovoo/goka"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/processors/internal/statecache"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// Field numbers of schemas/market/v1/products.proto that the state codec reads and writes by hand.
// TestStateCodecKnowsEveryField fails when a message gains a field this list lacks.
const (
	fAsin             protowire.Number = 1
	fMarketplace      protowire.Number = 2
	fLatest           protowire.Number = 3
	fFieldTime        protowire.Number = 4
	fFirstSeen        protowire.Number = 5
	fLastSeen         protowire.Number = 6
	fPriceHistory     protowire.Number = 7
	fDailyPrices      protowire.Number = 8
	fPriceEWMA        protowire.Number = 9
	fReviewVelocity   protowire.Number = 10
	fRankTrend        protowire.Number = 11
	fObservationCount protowire.Number = 12
	fVersion          protowire.Number = 13
	fRecentIDs        protowire.Number = 14
	fRecentTimes      protowire.Number = 15
	fFieldEventID     protowire.Number = 16
	fReviewHistory    protowire.Number = 17
	fRankHistory      protowire.Number = 18
)

var (
	stateMarshal   = proto.MarshalOptions{Deterministic: true}
	stateUnmarshal = proto.UnmarshalOptions{Merge: true}
	errInvalidUTF8 = errors.New("invalid UTF-8 in a string field")
	errFieldNumber = errors.New("field number out of range")
)

// Codec returns the codec of the tracker's table: ProductState, with the compact histories the
// tracker writes read into price_history, daily_prices, review_history and rank_history. A view
// or lookup of the table that reads those lists uses it (the catalog's codec leaves them in the
// compact fields; Unpack moves them).
func Codec() goka.Codec { return stateCodec{} }

// stateCodec is the goka codec of the tracker's own table edge. It writes deterministic
// Protobuf of ProductState with the histories in their compact fields (packed_price_history
// and the like: about a third of the bytes of the message lists; a list with something the
// compact form cannot hold, such as unknown fields, stays in its message field), and reads
// either form into the message lists, with hand-written code for ProductState's own fields:
// the generated code allocates every history point and timestamp on its own, which made
// decoding and encoding the state most of the tracker's CPU time. ProductAttributes (latest)
// and unknown fields go through the generated code, so fields other teams add there are kept.
//
// With a cache (the tracker's own edge), Encode remembers the state it encoded and Decode of
// the same bytes returns that state instead of reading them (see processors/internal/statecache): the caller owns
// what Decode returns and must not change a state after encoding it.
type stateCodec struct {
	cache *statecache.Cache[*marketv1.ProductState]
}

// checkStateCache, set by the package's tests, makes every cache hit also decode the bytes and
// fail when the cached state differs from what they decode to, or no longer encodes to them.
var checkStateCache bool

// Encode marshals a *marketv1.ProductState; []byte (a state the callback encoded itself, to
// measure it) passes as it is.
func (c stateCodec) Encode(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	st, ok := v.(*marketv1.ProductState)
	if !ok {
		return nil, fmt.Errorf("encode product state: got %T", v)
	}
	if isPacked(st) { // read by the generated code: written again from the message form
		st = proto.Clone(st).(*marketv1.ProductState)
		if err := Unpack(st); err != nil {
			return nil, fmt.Errorf("encode product state %s: %w", st.GetAsin(), err)
		}
	}
	b, err := encodeState(st)
	if err != nil {
		return nil, fmt.Errorf("encode product state %s: %w", st.GetAsin(), err)
	}
	c.cache.Put(b, st)
	return b, nil
}

// Decode unmarshals a *marketv1.ProductState.
func (c stateCodec) Decode(b []byte) (any, error) {
	if c.cache != nil {
		if st, ok := c.cache.Take(b); ok {
			if checkStateCache {
				if err := checkCached(st, b); err != nil {
					return nil, err
				}
			}
			return st, nil
		}
	}
	st, err := decodeState(b)
	if err != nil {
		return nil, fmt.Errorf("decode product state: %w", err)
	}
	return st, nil
}

// checkCached fails when st, a cached state of raw, differs from what raw decodes to.
func checkCached(st *marketv1.ProductState, raw []byte) error {
	again, err := encodeState(st)
	if err != nil || !bytes.Equal(again, raw) {
		return fmt.Errorf("state cache: %s changed after it was encoded (%v)", st.GetAsin(), err)
	}
	dec, err := decodeState(raw)
	if err != nil {
		return fmt.Errorf("state cache: decode %s: %w", st.GetAsin(), err)
	}
	a, errA := stateMarshal.Marshal(st)
	b, errB := stateMarshal.Marshal(dec)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		return fmt.Errorf("state cache: cached state of %s differs from its bytes decoded (%v, %v)", st.GetAsin(), errA, errB)
	}
	return nil
}

// encodePool holds scratch buffers for encodeState.
var encodePool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// encodeState returns st encoded in a buffer of its own, of exactly its length (goka keeps it
// until it is produced, and the cache for as long as the state is cached).
func encodeState(st *marketv1.ProductState) ([]byte, error) {
	buf := encodePool.Get().(*[]byte)
	defer encodePool.Put(buf)
	b, err := appendState((*buf)[:0], st)
	if err != nil {
		return nil, err
	}
	*buf = b[:0]
	return bytes.Clone(b), nil
}

func appendStringField(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func sizeVarintField(v uint64) int { return 1 + protowire.SizeVarint(v) } // field numbers < 16

func appendDoubleField(b []byte, num protowire.Number, v *float64) []byte {
	if v == nil {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, math.Float64bits(*v))
}

// appendMessage appends a message field with the generated code.
func appendMessage(b []byte, num protowire.Number, m proto.Message) ([]byte, error) {
	n := stateMarshal.Size(m)
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	before := len(b)
	b, err := stateMarshal.MarshalAppend(b, m)
	if err == nil && len(b)-before != n {
		err = fmt.Errorf("field %d: size %d, wrote %d", num, n, len(b)-before)
	}
	return b, err
}

func hasUnknown(m proto.Message) bool { return len(m.ProtoReflect().GetUnknown()) > 0 }

func timestampBodySize(t *timestamppb.Timestamp) int {
	n := 0
	if t.Seconds != 0 {
		n += sizeVarintField(uint64(t.Seconds))
	}
	if t.Nanos != 0 {
		n += sizeVarintField(uint64(int64(t.Nanos)))
	}
	return n
}

func appendTimestamp(b []byte, num protowire.Number, t *timestamppb.Timestamp) ([]byte, error) {
	if hasUnknown(t) {
		return appendMessage(b, num, t)
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(timestampBodySize(t)))
	if t.Seconds != 0 {
		b = appendVarintField(b, 1, uint64(t.Seconds))
	}
	if t.Nanos != 0 {
		b = appendVarintField(b, 2, uint64(int64(t.Nanos)))
	}
	return b, nil
}

// appendState appends st as deterministic Protobuf: fields in number order, map entries by key,
// unknown fields last — byte for byte what proto.MarshalOptions{Deterministic: true} writes.
func appendState(b []byte, st *marketv1.ProductState) ([]byte, error) {
	var err error
	if st.Asin != "" {
		b = appendStringField(b, fAsin, st.Asin)
	}
	if st.Marketplace != "" {
		b = appendStringField(b, fMarketplace, st.Marketplace)
	}
	if st.Latest != nil {
		if b, err = appendMessage(b, fLatest, st.Latest); err != nil {
			return nil, err
		}
	}
	if len(st.FieldTimeUnixMs) > 0 {
		var kb [32]string
		for _, k := range appendSortedKeys(kb[:0], st.FieldTimeUnixMs) {
			v := st.FieldTimeUnixMs[k]
			b = protowire.AppendTag(b, fFieldTime, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(1+protowire.SizeBytes(len(k))+sizeVarintField(uint64(v))))
			b = appendStringField(b, 1, k)
			b = appendVarintField(b, 2, uint64(v))
		}
	}
	for _, f := range []struct {
		num protowire.Number
		t   *timestamppb.Timestamp
	}{{fFirstSeen, st.FirstSeen}, {fLastSeen, st.LastSeen}} {
		if f.t != nil {
			if b, err = appendTimestamp(b, f.num, f.t); err != nil {
				return nil, err
			}
		}
	}
	packPrices, nanos := packablePrices(st.PriceHistory)
	packDaily := packable(st.DailyPrices)
	packReviews, packRanks := packable(st.ReviewHistory), packable(st.RankHistory)
	for _, p := range st.PriceHistory {
		if packPrices {
			break
		}
		if hasUnknown(p) || p.Time != nil && hasUnknown(p.Time) {
			if b, err = appendMessage(b, fPriceHistory, p); err != nil {
				return nil, err
			}
			continue
		}
		n := 0
		if p.Time != nil {
			n += 1 + protowire.SizeBytes(timestampBodySize(p.Time))
		}
		if p.AmountMinor != 0 {
			n += sizeVarintField(uint64(p.AmountMinor))
		}
		b = protowire.AppendTag(b, fPriceHistory, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(n))
		if p.Time != nil {
			b, _ = appendTimestamp(b, 1, p.Time)
		}
		if p.AmountMinor != 0 {
			b = appendVarintField(b, 2, uint64(p.AmountMinor))
		}
	}
	for _, d := range st.DailyPrices {
		if packDaily {
			break
		}
		if hasUnknown(d) {
			if b, err = appendMessage(b, fDailyPrices, d); err != nil {
				return nil, err
			}
			continue
		}
		vals := [5]uint64{uint64(int64(d.Day)), uint64(d.MinMinor), uint64(d.MaxMinor), uint64(d.SumMinor), uint64(d.Count)}
		n := 0
		for _, v := range vals {
			if v != 0 {
				n += sizeVarintField(v)
			}
		}
		b = protowire.AppendTag(b, fDailyPrices, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(n))
		for i, v := range vals {
			if v != 0 {
				b = appendVarintField(b, protowire.Number(i+1), v)
			}
		}
	}
	b = appendDoubleField(b, fPriceEWMA, st.PriceEwma)
	b = appendDoubleField(b, fReviewVelocity, st.ReviewVelocityPerDay)
	b = appendDoubleField(b, fRankTrend, st.RankTrendPerDay)
	if st.ObservationCount != 0 {
		b = appendVarintField(b, fObservationCount, uint64(st.ObservationCount))
	}
	if st.Version != 0 {
		b = appendVarintField(b, fVersion, uint64(st.Version))
	}
	var ub [32][16]byte
	recentUUIDs, compactIDs := parseUUIDs(ub[:0], st.RecentEventIds)
	for _, id := range st.RecentEventIds {
		if compactIDs {
			break
		}
		b = appendStringField(b, fRecentIDs, id)
	}
	if len(st.RecentEventTimeUnixMs) > 0 {
		n := 0
		for _, v := range st.RecentEventTimeUnixMs {
			n += protowire.SizeVarint(uint64(v))
		}
		b = protowire.AppendTag(b, fRecentTimes, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(n))
		for _, v := range st.RecentEventTimeUnixMs {
			b = protowire.AppendVarint(b, uint64(v))
		}
	}
	var fids fieldIDs
	compactFieldIDs := fids.parse(st.FieldEventId)
	if len(st.FieldEventId) > 0 && !compactFieldIDs {
		for _, k := range fids.keys {
			v := st.FieldEventId[k]
			b = protowire.AppendTag(b, fFieldEventID, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(2+protowire.SizeBytes(len(k))+protowire.SizeBytes(len(v))))
			b = appendStringField(b, 1, k)
			b = appendStringField(b, 2, v)
		}
	}
	for _, h := range []struct {
		num protowire.Number
		pts []*marketv1.SeriesPoint
	}{{fReviewHistory, st.ReviewHistory}, {fRankHistory, st.RankHistory}} {
		if h.num == fReviewHistory && packReviews || h.num == fRankHistory && packRanks {
			continue
		}
		for _, p := range h.pts {
			if hasUnknown(p) {
				if b, err = appendMessage(b, h.num, p); err != nil {
					return nil, err
				}
				continue
			}
			n := 0
			if p.TimeUnixMs != 0 {
				n += sizeVarintField(uint64(p.TimeUnixMs))
			}
			if p.Value != 0 {
				n += sizeVarintField(uint64(p.Value))
			}
			b = protowire.AppendTag(b, h.num, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(n))
			if p.TimeUnixMs != 0 {
				b = appendVarintField(b, 1, uint64(p.TimeUnixMs))
			}
			if p.Value != 0 {
				b = appendVarintField(b, 2, uint64(p.Value))
			}
		}
	}
	if packPrices && len(st.PriceHistory) > 0 {
		b = appendPackedPrices(b, st.PriceHistory, nanos)
	}
	if packDaily && len(st.DailyPrices) > 0 {
		b = appendPackedDaily(b, st.DailyPrices)
	}
	if packReviews && len(st.ReviewHistory) > 0 {
		b = appendPackedSeries(b, fPackedReviews, st.ReviewHistory)
	}
	if packRanks && len(st.RankHistory) > 0 {
		b = appendPackedSeries(b, fPackedRanks, st.RankHistory)
	}
	if compactIDs {
		b = appendRecentUUIDs(b, recentUUIDs)
	}
	if compactFieldIDs {
		b = fids.appendTo(b)
	}
	return append(b, st.ProtoReflect().GetUnknown()...), nil
}

// fieldNames are the names Apply keys field_time_unix_ms and field_event_id by, sorted.
var fieldNames = func() []string {
	names := []string{FieldMarketplace, FieldTitle, FieldBrand, FieldCategory, FieldPrice, FieldListPrice, FieldRating,
		FieldReviewCount, FieldBoughtPastMonth, FieldRanks, FieldPrime, FieldAvailability, FieldSellerCount, FieldImageURL}
	slices.Sort(names)
	return names
}()

// appendSortedKeys appends the keys of m to keys, sorted. The maps of a state hold the names
// of fieldNames only, so it looks those up (cheaper than ranging over the map and sorting),
// and does that only when m has other keys.
func appendSortedKeys[V any](keys []string, m map[string]V) []string {
	start := len(keys)
	if len(m) <= len(fieldNames) {
		for _, k := range fieldNames {
			if _, ok := m[k]; ok {
				keys = append(keys, k)
			}
		}
		if len(keys)-start == len(m) {
			return keys
		}
		keys = keys[:start]
	}
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys[start:])
	return keys
}

// decoder reads one encoded ProductState. Strings are substrings of one copy of the input and
// history points come from slabs, so decoding allocates a handful of times, not per point.
type decoder struct {
	src string // the whole input, for substrings
	pp  []marketv1.PricePoint
	ts  []timestamppb.Timestamp
	dp  []marketv1.DailyPrice
	sp  []marketv1.SeriesPoint
	// packed collects the compact histories (fields 19 to 22), turned into points at the end.
	packed [4]packedReader
	// recentUUIDs and fieldIDs are the compact event ids (fields 23 and 24), turned into text
	// at the end.
	recentUUIDs []byte
	fieldIDs    *marketv1.PackedFieldEventIds
}

func (d *decoder) timestamp() *timestamppb.Timestamp {
	if len(d.ts) == 0 {
		return &timestamppb.Timestamp{}
	}
	t := &d.ts[0]
	d.ts = d.ts[1:]
	return t
}

// decodeState reads what appendState (or any Protobuf encoder) wrote, as proto.Unmarshal would.
func decodeState(b []byte) (*marketv1.ProductState, error) {
	// First pass: count the repeated fields, to size the slabs and slices.
	var nPrice, nDaily, nIDs, nSeries, nFieldTime, nFieldID, nRank, nReview int
	for rest := b; len(rest) > 0; {
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		if num > protowire.MaxValidNumber {
			return nil, errFieldNumber
		}
		m := protowire.ConsumeFieldValue(num, typ, rest[n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		rest = rest[n+m:]
		if typ != protowire.BytesType {
			continue
		}
		switch num {
		case fPriceHistory:
			nPrice++
		case fDailyPrices:
			nDaily++
		case fRecentIDs:
			nIDs++
		case fReviewHistory:
			nSeries++
			nReview++
		case fRankHistory:
			nSeries++
			nRank++
		case fFieldTime:
			nFieldTime++
		case fFieldEventID:
			nFieldID++
		}
	}
	d := decoder{
		src: string(b),
		pp:  make([]marketv1.PricePoint, nPrice),
		ts:  make([]timestamppb.Timestamp, nPrice+2),
		dp:  make([]marketv1.DailyPrice, nDaily),
		sp:  make([]marketv1.SeriesPoint, nSeries),
	}
	st := &marketv1.ProductState{}
	if nPrice > 0 {
		st.PriceHistory = make([]*marketv1.PricePoint, 0, nPrice)
	}
	if nDaily > 0 {
		st.DailyPrices = make([]*marketv1.DailyPrice, 0, nDaily)
	}
	if nIDs > 0 {
		st.RecentEventIds = make([]string, 0, nIDs)
	}
	if nReview > 0 {
		st.ReviewHistory = make([]*marketv1.SeriesPoint, 0, nReview)
	}
	if nRank > 0 {
		st.RankHistory = make([]*marketv1.SeriesPoint, 0, nRank)
	}
	if nFieldTime > 0 {
		st.FieldTimeUnixMs = make(map[string]int64, nFieldTime)
	}
	if nFieldID > 0 {
		st.FieldEventId = make(map[string]string, nFieldID)
	}
	var unknown []byte
	for off := 0; off < len(b); {
		num, typ, n := protowire.ConsumeTag(b[off:])
		m := protowire.ConsumeFieldValue(num, typ, b[off+n:]) // both checked by the first pass
		body := b[off+n : off+n+m]
		bodyOff := off + n
		off += n + m
		known, err := d.field(st, num, typ, body, bodyOff)
		if err != nil {
			return nil, fmt.Errorf("field %d: %w", num, err)
		}
		if !known { // as the generated code keeps it: the tag re-encoded, the value as read
			unknown = protowire.AppendTag(unknown, num, typ)
			unknown = append(unknown, body...)
		}
	}
	if len(unknown) > 0 {
		st.ProtoReflect().SetUnknown(unknown)
	}
	if err := d.finishPacked(st); err != nil {
		return nil, err
	}
	if err := d.finishIDs(st); err != nil {
		return nil, err
	}
	return st, nil
}

// bytesValue returns the content of a length-delimited field body starting at off in d.src.
func (d *decoder) bytesValue(body []byte, off int) (string, []byte) {
	v, n := protowire.ConsumeBytes(body)
	start := off + n - len(v)
	return d.src[start : start+len(v)], v
}

// field decodes one top-level field; known is false for a field the message does not have (or
// has with another wire type), which the caller keeps as unknown.
func (d *decoder) field(st *marketv1.ProductState, num protowire.Number, typ protowire.Type, body []byte, off int) (known bool, err error) {
	switch num {
	case fAsin, fMarketplace, fRecentIDs:
		if typ != protowire.BytesType {
			return false, nil
		}
		s, _ := d.bytesValue(body, off)
		if !utf8.ValidString(s) {
			return true, errInvalidUTF8
		}
		switch num {
		case fAsin:
			st.Asin = s
		case fMarketplace:
			st.Marketplace = s
		default:
			st.RecentEventIds = append(st.RecentEventIds, s)
		}
	case fLatest:
		if typ != protowire.BytesType {
			return false, nil
		}
		_, v := d.bytesValue(body, off)
		if st.Latest == nil {
			st.Latest = &marketv1.ProductAttributes{}
		}
		return true, stateUnmarshal.Unmarshal(v, st.Latest)
	case fFieldTime, fFieldEventID:
		if typ != protowire.BytesType {
			return false, nil
		}
		_, v := d.bytesValue(body, off)
		return true, d.mapEntry(st, num, v, off+len(body)-len(v))
	case fFirstSeen, fLastSeen:
		if typ != protowire.BytesType {
			return false, nil
		}
		_, v := d.bytesValue(body, off)
		p := &st.FirstSeen
		if num == fLastSeen {
			p = &st.LastSeen
		}
		if *p == nil {
			*p = d.timestamp()
		}
		return true, mergeTimestamp(*p, v)
	case fPriceHistory:
		if typ != protowire.BytesType {
			return false, nil
		}
		_, v := d.bytesValue(body, off)
		pp := &d.pp[0]
		d.pp = d.pp[1:]
		st.PriceHistory = append(st.PriceHistory, pp)
		return true, d.pricePoint(pp, v)
	case fDailyPrices:
		if typ != protowire.BytesType {
			return false, nil
		}
		_, v := d.bytesValue(body, off)
		dp := &d.dp[0]
		d.dp = d.dp[1:]
		st.DailyPrices = append(st.DailyPrices, dp)
		return true, dailyPrice(dp, v)
	case fReviewHistory, fRankHistory:
		if typ != protowire.BytesType {
			return false, nil
		}
		_, v := d.bytesValue(body, off)
		sp := &d.sp[0]
		d.sp = d.sp[1:]
		if num == fReviewHistory {
			st.ReviewHistory = append(st.ReviewHistory, sp)
		} else {
			st.RankHistory = append(st.RankHistory, sp)
		}
		return true, seriesPoint(sp, v)
	case fPackedPrices, fPackedDaily, fPackedReviews, fPackedRanks:
		if typ != protowire.BytesType {
			return false, nil
		}
		_, v := d.bytesValue(body, off)
		return true, d.packed[num-fPackedPrices].read(v)
	case fRecentUUIDs:
		if typ != protowire.BytesType {
			return false, nil
		}
		_, d.recentUUIDs = d.bytesValue(body, off) // a scalar: the last one wins
	case fPackedFieldIDs:
		if typ != protowire.BytesType {
			return false, nil
		}
		_, v := d.bytesValue(body, off)
		if d.fieldIDs == nil {
			d.fieldIDs = &marketv1.PackedFieldEventIds{}
		}
		return true, stateUnmarshal.Unmarshal(v, d.fieldIDs)
	case fPriceEWMA, fReviewVelocity, fRankTrend:
		if typ != protowire.Fixed64Type {
			return false, nil
		}
		bits, _ := protowire.ConsumeFixed64(body)
		f := math.Float64frombits(bits)
		switch num {
		case fPriceEWMA:
			st.PriceEwma = &f
		case fReviewVelocity:
			st.ReviewVelocityPerDay = &f
		default:
			st.RankTrendPerDay = &f
		}
	case fObservationCount, fVersion:
		if typ != protowire.VarintType {
			return false, nil
		}
		v, _ := protowire.ConsumeVarint(body)
		if num == fVersion {
			st.Version = int64(v)
		} else {
			st.ObservationCount = int64(v)
		}
	case fRecentTimes:
		switch typ {
		case protowire.VarintType:
			v, _ := protowire.ConsumeVarint(body)
			st.RecentEventTimeUnixMs = append(st.RecentEventTimeUnixMs, int64(v))
		case protowire.BytesType:
			_, v := d.bytesValue(body, off)
			if st.RecentEventTimeUnixMs == nil {
				st.RecentEventTimeUnixMs = make([]int64, 0, len(v)/6+1)
			}
			for len(v) > 0 {
				x, n := protowire.ConsumeVarint(v)
				if n < 0 {
					return true, protowire.ParseError(n)
				}
				st.RecentEventTimeUnixMs = append(st.RecentEventTimeUnixMs, int64(x))
				v = v[n:]
			}
		default:
			return false, nil
		}
	default:
		return false, nil
	}
	return true, nil
}

// mapEntry decodes one entry of field_time_unix_ms or field_event_id (body at off in d.src).
// As in the generated code, a missing key or value is its zero value, a later entry of the same
// key replaces an earlier one, and unknown fields inside an entry are dropped.
func (d *decoder) mapEntry(st *marketv1.ProductState, num protowire.Number, b []byte, off int) error {
	var key, sval string
	var ival int64
	for pos := 0; pos < len(b); {
		fnum, typ, n := protowire.ConsumeTag(b[pos:])
		if n < 0 {
			return protowire.ParseError(n)
		}
		if fnum > protowire.MaxValidNumber {
			return errFieldNumber
		}
		m := protowire.ConsumeFieldValue(fnum, typ, b[pos+n:])
		if m < 0 {
			return protowire.ParseError(m)
		}
		body := b[pos+n : pos+n+m]
		switch {
		case fnum == 1 && typ == protowire.BytesType:
			key, _ = d.bytesValue(body, off+pos+n)
			if !utf8.ValidString(key) {
				return errInvalidUTF8
			}
		case fnum == 2 && typ == protowire.BytesType && num == fFieldEventID:
			sval, _ = d.bytesValue(body, off+pos+n)
			if !utf8.ValidString(sval) {
				return errInvalidUTF8
			}
		case fnum == 2 && typ == protowire.VarintType && num == fFieldTime:
			v, _ := protowire.ConsumeVarint(body)
			ival = int64(v)
		}
		pos += n + m
	}
	if num == fFieldTime {
		if st.FieldTimeUnixMs == nil {
			st.FieldTimeUnixMs = map[string]int64{}
		}
		st.FieldTimeUnixMs[key] = ival
	} else {
		if st.FieldEventId == nil {
			st.FieldEventId = map[string]string{}
		}
		st.FieldEventId[key] = sval
	}
	return nil
}

// errSlowPath asks for a nested message to be decoded by the generated code (it has fields the
// fast path does not handle).
var errSlowPath = errors.New("slow path")

// varints decodes a message made of varint fields 1..len(dst) only, setting bit i-1 of the
// result for every field i present; any other field returns errSlowPath.
func varints(b []byte, dst []uint64) (seen uint32, err error) {
	for len(b) > 0 {
		tag, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return 0, protowire.ParseError(n)
		}
		num, typ := protowire.DecodeTag(tag)
		if typ != protowire.VarintType || num < 1 || int(num) > len(dst) {
			return 0, errSlowPath
		}
		v, m := protowire.ConsumeVarint(b[n:])
		if m < 0 {
			return 0, protowire.ParseError(m)
		}
		dst[num-1] = v
		seen |= 1 << (num - 1)
		b = b[n+m:]
	}
	return seen, nil
}

// mergeTimestamp merges an encoded Timestamp into t.
func mergeTimestamp(t *timestamppb.Timestamp, b []byte) error {
	var v [2]uint64
	seen, err := varints(b, v[:])
	switch {
	case errors.Is(err, errSlowPath):
		return stateUnmarshal.Unmarshal(b, t)
	case err != nil:
		return err
	}
	if seen&1 != 0 {
		t.Seconds = int64(v[0])
	}
	if seen&2 != 0 {
		t.Nanos = int32(v[1])
	}
	return nil
}

func (d *decoder) pricePoint(p *marketv1.PricePoint, b []byte) error {
	for rest := b; len(rest) > 0; {
		tag, n := protowire.ConsumeVarint(rest)
		if n < 0 {
			return protowire.ParseError(n)
		}
		rest = rest[n:]
		switch num, typ := protowire.DecodeTag(tag); {
		case num == 1 && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(rest)
			if m < 0 {
				return protowire.ParseError(m)
			}
			if p.Time == nil {
				p.Time = d.timestamp()
			}
			if err := mergeTimestamp(p.Time, v); err != nil {
				return err
			}
			rest = rest[m:]
		case num == 2 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(rest)
			if m < 0 {
				return protowire.ParseError(m)
			}
			p.AmountMinor = int64(v)
			rest = rest[m:]
		default:
			p.Time, p.AmountMinor = nil, 0
			return proto.Unmarshal(b, p)
		}
	}
	return nil
}

func dailyPrice(p *marketv1.DailyPrice, b []byte) error {
	var v [5]uint64
	switch _, err := varints(b, v[:]); {
	case errors.Is(err, errSlowPath):
		return proto.Unmarshal(b, p)
	case err != nil:
		return err
	}
	p.Day, p.MinMinor, p.MaxMinor, p.SumMinor, p.Count = int32(v[0]), int64(v[1]), int64(v[2]), int64(v[3]), int64(v[4])
	return nil
}

func seriesPoint(p *marketv1.SeriesPoint, b []byte) error {
	var v [2]uint64
	switch _, err := varints(b, v[:]); {
	case errors.Is(err, errSlowPath):
		return proto.Unmarshal(b, p)
	case err != nil:
		return err
	}
	p.TimeUnixMs, p.Value = int64(v[0]), int64(v[1])
	return nil
}

// finishIDs adds the compact event ids the decoder read to st's lists.
func (d *decoder) finishIDs(st *marketv1.ProductState) error {
	if len(d.recentUUIDs) > 0 {
		if err := unpackRecentUUIDs(st, d.recentUUIDs); err != nil {
			return err
		}
	}
	if d.fieldIDs != nil {
		return unpackFieldIDs(st, d.fieldIDs)
	}
	return nil
}
