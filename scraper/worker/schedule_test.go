package worker

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/scraper/fetch"
	"github.com/marketinsightspro/marketinsights/scraper/jobs"
	"github.com/marketinsightspro/marketinsights/topics"
)

// TestTwoSchedulersMakeOneJob runs two schedulers of the same keyword at the same time: both
// request the current slot's job under the same id, and the worker runs it once.
func TestTwoSchedulersMakeOneJob(t *testing.T) {
	r := newRig(t, 18)
	kw := keywordWithPages(t, r.sb, 2, 0)
	sched := jobs.Schedule{Every: time.Hour, Jitter: 10 * time.Minute}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		s := &Scheduler{Client: r.k.Client(t), Topics: r.topics, Schedule: sched, Keywords: []Tracked{{Keyword: kw.Keyword}},
			Pages: 2}
		wg.Go(func() {
			if err := s.Run(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	// Both schedulers request the current slot at once; wait for the two records.
	deadline := time.Now().Add(10 * time.Second)
	var reqs []*marketv1.ScrapeRequested
	for len(reqs) < 2 && time.Now().Before(deadline) {
		reqs = reqs[:0]
		for _, m := range r.readAll(t, r.topics.Requests[jobs.Normal], topics.ScrapeRequestsNormal) {
			reqs = append(reqs, m.(*marketv1.ScrapeRequested))
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if len(reqs) != 2 || reqs[0].JobId != reqs[1].JobId || reqs[0].GetEnvelope().GetEventId() != reqs[1].GetEnvelope().GetEventId() {
		t.Fatalf("requests %v, want two of one job with one event id", reqs)
	}
	slot := sched.Slot("amazon.com", kw.Keyword, time.Now())
	if reqs[0].JobId != jobs.ScheduledJobID("amazon.com", kw.Keyword, 2, slot) || !reqs[0].GetDeadline().AsTime().Equal(slot.Add(2*time.Hour)) ||
		reqs[0].GetRequestedBy() != "schedule" || reqs[0].GetPriority() != marketv1.Priority_PRIORITY_NORMAL {
		t.Fatalf("request %v: want the slot's job id, the end of the next slot as deadline", reqs[0])
	}
	_, stop := r.start(t, Config{Fetcher: r.fetcher(t, true, fetch.PoliteConfig{}), MaxProductPages: -1})
	ss := r.follow(t, reqs[0].JobId)
	// Give the duplicate time to be consumed, then stop: its offset is committed with the first.
	time.Sleep(500 * time.Millisecond)
	stop()
	ss = r.follow(t, reqs[0].JobId) // everything up to the terminal status once more
	terminal, queued := 0, 0
	for _, s := range r.readAll(t, r.topics.Status, topics.ScrapeStatus) {
		switch s.(*marketv1.ScrapeStatusChanged).GetStatus() {
		case marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED:
			terminal++
		case marketv1.ScrapeStatus_SCRAPE_STATUS_QUEUED:
			queued++
		}
	}
	if terminal != 1 || queued != 1 || len(r.readRecords(t, r.topics.SearchResults)) != 2 {
		t.Fatalf("ran %d times (queued %d), %d pages observed; statuses %s", terminal, queued, len(r.readRecords(t, r.topics.SearchResults)), statuses(ss))
	}
}

// TestHighFirstLowNotStarved queues 12 high and 6 low jobs for a worker that runs one at a time:
// every job runs, high jobs start earlier on average, and a low job starts among the first ten.
func TestHighFirstLowNotStarved(t *testing.T) {
	r := newRig(t, 19)
	kw := keywordWithPages(t, r.sb, 1, 0)
	var ids []string
	prio := map[string]jobs.Queue{}
	for i := range 18 {
		q := jobs.High
		if i%3 == 0 {
			q = jobs.Low
		}
		req := r.enqueue(t, Request{Keyword: kw.Keyword, Pages: 1, Queue: q})
		ids = append(ids, req.JobId)
		prio[req.JobId] = q
	}
	r.start(t, Config{Fetcher: r.fetcher(t, true, fetch.PoliteConfig{}), MaxProductPages: -1, Concurrency: 1, QueueLimit: 20})
	for _, id := range ids {
		r.follow(t, id)
	}
	// Status records of different jobs sit on different partitions: order the starts by event time.
	type start struct {
		at time.Time
		q  jobs.Queue
	}
	var starts []start
	seen := map[string]bool{}
	for _, m := range r.readAll(t, r.topics.Status, topics.ScrapeStatus) {
		s := m.(*marketv1.ScrapeStatusChanged)
		if s.GetStatus() == marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING && !seen[s.JobId] {
			seen[s.JobId] = true
			starts = append(starts, start{s.GetEnvelope().GetEventTime().AsTime(), prio[s.JobId]})
		}
	}
	sort.SliceStable(starts, func(i, j int) bool { return starts[i].at.Before(starts[j].at) })
	var order []jobs.Queue
	sum := [jobs.NumQueues]float64{}
	n := [jobs.NumQueues]float64{}
	firstLow := -1
	for i, s := range starts {
		order = append(order, s.q)
		sum[s.q] += float64(i)
		n[s.q]++
		if s.q == jobs.Low && firstLow < 0 {
			firstLow = i
		}
	}
	if len(order) != 18 {
		t.Fatalf("%d jobs started, want 18: %v", len(order), order)
	}
	if sum[jobs.High]/n[jobs.High] >= sum[jobs.Low]/n[jobs.Low] || firstLow < 0 || firstLow >= 10 {
		t.Fatalf("start order %v: high should start earlier on average and a low job within the first ten", order)
	}
	t.Logf("start order %v", order)
}
