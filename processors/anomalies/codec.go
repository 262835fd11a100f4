package anomalies

import (
	"fmt"

	"github.com/lovoo/goka"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/processors"
	"github.com/marketinsightspro/marketinsights/processors/internal/statecache"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// stateCodec is the codec of the detector's own table edge: the catalog's encoding of
// DetectorState, with a cache of the states it encoded (statecache). A product's detector state
// is read and rewritten whole on every change, and decoding it (a map of five series, each with
// its window of values) was the largest part of the callback; Decode of bytes this process
// encoded returns the state they came from, which the caller then owns. A state must not change
// after it was encoded. []byte (a state the callback encoded itself, to measure it) passes as
// it is.
type stateCodec struct {
	base  goka.Codec
	cache *statecache.Cache[*marketv1.DetectorState]
}

// checkStateCache, set by the package's tests, makes every cache hit also decode the bytes and
// fail when the cached state differs from what they decode to.
var checkStateCache bool

// newStateCodec returns the codec with a cache of at most n states (none when n < 1).
func newStateCodec(n int) stateCodec {
	return stateCodec{base: processors.Codec(topics.AnomalyDetectorTable), cache: statecache.New[*marketv1.DetectorState](n, 0)}
}

// Encode marshals a *marketv1.DetectorState and caches it under its bytes; []byte passes.
func (c stateCodec) Encode(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	st, ok := v.(*marketv1.DetectorState)
	if !ok {
		return nil, fmt.Errorf("encode detector state: got %T", v)
	}
	b, err := c.base.Encode(st)
	if err != nil {
		return nil, fmt.Errorf("encode detector state %s: %w", st.GetAsin(), err)
	}
	c.cache.Put(b, st)
	return b, nil
}

// Decode returns the state b was encoded from when this codec encoded it, else unmarshals it.
func (c stateCodec) Decode(b []byte) (any, error) {
	if st, ok := c.cache.Take(b); ok {
		if checkStateCache {
			fresh, err := c.base.Decode(b)
			if err != nil {
				return nil, fmt.Errorf("state cache: decode the bytes of a cached state: %w", err)
			}
			if !proto.Equal(fresh.(*marketv1.DetectorState), st) {
				return nil, fmt.Errorf("state cache: the cached state of %s differs from its bytes decoded", st.GetAsin())
			}
		}
		return st, nil
	}
	v, err := c.base.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("decode detector state: %w", err)
	}
	return v, nil
}
