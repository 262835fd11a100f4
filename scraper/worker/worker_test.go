package worker

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/sandbox"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/scraper/fetch"
	"github.com/marketinsightspro/marketinsights/scraper/jobs"
	"github.com/marketinsightspro/marketinsights/topics"
)

// TestKeywordJobYieldsTheTruth runs a 3-page keyword job in headless Chromium through the worker
// and the embedded Kafka, reads the observations back from the topics and compares every
// listing and every product page, field by field, with the sandbox's truth.
func TestKeywordJobYieldsTheTruth(t *testing.T) {
	r := newRig(t, 11)
	kw := keywordWithPages(t, r.sb, 3, 0)
	_, stop := r.start(t, Config{Fetcher: r.fetcher(t, false, fetch.PoliteConfig{}), PageParallelism: 4})
	req := r.enqueue(t, Request{Keyword: kw.Keyword, Pages: 3, Queue: jobs.High, AnalysisID: "analysis-1", RequestedBy: "analysis:analysis-1"})
	ss := r.follow(t, req.JobId)
	stop()
	final := ss[len(ss)-1]
	if final.GetStatus() != marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED || ss[0].GetStatus() != marketv1.ScrapeStatus_SCRAPE_STATUS_QUEUED {
		t.Fatalf("statuses %s; last reason %q", statuses(ss), final.GetReason())
	}
	for i, s := range ss {
		if s.GetAnalysisId() != "analysis-1" || s.GetKeyword() != kw.Keyword || s.GetEnvelope().GetCausationId() != req.GetEnvelope().GetEventId() ||
			s.GetEnvelope().GetCorrelationId() != "analysis-1" {
			t.Fatalf("status %d lacks the job's analysis, keyword or causation: %v", i, s)
		}
		if i > 0 && s.GetPagesDone() < ss[i-1].GetPagesDone() {
			t.Fatalf("pages done went back: %s", statuses(ss))
		}
	}

	// Search pages: exactly the truth's pages, in order, listing by listing.
	var searchEvents []*marketv1.SearchResultsObserved
	for _, m := range r.readAll(t, r.topics.SearchResults, topics.SearchResults) {
		searchEvents = append(searchEvents, m.(*marketv1.SearchResultsObserved))
	}
	if len(searchEvents) != 3 {
		t.Fatalf("%d search pages observed, want 3", len(searchEvents))
	}
	pages := map[int32]*marketv1.SearchResultsObserved{}
	listings := 0
	for _, ev := range searchEvents {
		pages[ev.GetPage()] = ev
	}
	wantListings := map[string]sandbox.Listing{} // by page/position
	for p := 1; p <= 3; p++ {
		ev := pages[int32(p)]
		if ev == nil {
			t.Fatalf("page %d not observed", p)
		}
		var truth sandbox.PageTruth
		getJSON(t, truthURL(r.sb, "/_truth/keyword", url.Values{"k": {kw.Keyword}, "page": {fmt.Sprint(p)}, "mp": {"amazon.com"}}), &truth)
		if ev.GetKeyword() != kw.Keyword || ev.GetMarketplace() != "amazon.com" || ev.GetJobId() != req.JobId ||
			ev.GetTotalResults() != int64(truth.TotalResults) || ev.GetEnvelope().GetCausationId() != req.GetEnvelope().GetEventId() {
			t.Errorf("page %d: keyword %q marketplace %q job %q total %d (truth %d), causation %q", p, ev.GetKeyword(), ev.GetMarketplace(),
				ev.GetJobId(), ev.GetTotalResults(), truth.TotalResults, ev.GetEnvelope().GetCausationId())
		}
		if len(ev.GetListings()) != len(truth.Listings) {
			t.Fatalf("page %d: %d listings, truth %d", p, len(ev.GetListings()), len(truth.Listings))
		}
		for i, want := range truth.Listings {
			listings++
			wantListings[fmt.Sprintf("%d/%d", p, want.Position)] = want
			for _, d := range diffListing(ev.GetListings()[i], want) {
				t.Errorf("page %d card %d (%s): %s", p, want.Position, want.ASIN, d)
			}
		}
	}
	if final.GetListingsObserved() != int32(listings) {
		t.Errorf("status says %d listings, pages had %d", final.GetListingsObserved(), listings)
	}

	// Product observations: one per listing (from the search pages) and one per product page.
	var truthAll sandbox.Truth
	getJSON(t, r.sb.URL+"/_truth", &truthAll)
	products := map[string]sandbox.ProductTruth{}
	for _, p := range truthAll.Products {
		products[p.ASIN] = p
	}
	fromSearch, fromPages := 0, map[string]bool{}
	ids := map[string]bool{}
	for _, m := range r.readAll(t, r.topics.Products, topics.ProductObservations) {
		po := m.(*marketv1.ProductObserved)
		if ids[po.GetEnvelope().GetEventId()] {
			t.Errorf("event id %s twice", po.GetEnvelope().GetEventId())
		}
		ids[po.GetEnvelope().GetEventId()] = true
		switch po.GetSource() {
		case marketv1.ObservationSource_OBSERVATION_SOURCE_SEARCH_PAGE:
			fromSearch++
			page := 0
			for p, ev := range pages {
				if ev.GetUrl() == po.GetUrl() {
					page = int(p)
				}
			}
			want, ok := wantListings[fmt.Sprintf("%d/%d", page, po.GetPosition())]
			if !ok {
				t.Errorf("listing observation %s at %s position %d matches no card", po.GetAsin(), po.GetUrl(), po.GetPosition())
				continue
			}
			l := &marketv1.Listing{Asin: po.GetAsin(), Position: po.GetPosition(), Sponsored: po.Sponsored, Attributes: po.GetAttributes()}
			for _, d := range diffListing(l, want) {
				t.Errorf("listing observation %s: %s", po.GetAsin(), d)
			}
			if po.GetKeyword() != kw.Keyword {
				t.Errorf("listing observation %s: keyword %q", po.GetAsin(), po.GetKeyword())
			}
		case marketv1.ObservationSource_OBSERVATION_SOURCE_PRODUCT_PAGE:
			fromPages[po.GetAsin()] = true
			want, ok := products[po.GetAsin()]
			if !ok {
				t.Errorf("product page of %s, which the truth does not know", po.GetAsin())
				continue
			}
			for _, d := range diffProduct(po, want) {
				t.Errorf("product %s: %s", po.GetAsin(), d)
			}
		default:
			t.Errorf("observation of source %v", po.GetSource())
		}
		if po.GetJobId() != req.JobId || po.GetEnvelope().GetCorrelationId() != "analysis-1" {
			t.Errorf("observation %s: job %q correlation %q", po.GetAsin(), po.GetJobId(), po.GetEnvelope().GetCorrelationId())
		}
	}
	distinct := map[string]bool{}
	for _, l := range wantListings {
		distinct[l.ASIN] = true
	}
	wantPages := min(len(distinct), 48)
	if fromSearch != listings || len(fromPages) != wantPages {
		t.Errorf("%d listing observations (want %d), %d product pages (want %d)", fromSearch, listings, len(fromPages), wantPages)
	}
	if final.GetPagesDone() != int32(3+wantPages) || final.GetPagesTotal() != final.GetPagesDone() {
		t.Errorf("final status %d/%d pages, want %d", final.GetPagesDone(), final.GetPagesTotal(), 3+wantPages)
	}
	t.Logf("%d listings on 3 pages and %d product pages match the truth; statuses: %d", listings, len(fromPages), len(ss))
}

