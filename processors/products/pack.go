package products

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// Field numbers of the compact histories (ProductState) and of their packed arrays.
const (
	fPackedPrices  protowire.Number = 19
	fPackedDaily   protowire.Number = 20
	fPackedReviews protowire.Number = 21
	fPackedRanks   protowire.Number = 22
)

// Unpack moves the compact fields of a state read with the generated code (the catalog's
// codec, `marketinsights tail`) into the fields they stand for — the histories into
// price_history, daily_prices, review_history and rank_history, recent_event_uuids into
// recent_event_ids (all appended to what those hold), packed_field_event_id into
// field_event_id — and clears them. The tracker's own codec does this while decoding.
func Unpack(st *marketv1.ProductState) error {
	if len(st.RecentEventUuids) > 0 {
		if err := unpackRecentUUIDs(st, st.RecentEventUuids); err != nil {
			return err
		}
	}
	st.RecentEventUuids = nil
	if p := st.PackedFieldEventId; p != nil {
		if err := unpackFieldIDs(st, p); err != nil {
			return err
		}
		st.PackedFieldEventId = nil
	}
	if p := st.GetPackedPriceHistory(); p != nil {
		pts, err := unpackPrices(slices.Clone(p.GetSecondsDelta()), p.GetNanos(), slices.Clone(p.GetAmountMinorDelta()))
		if err != nil {
			return err
		}
		st.PriceHistory = append(st.PriceHistory, pts...)
		st.PackedPriceHistory = nil
	}
	if p := st.GetPackedDailyPrices(); p != nil {
		days, err := unpackDaily([5][]int64{slices.Clone(p.GetDayDelta()), slices.Clone(p.GetMinMinorDelta()), p.GetMaxOverMin(), p.GetSumOverMin(), p.GetCount()})
		if err != nil {
			return err
		}
		st.DailyPrices = append(st.DailyPrices, days...)
		st.PackedDailyPrices = nil
	}
	for _, s := range []struct {
		packed **marketv1.PackedSeries
		h      *[]*marketv1.SeriesPoint
		what   string
	}{{&st.PackedReviewHistory, &st.ReviewHistory, "review"}, {&st.PackedRankHistory, &st.RankHistory, "rank"}} {
		if p := *s.packed; p != nil {
			pts, err := unpackSeries(slices.Clone(p.GetTimeUnixMsDelta()), slices.Clone(p.GetValueDelta()), s.what)
			if err != nil {
				return err
			}
			*s.h = append(*s.h, pts...)
			*s.packed = nil
		}
	}
	return nil
}

// isPacked reports whether st holds compact histories (read by the generated code).
func isPacked(st *marketv1.ProductState) bool {
	return st.PackedPriceHistory != nil || st.PackedDailyPrices != nil || st.PackedReviewHistory != nil || st.PackedRankHistory != nil ||
		len(st.RecentEventUuids) > 0 || st.PackedFieldEventId != nil
}

// undelta turns deltas into values in place (two's-complement arithmetic, as written).
func undelta(xs []int64) {
	var prev int64
	for i, d := range xs {
		prev += d
		xs[i] = prev
	}
}

// unpackPrices, unpackDaily and unpackSeries turn the deltas of their arrays into values in place.
func unpackPrices(secs []int64, nanos []int32, amounts []int64) ([]*marketv1.PricePoint, error) {
	n := len(secs)
	if len(amounts) != n || len(nanos) != 0 && len(nanos) != n {
		return nil, fmt.Errorf("packed price history: %d times, %d nanos, %d amounts", n, len(nanos), len(amounts))
	}
	undelta(secs)
	undelta(amounts)
	pp := make([]marketv1.PricePoint, n)
	ts := make([]timestamppb.Timestamp, n)
	out := make([]*marketv1.PricePoint, n)
	for i := range n {
		ts[i].Seconds = secs[i]
		if len(nanos) > 0 {
			ts[i].Nanos = nanos[i]
		}
		pp[i].Time, pp[i].AmountMinor = &ts[i], amounts[i]
		out[i] = &pp[i]
	}
	return out, nil
}

