package worker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/scraper/fetch"
	"github.com/marketinsightspro/marketinsights/scraper/jobs"
	"github.com/marketinsightspro/marketinsights/scraper/parse"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Sentinel errors of job attempts; jobError carries their class.
var (
	// ErrBlocked is wrapped when a page was a robot check.
	ErrBlocked = errors.New("blocked by a robot check")
	// ErrBadRequest is wrapped when a request cannot be run as asked (no keyword, too many pages).
	ErrBadRequest = errors.New("bad scrape request")
	// ErrNoEarlierResult is wrapped when a breaker is open and no earlier result can answer.
	ErrNoEarlierResult = errors.New("circuit breaker open and no earlier result to answer from")
	// errClientStatus is wrapped when a search page answered a 4xx status that asking again
	// will not change (not 408 or 429, which the fetcher retries, nor 403, a block).
	errClientStatus = errors.New("the marketplace refused the request")
)

// statusError is the error of a search page that answered a status other than 200.
func statusError(p int, url string, status int) error {
	switch {
	case status == http.StatusForbidden:
		return fmt.Errorf("search page %d: %s answered status %d: %w", p, url, status, ErrBlocked)
	case status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests:
		return fmt.Errorf("search page %d: %s answered status %d: %w", p, url, status, errClientStatus)
	}
	return fmt.Errorf("search page %d: %s answered status %d", p, url, status)
}

// classify says how a failed attempt is retried.
func classify(err error) jobs.Class {
	switch {
	case errors.Is(err, ErrBlocked):
		return jobs.Blocked
	case errors.Is(err, fetch.ErrForbiddenURL), errors.Is(err, fetch.ErrDisallowed), errors.Is(err, ErrBadRequest),
		errors.Is(err, errClientStatus):
		return jobs.Permanent
	case errors.Is(err, fetch.ErrCircuitOpen), errors.Is(err, ErrNoEarlierResult):
		return jobs.Unavailable
	}
	return jobs.Transient
}

// reasonOf is the status reason of a failed attempt: the error, with a hint for a refused URL.
func reasonOf(err error) string {
	msg := err.Error()
	if errors.Is(err, fetch.ErrForbiddenURL) {
		return "refused: " + msg + "; the scraper fetches only public addresses of allowed hosts (--scrape-allow-private, --scrape-allow-hosts)"
	}
	return msg
}

// attempt is one attempt of one job: what it asked, what it produced so far.
type attempt struct {
	w           *Worker
	req         *marketv1.ScrapeRequested
	reqID       string // event id of the request, the causation of every event
	correlation string
	site        jobs.Site
	keyword     string
	started     time.Time
	emitMu      sync.Mutex // orders the progress statuses

	mu         sync.Mutex
	pagesDone  int32
	pagesTotal int32
	listings   int32
	lastURL    string
	lastHTTP   int32
	records    []*kgo.Record
	fresh      []*lastPage // search pages fetched now, for stale answers later
	cards      []jobs.Card
	fetched    map[string]bool // ASINs whose product page was read
	failed     int             // product pages that failed
	notes      []string
}

// outcome is how an attempt ended.
type outcome struct {
	// status is SUCCEEDED or STALE when err is nil.
	status marketv1.ScrapeStatus
	err    error
	reason string
}

func newAttempt(w *Worker, req *marketv1.ScrapeRequested) *attempt {
	corr := req.GetAnalysisId()
	if corr == "" {
		corr = req.GetJobId()
	}
	a := &attempt{w: w, req: req, reqID: req.GetEnvelope().GetEventId(), correlation: corr,
		keyword: jobs.NormalizeKeyword(req.GetKeyword()), started: w.cfg.Now(), fetched: map[string]bool{}}
	a.site, _ = jobs.ResolveSite(req.GetMarketplace(), w.cfg.BaseURL) // run reports a bad marketplace
	return a
}

// number is the attempt number (1 for a request that does not say).
func (a *attempt) number() int32 { return max(a.req.GetAttempt(), 1) }

// marketplace is what observations name: the job's marketplace, else the page's, else the host.
func (a *attempt) marketplace(fromPage string) string {
	switch {
	case a.site.Marketplace != "":
		return a.site.Marketplace
	case fromPage != "":
		return fromPage
	}
	return a.site.Host()
}