// diffListing names the fields where an observed listing differs from the truth.
func diffListing(got *marketv1.Listing, want sandbox.Listing) []string {
	var d []string
	add := func(field string, g, w any) {
		if fmt.Sprint(g) != fmt.Sprint(w) {
			d = append(d, fmt.Sprintf("%s: observed %v, truth %v", field, g, w))
		}
	}
	a := got.GetAttributes()
	add("asin", got.GetAsin(), want.ASIN)
	add("position", got.GetPosition(), want.Position)
	add("sponsored", optBool(got.Sponsored), fmt.Sprint(want.Sponsored))
	add("title", optStr(a.Title), want.Title)
	if a.Brand != nil {
		add("brand", *a.Brand, want.Brand)
	}
	add("price", money(a.GetPrice()), wantMoney(want.Price, want.Currency))
	add("list_price", money(a.GetListPrice()), wantMoney(want.ListPrice, want.Currency))
	add("rating", optFloat(a.Rating), want.Rating)
	add("review_count", optInt(a.ReviewCount), want.Reviews)
	add("bought_past_month", optInt(a.BoughtPastMonth), want.BoughtPastMonth)
	if want.Prime || a.Prime != nil {
		add("prime", optBool(a.Prime), fmt.Sprint(want.Prime))
	}
	if !strings.HasSuffix(optStr(a.ImageUrl), want.ImageURL) {
		d = append(d, fmt.Sprintf("image_url: observed %s, truth ends %s", optStr(a.ImageUrl), want.ImageURL))
	}
	return d
}