// unpackDaily takes the arrays of PackedDailyPrices in field order.
func unpackDaily(a [5][]int64) ([]*marketv1.DailyPrice, error) {
	n := len(a[0])
	for _, x := range a[1:] {
		if len(x) != n {
			return nil, fmt.Errorf("packed daily prices: arrays of %d, %d, %d, %d and %d values", len(a[0]), len(a[1]), len(a[2]), len(a[3]), len(a[4]))
		}
	}
	days, mins := a[0], a[1]
	undelta(days)
	undelta(mins)
	dp := make([]marketv1.DailyPrice, n)
	out := make([]*marketv1.DailyPrice, n)
	for i := range n {
		dp[i] = marketv1.DailyPrice{Day: int32(days[i]), MinMinor: mins[i], MaxMinor: mins[i] + a[2][i], SumMinor: a[3][i] + mins[i]*a[4][i], Count: a[4][i]}
		out[i] = &dp[i]
	}
	return out, nil
}

func unpackSeries(times, values []int64, what string) ([]*marketv1.SeriesPoint, error) {
	n := len(times)
	if len(values) != n {
		return nil, fmt.Errorf("packed %s history: %d times, %d values", what, n, len(values))
	}
	undelta(times)
	undelta(values)
	sp := make([]marketv1.SeriesPoint, n)
	out := make([]*marketv1.SeriesPoint, n)
	for i := range n {
		sp[i].TimeUnixMs, sp[i].Value = times[i], values[i]
		out[i] = &sp[i]
	}
	return out, nil
}

// packedArray is one packed repeated sint64 (or int32, when plain) field of a compact history,
// number num: its values, written as deltas from the previous value when delta is set.
type packedArray struct {
	num   protowire.Number
	vals  []int64
	delta bool
	plain bool // int32 field: plain varint of the value, not zigzag
}

// varints turns the values into the varints written, in place, and returns their total size.
func (p packedArray) varints() int {
	size := 0
	var prev int64
	for i, v := range p.vals {
		w := v
		if p.delta {
			w, prev = v-prev, v
		}
		u := uint64(w)
		if !p.plain {
			u = protowire.EncodeZigZag(w)
		}
		p.vals[i] = int64(u)
		size += protowire.SizeVarint(u)
	}
	return size
}

// appendVarint is protowire.AppendVarint with the one- and two-byte cases (most deltas) inline.
func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<7:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, byte(v)|0x80, byte(v>>7))
	}
	return protowire.AppendVarint(b, v)
}

// appendPackedMessage appends field num holding the packed arrays (empty ones are left out);
// it overwrites their values with the varints written.
func appendPackedMessage(b []byte, num protowire.Number, arrays ...packedArray) []byte {
	var sizes [5]int
	total := 0
	for i, a := range arrays {
		if len(a.vals) == 0 {
			continue
		}
		sizes[i] = a.varints()
		total += protowire.SizeTag(a.num) + protowire.SizeBytes(sizes[i])
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(total))
	for i, a := range arrays {
		if len(a.vals) == 0 {
			continue
		}
		b = protowire.AppendTag(b, a.num, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sizes[i]))
		b = slices.Grow(b, sizes[i])
		for _, v := range a.vals {
			b = appendVarint(b, uint64(v))
		}
	}
	return b
}

// packScratch holds the values of a compact history's arrays while they are written, on the
// stack for histories up to its length.
type packScratch [5][128]int64

// packablePrices reports whether the compact form keeps h exactly: every point has a time and
// nothing has unknown fields.
func packablePrices(h []*marketv1.PricePoint) (ok, nanos bool) {
	for _, p := range h {
		if p.Time == nil || hasUnknown(p) || hasUnknown(p.Time) {
			return false, false
		}
		nanos = nanos || p.Time.Nanos != 0
	}
	return true, nanos
}

func appendPackedPrices(b []byte, h []*marketv1.PricePoint, nanos bool) []byte {
	var sc packScratch
	secs, ns, amounts := sc[0][:0], sc[1][:0], sc[2][:0]
	for _, p := range h {
		secs = append(secs, p.Time.Seconds)
		amounts = append(amounts, p.AmountMinor)
		if nanos {
			ns = append(ns, int64(p.Time.Nanos))
		}
	}
	return appendPackedMessage(b, fPackedPrices,
		packedArray{num: 1, vals: secs, delta: true},
		packedArray{num: 2, vals: ns, plain: true},
		packedArray{num: 3, vals: amounts, delta: true},
	)
}

