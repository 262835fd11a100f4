package worker

import (
	"container/list"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// lru is a bounded map that forgets the least recently used key; safe for concurrent use.
type lru[V any] struct {
	mu       sync.Mutex
	capacity int
	order    *list.List
	items    map[string]*list.Element
}

type lruItem[V any] struct {
	key   string
	value V
}

func newLRU[V any](capacity int) *lru[V] {
	return &lru[V]{capacity: max(capacity, 1), order: list.New(), items: map[string]*list.Element{}}
}

func (l *lru[V]) get(key string) (V, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.items[key]; ok {
		l.order.MoveToFront(e)
		return e.Value.(*lruItem[V]).value, true
	}
	var zero V
	return zero, false
}

func (l *lru[V]) put(key string, v V) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.items[key]; ok {
		e.Value.(*lruItem[V]).value = v
		l.order.MoveToFront(e)
		return
	}
	l.items[key] = l.order.PushFront(&lruItem[V]{key: key, value: v})
	for l.order.Len() > l.capacity {
		old := l.order.Back()
		l.order.Remove(old)
		delete(l.items, old.Value.(*lruItem[V]).key)
	}
}

// add puts key if absent and reports whether it was absent.
func (l *lru[V]) add(key string, v V) bool {
	if _, ok := l.get(key); ok {
		return false
	}
	l.put(key, v)
	return true
}

func (l *lru[V]) remove(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.items[key]; ok {
		l.order.Remove(e)
		delete(l.items, key)
	}
}

// lastPage is the last successful result of one search page, kept to answer from when the
// host's breaker is open: the records as they were produced, byte for byte.
type lastPage struct {
	jobID    string
	at       time.Time
	listings int
	url      string
	records  []*kgo.Record
}

func pageKey(marketplace, keyword string, page int) string {
	return marketplace + "\x00" + keyword + "\x00" + strconv.Itoa(page)
}

// copyRecords returns new records with the same topic, key, value and headers (kgo sets the
// partition, offset and timestamp of a record it produces, so a record is produced only once).
func copyRecords(rs []*kgo.Record) []*kgo.Record {
	out := make([]*kgo.Record, len(rs))
	for i, r := range rs {
		out[i] = &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Headers: r.Headers}
	}
	return out
}
