package keywords

import (
	"encoding/binary"
	"errors"
	"fmt"
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
// the analysis saga's): the catalog's, with the trails' packed points read into their points.
// The catalog's own codec leaves them packed; CurrentWindow and PagesBetween unpack them.
func Codec() goka.Codec { return newStateCodec(0) }

// stateCodec is the codec of the processor's own table edge: the catalog's encoding of
// KeywordWindowsState with every trail's points written packed (ProductTrail.packed_points:
// about half of their bytes, and one field where a point was a message of six), and read back
// into points. With a cache of the states it encoded (statecache): a keyword's state is read and
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
}

var packPool = sync.Pool{New: func() any { return new(packer) }}

// pack moves the points of every trail into packed_points (slices of pk.buf); a trail with
// packed points already, or a point with fields this code does not know, stays as it is.
func (pk *packer) pack(st *marketv1.KeywordWindowsState) {
	pk.buf, pk.points = pk.buf[:0], pk.points[:0]
	// Offsets first, slices after: appending may move the buffer.
	ends := pk.ends[:0]
	for _, tr := range st.Products {
		from := len(pk.buf)
		if len(tr.PackedPoints) == 0 && packable(tr.Points) {
			pk.buf = appendPacked(pk.buf, tr.Points)
		}
		ends = append(ends, from, len(pk.buf))
	}
	pk.ends = ends
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

// appendPacked appends points in the form of ProductTrail.packed_points.
func appendPacked(b []byte, pts []*marketv1.ListingPoint) []byte {
	prev := int64(0)
	for _, p := range pts {
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(p.GetTimeUnixMs()-prev))
		prev = p.GetTimeUnixMs()
		b = binary.LittleEndian.AppendUint32(b, p.GetEventKey())
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(p.GetPosition())))
		var sponsored uint64
		if p.Sponsored != nil {
			sponsored = 1
			if *p.Sponsored {
				sponsored = 2
			}
		}
		b = protowire.AppendVarint(b, sponsored)
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(p.GetAttributes())))
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(p.GetLabel())))
	}
	return b
}

// errPacked is wrapped by the errors of packed points that cannot be read.
var errPacked = errors.New("malformed packed points")

// unpack moves the packed points of every trail of st into its points (after those it holds).
func unpack(st *marketv1.KeywordWindowsState) error {
	for _, tr := range st.Products {
		if len(tr.PackedPoints) == 0 {
			continue
		}
		pts, err := readPacked(tr.Points, tr.PackedPoints)
		if err != nil {
			return fmt.Errorf("trail %s: %w", tr.GetAsin(), err)
		}
		tr.Points, tr.PackedPoints = pts, nil
	}
	return nil
}

// readPacked appends to dst the points of packed_points b.
func readPacked(dst []*marketv1.ListingPoint, b []byte) ([]*marketv1.ListingPoint, error) {
	varint := func() (int64, bool) {
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return 0, false
		}
		b = b[n:]
		return protowire.DecodeZigZag(v), true
	}
	prev := int64(0)
	for len(b) > 0 {
		dt, ok := varint()
		if !ok || len(b) < 4 {
			return dst, errPacked
		}
		p := &marketv1.ListingPoint{TimeUnixMs: prev + dt, EventKey: binary.LittleEndian.Uint32(b)}
		prev = p.TimeUnixMs
		b = b[4:]
		pos, ok1 := varint()
		sp, n := protowire.ConsumeVarint(b)
		if !ok1 || n < 0 {
			return dst, errPacked
		}
		b = b[n:]
		attrs, ok2 := varint()
		label, ok3 := varint()
		if !ok2 || !ok3 || sp > 2 {
			return dst, errPacked
		}
		p.Position, p.Attributes, p.Label = int32(pos), int32(attrs), int32(label)
		switch sp {
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
