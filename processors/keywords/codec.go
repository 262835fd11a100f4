package keywords

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/processors"
	"github.com/marketinsightspro/marketinsights/processors/internal/statecache"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// stateCodec is the codec of the processor's own table edge: the catalog's encoding of
// KeywordWindowsState, with a cache of the states it encoded (statecache): a keyword's state
// is read and rewritten whole on every page, and decoding it was a third of the callback. Decode
// of bytes this process encoded returns the state they came from, and the caller owns it; a state
// must not change after it was encoded. []byte (a state the callback encoded itself, to measure
// it) passes as it is.
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

// encode marshals st and caches it under its bytes.
func (c stateCodec) encode(st *marketv1.KeywordWindowsState) ([]byte, error) {
	b, err := c.base.Encode(st)
	if err != nil {
		return nil, fmt.Errorf("encode keyword windows state %q: %w", st.GetKeyword(), err)
	}
	c.cache.Put(b, st)
	return b, nil
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
	return v, nil
}

// checkCached fails when a cached state differs from what its bytes decode to.
func checkCached(base topics.Codec, st *marketv1.KeywordWindowsState, b []byte) error {
	v, err := base.Decode(b)
	if err != nil {
		return fmt.Errorf("check cached keyword state: %w", err)
	}
	if !proto.Equal(v.(proto.Message), st) {
		return fmt.Errorf("check cached keyword state %q: the cached state differs from its bytes", st.GetKeyword())
	}
	return nil
}
