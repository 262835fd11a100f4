package keywords

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/lovoo/goka"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/processors"
	"github.com/marketinsightspro/marketinsights/processors/internal/statecache"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Codec returns the codec of keyword-windows-table for its readers (a view or lookup, such as
// the analysis saga's): the catalog's, with the packed page index and points read into their
// lists. The catalog's own codec leaves them packed; CurrentWindow and PagesBetween unpack them.
func Codec() goka.Codec { return newStateCodec(0) }

// stateCodec is the codec of the processor's own table edge: the catalog's encoding of
// KeywordWindowsState with the page index and every trail's points written packed
// (packed_pages, 7 bytes a page instead of 10; ProductTrail.packed_points, about 7 bytes a
// point instead of 19, and one field where a point was a message of six), and read back. With a cache of the states it encoded (statecache): a keyword's state is read and
// rewritten whole on every page, and decoding it was a third of the callback, so Decode of bytes
// this process encoded returns the state they came from, and the caller owns it; a state must
// not change after it was encoded. []byte (a state the callback encoded itself, to measure it)
// passes as it is.
type stateCodec struct {
	base  topics.Codec
	cache *statecache.Cache[*marketv1.KeywordWindowsState]
}

// checkStateCache, set by the package's tests, makes every cache hit also decode the bytes and
// fail when the cached state differs from what they decode to.
var checkStateCache bool

func newStateCodec(cacheBytes int) stateCodec {
	c := stateCodec{base: processors.Codec(topics.KeywordWindowsTable)}
	if cacheBytes > 0 {
		c.cache = statecache.New[*marketv1.KeywordWindowsState](4096, cacheBytes)
	}
	return c
}

// Encode marshals a *marketv1.KeywordWindowsState and caches it; []byte passes as it is.
func (c stateCodec) Encode(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	st, ok := v.(*marketv1.KeywordWindowsState)
	if !ok {
		return nil, fmt.Errorf("encode keyword windows state: got %T", v)
	}
	return c.encode(st)
}

// encode marshals st with its points packed and caches it under its bytes. st's trails are
// packed for the time of the marshalling and restored before it returns.
func (c stateCodec) encode(st *marketv1.KeywordWindowsState) ([]byte, error) {
	pk := packPool.Get().(*packer)
	defer packPool.Put(pk)
	pk.pack(st)
	b, err := c.base.Encode(st)
	pk.restore(st)
	if err != nil {
		return nil, fmt.Errorf("encode keyword windows state %q: %w", st.GetKeyword(), err)
	}
	c.cache.Put(b, st)
	return b, nil
}

// packer holds the buffers of one encode.
type packer struct {
	buf    []byte
	ends   []int                      // per trail, where its packed points start and end in buf
	points [][]*marketv1.ListingPoint // the points of the trails packed, by trail
	times  []int64                    // the page index packed, restored after
	keys   []uint32
}

var packPool = sync.Pool{New: func() any { return new(packer) }}

// pack moves the page index into packed_pages and the points of every trail into
// packed_points (slices of pk.buf); a state or trail with packed fields already, or a point with
// fields this code does not know, stays as it is.
func (pk *packer) pack(st *marketv1.KeywordWindowsState) {
	pk.buf, pk.points, pk.times, pk.keys = pk.buf[:0], pk.points[:0], nil, nil
	times, keys := st.PageTimesUnixMs, st.PageKeys
	pagesPacked := len(st.PackedPages) == 0 && len(times) == len(keys) && len(times) > 0
	if pagesPacked {
		pk.buf = appendPackedPages(pk.buf, times, keys)
	}
	pagesEnd := len(pk.buf)
	// Offsets first, slices after: appending may move the buffer.
	ends := pk.ends[:0]
	for _, tr := range st.Products {
		from := len(pk.buf)
		if len(tr.PackedPoints) == 0 && packable(tr.Points) {
			pk.buf = appendPacked(pk.buf, tr.Points, times, keys)
		}
		ends = append(ends, from, len(pk.buf))
	}
	pk.ends = ends
	if pagesPacked {
		pk.times, pk.keys = times, keys
		st.PageTimesUnixMs, st.PageKeys, st.PackedPages = nil, nil, pk.buf[:pagesEnd:pagesEnd]
	}
	for i, tr := range st.Products {
		from, to := ends[2*i], ends[2*i+1]
		if from == to {
			pk.points = append(pk.points, nil)
			continue
		}
		pk.points = append(pk.points, tr.Points)
		tr.Points, tr.PackedPoints = nil, pk.buf[from:to:to]
	}
}

// restore undoes pack.
func (pk *packer) restore(st *marketv1.KeywordWindowsState) {
	if pk.times != nil {
		st.PageTimesUnixMs, st.PageKeys, st.PackedPages = pk.times, pk.keys, nil
		pk.times, pk.keys = nil, nil
	}
	for i, tr := range st.Products {
		if i < len(pk.points) && pk.points[i] != nil {
			tr.Points, tr.PackedPoints = pk.points[i], nil
		}
	}
	clear(pk.points)
}

func packable(pts []*marketv1.ListingPoint) bool {
	for _, p := range pts {
		if len(p.ProtoReflect().GetUnknown()) > 0 {
			return false
		}
	}
	return len(pts) > 0
}

// appendPackedPages appends a page index in the form of KeywordWindowsState.packed_pages.
func appendPackedPages(b []byte, times []int64, keys []uint32) []byte {
	prev := int64(0)
	for i, t := range times {
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(t-prev))
		b = binary.LittleEndian.AppendUint32(b, keys[i])
		prev = t
	}
	return b
}

// Flags of a packed point.
const (
	packedSponsoredMask = 3 // 0 absent, 1 false, 2 true
	packedPageKey       = 4 // the event key is that of the only page of the point's time
)

