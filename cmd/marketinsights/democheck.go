package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	goredis "github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kadm"

	redisproj "github.com/marketinsightspro/marketinsights/projections/redis"
	"github.com/marketinsightspro/marketinsights/sandbox"
	"github.com/marketinsightspro/marketinsights/topics"
)

// checkResult is one line of the demo's self-check.
type checkResult struct {
	Layer  string
	What   string
	Figure string
	OK     bool
}

// checker gathers what the self-check reads.
type checker struct {
	adm        *kadm.Client
	ch         driver.Conn
	rdb        *goredis.Client
	redisPfx   string
	sandboxURL string
	apiURL     string
	keywords   []string
	http       *http.Client
	results    []checkResult
}

func (c *checker) add(layer, what string, ok bool, format string, args ...any) {
	c.results = append(c.results, checkResult{Layer: layer, What: what, Figure: fmt.Sprintf(format, args...), OK: ok})
}

// run checks every layer and returns the results; an error means a check could not run at all.
func (c *checker) run(ctx context.Context) []checkResult {
	c.checkTopics(ctx)
	c.scrapedKeywords(ctx)
	c.checkClickHouse(ctx)
	c.checkRedis(ctx)
	c.checkAnomalies(ctx)
	if c.apiURL != "" {
		c.checkAPI(ctx)
	}
	return c.results
}

// checkTopics: every stream the pipeline feeds holds records, and the goka tables hold state.
func (c *checker) checkTopics(ctx context.Context) {
	names := []string{topics.ScrapeStatus, topics.SearchResults, topics.ProductObservations, topics.ProductChanges,
		topics.KeywordWindows, topics.ProductTrackerTable, topics.KeywordWindowsTable, topics.AnomalyDetectorTable}
	ends, err := c.adm.ListEndOffsets(ctx, names...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		c.add("kafka", "end offsets", false, "%v", err)
		return
	}
	for _, n := range names {
		var total int64
		ends.Each(func(o kadm.ListedOffset) {
			if o.Topic == n {
				total += o.Offset
			}
		})
		layer := "topic"
		if strings.HasSuffix(n, "-table") {
			layer = "goka table"
		}
		c.add(layer, n, total > 0, "%d records", total)
	}
}

// scrapedKeywords narrows the tracked keywords to those with a succeeded scrape job (the later
// checks follow their pages through every layer) and checks there is at least one.
func (c *checker) scrapedKeywords(ctx context.Context) {
	rows, err := c.ch.Query(ctx, `SELECT keyword FROM (
    SELECT job_id, any(keyword) AS keyword, argMax(status, (event_time, event_id)) AS status
    FROM scrape_jobs FINAL GROUP BY job_id
) WHERE status = 'succeeded' GROUP BY keyword`)
	if err != nil {
		c.add("scraper", "keywords scraped", false, "%v", err)
		c.keywords = nil
		return
	}
	done := map[string]bool{}
	for rows.Next() {
		var kw string
		if rows.Scan(&kw) == nil {
			done[kw] = true
		}
	}
	rows.Close()
	var scraped []string
	for _, kw := range c.keywords {
		if done[kw] {
			scraped = append(scraped, kw)
		}
	}
	c.add("scraper", "tracked keywords with a succeeded job", len(scraped) > 0, "%d of %d", len(scraped), len(c.keywords))
	c.keywords = scraped
}

// checkClickHouse: the tables hold rows, and the tracked keywords' pages are there.
func (c *checker) checkClickHouse(ctx context.Context) {
	for _, t := range []string{"observations", "search_results", "product_latest", "product_changes", "keyword_windows", "scrape_jobs"} {
		var n uint64
		err := c.ch.QueryRow(ctx, "SELECT count() FROM "+t+" FINAL").Scan(&n)
		if err != nil {
			c.add("clickhouse", t, false, "%v", err)
			continue
		}
		c.add("clickhouse", t, n > 0, "%d rows", n)
	}
	for _, kw := range c.keywords {
		var pages, products uint64
		err := c.ch.QueryRow(ctx, "SELECT uniqExact(event_id), uniqExact(asin) FROM search_results FINAL WHERE keyword = ?", kw).Scan(&pages, &products)
		if err != nil {
			c.add("clickhouse", "pages of "+kw, false, "%v", err)
			continue
		}
		c.add("clickhouse", "pages of "+kw, pages > 0 && products > 0, "%d pages, %d products", pages, products)
	}
}

// checkRedis: a current generation with each tracked keyword's sorted sets and rows.
func (c *checker) checkRedis(ctx context.Context) {
	ks := redisproj.NewKeyspace(c.rdb, c.redisPfx)
	gen, err := ks.Current(ctx)
	if err != nil || gen == "" {
		c.add("redis", "current generation", false, "none (%v)", err)
		return
	}
	c.add("redis", "current generation", true, "%s", gen)
	for _, kw := range c.keywords {
		n, err := c.rdb.ZCard(ctx, gen+redisproj.KeywordKey(kw, "by:price")).Result()
		if err != nil {
			c.add("redis", "sorted sets of "+kw, false, "%v", err)
			continue
		}
		rows, _ := c.rdb.HLen(ctx, gen+redisproj.KeywordKey(kw, "rows")).Result()
		c.add("redis", "sorted sets of "+kw, n > 0 && rows >= n, "%d products by price, %d rows", n, rows)
	}
}

