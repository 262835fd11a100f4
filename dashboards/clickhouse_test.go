package dashboards

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/internal/testenv"
	chproj "github.com/marketinsightspro/marketinsights/projections/clickhouse"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

func env(id string, at time.Time) *marketv1.Envelope {
	return &marketv1.Envelope{EventId: id, EventTime: timestamppb.New(at), Producer: "dashboards-test", SchemaVersion: 1}
}

func ptr[T any](v T) *T { return &v }

func money(minor int64) *marketv1.Money { return &marketv1.Money{AmountMinor: minor, Currency: "USD"} }

type product struct {
	asin, title, brand, category, keyword string
	price                                 int64
}

var sampleProducts = []product{
	{"B0DASH0001", "Anker USB C Cable", "Anker", "Electronics", "usb c cable", 1299},
	{"B0DASH0002", "Ugreen USB C Cable", "Ugreen", "Electronics", "usb c cable", 999},
	{"B0DASH0003", "Amazon Basics Cable", "Amazon Basics", "Cables", "usb c cable", 699},
	{"B0DASH0004", "Soundcore Earbuds", "Soundcore", "Headphones", "wireless earbuds", 3999},
}

// demoSample is a day of a small market, like the demo's: observations and search pages every
// two hours, hourly and sliding keyword windows, price changes, anomalies and scrape jobs.
func demoSample(now time.Time) map[string][]proto.Message {
	now = now.UTC().Truncate(time.Second)
	out := map[string][]proto.Message{}
	add := func(table string, m proto.Message) { out[table] = append(out[table], m) }
	id := func(parts ...any) string { return fmt.Sprint(parts...) }
	for i := range 12 {
		at := now.Add(-time.Duration(11-i) * 2 * time.Hour).Add(-time.Minute)
		byKeyword := map[string][]*marketv1.Listing{}
		for j, p := range sampleProducts {
			attrs := &marketv1.ProductAttributes{Title: ptr(p.title), Brand: ptr(p.brand), Category: ptr(p.category),
				Price: money(p.price - int64(10*i*(j%2))), ListPrice: money(p.price + 500), Rating: ptr(4.1 + 0.1*float64(j)),
				ReviewCount: ptr(int64(1000*(j+1) + 15*i)), BoughtPastMonth: ptr(int64(100 * (4 - j))),
				Ranks: []*marketv1.BestSellersRank{{Rank: int64(40 + j*10 - i), Category: p.category}}, Prime: ptr(j != 2),
				Availability: marketv1.Availability_AVAILABILITY_IN_STOCK}
			add("observations", &marketv1.ProductObserved{Envelope: env(id("obs-", i, "-", j), at), Asin: p.asin, Marketplace: "amazon.com",
				Source: marketv1.ObservationSource_OBSERVATION_SOURCE_SEARCH_PAGE, Keyword: p.keyword, JobId: id("job-", i),
				Url: "https://www.amazon.com/s?k=" + strings.ReplaceAll(p.keyword, " ", "+"), Position: ptr(int32(len(byKeyword[p.keyword]) + 1)), Attributes: attrs})
			byKeyword[p.keyword] = append(byKeyword[p.keyword], &marketv1.Listing{Asin: p.asin, Position: int32(len(byKeyword[p.keyword]) + 1), Sponsored: ptr(j == 1), Attributes: attrs})
		}
		for kw, ls := range byKeyword {
			add("search_results", &marketv1.SearchResultsObserved{Envelope: env(id("sr-", i, "-", kw), at), Keyword: kw, Marketplace: "amazon.com", Page: 1,
				JobId: id("job-", i), TotalResults: ptr[int64](2000), Listings: ls})
		}
	}
	for v, p := range sampleProducts {
		change := &marketv1.ProductStateChanged{Envelope: env(id("chg-", v), now.Add(-time.Hour)), Asin: p.asin, Marketplace: "amazon.com", Version: int64(10 + v), Keyword: p.keyword,
			Changes: []marketv1.ProductChangeKind{marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_PRICE},
			Before:  &marketv1.ProductAttributes{Title: ptr(p.title), Price: money(p.price + 300)},
			After: &marketv1.ProductAttributes{Title: ptr(p.title), Brand: ptr(p.brand), Category: ptr(p.category), Price: money(p.price), Rating: ptr(4.4),
				ReviewCount: ptr[int64](900), Ranks: []*marketv1.BestSellersRank{{Rank: 41, Category: p.category}}, Prime: ptr(true),
				Availability: marketv1.Availability_AVAILABILITY_IN_STOCK},
			ObservationCount: 12, ReviewVelocityPerDay: ptr(14.5)}
		add("product_changes", change)
		add("product_latest", change)
		add("anomalies", &marketv1.AnomalyDetected{Envelope: env(id("an-ev-", v), now.Add(-30*time.Minute)), AnomalyId: id("an-", v), Asin: p.asin, Keyword: p.keyword,
			Marketplace: "amazon.com", Kind: marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP, Severity: marketv1.Severity_SEVERITY_WARNING, Score: 5, Observed: float64(p.price),
			Title: p.title, Currency: "USD", Baseline: &marketv1.Baseline{Method: "ewma", Center: float64(p.price + 300), Spread: 20, Points: 12},
			Explanation: "Price fell below its usual range."})
	}
	for _, kw := range []string{"usb c cable", "wireless earbuds"} {
		stats := &marketv1.KeywordWindowStats{CompetitorCount: 3, Currency: "USD", PriceMinMinor: ptr[int64](699), PriceMedianMinor: ptr(999.0), PriceP90Minor: ptr(1299.0),
			RatingMean: ptr(4.3), PrimeShare: ptr(0.66), SponsoredShare: ptr(0.33),
			ShareOfVoice: []*marketv1.BrandShare{{Brand: "Anker", Share: 0.5, Listings: 1}, {Brand: "Ugreen", Share: 0.3, Listings: 1}, {Brand: "Amazon Basics", Share: 0.2, Listings: 1}},
			TopBySales: []*marketv1.RankedProduct{
				{Asin: "B0DASH0001", Title: "Anker USB C Cable", Brand: "Anker", Sales: &marketv1.SalesEstimate{Units: 400, Low: 400, High: 799}},
				{Asin: "B0DASH0002", Title: "Ugreen USB C Cable", Brand: "Ugreen", Sales: &marketv1.SalesEstimate{Units: 300, Low: 300, High: 599}},
			}}
		hour := now.Truncate(time.Hour)
		for h := range 24 {
			start := hour.Add(-time.Duration(24-h) * time.Hour)
			add("keyword_windows", &marketv1.KeywordWindowUpdated{Envelope: env(id("win-", kw, h), start.Add(time.Hour)), Keyword: kw, Marketplace: "amazon.com",
				Version: 2, Final: true, ClosedBy: "watermark", PagesObserved: 2, Stats: stats,
				Window: &marketv1.Window{Kind: marketv1.WindowKind_WINDOW_KIND_TUMBLING, SizeSeconds: 3600, Start: timestamppb.New(start), End: timestamppb.New(start.Add(time.Hour))}})
		}
		end := now.Truncate(time.Minute)
		add("keyword_windows", &marketv1.KeywordWindowUpdated{Envelope: env(id("win24-", kw), now), Keyword: kw, Marketplace: "amazon.com", Version: 9, Stats: stats,
			Window: &marketv1.Window{Kind: marketv1.WindowKind_WINDOW_KIND_SLIDING, SizeSeconds: 86400, StepSeconds: 60, Start: timestamppb.New(end.Add(-24 * time.Hour)), End: timestamppb.New(end)}})
	}
	for j := range 6 {
		at := now.Add(-time.Duration(j) * 20 * time.Minute)
		job := id("job-", j)
		add("scrape_jobs", &marketv1.ScrapeStatusChanged{Envelope: env(id("st-q-", j), at.Add(-time.Minute)), JobId: job, Status: marketv1.ScrapeStatus_SCRAPE_STATUS_QUEUED, Keyword: "usb c cable"})
		end := &marketv1.ScrapeStatusChanged{Envelope: env(id("st-e-", j), at), JobId: job, Attempt: 1, PagesDone: 3, PagesTotal: 3, Keyword: "usb c cable",
			Url: "https://www.amazon.com/s?k=usb+c+cable&page=3", HttpStatus: 200, BreakerState: "closed", ListingsObserved: 48, Status: marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED}
		if j == 2 {
			end.Status, end.Reason, end.HttpStatus, end.BreakerState, end.PagesDone = marketv1.ScrapeStatus_SCRAPE_STATUS_BLOCKED, "robot check", 503, "open", 1
		}
		add("scrape_jobs", end)
	}
	add("scrape_jobs", &marketv1.ScrapeStatusChanged{Envelope: env("st-running", now), JobId: "job-running", Status: marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING, Keyword: "wireless earbuds"})
	return out
}