// diffProduct names the fields where a product-page observation differs from the truth.
func diffProduct(got *marketv1.ProductObserved, want sandbox.ProductTruth) []string {
	var d []string
	add := func(field string, g, w any) {
		if fmt.Sprint(g) != fmt.Sprint(w) {
			d = append(d, fmt.Sprintf("%s: observed %v, truth %v", field, g, w))
		}
	}
	a := got.GetAttributes()
	add("marketplace", got.GetMarketplace(), "amazon.com")
	add("title", optStr(a.Title), want.Title)
	add("brand", optStr(a.Brand), want.Brand)
	add("category", optStr(a.Category), want.Subcategory)
	add("price", money(a.GetPrice()), wantMoney(want.Price, want.Currency))
	add("list_price", money(a.GetListPrice()), wantMoney(want.ListPrice, want.Currency))
	add("rating", optFloat(a.Rating), want.Rating)
	add("review_count", optInt(a.ReviewCount), want.Reviews)
	add("bought_past_month", optInt(a.BoughtPastMonth), want.BoughtPastMonth)
	if want.InStock || a.Prime != nil {
		add("prime", optBool(a.Prime), fmt.Sprint(want.Prime))
	}
	var ranks, wantRanks []string
	for _, r := range a.GetRanks() {
		ranks = append(ranks, fmt.Sprintf("#%d %s", r.Rank, r.Category))
	}
	for _, r := range want.BestSellersRanks {
		wantRanks = append(wantRanks, fmt.Sprintf("#%d %s", r.Rank, r.Category))
	}
	add("ranks", ranks, wantRanks)
	avail := marketv1.Availability_AVAILABILITY_IN_STOCK
	switch {
	case !want.InStock:
		avail = marketv1.Availability_AVAILABILITY_OUT_OF_STOCK
	case strings.HasPrefix(want.Availability, "Only "):
		avail = marketv1.Availability_AVAILABILITY_LOW_STOCK
	}
	add("availability", a.GetAvailability(), avail)
	sellers := int64(0)
	if a.SellerCount != nil {
		sellers = int64(*a.SellerCount)
	}
	add("seller_count", sellers, want.SellerCount)
	if imageID(optStr(a.ImageUrl)) != imageID(want.ImageURL) {
		d = append(d, fmt.Sprintf("image_url: observed %s, truth %s", optStr(a.ImageUrl), want.ImageURL))
	}
	return d
}

func imageID(u string) string {
	_, id, ok := strings.Cut(u, "/images/I/")
	if !ok {
		return u
	}
	id, _, _ = strings.Cut(id, ".")
	return id
}

func money(m *marketv1.Money) string {
	if m == nil {
		return "absent"
	}
	return fmt.Sprintf("%d %s", m.AmountMinor, m.Currency)
}

func wantMoney(amount int64, currency string) string {
	if amount == 0 {
		return "absent"
	}
	return fmt.Sprintf("%d %s", amount, currency)
}

func optStr(p *string) string {
	if p == nil {
		return "absent"
	}
	return *p
}

