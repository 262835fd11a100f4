package products

import (
	"bytes"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// stateCache keeps the states the tracker's codec encoded, by their encoded bytes, so that
// decoding bytes this process wrote hands back the state they came from instead of reading
// them again (the tracker reads and rewrites a product's whole state on every observation;
// reading it was the largest part of the callback).
//
// Correctness rests on one invariant: a cached state is the state its bytes decode to, so a
// hit cannot differ from a miss — and a table recovered from the changelog (no cache) gives
// the same states. Entries are therefore keyed by the bytes themselves: the 64-bit xxhash of
// the bytes finds an entry, and the entry's bytes (the slice Encode returned, kept, never
// copied, since nothing writes to it after goka stored and produced it) must equal the bytes
// to decode exactly, so a hash collision is a miss, never a wrong state. Bytes that were not
// encoded here (another instance's, after a rebalance; a recovered table) simply miss.
//
// Ownership moves with the state: a hit removes the entry and gives the state to the caller,
// who may change it; Encode puts the state it encoded back. So a state is never both in the
// cache and being changed, a state the callback changed without writing it (a rejected or
// duplicate observation) is dropped with its entry, and two goroutines (goka runs partitions
// concurrently with one codec) never get the same state. After Encode the caller must not
// change the state again; reading it is fine.
//
// The cache holds at most max entries and evicts the one encoded longest ago. A lookup hashes
// and compares the bytes (well under a microsecond for a few KB) under one mutex.
type stateCache struct {
	mu      sync.Mutex
	max     int
	entries map[uint64]*cacheEntry
	// ring is the sentinel of the list of entries, most recently encoded first.
	ring cacheEntry

	hits, misses atomic.Int64
}

// cacheEntry is one encoded state and its bytes.
type cacheEntry struct {
	hash       uint64
	raw        []byte
	st         *marketv1.ProductState
	prev, next *cacheEntry
}

// newStateCache returns a cache of at most max states; nil (no caching) when max < 1.
func newStateCache(max int) *stateCache {
	if max < 1 {
		return nil
	}
	c := &stateCache{max: max, entries: make(map[uint64]*cacheEntry, max)}
	c.ring.prev, c.ring.next = &c.ring, &c.ring
	return c
}

// take returns the state raw was encoded from and forgets it; nil when raw is not cached.
func (c *stateCache) take(raw []byte) *marketv1.ProductState {
	h := xxhash.Sum64(raw)
	c.mu.Lock()
	e := c.entries[h]
	if e == nil || !bytes.Equal(e.raw, raw) {
		c.mu.Unlock()
		c.misses.Add(1)
		return nil
	}
	c.remove(e)
	c.mu.Unlock()
	c.hits.Add(1)
	return e.st
}

// put records that st encodes to raw; raw must not change afterwards.
func (c *stateCache) put(raw []byte, st *marketv1.ProductState) {
	h := xxhash.Sum64(raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[h]; e != nil {
		c.remove(e) // the same bytes again (or a collision): the newer state wins
	}
	if len(c.entries) >= c.max {
		c.remove(c.ring.prev)
	}
	e := &cacheEntry{hash: h, raw: raw, st: st, prev: &c.ring, next: c.ring.next}
	e.next.prev, c.ring.next = e, e
	c.entries[h] = e
}

// remove unlinks e and deletes it from the map; c.mu is held.
func (c *stateCache) remove(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	delete(c.entries, e.hash)
}

// len returns the number of cached states.
func (c *stateCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