// run fetches and parses the job's pages and collects its events (produced by the caller).
func (a *attempt) run(ctx context.Context) outcome {
	req := a.req
	site, err := jobs.ResolveSite(req.GetMarketplace(), a.w.cfg.BaseURL)
	if err != nil {
		return outcome{err: fmt.Errorf("%w: %v", ErrBadRequest, err)}
	}
	a.site = site
	kind := req.GetKind()
	if kind == marketv1.ScrapeKind_SCRAPE_KIND_UNSPECIFIED {
		kind = marketv1.ScrapeKind_SCRAPE_KIND_SEARCH
		if a.keyword == "" && len(req.GetAsins()) > 0 {
			kind = marketv1.ScrapeKind_SCRAPE_KIND_PRODUCT
		}
	}
	if kind == marketv1.ScrapeKind_SCRAPE_KIND_PRODUCT {
		return a.runProducts(ctx)
	}
	pages := int(req.GetPages())
	switch {
	case a.keyword == "":
		return outcome{err: fmt.Errorf("%w: a search job needs a keyword", ErrBadRequest)}
	case pages <= 0:
		pages = 1
	case pages > a.w.cfg.MaxPages:
		return outcome{err: fmt.Errorf("%w: %d pages asked, at most %d allowed", ErrBadRequest, pages, a.w.cfg.MaxPages)}
	}
	a.setTotal(int32(pages))
	if a.w.breaker(site.Host()) == "open" {
		return a.answerStale(1, pages, &fetch.CircuitOpenError{Host: site.Host(), State: "open"})
	}
	a.w.progress(a, marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING, "")
	for p := 1; p <= pages; p++ {
		sp, err := a.searchPage(ctx, p)
		if errors.Is(err, fetch.ErrCircuitOpen) {
			return a.answerStale(p, pages, err)
		}
		if err != nil {
			return outcome{err: err}
		}
		a.w.progress(a, marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING, "")
		if sp.NoResults || len(sp.Listings) == 0 {
			if p < pages {
				a.note(fmt.Sprintf("the keyword has %d page(s) of results", p-1))
				a.setTotal(int32(p))
			}
			break
		}
	}
	a.w.fpMu.Lock()
	asins := jobs.SelectProducts(a.marketplace(""), a.cards, a.w.fps, a.w.cfg.MaxProductPages)
	a.w.fpMu.Unlock()
	a.mu.Lock()
	a.pagesTotal = a.pagesDone + int32(len(asins))
	a.mu.Unlock()
	if len(asins) > 0 {
		a.w.progress(a, marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING, "")
	}
	failed, err := a.productPages(ctx, asins)
	if err != nil {
		return outcome{err: err}
	}
	if failed > 0 {
		a.failed = failed
		a.note(fmt.Sprintf("%d of %d product pages failed", failed, len(asins)))
	}
	return outcome{status: marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED, reason: a.notesText()}
}

// runProducts runs a product job: the product pages of the request's ASINs.
func (a *attempt) runProducts(ctx context.Context) outcome {
	asins := slices.Compact(slices.Clone(a.req.GetAsins()))
	switch {
	case len(asins) == 0:
		return outcome{err: fmt.Errorf("%w: a product job needs ASINs", ErrBadRequest)}
	case len(asins) > max(a.w.cfg.MaxProductPages, a.w.cfg.MaxPages):
		return outcome{err: fmt.Errorf("%w: %d ASINs asked, at most %d allowed", ErrBadRequest, len(asins), max(a.w.cfg.MaxProductPages, a.w.cfg.MaxPages))}
	}
	a.setTotal(int32(len(asins)))
	if a.w.breaker(a.site.Host()) == "open" {
		return outcome{err: fmt.Errorf("%w (host %s)", ErrNoEarlierResult, a.site.Host())}
	}
	a.w.progress(a, marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING, "")
	failed, err := a.productPages(ctx, asins)
	if err != nil {
		return outcome{err: err}
	}
	if failed == len(asins) {
		return outcome{err: fmt.Errorf("all %d product pages failed: %s", failed, a.notesText())}
	}
	if failed > 0 {
		a.failed = failed
		a.note(fmt.Sprintf("%d of %d product pages failed", failed, len(asins)))
	}
	return outcome{status: marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED, reason: a.notesText()}
}

func (a *attempt) setTotal(n int32) {
	a.mu.Lock()
	a.pagesTotal = n
	a.mu.Unlock()
}

func (a *attempt) note(s string) {
	a.mu.Lock()
	a.notes = append(a.notes, s)
	a.mu.Unlock()
}

func (a *attempt) notesText() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strings.Join(a.notes, "; ")
}

// fetchPage fetches a URL and records it as the attempt's last URL and status.
func (a *attempt) fetchPage(ctx context.Context, url string) (*fetch.Page, error) {
	pg, err := a.w.cfg.Fetcher.Fetch(ctx, url)
	a.mu.Lock()
	a.lastURL = url
	if pg != nil {
		a.lastHTTP = int32(pg.Status)
	}
	a.mu.Unlock()
	return pg, err
}