func optInt(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func optFloat(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func optBool(p *bool) string {
	if p == nil {
		return "absent"
	}
	return fmt.Sprint(*p)
}

// TestRobotCheckIsBlockedWithoutObservations serves the robot check on the search pages: the job
// ends BLOCKED (not retried by default, not dead-lettered) and nothing is observed.
func TestRobotCheckIsBlockedWithoutObservations(t *testing.T) {
	r := newRig(t, 12)
	kw := keywordWithPages(t, r.sb, 2, 0)
	r.start(t, Config{Fetcher: r.fetcher(t, false, fetch.PoliteConfig{})})
	setFaults(t, r.sb, sandbox.FaultRule{PathPrefix: "/s", RobotRate: 1})
	req := r.enqueue(t, Request{Keyword: kw.Keyword, Pages: 2, Queue: jobs.Normal})
	ss := r.follow(t, req.JobId)
	final := ss[len(ss)-1]
	if final.GetStatus() != marketv1.ScrapeStatus_SCRAPE_STATUS_BLOCKED || !strings.Contains(final.GetReason(), "robot check") ||
		final.GetHttpStatus() != 200 || !strings.Contains(final.GetUrl(), "/s?") {
		t.Fatalf("statuses %s; final %v", statuses(ss), final)
	}
	if n := len(r.readRecords(t, r.topics.SearchResults)) + len(r.readRecords(t, r.topics.Products)); n != 0 {
		t.Fatalf("%d observations of a blocked job", n)
	}
	if n := len(r.readRecords(t, r.topics.DeadLetters)); n != 0 {
		t.Fatalf("a blocked job was dead-lettered (%d records)", n)
	}
}

// TestBreakerOpenAnswersStale: a job succeeds; the marketplace then answers 503, which fails a
// job (one attempt allowed) and opens the host's breaker; the next job answers from the first
// job's result, byte for byte, with status STALE and the breaker's state.
func TestBreakerOpenAnswersStale(t *testing.T) {
	r := newRig(t, 13)
	kw := keywordWithPages(t, r.sb, 2, 0)
	pol := r.fetcher(t, false, fetch.PoliteConfig{BreakerFailures: 1, BreakerTimeout: time.Hour})
	r.start(t, Config{Fetcher: pol, Retry: jobs.Policy{MaxAttempts: 1}, MaxProductPages: -1})
	first := r.enqueue(t, Request{Keyword: kw.Keyword, Pages: 2, Queue: jobs.Normal})
	if ss := r.follow(t, first.JobId); ss[len(ss)-1].GetStatus() != marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED {
		t.Fatalf("first job: %s %q", statuses(ss), ss[len(ss)-1].GetReason())
	}
	before := r.readRecords(t, r.topics.SearchResults)
	setFaults(t, r.sb, sandbox.FaultRule{PathPrefix: "/s", Rate503: 1})
	failing := r.enqueue(t, Request{Keyword: kw.Keyword, Pages: 2, Queue: jobs.Normal})
	ss := r.follow(t, failing.JobId)
	if f := ss[len(ss)-1]; f.GetStatus() != marketv1.ScrapeStatus_SCRAPE_STATUS_FAILED || f.GetHttpStatus() != 503 || f.GetBreakerState() != "open" {
		t.Fatalf("failing job: %s final %v", statuses(ss), f)
	}
	stale := r.enqueue(t, Request{Keyword: kw.Keyword, Pages: 2, Queue: jobs.High})
	ss = r.follow(t, stale.JobId)
	f := ss[len(ss)-1]
	if f.GetStatus() != marketv1.ScrapeStatus_SCRAPE_STATUS_STALE || f.GetBreakerState() != "open" || f.GetPagesDone() != 2 ||
		!strings.Contains(f.GetReason(), "answered from the last result") {
		t.Fatalf("stale job: %s final %v", statuses(ss), f)
	}
	after := r.readRecords(t, r.topics.SearchResults)
	if len(after) != len(before)+2 {
		t.Fatalf("%d search pages after the stale answer, want %d", len(after), len(before)+2)
	}
	old := map[string]string{}
	for _, rec := range before {
		id, _ := topics.Header(rec, topics.HeaderEventID)
		old[id] = string(rec.Value)
	}
	for _, rec := range after[len(before):] {
		id, _ := topics.Header(rec, topics.HeaderEventID)
		if old[id] != string(rec.Value) {
			t.Fatalf("stale page %s is not the first job's page byte for byte", id)
		}
	}
	if f.GetListingsObserved() == 0 {
		t.Fatalf("stale status reports no listings: %v", f)
	}
}

// TestRetriesThenDeadLetter: every search page answers 503; the job is retried by policy
// (re-requested with attempt+1 after the backoff), then dead-lettered with FAILED.
func TestRetriesThenDeadLetter(t *testing.T) {
	r := newRig(t, 14)
	kw := keywordWithPages(t, r.sb, 1, 0)
	setFaults(t, r.sb, sandbox.FaultRule{PathPrefix: "/s", Rate503: 1})
	reg := prometheus.NewRegistry()
	r.start(t, Config{Fetcher: r.fetcher(t, true, fetch.PoliteConfig{BreakerFailures: 100}), Registerer: reg,
		Retry: jobs.Policy{MaxAttempts: 3, BaseBackoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}})
	req := r.enqueue(t, Request{Keyword: kw.Keyword, Pages: 1, Queue: jobs.Low})
	ss := r.follow(t, req.JobId)
	var got []string
	for _, s := range ss {
		if s.GetStatus() != marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING {
			got = append(got, fmt.Sprintf("%s#%d", strings.TrimPrefix(s.GetStatus().String(), "SCRAPE_STATUS_"), s.GetAttempt()))
		}
	}
	want := "[QUEUED#1 RETRYING#1 QUEUED#2 RETRYING#2 QUEUED#3 FAILED#3]"
	if fmt.Sprint(got) != want {
		t.Fatalf("statuses %v, want %s", got, want)
	}
	final := ss[len(ss)-1]
	if !strings.Contains(final.GetReason(), "status 503") || !strings.Contains(final.GetReason(), "gave up after 3 attempts") {
		t.Fatalf("final reason %q", final.GetReason())
	}
	reqs := r.readAll(t, r.topics.Requests[jobs.Low], topics.ScrapeRequestsLow)
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want the first and two retries", len(reqs))
	}
	prev := req.GetEnvelope().GetEventId()
	for i, m := range reqs[1:] {
		rq := m.(*marketv1.ScrapeRequested)
		if rq.GetAttempt() != int32(i+2) || rq.GetJobId() != req.JobId || rq.GetEnvelope().GetCausationId() != prev || rq.GetKeyword() != req.Keyword {
			t.Fatalf("retry %d: %v", i+1, rq)
		}
		prev = rq.GetEnvelope().GetEventId()
	}
	dl := r.readRecords(t, r.topics.DeadLetters)
	if len(dl) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dl))
	}
	cause, _ := topics.Header(dl[0], topics.HeaderDLQError)
	stage, _ := topics.Header(dl[0], topics.HeaderDLQStage)
	if string(dl[0].Key) != req.JobId || stage != "scrape" || !strings.Contains(cause, "gave up after 3 attempts") {
		t.Fatalf("dead letter key %s stage %s error %q", dl[0].Key, stage, cause)
	}
	m, err := topics.MustLookup(topics.ScrapeRequestsLow).Codec().Decode(dl[0].Value)
	if err != nil {
		t.Fatalf("dead letter is not the request: %v", err)
	}
	if last := m.(*marketv1.ScrapeRequested); last.GetAttempt() != 3 {
		t.Fatalf("dead letter holds attempt %d, want the last (3)", last.GetAttempt())
	}
	counts := counters(t, reg)
	for name, want := range map[string]float64{
		`marketinsights_scrape_jobs_total{status="failed"}`:                1,
		`marketinsights_scrape_jobs_total{status="retrying"}`:              2,
		`marketinsights_scrape_pages_total{kind="search",result="failed"}`: 3,
		`marketinsights_scrape_jobs_total{status="succeeded"}`:             0,
	} {
		if counts[name] != want {
			t.Errorf("%s = %v, want %v (all: %v)", name, counts[name], want, counts)
		}
	}
}

