package worker

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/scraper/fetch"
	"github.com/marketinsightspro/marketinsights/scraper/jobs"
	"github.com/marketinsightspro/marketinsights/scraper/parse"
)

// BenchmarkFetchParse measures search pages fetched from the sandbox and parsed per second: the
// plain HTTP fetcher with 4 goroutines (the baseline of the same run) and headless Chromium with
// 1, 2 and 4 tabs (a goroutine per tab). Compare the chrome-N figures with http-4 as ratios.
func BenchmarkFetchParse(b *testing.B) {
	sb := startSandbox(b, 21)
	var urls []string
	for _, k := range sb.Server.Market().Keywords() {
		for p := 1; p <= 3; p++ {
			urls = append(urls, fmt.Sprintf("%s/s?k=%s&page=%d", sb.URL, url.QueryEscape(k), p))
		}
	}
	run := func(b *testing.B, f fetch.Fetcher, workers int) {
		var next, listings atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for {
					i := next.Add(1) - 1
					if i >= int64(b.N) {
						return
					}
					u := urls[int(i)%len(urls)]
					pg, err := f.Fetch(context.Background(), u)
					if err != nil {
						b.Errorf("fetch %s: %v", u, err)
						return
					}
					sp, err := parse.Search(bytes.NewReader(pg.Body), parse.Options{Marketplace: "amazon.com", BaseURL: pg.URL})
					if err != nil || sp.Blocked {
						b.Errorf("parse %s: %v", u, err)
						return
					}
					listings.Add(int64(len(sp.Listings)))
				}
			})
		}
		wg.Wait()
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pages/s")
		b.ReportMetric(float64(listings.Load())/float64(b.N), "listings/page")
	}
	b.Run("http-4", func(b *testing.B) {
		f := fetch.NewHTTPFetcher(fetch.HTTPConfig{Guard: &fetch.Guard{AllowPrivate: true}})
		defer f.Close()
		run(b, f, 4)
	})
	for _, tabs := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("chrome-%dtabs", tabs), func(b *testing.B) {
			f, err := fetch.NewChromeFetcher(context.Background(), fetch.ChromeConfig{Tabs: tabs, Guard: &fetch.Guard{AllowPrivate: true}})
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			run(b, f, tabs)
		})
	}
}

// BenchmarkKeywordJob times a 3-page keyword job end to end: request produced, worker (4
// Chromium tabs, 4 product pages at once) fetches the 3 search pages and the product pages of
// their products (at most 48, all new: the worker's memory is cleared before each job), every
// observation produced to the embedded Kafka, SUCCEEDED read back from the status topic.
func BenchmarkKeywordJob(b *testing.B) {
	r := newRig(b, 22)
	kw := keywordWithPages(b, r.sb, 3, 16)
	f, err := fetch.NewChromeFetcher(context.Background(), fetch.ChromeConfig{Tabs: 4, Guard: &fetch.Guard{AllowPrivate: true}})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	pol := fetch.NewPolite(f, fetch.PoliteConfig{Rate: 1000, Burst: 100, MaxRetries: -1})
	w, _ := r.start(b, Config{Fetcher: pol, Breakers: pol, PageParallelism: 4})
	// A first job warms the tabs and the group up.
	warm := r.enqueue(b, Request{Keyword: kw.Keyword, Pages: 3, Queue: jobs.High})
	r.follow(b, warm.JobId)
	b.ResetTimer()
	var pages int32
	for range b.N {
		w.fpMu.Lock()
		w.fps = jobs.NewFingerprints(1000)
		w.fpMu.Unlock()
		req := r.enqueue(b, Request{Keyword: kw.Keyword, Pages: 3, Queue: jobs.High})
		ss := r.follow(b, req.JobId)
		final := ss[len(ss)-1]
		if final.GetStatus() != marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED {
			b.Fatalf("job %s: %v", req.JobId, final)
		}
		if pages = final.GetPagesDone(); pages < 3+40 {
			b.Fatalf("job %s fetched %d pages, want 3 search pages and the product pages of their (at least 40) products", req.JobId, pages)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/job")
	b.ReportMetric(float64(pages), "pages/job")
}
