// Package statecache keeps the table values a goka processor's codec encoded, by their encoded
// bytes, so that decoding bytes this process wrote hands back the value they came from instead
// of reading them again. A processor that reads and rewrites a key's whole value on every record
// otherwise decodes what it encoded a moment before.
//
// Correctness rests on one invariant: a cached value is the value its bytes decode to, so a hit
// cannot differ from a miss, and a table recovered from its changelog (no cache) gives the same
// values. Entries are keyed by the bytes themselves: the 64-bit xxhash of the bytes finds an
// entry, and the entry's bytes (the slice the codec returned, kept and never copied, since
// nothing writes to it after goka stored and produced it) must equal the bytes to decode exactly,
// so a hash collision is a miss, never a wrong value. Bytes encoded elsewhere (another instance's,
// after a rebalance; a recovered table) simply miss.
//
// Ownership moves with the value: Take removes the entry and gives the value to the caller, who
// may change it; Put gives a value just encoded back. So a value is never both cached and being
// changed, a value a callback changed without writing it is dropped with its entry, and two
// goroutines (goka runs partitions concurrently with one codec) never get the same value. After
// Put the caller must not change the value again; reading it is fine.
//
// The product tracker, the keyword windows and the anomaly detector use it for their tables.
package statecache

import (
	"bytes"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

// Cache holds at most a number of entries and of encoded bytes, evicting the value encoded
// longest ago first. A lookup hashes and compares the bytes under one mutex.
type Cache[T any] struct {
	mu             sync.Mutex
	maxN, maxBytes int
	bytes          int
	entries        map[uint64]*entry[T]
	ring           entry[T] // sentinel of the list of entries, most recently put first
	hits, misses   atomic.Int64
}

type entry[T any] struct {
	hash       uint64
	raw        []byte
	v          T
	prev, next *entry[T]
}

// New returns a cache of at most maxN values and maxBytes encoded bytes in all (no byte bound
// when maxBytes < 1); nil, which caches nothing, when maxN < 1.
func New[T any](maxN, maxBytes int) *Cache[T] {
	if maxN < 1 {
		return nil
	}
	c := &Cache[T]{maxN: maxN, maxBytes: maxBytes, entries: make(map[uint64]*entry[T], min(maxN, 4096))}
	c.ring.prev, c.ring.next = &c.ring, &c.ring
	return c
}

// Take returns the value raw was encoded from and forgets it; false when raw is not cached
// (always on a nil cache).
func (c *Cache[T]) Take(raw []byte) (T, bool) {
	var zero T
	if c == nil {
		return zero, false
	}
	h := xxhash.Sum64(raw)
	c.mu.Lock()
	e := c.entries[h]
	if e == nil || !bytes.Equal(e.raw, raw) {
		c.mu.Unlock()
		c.misses.Add(1)
		return zero, false
	}
	c.remove(e)
	c.mu.Unlock()
	c.hits.Add(1)
	return e.v, true
}

// Put records that v encodes to raw; neither may change afterwards. A nil cache ignores it.
func (c *Cache[T]) Put(raw []byte, v T) {
	if c == nil || c.maxBytes > 0 && len(raw) > c.maxBytes {
		return
	}
	h := xxhash.Sum64(raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[h]; e != nil {
		c.remove(e) // the same bytes again (or a collision): the newer value wins
	}
	for len(c.entries) >= c.maxN || c.maxBytes > 0 && c.bytes+len(raw) > c.maxBytes {
		c.remove(c.ring.prev)
	}
	e := &entry[T]{hash: h, raw: raw, v: v, prev: &c.ring, next: c.ring.next}
	e.next.prev, c.ring.next = e, e
	c.entries[h] = e
	c.bytes += len(raw)
}

// remove unlinks e and deletes it from the map; c.mu is held.
func (c *Cache[T]) remove(e *entry[T]) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	delete(c.entries, e.hash)
	c.bytes -= len(e.raw)
}

// Len returns the number of cached values and their encoded bytes.
func (c *Cache[T]) Len() (n, bytes int) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.bytes
}

// Stats returns the hits and misses of Take so far.
func (c *Cache[T]) Stats() (hits, misses int64) {
	if c == nil {
		return 0, 0
	}
	return c.hits.Load(), c.misses.Load()
}