// TestPrivateAddressRefused: a job that names a loopback or link-local URL as its marketplace
// is refused by the guard (no allow-private) with a clear reason, not retried, dead-lettered.
func TestPrivateAddressRefused(t *testing.T) {
	r := newRig(t, 15)
	guard := &fetch.Guard{}
	r.start(t, Config{Fetcher: r.fetcher(t, false, fetch.PoliteConfig{Guard: guard}), BaseURL: "https://www.amazon.com"})
	for _, c := range []struct{ mp, want string }{
		{r.sb.URL, "a loopback address"},
		{"http://169.254.169.254", "a link-local address"},
	} {
		req := r.enqueue(t, Request{Keyword: "portable charger", Marketplace: c.mp, Queue: jobs.High})
		ss := r.follow(t, req.JobId)
		f := ss[len(ss)-1]
		if f.GetStatus() != marketv1.ScrapeStatus_SCRAPE_STATUS_FAILED || f.GetAttempt() != 1 ||
			!strings.Contains(f.GetReason(), "refused") || !strings.Contains(f.GetReason(), c.want) ||
			!strings.Contains(f.GetReason(), "--scrape-allow-private") {
			t.Errorf("%s: %s final reason %q", c.mp, statuses(ss), f.GetReason())
		}
	}
	if n := len(r.readRecords(t, r.topics.DeadLetters)); n != 2 {
		t.Errorf("%d dead letters, want 2", n)
	}
	if n := len(r.readRecords(t, r.topics.SearchResults)); n != 0 {
		t.Errorf("%d pages observed from a refused address", n)
	}
}