// pageKey returns the key of the only page of event time t in a page index, and false when
// there is none or more than one.
func pageKey(times []int64, keys []uint32, t int64) (uint32, bool) {
	i, found := slices.BinarySearch(times, t)
	if !found || i+1 < len(times) && times[i+1] == t || i >= len(keys) {
		return 0, false
	}
	return keys[i], true
}

// appendPacked appends points in the form of ProductTrail.packed_points; times and keys are the
// state's page index.
func appendPacked(b []byte, pts []*marketv1.ListingPoint, times []int64, keys []uint32) []byte {
	prev := int64(0)
	for _, p := range pts {
		t := p.GetTimeUnixMs()
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(t-prev))
		prev = t
		var flags uint64
		if p.Sponsored != nil {
			flags = 1
			if *p.Sponsored {
				flags = 2
			}
		}
		k, ok := pageKey(times, keys, t)
		if ok && k == p.GetEventKey() {
			flags |= packedPageKey
		}
		b = protowire.AppendVarint(b, flags)
		if flags&packedPageKey == 0 {
			b = binary.LittleEndian.AppendUint32(b, p.GetEventKey())
		}
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(p.GetPosition())))
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(p.GetAttributes())))
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(p.GetLabel())))
	}
	return b
}

// errPacked is wrapped by the errors of packed pages or points that cannot be read.
var errPacked = errors.New("malformed packed field")

// unpack moves the packed page index of st and the packed points of every trail into their
// lists (after what those hold).
func unpack(st *marketv1.KeywordWindowsState) error {
	if b := st.PackedPages; len(b) > 0 {
		for len(b) > 0 {
			dt, n := protowire.ConsumeVarint(b)
			if n < 0 || len(b) < n+4 {
				return fmt.Errorf("page index: %w", errPacked)
			}
			prev := int64(0)
			if k := len(st.PageTimesUnixMs); k > 0 {
				prev = st.PageTimesUnixMs[k-1]
			}
			st.PageTimesUnixMs = append(st.PageTimesUnixMs, prev+protowire.DecodeZigZag(dt))
			st.PageKeys = append(st.PageKeys, binary.LittleEndian.Uint32(b[n:]))
			b = b[n+4:]
		}
		st.PackedPages = nil
	}
	for _, tr := range st.Products {
		if len(tr.PackedPoints) == 0 {
			continue
		}
		pts, err := readPacked(tr.Points, tr.PackedPoints, st.PageTimesUnixMs, st.PageKeys)
		if err != nil {
			return fmt.Errorf("trail %s: %w", tr.GetAsin(), err)
		}
		tr.Points, tr.PackedPoints = pts, nil
	}
	return nil
}

// readPacked appends to dst the points of packed_points b; times and keys are the state's page
// index.
func readPacked(dst []*marketv1.ListingPoint, b []byte, times []int64, keys []uint32) ([]*marketv1.ListingPoint, error) {
	uvarint := func() (uint64, bool) {
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	prev := int64(0)
	for len(b) > 0 {
		dt, ok1 := uvarint()
		flags, ok2 := uvarint()
		if !ok1 || !ok2 || flags&^(packedSponsoredMask|packedPageKey) != 0 || flags&packedSponsoredMask == 3 {
			return dst, errPacked
		}
		p := &marketv1.ListingPoint{TimeUnixMs: prev + protowire.DecodeZigZag(dt)}
		prev = p.TimeUnixMs
		if flags&packedPageKey != 0 {
			k, ok := pageKey(times, keys, p.TimeUnixMs)
			if !ok {
				return dst, fmt.Errorf("no page of the point's time %d: %w", p.TimeUnixMs, errPacked)
			}
			p.EventKey = k
		} else {
			if len(b) < 4 {
				return dst, errPacked
			}
			p.EventKey = binary.LittleEndian.Uint32(b)
			b = b[4:]
		}
		pos, ok1 := uvarint()
		attrs, ok2 := uvarint()
		label, ok3 := uvarint()
		if !ok1 || !ok2 || !ok3 {
			return dst, errPacked
		}
		p.Position = int32(protowire.DecodeZigZag(pos))
		p.Attributes = int32(protowire.DecodeZigZag(attrs))
		p.Label = int32(protowire.DecodeZigZag(label))
		switch flags & packedSponsoredMask {
		case 1:
			p.Sponsored = boolFalse
		case 2:
			p.Sponsored = boolTrue
		}
		dst = append(dst, p)
	}
	return dst, nil
}

// Decode returns the state b was encoded from when it is cached, else unmarshals it.
func (c stateCodec) Decode(b []byte) (any, error) {
	if st, ok := c.cache.Take(b); ok {
		if checkStateCache {
			if err := checkCached(c.base, st, b); err != nil {
				return nil, err
			}
		}
		return st, nil
	}
	v, err := c.base.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("decode keyword windows state: %w", err)
	}
	st := v.(*marketv1.KeywordWindowsState)
	if err := unpack(st); err != nil {
		return nil, fmt.Errorf("decode keyword windows state %q: %w", st.GetKeyword(), err)
	}
	return st, nil
}

// checkCached fails when a cached state differs from what its bytes decode to.
func checkCached(base topics.Codec, st *marketv1.KeywordWindowsState, b []byte) error {
	v, err := base.Decode(b)
	if err == nil {
		err = unpack(v.(*marketv1.KeywordWindowsState))
	}
	if err != nil {
		return fmt.Errorf("check cached keyword state: %w", err)
	}
	if !proto.Equal(v.(proto.Message), st) {
		return fmt.Errorf("check cached keyword state %q: the cached state differs from its bytes", st.GetKeyword())
	}
	return nil
}
