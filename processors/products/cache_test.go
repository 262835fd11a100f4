package products

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/processors/internal/statecache"
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

// TestStateCacheConcurrent: partitions share the codec; every goroutine gets back its own
// states (run with -race).
func TestStateCacheConcurrent(t *testing.T) {
	codec := stateCodec{cache: statecache.New[*marketv1.ProductState](64, 0)}
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
	if h, _ := codec.cache.Stats(); h == 0 {
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
	run := func(cacheSize int) (map[string][]byte, []string, *statecache.Cache[*marketv1.ProductState]) {
		cfg := DefaultConfig()
		cfg.StateCache = cacheSize
		tr := &tracker{cfg: cfg, codec: stateCodec{cache: statecache.New[*marketv1.ProductState](cacheSize, 0)}}
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
		if hits, _ := cache.Stats(); hits == 0 {
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
		hits, misses := cache.Stats()
		t.Logf("cache of %d: %d hits, %d misses", size, hits, misses)
	}
}