// TestDeadlinePassedIsDropped: a request whose deadline has passed is dropped with FAILED and
// not dead-lettered.
func TestDeadlinePassedIsDropped(t *testing.T) {
	r := newRig(t, 16)
	r.start(t, Config{Fetcher: r.fetcher(t, true, fetch.PoliteConfig{})})
	req := r.enqueue(t, Request{Keyword: "yoga mat", Queue: jobs.Normal, Deadline: time.Now().Add(-time.Minute)})
	ss := r.follow(t, req.JobId)
	if len(ss) != 1 || ss[0].GetStatus() != marketv1.ScrapeStatus_SCRAPE_STATUS_FAILED || !strings.Contains(ss[0].GetReason(), "passed before the job started") {
		t.Fatalf("statuses %s %q", statuses(ss), ss[len(ss)-1].GetReason())
	}
	if n := len(r.readRecords(t, r.topics.DeadLetters)); n != 0 {
		t.Fatalf("dropped job dead-lettered")
	}
}

// TestShutdownHandsBackRunningJobs stops a worker in the middle of a slow job with a short
// grace: the job is not committed, and a second worker of the group runs it to success.
func TestShutdownHandsBackRunningJobs(t *testing.T) {
	r := newRig(t, 17)
	kw := keywordWithPages(t, r.sb, 2, 0)
	setFaults(t, r.sb, sandbox.FaultRule{PathPrefix: "/s", Latency: sandbox.Duration(2 * time.Second)})
	group := r.k.TopicName(t, "scrape-workers")
	_, stop := r.start(t, Config{Group: group, Fetcher: r.fetcher(t, true, fetch.PoliteConfig{}), ShutdownGrace: 100 * time.Millisecond, MaxProductPages: -1})
	req := r.enqueue(t, Request{Keyword: kw.Keyword, Pages: 2, Queue: jobs.Normal})
	waitStatus(t, r, req.JobId, marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING)
	stop()
	setFaults(t, r.sb)
	r.start(t, Config{Group: group, Fetcher: r.fetcher(t, true, fetch.PoliteConfig{}), MaxProductPages: -1})
	ss := r.follow(t, req.JobId)
	if f := ss[len(ss)-1]; f.GetStatus() != marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED || f.GetPagesDone() != 2 {
		t.Fatalf("statuses %s", statuses(ss))
	}
	if n := len(r.readRecords(t, r.topics.SearchResults)); n != 2 {
		t.Fatalf("%d search pages observed, want 2 (the handed-back attempt produced none)", n)
	}
}

// waitStatus waits until the job reports status s.
func waitStatus(t *testing.T, r *rig, job string, s marketv1.ScrapeStatus) {
	t.Helper()
	cl := r.k.Client(t, kgo.ConsumeTopics(r.topics.Status), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ct := topics.MustLookup(topics.ScrapeStatus)
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("job %s never reported %v", job, s)
		}
		found := false
		fs.EachRecord(func(rec *kgo.Record) {
			if m, err := ct.Codec().Decode(rec.Value); err == nil && string(rec.Key) == job && m.(*marketv1.ScrapeStatusChanged).GetStatus() == s {
				found = true
			}
		})
		if found {
			return
		}
	}
}