func packable[T proto.Message](xs []T) bool {
	for _, x := range xs {
		if hasUnknown(x) {
			return false
		}
	}
	return true
}

func appendPackedDaily(b []byte, d []*marketv1.DailyPrice) []byte {
	var sc packScratch
	days, mins, maxs, sums, counts := sc[0][:0], sc[1][:0], sc[2][:0], sc[3][:0], sc[4][:0]
	for _, x := range d {
		days = append(days, int64(x.Day))
		mins = append(mins, x.MinMinor)
		maxs = append(maxs, x.MaxMinor-x.MinMinor)
		sums = append(sums, x.SumMinor-x.MinMinor*x.Count)
		counts = append(counts, x.Count)
	}
	return appendPackedMessage(b, fPackedDaily,
		packedArray{num: 1, vals: days, delta: true},
		packedArray{num: 2, vals: mins, delta: true},
		packedArray{num: 3, vals: maxs},
		packedArray{num: 4, vals: sums},
		packedArray{num: 5, vals: counts},
	)
}

func appendPackedSeries(b []byte, num protowire.Number, h []*marketv1.SeriesPoint) []byte {
	var sc [2][128]int64
	times, values := sc[0][:0], sc[1][:0]
	for _, p := range h {
		times = append(times, p.TimeUnixMs)
		values = append(values, p.Value)
	}
	return appendPackedMessage(b, num,
		packedArray{num: 1, vals: times, delta: true},
		packedArray{num: 2, vals: values, delta: true},
	)
}

// packedReader collects the arrays of one kind of compact history over every occurrence of its
// field (the generated code merges repeated occurrences by concatenating the arrays).
type packedReader struct {
	arrays [5][]int64
	seen   bool
}

// read decodes one occurrence: fields 1..5, packed or not; other fields are skipped, as
// Unpack drops them.
func (r *packedReader) read(b []byte) error {
	r.seen = true
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		if num > protowire.MaxValidNumber {
			return errFieldNumber
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return protowire.ParseError(m)
		}
		body := b[n : n+m]
		b = b[n+m:]
		if num < 1 || num > 5 {
			continue
		}
		dst := &r.arrays[num-1]
		switch typ {
		case protowire.VarintType:
			v, _ := protowire.ConsumeVarint(body)
			*dst = append(*dst, int64(v))
		case protowire.BytesType:
			v, _ := protowire.ConsumeBytes(body)
			ends := 0 // values in v: bytes that end a varint
			for _, c := range v {
				if c < 0x80 {
					ends++
				}
			}
			*dst = slices.Grow(*dst, ends)
			for len(v) > 0 {
				x, k := protowire.ConsumeVarint(v)
				if k < 0 {
					return protowire.ParseError(k)
				}
				*dst = append(*dst, int64(x))
				v = v[k:]
			}
		}
	}
	return nil
}

// zigzag decodes the sint64 arrays in place.
func (r *packedReader) zigzag(fields ...int) {
	for _, f := range fields {
		for i, v := range r.arrays[f-1] {
			r.arrays[f-1][i] = protowire.DecodeZigZag(uint64(v))
		}
	}
}

// finishPacked appends the compact histories the decoder read to st's lists.
func (d *decoder) finishPacked(st *marketv1.ProductState) error {
	if r := &d.packed[0]; r.seen {
		r.zigzag(1, 3)
		nanos := make([]int32, len(r.arrays[1]))
		for i, v := range r.arrays[1] {
			nanos[i] = int32(v)
		}
		pts, err := unpackPrices(r.arrays[0], nanos, r.arrays[2])
		if err != nil {
			return err
		}
		st.PriceHistory = append(st.PriceHistory, pts...)
	}
	if r := &d.packed[1]; r.seen {
		r.zigzag(1, 2, 3, 4, 5)
		days, err := unpackDaily(r.arrays)
		if err != nil {
			return err
		}
		st.DailyPrices = append(st.DailyPrices, days...)
	}
	for i, h := range []*[]*marketv1.SeriesPoint{&st.ReviewHistory, &st.RankHistory} {
		if r := &d.packed[2+i]; r.seen {
			r.zigzag(1, 2)
			pts, err := unpackSeries(r.arrays[0], r.arrays[1], []string{"review", "rank"}[i])
			if err != nil {
				return err
			}
			*h = append(*h, pts...)
		}
	}
	return nil
}
