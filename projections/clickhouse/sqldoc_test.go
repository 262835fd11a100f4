package clickhouse

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/internal/testenv"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

const sqlDoc = "../../docs/sql.md"

// docSample is data for every query of docs/sql.md, around now.
func docSample(now time.Time) map[string][]proto.Message {
	now = now.UTC().Truncate(time.Second)
	hour := now.Truncate(time.Hour)
	out := map[string][]proto.Message{}
	add := func(table string, m proto.Message) { out[table] = append(out[table], m) }
	for i := range 12 {
		at := now.Add(-time.Duration(11-i) * 4 * time.Hour)
		o := observation("doc-obs-"+itoa(i), "B0DOCS0001", at, int64(1999-10*i))
		add("observations", o)
		o2 := observation("doc-obs2-"+itoa(i), "B0DOCS0002", at, int64(2999))
		add("observations", o2)
		add("search_results", &marketv1.SearchResultsObserved{Envelope: env("doc-sr-"+itoa(i), at), Keyword: "usb c cable", Marketplace: "amazon.com", Page: 1,
			Listings: []*marketv1.Listing{
				{Asin: "B0DOCS0001", Position: int32(1 + i%3), Sponsored: ptr(i%2 == 0), Attributes: o.GetAttributes()},
				{Asin: "B0DOCS0002", Position: 5, Attributes: o2.GetAttributes()},
			}})
	}
	change := &marketv1.ProductStateChanged{Envelope: env("doc-chg-1", now), Asin: "B0DOCS0001", Marketplace: "amazon.com", Version: 12,
		Changes: []marketv1.ProductChangeKind{marketv1.ProductChangeKind_PRODUCT_CHANGE_KIND_PRICE},
		Before:  &marketv1.ProductAttributes{Title: ptr("Docs Cable"), Price: money(1999)},
		After: &marketv1.ProductAttributes{Title: ptr("Docs Cable"), Brand: ptr("Anker"), Price: money(1499), Rating: ptr(4.5), ReviewCount: ptr[int64](900),
			Prime: ptr(true)},
		ObservationCount: 12, ReviewVelocityPerDay: ptr(14.5)}
	add("product_changes", change)
	add("product_latest", change)
	stats := &marketv1.KeywordWindowStats{CompetitorCount: 2, Currency: "USD", PriceMedianMinor: ptr(1999.0), RatingMean: ptr(4.5), PrimeShare: ptr(0.5), SponsoredShare: ptr(0.25),
		ShareOfVoice: []*marketv1.BrandShare{{Brand: "Anker", Share: 0.7, Listings: 1}, {Brand: "Ugreen", Share: 0.3, Listings: 1}},
		NewEntrants:  []string{"B0DOCS0002"},
		TopBySales: []*marketv1.RankedProduct{
			{Asin: "B0DOCS0001", Title: "Docs Cable", Brand: "Anker", Sales: &marketv1.SalesEstimate{Units: 1000, Low: 1000, High: 1999}},
			{Asin: "B0DOCS0002", Title: "Other Cable", Brand: "Ugreen", Sales: &marketv1.SalesEstimate{Units: 300, Low: 200, High: 450}},
		}}
	add("keyword_windows", &marketv1.KeywordWindowUpdated{Envelope: env("doc-win-1", now), Keyword: "usb c cable", Marketplace: "amazon.com", Version: 4, Final: true, ClosedBy: "watermark",
		Window: &marketv1.Window{Kind: marketv1.WindowKind_WINDOW_KIND_TUMBLING, SizeSeconds: 3600, Start: timestamppb.New(hour.Add(-time.Hour)), End: timestamppb.New(hour)}, Stats: stats})
	add("keyword_windows", &marketv1.KeywordWindowUpdated{Envelope: env("doc-win-2", now), Keyword: "usb c cable", Marketplace: "amazon.com", Version: 9,
		Window: &marketv1.Window{Kind: marketv1.WindowKind_WINDOW_KIND_SLIDING, SizeSeconds: 86400, StepSeconds: 60, Start: timestamppb.New(now.Truncate(time.Minute).Add(-24 * time.Hour)), End: timestamppb.New(now.Truncate(time.Minute))}, Stats: stats})
	add("anomalies", &marketv1.AnomalyDetected{Envelope: env("doc-an-ev", now), AnomalyId: "doc-an-1", Asin: "B0DOCS0001", Keyword: "usb c cable", Marketplace: "amazon.com",
		Kind: marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP, Severity: marketv1.Severity_SEVERITY_WARNING, Score: 5, Observed: 1499, Title: "Docs Cable",
		Explanation: "Price fell 25% below its usual $19.99."})
	for i, st := range []marketv1.ScrapeStatus{marketv1.ScrapeStatus_SCRAPE_STATUS_QUEUED, marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING, marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED} {
		add("scrape_jobs", &marketv1.ScrapeStatusChanged{Envelope: env("doc-st-"+itoa(i), now.Add(time.Duration(i)*time.Second)), JobId: "doc-job-1", Status: st, PagesDone: int32(i), PagesTotal: 2, Keyword: "usb c cable"})
	}
	add("notification_deliveries", &marketv1.NotificationDelivered{Envelope: env("doc-del-1", now), NotificationId: "doc-n-1", SubscriptionId: "doc-s-1",
		Status: marketv1.DeliveryStatus_DELIVERY_STATUS_DELIVERED, Attempt: 1, HttpStatus: 200, LatencyMs: 35})
	add("analyses", &marketv1.AnalysisEvent{Envelope: env("doc-ae-1", now), AnalysisId: "doc-a-1", Event: &marketv1.AnalysisEvent_Completed{
		Completed: &marketv1.AnalysisCompleted{Keyword: "usb c cable", Summary: stats, DurationMs: 8200}}})
	add("user_actions", &marketv1.UserAction{Envelope: env("doc-ua-1", now), UserId: "doc-u-1", Kind: marketv1.UserActionKind_USER_ACTION_KIND_REPORT_VIEWED,
		Keyword: "usb c cable", Params: map[string]string{"sort": "sales"}, Status: 200})
	return out
}