// searchPage fetches, parses and records search page p.
func (a *attempt) searchPage(ctx context.Context, p int) (*parse.SearchPage, error) {
	url := a.site.SearchURL(a.keyword, p)
	pg, err := a.fetchPage(ctx, url)
	if err != nil {
		a.w.m.page("search", "failed")
		return nil, fmt.Errorf("search page %d: %w", p, err)
	}
	if pg.Status != http.StatusOK {
		a.w.m.page("search", "failed")
		return nil, statusError(p, url, pg.Status)
	}
	sp, err := parse.Search(bytes.NewReader(pg.Body), parse.Options{Marketplace: a.site.Marketplace, BaseURL: pg.URL})
	if err != nil {
		a.w.m.page("search", "failed")
		return nil, fmt.Errorf("search page %d at %s: %w", p, url, err)
	}
	if sp.Blocked {
		a.w.m.page("search", "blocked")
		return nil, fmt.Errorf("search page %d at %s: %w", p, url, ErrBlocked)
	}
	a.w.m.page("search", "ok")
	mp := a.marketplace(sp.Marketplace)
	ev := &marketv1.SearchResultsObserved{Keyword: a.keyword, Marketplace: mp, Page: int32(p), Listings: sp.Listings,
		TotalResults: sp.TotalResults, JobId: a.req.GetJobId(), Url: pg.URL}
	ev.Envelope = a.envelope("search-results", ev, pg.FetchedAt)
	recs := make([]*kgo.Record, 0, len(sp.Listings)+1)
	rec, err := topics.NewRecord(a.w.t.search, ev.Keyword, ev)
	if err != nil {
		return nil, fmt.Errorf("search page %d: encode: %w", p, err)
	}
	recs = append(recs, rec)
	cards := make([]jobs.Card, 0, len(sp.Listings))
	for _, l := range sp.Listings {
		po := &marketv1.ProductObserved{Asin: l.GetAsin(), Marketplace: mp, Attributes: l.GetAttributes(), Sponsored: l.Sponsored,
			Position: proto.Int32(l.GetPosition()), Source: marketv1.ObservationSource_OBSERVATION_SOURCE_SEARCH_PAGE,
			Keyword: a.keyword, Url: pg.URL, JobId: a.req.GetJobId()}
		po.Envelope = a.envelope("search-listing", po, pg.FetchedAt)
		rec, err := topics.NewRecord(a.w.t.products, po.Asin, po)
		if err != nil {
			return nil, fmt.Errorf("search page %d, listing %s: encode: %w", p, l.GetAsin(), err)
		}
		recs = append(recs, rec)
		cards = append(cards, jobs.Card{ASIN: l.GetAsin(), Fingerprint: jobs.Fingerprint(l.GetAttributes())})
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.records = append(a.records, recs...)
	a.cards = append(a.cards, cards...)
	a.pagesDone++
	a.listings += int32(len(sp.Listings))
	a.fresh = append(a.fresh, &lastPage{jobID: a.req.GetJobId(), at: pg.FetchedAt, listings: len(sp.Listings), url: pg.URL, records: recs})
	return sp, nil
}

// productPages fetches the product pages of asins, PageParallelism at a time, and returns how
// many failed; a robot check on any of them fails the attempt (ErrBlocked). After the host's
// breaker opens the remaining pages are skipped (and counted as failed).
func (a *attempt) productPages(ctx context.Context, asins []string) (failed int, err error) {
	type result struct {
		recs    *kgo.Record
		failed  bool
		blocked error
	}
	results := make([]result, len(asins))
	sem := make(chan struct{}, a.w.cfg.PageParallelism)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i, asin := range asins {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			results[i].failed = true
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			rec, err := a.productPage(ctx, asin)
			switch {
			case errors.Is(err, ErrBlocked):
				results[i].blocked = err
				cancel()
			case errors.Is(err, fetch.ErrCircuitOpen):
				results[i].failed = true
				a.note("product pages skipped: " + err.Error())
				cancel()
			case err != nil:
				results[i].failed = true
				if ctx.Err() == nil {
					a.note(err.Error())
				}
			default:
				results[i].recs = rec
			}
		})
	}
	wg.Wait()
	for _, r := range results {
		if r.blocked != nil {
			return 0, r.blocked
		}
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return 0, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range results {
		switch {
		case r.recs != nil:
			a.records = append(a.records, r.recs)
		case r.failed:
			failed++
		}
	}
	return failed, nil
}

