package api

import (
	"context"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Layers a cache lookup can be answered by.
const (
	LayerL1         = "l1"
	LayerRedis      = "redis"
	LayerClickHouse = "clickhouse"
)

// l1 is one named in-process cache: a bounded, expiring LRU in front of a loader, with
// concurrent misses of a key collapsed into one load. Absent values are cached too.
type l1[V any] struct {
	name   string
	lru    *LRU[string, l1Entry[V]]
	sf     singleflight.Group
	m      *Metrics
	hits   atomic.Int64
	misses atomic.Int64
	// epoch grows with every invalidation: a load that began before one is not cached, so a
	// value read before a change never outlives the change's message.
	epoch atomic.Uint64
}

type l1Entry[V any] struct {
	v     V
	found bool
}

// newL1 returns an L1 cache of size entries living ttl each.
func newL1[V any](name string, size int, ttl time.Duration, m *Metrics) *l1[V] {
	return &l1[V]{name: name, lru: NewLRU[string, l1Entry[V]](size, ttl), m: m}
}

// get returns key's value from the cache, else from load (whose found result is cached too).
func (c *l1[V]) get(ctx context.Context, key string, load func(context.Context) (V, bool, error)) (V, bool, error) {
	if e, ok := c.lru.Get(key); ok {
		c.hits.Add(1)
		c.m.Cache.WithLabelValues(c.name, LayerL1, "hit").Inc()
		return e.v, e.found, nil
	}
	c.misses.Add(1)
	c.m.Cache.WithLabelValues(c.name, LayerL1, "miss").Inc()
	r, err, _ := c.sf.Do(key, func() (any, error) {
		epoch := c.epoch.Load()
		v, found, err := load(ctx)
		if err != nil {
			return nil, err
		}
		e := l1Entry[V]{v: v, found: found}
		if c.epoch.Load() == epoch {
			c.lru.Add(key, e)
		}
		return e, nil
	})
	if err != nil {
		var zero V
		return zero, false, err
	}
	e := r.(l1Entry[V])
	return e.v, e.found, nil
}

// put stores a value (used by warming).
func (c *l1[V]) put(key string, v V) { c.lru.Add(key, l1Entry[V]{v: v, found: true}) }

// forget drops key; a load in flight is forgotten too, so the next get loads afresh.
func (c *l1[V]) forget(key string) {
	c.epoch.Add(1)
	c.sf.Forget(key)
	if c.lru.Remove(key) {
		c.m.Invalidations.WithLabelValues(c.name).Inc()
	}
}

// purge drops everything and returns how many entries there were.
func (c *l1[V]) purge() int {
	c.epoch.Add(1)
	n := c.lru.Purge()
	c.m.Invalidations.WithLabelValues(c.name).Add(float64(n))
	return n
}

// CacheStats are one L1 cache's figures since the server started.
type CacheStats struct {
	Name     string  `json:"name"`
	Entries  int     `json:"entries"`
	Hits     int64   `json:"hits"`
	Misses   int64   `json:"misses"`
	HitRatio float64 `json:"hit_ratio"`
}

func (c *l1[V]) stats() CacheStats {
	h, m := c.hits.Load(), c.misses.Load()
	s := CacheStats{Name: c.name, Entries: c.lru.Len(), Hits: h, Misses: m}
	if h+m > 0 {
		s.HitRatio = float64(h) / float64(h+m)
	}
	return s
}

// layer records a lookup of a lower layer.
func (m *Metrics) layer(cache, layer string, found bool) {
	res := "miss"
	if found {
		res = "hit"
	}
	m.Cache.WithLabelValues(cache, layer, res).Inc()
}