// docQueries returns the SQL blocks of docs/sql.md with their headings.
func docQueries(t *testing.T) (doc string, queries map[string]string) {
	t.Helper()
	b, err := os.ReadFile(sqlDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc = string(b)
	queries = map[string]string{}
	re := regexp.MustCompile("(?s)### ([^\n]+)\n\n```sql\n(.*?)```")
	for _, m := range re.FindAllStringSubmatch(doc, -1) {
		queries[m[1]] = m[2]
	}
	return doc, queries
}

func TestSQLDocQueriesRunAndReturnRows(t *testing.T) {
	_, queries := docQueries(t)
	if len(queries) < 12 {
		t.Fatalf("docs/sql.md has %d queries, want at least 12", len(queries))
	}
	ch := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if _, err := Migrate(ctx, ch.Conn); err != nil {
		t.Fatal(err)
	}
	for table, evs := range docSample(time.Now()) {
		tb, ok := LookupTable(table)
		if !ok {
			t.Fatalf("no table %s", table)
		}
		var rows [][]any
		for _, ev := range evs {
			rs, err := tb.Rows(ev, time.Now().UTC().Truncate(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, rs...)
		}
		if err := NewSink(ch.Conn, tb).Write(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}
	for heading, q := range queries {
		t.Run(heading, func(t *testing.T) {
			rows, err := ch.Conn.Query(ctx, q)
			if err != nil {
				t.Fatalf("query fails: %v\n%s", err, q)
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				n++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Errorf("query returns no rows on the sample data:\n%s", q)
			}
		})
	}
}

func TestSQLDocDescribesEveryColumn(t *testing.T) {
	doc, _ := docQueries(t)
	for _, tb := range Tables() {
		start := strings.Index(doc, "### "+tb.Name+"\n")
		if start < 0 {
			t.Errorf("docs/sql.md has no section ### %s", tb.Name)
			continue
		}
		section := doc[start+4:]
		if end := strings.Index(section, "\n### "); end >= 0 {
			section = section[:end]
		}
		for _, col := range tb.Columns {
			if !regexp.MustCompile(`(^|[|,] ?)`+col+`( ?[|,])`).MatchString(section) && !strings.Contains(section, "| "+col+" |") {
				t.Errorf("docs/sql.md, section %s: column %s is not described", tb.Name, col)
			}
		}
	}
}
