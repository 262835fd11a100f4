package jobs

import (
	"container/list"
	"hash/fnv"
	"math"
	"strconv"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// Fingerprint is a hash of what a search-result card shows about a product (title, prices,
// rating, reviews, bought, Prime, availability): a card with the same fingerprint as last time
// shows nothing new, so its product page need not be fetched again. Position and the Sponsored
// label are not part of it: they say where the card is, not what the product is.
func Fingerprint(a *marketv1.ProductAttributes) uint64 {
	h := fnv.New64a()
	put := func(s string) {
		_, _ = h.Write([]byte(s))
		_, _ = h.Write([]byte{0x1e})
	}
	if a == nil {
		put("nil")
		return h.Sum64()
	}
	opt := func(p *string) string {
		if p == nil {
			return "-"
		}
		return *p
	}
	i64 := func(p *int64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatInt(*p, 10)
	}
	money := func(m *marketv1.Money) string {
		if m == nil {
			return "-"
		}
		return strconv.FormatInt(m.GetAmountMinor(), 10) + m.GetCurrency()
	}
	put(opt(a.Title))
	put(money(a.Price))
	put(money(a.ListPrice))
	if a.Rating != nil {
		put(strconv.FormatUint(math.Float64bits(*a.Rating), 16))
	} else {
		put("-")
	}
	put(i64(a.ReviewCount))
	put(i64(a.BoughtPastMonth))
	if a.Prime != nil {
		put(strconv.FormatBool(*a.Prime))
	} else {
		put("-")
	}
	put(a.Availability.String())
	return h.Sum64()
}

// Fingerprints remembers the last card fingerprint seen per marketplace and ASIN, keeping the
// most recently used Capacity entries. Not safe for concurrent use.
type Fingerprints struct {
	capacity int
	order    *list.List // front: most recent; values are keys
	entries  map[string]fpEntry
}

type fpEntry struct {
	fp   uint64
	elem *list.Element
}

// NewFingerprints returns an empty memory of at most capacity products (at least 1).
func NewFingerprints(capacity int) *Fingerprints {
	return &Fingerprints{capacity: max(capacity, 1), order: list.New(), entries: map[string]fpEntry{}}
}

func fpKey(marketplace, asin string) string { return marketplace + "\x00" + asin }

// Get returns the last fingerprint of a product.
func (f *Fingerprints) Get(marketplace, asin string) (uint64, bool) {
	e, ok := f.entries[fpKey(marketplace, asin)]
	return e.fp, ok
}

// Put records a product's fingerprint, forgetting the least recently used product when full.
func (f *Fingerprints) Put(marketplace, asin string, fp uint64) {
	k := fpKey(marketplace, asin)
	if e, ok := f.entries[k]; ok {
		f.order.MoveToFront(e.elem)
		f.entries[k] = fpEntry{fp: fp, elem: e.elem}
		return
	}
	f.entries[k] = fpEntry{fp: fp, elem: f.order.PushFront(k)}
	for f.order.Len() > f.capacity {
		old := f.order.Back()
		f.order.Remove(old)
		delete(f.entries, old.Value.(string))
	}
}

// Len is the number of products remembered.
func (f *Fingerprints) Len() int { return f.order.Len() }

// Card is what the planner needs of one search-result card.
type Card struct {
	// ASIN of the card.
	ASIN string
	// Fingerprint of what the card shows (Fingerprint).
	Fingerprint uint64
}

// SelectProducts returns the ASINs whose product pages a job fetches after its search pages: the
// products never seen before and those whose card changed since it was last seen, in the order
// of the cards, each once, at most limit (0: none). seen may be nil (everything is new).
func SelectProducts(marketplace string, cards []Card, seen *Fingerprints, limit int) []string {
	if limit <= 0 {
		return nil
	}
	var out []string
	taken := map[string]bool{}
	for _, c := range cards {
		if c.ASIN == "" || taken[c.ASIN] {
			continue
		}
		taken[c.ASIN] = true
		if seen != nil {
			if fp, ok := seen.Get(marketplace, c.ASIN); ok && fp == c.Fingerprint {
				continue
			}
		}
		out = append(out, c.ASIN)
		if len(out) == limit {
			break
		}
	}
	return out
}