// checkAnomalies compares the anomalies detected with those the sandbox injected into products
// the pipeline observed.
func (c *checker) checkAnomalies(ctx context.Context) {
	var truth struct {
		Anomalies []sandbox.Anomaly `json:"anomalies"`
	}
	if err := c.getJSON(ctx, c.sandboxURL+"/_truth/anomalies", &truth); err != nil {
		c.add("anomalies", "sandbox truth", false, "%v", err)
		return
	}
	rows, err := c.ch.Query(ctx, "SELECT asin, kind FROM anomalies FINAL")
	if err != nil {
		c.add("anomalies", "detected", false, "%v", err)
		return
	}
	var detected []detection
	for rows.Next() {
		var d detection
		if err := rows.Scan(&d.ASIN, &d.Kind); err == nil {
			detected = append(detected, d)
		}
	}
	rows.Close()
	// A detector needs a baseline: only products observed often enough count as detectable.
	observed := map[string]bool{}
	if r, err := c.ch.Query(ctx, "SELECT asin FROM observations FINAL GROUP BY asin HAVING count() >= ?", minObservationsForDetection); err == nil {
		for r.Next() {
			var a string
			if r.Scan(&a) == nil {
				observed[a] = true
			}
		}
		r.Close()
	}
	m := matchAnomalies(truth.Anomalies, detected, observed)
	c.add("anomalies", fmt.Sprintf("injected into products observed %d+ times, detected", minObservationsForDetection), m.Detectable == 0 || m.Matched > 0,
		"%d of %d detected (%d detections in all, %d injected)", m.Matched, m.Detectable, len(detected), len(truth.Anomalies))
}

// checkAPI: the report of each tracked keyword answers with products, and the page is served.
func (c *checker) checkAPI(ctx context.Context) {
	for _, kw := range c.keywords {
		var rep struct {
			Total int               `json:"total"`
			Items []json.RawMessage `json:"items"`
		}
		err := c.getJSON(ctx, c.apiURL+"/api/v1/keywords/"+url.PathEscape(kw)+"/report?sort=sales", &rep)
		c.add("api", "report of "+kw, err == nil && len(rep.Items) > 0, "%d products, %d on the first page (%v)", rep.Total, len(rep.Items), errText(err))
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.apiURL+"/", nil)
	resp, err := c.http.Do(req)
	if err != nil {
		c.add("page", "report page", false, "%v", err)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	c.add("page", "report page", resp.StatusCode == 200 && len(body) > 0, "HTTP %d, %d bytes", resp.StatusCode, len(body))
}

func (c *checker) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v)
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func pathEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "%", "%25"), " ", "%20")
}

// printChecks writes the results as a table and returns how many failed.
func printChecks(w io.Writer, results []checkResult, took time.Duration) int {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LAYER\tCHECK\tFIGURE\tRESULT")
	failed := 0
	for _, r := range results {
		res := "ok"
		if !r.OK {
			res = "MISS"
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Layer, r.What, r.Figure, res)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d checks, %d missed, after %s\n", len(results), failed, took.Round(time.Second))
	return failed
}

// minObservationsForDetection is how many observations of a product the check requires before
// it counts an anomaly injected into it as detectable (the detectors' warm-up).
const minObservationsForDetection = 8

// detection is an anomaly the pipeline detected.
type detection struct {
	ASIN string
	Kind string
}

// anomalyMatch counts injected anomalies the pipeline could see and those it detected.
type anomalyMatch struct {
	Detectable int
	Matched    int
}

// sandboxKinds maps the sandbox's anomaly kinds to the detector's.
var sandboxKinds = map[sandbox.AnomalyKind][]string{
	sandbox.PriceDrop:   {"price_drop"},
	sandbox.PriceSpike:  {"price_spike"},
	sandbox.ReviewSpike: {"review_spike"},
	sandbox.RatingDrop:  {"rating_drop"},
	sandbox.OutOfStock:  {"out_of_stock"},
	sandbox.BackInStock: {"back_in_stock"},
	sandbox.SellerJump:  {"seller_count_jump"},
}

// matchAnomalies counts the injected anomalies whose product was observed (detectable) and
// those among them with a detection of the same kind on the same product.
func matchAnomalies(injected []sandbox.Anomaly, detected []detection, observed map[string]bool) anomalyMatch {
	got := map[string]bool{}
	for _, d := range detected {
		got[d.ASIN+"|"+d.Kind] = true
	}
	var m anomalyMatch
	for _, a := range injected {
		if !observed[a.ASIN] {
			continue
		}
		m.Detectable++
		for _, k := range sandboxKinds[a.Kind] {
			if got[a.ASIN+"|"+k] {
				m.Matched++
				break
			}
		}
	}
	return m
}
