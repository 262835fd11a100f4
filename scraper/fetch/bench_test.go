package fetch

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkFetch measures search pages fetched and returned per second from the sandbox by the
// HTTP fetcher (4 goroutines) and the Chrome fetcher with 1, 2 and 4 tabs (one goroutine a tab).
func BenchmarkFetch(b *testing.B) {
	r, _ := startSandbox(b)
	kws := r.Server.Market().Keywords()
	urls := make([]string, len(kws))
	for i, k := range kws {
		urls[i] = r.URL + "/s?k=" + url.QueryEscape(k)
	}
	run := func(b *testing.B, f Fetcher, workers int) {
		b.ReportAllocs()
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		b.ResetTimer()
		for range workers {
			wg.Go(func() {
				for {
					i := next.Add(1) - 1
					if i >= int64(b.N) {
						return
					}
					p, err := f.Fetch(context.Background(), urls[int(i)%len(urls)])
					if err != nil || p.Status != 200 || !bytes.Contains(p.Body, []byte(cardMarker)) {
						b.Errorf("fetch: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pages/s")
	}
	b.Run("http", func(b *testing.B) {
		f := NewHTTPFetcher(HTTPConfig{Guard: &Guard{AllowPrivate: true}})
		defer f.Close()
		run(b, f, 4)
	})
	for _, tabs := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("chrome-%dtabs", tabs), func(b *testing.B) {
			f := newChrome(b, tabs)
			run(b, f, tabs)
		})
	}
}
