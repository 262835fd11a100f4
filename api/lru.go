package api

import (
	"container/list"
	"sync"
	"time"
)

// LRU is a bounded, expiring least-recently-used map, safe for concurrent use. Entries expire
// lazily: an expired entry is dropped when it is looked up or when it is the oldest at an Add.
// It starts no goroutine.
type LRU[K comparable, V any] struct {
	mu    sync.Mutex
	size  int
	ttl   time.Duration
	now   func() time.Time
	ll    *list.List
	items map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key     K
	val     V
	expires time.Time
}

// NewLRU returns a map of at most size entries that each live ttl after their Add (0: forever).
func NewLRU[K comparable, V any](size int, ttl time.Duration) *LRU[K, V] {
	return &LRU[K, V]{size: max(size, 1), ttl: ttl, now: time.Now, ll: list.New(), items: map[K]*list.Element{}}
}

// Get returns the value of key and marks it recently used; ok is false when absent or expired.
func (c *LRU[K, V]) Get(key K) (v V, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return v, false
	}
	e := el.Value.(*lruEntry[K, V])
	if c.ttl > 0 && !c.now().Before(e.expires) {
		c.remove(el)
		return v, false
	}
	c.ll.MoveToFront(el)
	return e.val, true
}

// Add sets key's value, evicting the least recently used entry when full; it reports whether
// an entry was evicted.
func (c *LRU[K, V]) Add(key K, v V) (evicted bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp := c.now().Add(c.ttl)
	if el, ok := c.items[key]; ok {
		e := el.Value.(*lruEntry[K, V])
		e.val, e.expires = v, exp
		c.ll.MoveToFront(el)
		return false
	}
	c.items[key] = c.ll.PushFront(&lruEntry[K, V]{key: key, val: v, expires: exp})
	if c.ll.Len() > c.size {
		c.remove(c.ll.Back())
		return true
	}
	return false
}

// Remove drops key; it reports whether it was there.
func (c *LRU[K, V]) Remove(key K) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if ok {
		c.remove(el)
	}
	return ok
}

// Purge drops every entry and returns how many there were.
func (c *LRU[K, V]) Purge() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.ll.Len()
	c.ll.Init()
	clear(c.items)
	return n
}

// Len returns the number of entries, expired ones not yet dropped included.
func (c *LRU[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

func (c *LRU[K, V]) remove(el *list.Element) {
	c.ll.Remove(el)
	delete(c.items, el.Value.(*lruEntry[K, V]).key)
}
