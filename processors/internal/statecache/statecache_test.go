package statecache

import (
	"fmt"
	"testing"
)

func TestCache(t *testing.T) {
	for _, tc := range []struct {
		name           string
		maxN, maxBytes int
		put            []string // values, encoded as their own bytes
		take           string
		want           bool
		wantN          int
	}{
		{name: "hit", maxN: 4, put: []string{"a", "bb"}, take: "bb", want: true, wantN: 1},
		{name: "miss", maxN: 4, put: []string{"a"}, take: "c", want: false, wantN: 1},
		{name: "evicts the oldest by count", maxN: 2, put: []string{"a", "b", "c"}, take: "a", want: false, wantN: 2},
		{name: "keeps the newest by count", maxN: 2, put: []string{"a", "b", "c"}, take: "c", want: true, wantN: 1},
		{name: "evicts by bytes", maxN: 10, maxBytes: 4, put: []string{"aa", "bb", "cc"}, take: "aa", want: false, wantN: 2},
		{name: "refuses a value above the byte bound", maxN: 10, maxBytes: 2, put: []string{"aaa"}, take: "aaa", want: false, wantN: 0},
		{name: "same bytes twice: one entry", maxN: 10, put: []string{"a", "a"}, take: "a", want: true, wantN: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New[string](tc.maxN, tc.maxBytes)
			for _, v := range tc.put {
				c.Put([]byte(v), v)
			}
			got, ok := c.Take([]byte(tc.take))
			if ok != tc.want || ok && got != tc.take {
				t.Fatalf("Take(%q) = %q, %v; want %v", tc.take, got, ok, tc.want)
			}
			if _, ok := c.Take([]byte(tc.take)); ok {
				t.Errorf("Take(%q) hit twice: a taken value must leave the cache", tc.take)
			}
			if n, _ := c.Len(); n != tc.wantN {
				t.Errorf("Len() = %d, want %d", n, tc.wantN)
			}
		})
	}
}

func TestNilCache(t *testing.T) {
	c := New[int](0, 0)
	if c != nil {
		t.Fatal("New(0, 0) is not nil")
	}
	c.Put([]byte("x"), 1)
	if _, ok := c.Take([]byte("x")); ok {
		t.Error("a nil cache hit")
	}
	if n, b := c.Len(); n != 0 || b != 0 {
		t.Errorf("Len() = %d, %d", n, b)
	}
}

func BenchmarkTakePut(b *testing.B) {
	c := New[int](1024, 0)
	raws := make([][]byte, 64)
	for i := range raws {
		raws[i] = []byte(fmt.Sprintf("%08d-%s", i, make([]byte, 8<<10)))
		c.Put(raws[i], i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := raws[i%len(raws)]
		v, _ := c.Take(r)
		c.Put(r, v)
	}
}