// TestCancelledStatusStopsTheJob: a CANCELLED status written by someone else (the saga's
// compensation) stops a running job before its next page, with nothing observed, and drops a
// queued one without running it.
func TestCancelledStatusStopsTheJob(t *testing.T) {
	r := newRig(t, 20)
	kw := keywordWithPages(t, r.sb, 3, 0)
	setFaults(t, r.sb, sandbox.FaultRule{PathPrefix: "/s", Latency: sandbox.Duration(time.Second)})
	w, _ := r.start(t, Config{Fetcher: r.fetcher(t, true, fetch.PoliteConfig{}), MaxProductPages: -1})
	cancelJob := func(job string) {
		st := &marketv1.ScrapeStatusChanged{Envelope: marketv1.NewEnvelope("analysis-saga", job, time.Now()), JobId: job,
			Status: marketv1.ScrapeStatus_SCRAPE_STATUS_CANCELLED, Reason: "analysis timed out"}
		ct := topics.MustLookup(topics.ScrapeStatus)
		ct.Name = r.topics.Status
		rec, err := topics.NewRecord(ct, job, st)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.cl.ProduceSync(context.Background(), rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	running := r.enqueue(t, Request{Keyword: kw.Keyword, Pages: 3, Queue: jobs.High})
	waitStatus(t, r, running.JobId, marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING)
	cancelJob(running.JobId)
	// The saga's CANCELLED is followed by the worker's, which says what became of the run.
	deadline := time.Now().Add(10 * time.Second)
	found := false
	for !found && time.Now().Before(deadline) {
		for _, m := range r.readAll(t, r.topics.Status, topics.ScrapeStatus) {
			s := m.(*marketv1.ScrapeStatusChanged)
			found = found || (s.JobId == running.JobId && s.GetEnvelope().GetProducer() != "analysis-saga" &&
				s.GetStatus() == marketv1.ScrapeStatus_SCRAPE_STATUS_CANCELLED && strings.Contains(s.GetReason(), "cancelled while running"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !found {
		t.Fatal("the worker did not report the running job cancelled")
	}
	if n := len(r.readRecords(t, r.topics.SearchResults)); n != 0 {
		t.Fatalf("%d pages observed by a cancelled job", n)
	}

	queued := NewRequest(Request{Keyword: kw.Keyword, Pages: 1, Queue: jobs.Low, Producer: "test"}, time.Now())
	cancelJob(queued.JobId)
	for !w.cancels.isCancelled(queued.JobId) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := Enqueue(context.Background(), r.cl, r.topics, queued); err != nil {
		t.Fatal(err)
	}
	// A job after it runs normally; by then the cancelled one was consumed and dropped.
	after := r.enqueue(t, Request{Keyword: kw.Keyword, Pages: 1, Queue: jobs.Low})
	setFaults(t, r.sb)
	r.follow(t, after.JobId)
	for _, m := range r.readAll(t, r.topics.Status, topics.ScrapeStatus) {
		if s := m.(*marketv1.ScrapeStatusChanged); s.JobId == queued.JobId && s.GetEnvelope().GetProducer() != "analysis-saga" {
			t.Fatalf("the cancelled job was run: %v", s)
		}
	}
}

// TestProductJob runs a product job (kind PRODUCT): one observation per product page, and a
// product the marketplace does not list (404) skipped without failing the job.
func TestProductJob(t *testing.T) {
	r := newRig(t, 23)
	var tr sandbox.Truth
	getJSON(t, r.sb.URL+"/_truth", &tr)
	var asins []string
	for _, p := range tr.Products {
		if p.Active && len(asins) < 3 {
			asins = append(asins, p.ASIN)
		}
	}
	asins = append(asins, "B0NOTLISTD")
	r.start(t, Config{Fetcher: r.fetcher(t, true, fetch.PoliteConfig{})})
	req := &marketv1.ScrapeRequested{Envelope: marketv1.NewEnvelope("test", "job-p", time.Now()), JobId: "job-p",
		Kind: marketv1.ScrapeKind_SCRAPE_KIND_PRODUCT, Marketplace: "amazon.com", Asins: asins, Priority: marketv1.Priority_PRIORITY_LOW, Attempt: 1}
	if err := Enqueue(context.Background(), r.cl, r.topics, req); err != nil {
		t.Fatal(err)
	}
	ss := r.follow(t, req.JobId)
	if f := ss[len(ss)-1]; f.GetStatus() != marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED || f.GetPagesDone() != 4 || f.GetPagesTotal() != 4 {
		t.Fatalf("statuses %s, reason %q", statuses(ss), f.GetReason())
	}
	var got []string
	for _, m := range r.readAll(t, r.topics.Products, topics.ProductObservations) {
		po := m.(*marketv1.ProductObserved)
		if po.GetSource() != marketv1.ObservationSource_OBSERVATION_SOURCE_PRODUCT_PAGE || po.GetAttributes().GetTitle() == "" {
			t.Errorf("observation %v", po)
		}
		got = append(got, po.GetAsin())
	}
	sort.Strings(got)
	want := slices.Clone(asins[:3])
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("observed %v, want %v", got, want)
	}
}