// loadDemoSample migrates a fresh database and writes the sample through the projectors' sinks.
func loadDemoSample(t *testing.T, ctx context.Context, conn driver.Conn, now time.Time) {
	t.Helper()
	if _, err := chproj.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	for table, evs := range demoSample(now) {
		tb, ok := chproj.LookupTable(table)
		if !ok {
			t.Fatalf("no table %s", table)
		}
		var rows [][]any
		for _, ev := range evs {
			rs, err := tb.Rows(ev, now.UTC().Truncate(time.Second))
			if err != nil {
				t.Fatalf("%s rows: %v", table, err)
			}
			rows = append(rows, rs...)
		}
		if err := chproj.NewSink(conn, tb).Write(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}
}

// selections are the variable choices every ClickHouse query runs with: each dashboard's
// variables once with "All" where allowed, once with one value.
var selections = []map[string][]string{
	{"keyword": {"usb c cable"}, "asin": {"B0DASH0001"}},
	{"keyword": {"usb c cable"}, "asin": {"B0DASH0001"}, "category": {"Electronics", "Cables"}},
	{"keyword": {"wireless earbuds"}, "asin": {"B0DASH0004"}, "category": {"Headphones"}},
}

// TestClickHousePanelsReturnRows runs every ClickHouse query of every dashboard (panels and
// variables), with Grafana's variables interpolated and the plugin's macros expanded, on a
// real ClickHouse holding a day of demo data, and wants rows with at least one value that is
// not zero or empty.
func TestClickHousePanelsReturnRows(t *testing.T) {
	ch := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	now := time.Now()
	loadDemoSample(t, ctx, ch.Conn, now)
	r := TimeRange{From: now.Add(-24 * time.Hour), To: now, Interval: 5 * time.Minute}

	run := func(t *testing.T, d Dashboard, sel map[string][]string, q string) [][]any {
		t.Helper()
		q, err := d.Interpolate(q, sel)
		if err != nil {
			t.Fatal(err)
		}
		expanded, err := ExpandMacros(q, r)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := queryAll(ctx, ch.Conn, expanded)
		if err != nil {
			t.Fatalf("%v\n%s", err, expanded)
		}
		if !hasValue(rows) {
			t.Errorf("no rows with a value:\n%s\ngot %v", expanded, rows)
		}
		return rows
	}
	queries := 0
	for _, d := range All() {
		for n, sel := range selections {
			sel = onlyVariablesOf(d, sel)
			for _, v := range d.Variables {
				if v.Datasource != ClickHouse {
					continue
				}
				t.Run(fmt.Sprintf("%s/variable %s/%d", d.Title, v.Name, n), func(t *testing.T) {
					rows := run(t, d, sel, v.Query)
					for _, want := range sel[v.Name] {
						if !slices.ContainsFunc(rows, func(r []any) bool { return fmt.Sprint(deref(r[0])) == want }) {
							t.Errorf("variable %s offers %v, not the selected %q", v.Name, rows, want)
						}
					}
				})
				queries++
			}
			for _, p := range d.Panels {
				if p.Datasource != ClickHouse {
					continue
				}
				for i, q := range p.Queries {
					t.Run(fmt.Sprintf("%s/%s/%d/%d", d.Title, p.Title, i, n), func(t *testing.T) { run(t, d, sel, q.SQL) })
					queries++
				}
			}
		}
	}
	if queries < 3*25 {
		t.Errorf("ran %d queries; the dashboards have fewer ClickHouse queries than expected", queries)
	}
}

// onlyVariablesOf keeps the selections of d's variables.
func onlyVariablesOf(d Dashboard, sel map[string][]string) map[string][]string {
	out := map[string][]string{}
	for _, v := range d.Variables {
		if vals, ok := sel[v.Name]; ok {
			out[v.Name] = vals
		}
	}
	return out
}

// queryAll runs q and returns its rows as dereferenced values.
func queryAll(ctx context.Context, conn driver.Conn, q string) ([][]any, error) {
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	var out [][]any
	for rows.Next() {
		dest := make([]any, len(types))
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		row := make([]any, len(dest))
		for i, d := range dest {
			row[i] = deref(d)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func deref(v any) any {
	rv := reflect.ValueOf(v)
	for rv.IsValid() && rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return nil
	}
	return rv.Interface()
}

// hasValue reports whether some cell is neither NULL, zero nor empty.
func hasValue(rows [][]any) bool {
	for _, r := range rows {
		for _, c := range r {
			if c != nil && !reflect.ValueOf(c).IsZero() {
				return true
			}
		}
	}
	return false
}

func TestExpandMacros(t *testing.T) {
	r := TimeRange{From: time.Unix(1700000000, 0), To: time.Unix(1700003600, 0), Interval: 90 * time.Second}
	for _, tc := range []struct{ in, want, err string }{
		{in: "WHERE $__timeFilter(event_time)", want: "WHERE event_time >= toDateTime(1700000000) AND event_time <= toDateTime(1700003600)"},
		{in: "t >= $__fromTime AND t <= $__toTime()", want: "t >= toDateTime(1700000000) AND t <= toDateTime(1700003600)"},
		{in: "intDiv(x, $__interval_s) * $__interval_s", want: "intDiv(x, 90) * 90"},
		{in: "$__timeFilter()", err: "expected 1 argument"},
		{in: "$__timeInterval(t)", err: "unknown macro"},
		{in: "$__timeFilter_ms(t)", err: "unknown macro"},
	} {
		got, err := ExpandMacros(tc.in, r)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s:\ngot  %q, %v\nwant %q", tc.in, got, err, tc.want)
		}
	}
	if got, _ := ExpandMacros("$__interval_s", TimeRange{Interval: 10 * time.Millisecond}); got != "1" {
		t.Errorf("interval below a second: %s, want 1", got)
	}
}

func TestInterpolate(t *testing.T) {
	d := Dashboard{Variables: []Variable{{Name: "k"}, {Name: "c", Multi: true, IncludeAll: true, AllValue: "'__all'"}}}
	for _, tc := range []struct {
		in   string
		sel  map[string][]string
		want string
		err  bool
	}{
		{in: "k = '${k}'", sel: map[string][]string{"k": {"usb"}}, want: "k = 'usb'"},
		{in: "c IN (${c:singlequote})", sel: map[string][]string{"c": {"a", "it's"}}, want: `c IN ('a','it\'s')`},
		{in: "c IN (${c:singlequote})", sel: map[string][]string{}, want: "c IN ('__all')"},
		{in: "k = '${k}'", sel: map[string][]string{}, err: true},
		{in: "k = '$k'", sel: map[string][]string{"k": {"x"}}, err: true},
		{in: "${nope}", sel: map[string][]string{}, err: true},
		{in: "${k:csv}", sel: map[string][]string{"k": {"x"}}, err: true},
		{in: "$__timeFilter(t)", want: "$__timeFilter(t)"},
	} {
		got, err := d.Interpolate(tc.in, tc.sel)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("%s %v: got %q, %v; want %q (error %v)", tc.in, tc.sel, got, err, tc.want, tc.err)
		}
	}
}