// productPage fetches and parses one product page; nil record and nil error for a product the
// marketplace does not list (404).
func (a *attempt) productPage(ctx context.Context, asin string) (*kgo.Record, error) {
	url := a.site.ProductURL(asin)
	pg, err := a.fetchPage(ctx, url)
	if err != nil {
		a.w.m.page("product", "failed")
		return nil, fmt.Errorf("product %s: %w", asin, err)
	}
	defer func() {
		a.mu.Lock()
		a.pagesDone++
		a.mu.Unlock()
		a.w.progress(a, marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING, "")
	}()
	if pg.Status == http.StatusNotFound {
		a.w.m.page("product", "not_found")
		return nil, nil
	}
	if pg.Status != http.StatusOK {
		a.w.m.page("product", "failed")
		return nil, fmt.Errorf("product %s: %s answered status %d", asin, url, pg.Status)
	}
	pp, err := parse.Product(bytes.NewReader(pg.Body), parse.Options{Marketplace: a.site.Marketplace, BaseURL: pg.URL})
	if err != nil {
		a.w.m.page("product", "failed")
		return nil, fmt.Errorf("product %s at %s: %w", asin, url, err)
	}
	if pp.Blocked {
		a.w.m.page("product", "blocked")
		return nil, fmt.Errorf("product page %s: %w", url, ErrBlocked)
	}
	a.w.m.page("product", "ok")
	got := pp.ASIN
	if got == "" {
		got = asin
	}
	po := &marketv1.ProductObserved{Asin: got, Marketplace: a.marketplace(pp.Marketplace), Attributes: pp.Attributes,
		Source: marketv1.ObservationSource_OBSERVATION_SOURCE_PRODUCT_PAGE, Url: pg.URL, JobId: a.req.GetJobId()}
	po.Envelope = a.envelope("product-page", po, pg.FetchedAt)
	rec, err := topics.NewRecord(a.w.t.products, po.Asin, po)
	if err != nil {
		return nil, fmt.Errorf("product %s: encode: %w", asin, err)
	}
	a.mu.Lock()
	a.fetched[asin] = true
	a.mu.Unlock()
	return rec, nil
}

// answerStale answers search pages from..to from the last results kept (the host's breaker is
// open). It fails with ErrNoEarlierResult when no page at all, fresh or kept, answers.
func (a *attempt) answerStale(from, to int, cause error) outcome {
	mp := a.marketplace("")
	var missing []string
	var oldest time.Time
	jobsUsed := map[string]bool{}
	a.mu.Lock()
	defer a.mu.Unlock()
	answered := a.pagesDone
	for p := from; p <= to; p++ {
		lp, ok := a.w.last.get(pageKey(mp, a.keyword, p))
		if !ok {
			missing = append(missing, fmt.Sprint(p))
			continue
		}
		a.records = append(a.records, copyRecords(lp.records)...)
		a.listings += int32(lp.listings)
		a.pagesDone++
		jobsUsed[lp.jobID] = true
		if oldest.IsZero() || lp.at.Before(oldest) {
			oldest = lp.at
		}
	}
	if a.pagesDone == 0 {
		return outcome{err: fmt.Errorf("%w: %v", ErrNoEarlierResult, cause)}
	}
	reason := fmt.Sprintf("circuit breaker of %s is open", a.site.Host())
	if answered > 0 {
		reason += fmt.Sprintf("; pages 1-%d fetched now", answered)
	}
	if a.pagesDone > answered {
		reason += fmt.Sprintf("; pages %d-%d answered from the last result (fetched %s by %d earlier job(s))",
			from, to, oldest.UTC().Format(time.RFC3339), len(jobsUsed))
	}
	if len(missing) > 0 {
		reason += "; no earlier result for page(s) " + strings.Join(missing, ", ")
	}
	reason += "; product pages skipped"
	return outcome{status: marketv1.ScrapeStatus_SCRAPE_STATUS_STALE, reason: reason}
}

// envelope is the envelope of an observation: its id is derived from the job and the content
// (without the envelope), so the same page seen again by the same job gets the same id.
func (a *attempt) envelope(kind string, m proto.Message, at time.Time) *marketv1.Envelope {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(m) // the envelope is not set yet
	sum := sha256.Sum256(b)
	return &marketv1.Envelope{
		EventId:       jobs.EventID(a.req.GetJobId(), 0, kind, hex.EncodeToString(sum[:16])),
		EventTime:     timestamppb.New(at),
		Producer:      a.w.cfg.Producer,
		SchemaVersion: marketv1.SchemaVersion,
		CorrelationId: a.correlation,
		CausationId:   a.reqID,
	}
}
