package products

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"google.golang.org/protobuf/proto"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// Every test of the package that runs the tracker checks each cache hit against its bytes
// decoded: a hit that differs from a miss fails the processor.
// Benchmarks measure the tracker as it runs, without the check.
func init() { checkStateCache = true }

// withoutCacheCheck turns the check off for a benchmark.
func withoutCacheCheck(b *testing.B) {
	old := checkStateCache
	checkStateCache = false
	b.Cleanup(func() { checkStateCache = old })
}

func TestStateCache(t *testing.T) {
	st := func(asin string) *marketv1.ProductState { return &marketv1.ProductState{Asin: asin} }
	a, b, c := []byte("state a"), []byte("state b"), []byte("state c")
	tests := []struct {
		name string
		max  int
		run  func(t *testing.T, cache *stateCache)
	}{
		{"a hit returns the encoded state and forgets it", 4, func(t *testing.T, cache *stateCache) {
			want := st("A")
			cache.put(a, want)
			if got := cache.take([]byte("state a")); got != want {
				t.Fatalf("take = %v, want the state put", got)
			}
			if got := cache.take(a); got != nil {
				t.Fatalf("second take = %v, want nil: a hit hands the state over", got)
			}
		}},
		{"other bytes miss", 4, func(t *testing.T, cache *stateCache) {
			cache.put(a, st("A"))
			for _, raw := range [][]byte{b, a[:len(a)-1], append([]byte(nil), append(a, 0)...), nil} {
				if got := cache.take(raw); got != nil {
					t.Errorf("take(%q) = %v, want nil", raw, got)
				}
			}
		}},
		{"equal hashes of different bytes miss", 4, func(t *testing.T, cache *stateCache) {
			cache.put(a, st("A"))
			e := cache.entries[xxhash.Sum64(a)]
			delete(cache.entries, e.hash)
			e.hash = xxhash.Sum64(b) // as if b collided with a
			cache.entries[e.hash] = e
			if got := cache.take(b); got != nil {
				t.Fatalf("take of colliding bytes = %v, want nil", got)
			}
		}},
		{"the state encoded longest ago is evicted", 2, func(t *testing.T, cache *stateCache) {
			sa, sb, sc := st("A"), st("B"), st("C")
			cache.put(a, sa)
			cache.put(b, sb)
			cache.put(c, sc)
			if n := cache.len(); n != 2 {
				t.Fatalf("len = %d, want 2", n)
			}
			if got := cache.take(a); got != nil {
				t.Errorf("take(a) = %v, want nil (evicted)", got)
			}
			if cache.take(b) != sb || cache.take(c) != sc {
				t.Error("b and c were not kept")
			}
		}},
		{"taking frees room", 2, func(t *testing.T, cache *stateCache) {
			sa, sb := st("A"), st("B")
			cache.put(a, sa)
			cache.put(b, sb)
			cache.take(a)
			cache.put(c, st("C"))
			if cache.take(b) != sb {
				t.Error("b was evicted although a had been taken")
			}
		}},
		{"the same bytes again keep the newer state", 4, func(t *testing.T, cache *stateCache) {
			older, newer := st("A"), st("A")
			cache.put(a, older)
			cache.put(a, newer)
			if n := cache.len(); n != 1 {
				t.Fatalf("len = %d, want 1", n)
			}
			if cache.take(a) != newer {
				t.Error("take did not return the newer state")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStateCache(tc.max)) })
	}
	if newStateCache(0) != nil {
		t.Error("newStateCache(0) is not nil (no cache)")
	}
}

// TestStateCacheConcurrent: partitions share the codec; every goroutine gets back its own
// states (run with -race).
func TestStateCacheConcurrent(t *testing.T) {
	codec := stateCodec{cache: newStateCache(64)}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &marketv1.ProductState{Asin: fmt.Sprintf("G%d", g)}
			for i := range 2000 {
				raw, err := codec.Encode(st)
				if err != nil {
					errs <- err
					return
				}
				v, err := codec.Decode(raw)
				if err != nil {
					errs <- err
					return
				}
				got := v.(*marketv1.ProductState)
				if got.GetAsin() != st.GetAsin() || got.GetVersion() != int64(i) {
					errs <- fmt.Errorf("goroutine %d got %s version %d, want version %d", g, got.GetAsin(), got.GetVersion(), i)
					return
				}
				got.Version++ // the caller owns what Decode returns
				st = got
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if h := codec.cache.hits.Load(); h == 0 {
		t.Error("no cache hits")
	}
}

// TestStateCacheSameStates: the tracker with its cache writes, byte for byte, the states and
// changes of the tracker without it, on a workload that revisits products (hits), redelivers
// observations (states taken and not written) and evicts (misses).
func TestStateCacheSameStates(t *testing.T) {
	obs := workload(11, 3000, 40, 20*time.Minute)
	for i := 0; i < len(obs); i += 7 {
		obs = append(obs, obs[i]) // redeliveries
	}
	run := func(cacheSize int) (map[string][]byte, []string, *stateCache) {
		cfg := DefaultConfig()
		cfg.StateCache = cacheSize
		tr := &tracker{cfg: cfg, codec: stateCodec{cache: newStateCache(cacheSize)}}
		table := map[string][]byte{}
		var changes []string
		for _, o := range obs {
			var st *marketv1.ProductState
			if raw, ok := table[o.GetAsin()]; ok {
				v, err := tr.codec.Decode(raw)
				if err != nil {
					t.Fatal(err)
				}
				st = v.(*marketv1.ProductState)
			}
			res, err := Apply(cfg, st, proto.Clone(o).(*marketv1.ProductObserved))
			if err != nil {
				t.Fatal(err)
			}
			if !res.Changed {
				continue
			}
			raw, err := tr.codec.Encode(res.State)
			if err != nil {
				t.Fatal(err)
			}
			table[o.GetAsin()] = raw
			if res.Change != nil {
				b, err := stateMarshal.Marshal(res.Change)
				if err != nil {
					t.Fatal(err)
				}
				changes = append(changes, string(b))
			}
		}
		return table, changes, tr.codec.cache
	}
	wantTable, wantChanges, _ := run(0)
	for _, size := range []int{1, 16, 1000} {
		table, changes, cache := run(size)
		if cache.hits.Load() == 0 {
			t.Errorf("cache of %d: no hits", size)
		}
		if len(table) != len(wantTable) || len(changes) != len(wantChanges) {
			t.Fatalf("cache of %d: %d states and %d changes, want %d and %d", size, len(table), len(changes), len(wantTable), len(wantChanges))
		}
		for k, v := range wantTable {
			if string(table[k]) != string(v) {
				t.Errorf("cache of %d: state of %s differs", size, k)
			}
		}
		for i := range changes {
			if changes[i] != wantChanges[i] {
				t.Errorf("cache of %d: change %d differs", size, i)
				break
			}
		}
		t.Logf("cache of %d: %d hits, %d misses", size, cache.hits.Load(), cache.misses.Load())
	}
}
