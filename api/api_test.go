package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/ClickHouse/clickhouse-go/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/api"
	"github.com/marketinsightspro/marketinsights/api/apitest"
	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	"github.com/marketinsightspro/marketinsights/internal/spool"
	"github.com/marketinsightspro/marketinsights/internal/testenv"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

const (
	kw     = "water bottle"
	apiKey = "test-key-0123456789"
)

// payload is a title holding HTML and script: it must come back as the same text.
const payload = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>Evil & Co`

// items are the fixture's listings, in page order (position 1 first).
var items = []apitest.Item{
	{ASIN: "B0A", Title: "Steel Bottle 1L", Brand: "Acme", Category: "Sports", Price: 1999, Rating: 4.5, Reviews: 120, Prime: true, Bought: 300},
	{ASIN: "B0B", Title: "Glass Bottle", Brand: "Vitra", Category: "Kitchen", Price: 2999, Rating: 3.9, Reviews: 15, Prime: false, Bought: 50},
	{ASIN: "B0C", Title: "Kids Bottle", Brand: "Acme", Category: "Sports", Price: 999, Rating: 4.8, Reviews: 900, Prime: true, Bought: 1000},
	{ASIN: "B0D", Title: payload, Brand: "Evil", Category: "Kitchen", Price: 1499, Rating: 2.5, Reviews: 3, Prime: false, Bought: 100},
	{ASIN: "B0E", Title: "Insulated Steel Flask", Brand: "Thermo", Category: "Sports", Price: 3499, Rating: 4.1, Reviews: 450, Prime: true, Bought: 200},
	{ASIN: "B0F", Title: "No Price Bottle", Brand: "Misc", Category: "Kitchen", Rating: 3.0, Reviews: 40, Prime: false},
}

// fill writes the fixture: a search page, windows, anomalies, product changes and observations.
func fill(e *apitest.Env) {
	t0 := apitest.T0
	e.Write(apitest.SearchPage(kw, t0, items...))
	e.Write(apitest.SearchPage("yoga mat", t0, apitest.Item{ASIN: "Y01", Title: "Mat", Price: 2500, Rating: 4, Reviews: 10, Bought: 50}))
	for i, end := range []time.Time{t0.Add(-time.Hour), t0} {
		e.Write(apitest.WindowUpdate(kw, marketv1.WindowKind_WINDOW_KIND_TUMBLING, time.Hour, end, int64(i+1), int32(5+i), 1999))
	}
	e.Write(apitest.WindowUpdate(kw, marketv1.WindowKind_WINDOW_KIND_SLIDING, time.Hour, t0, 3, 6, 2099))
	e.Write(apitest.AnomalyOf("a1", "B0A", kw, marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP, marketv1.Severity_SEVERITY_WARNING, t0.Add(-2*time.Minute)),
		apitest.AnomalyOf("a2", "B0C", kw, marketv1.AnomalyKind_ANOMALY_KIND_REVIEW_SPIKE, marketv1.Severity_SEVERITY_INFO, t0.Add(-time.Minute)),
		apitest.AnomalyOf("a3", "Y01", "yoga mat", marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP, marketv1.Severity_SEVERITY_CRITICAL, t0))
	e.Write(apitest.ProductChange("B0A", 3, t0, "Steel Bottle 1L", 1999, 1500))
	for i := range 5 {
		e.Write(apitest.Observation("B0A", t0.Add(time.Duration(i-5)*time.Hour), int64(2199-50*i), int64(1800-60*i), int64(100+5*i)))
	}
}

func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, b)
	}
	return v
}

func asins(r api.Report) []string {
	var out []string
	for _, it := range r.Items {
		out = append(out, it.ASIN)
	}
	return out
}

func TestAPI(t *testing.T) {
	e := apitest.New(t, apitest.Options{ClickHouse: true, Kafka: true})
	fill(e)
	srv, hs := e.Server(api.Options{APIKey: apiKey})
	base := hs.URL + "/api/v1"
	report := base + "/keywords/" + url.PathEscape(kw) + "/report"

	t.Run("keywords", func(t *testing.T) {
		_, b := call(t, "GET", base+"/keywords", "")
		list := decode[api.KeywordList](t, b)
		if len(list.Keywords) != 2 || list.Keywords[0].Keyword != kw || list.Keywords[0].Products != 6 || list.Keywords[0].Window == nil ||
			list.Keywords[0].Window.Series != "sliding:1h" {
			t.Fatalf("keywords %s", b)
		}
		_, b = call(t, "GET", base+"/keywords?q=YOGA", "")
		if list := decode[api.KeywordList](t, b); len(list.Keywords) != 1 || list.Keywords[0].Keyword != "yoga mat" {
			t.Fatalf("search: %s", b)
		}
	})

	t.Run("sorts", func(t *testing.T) {
		cases := []struct {
			query string
			want  []string
		}{
			{"sort=sales", []string{"B0C", "B0A", "B0E", "B0D", "B0B", "B0F"}},
			{"sort=sales&order=asc", []string{"B0B", "B0D", "B0E", "B0A", "B0C", "B0F"}},
			{"sort=rating", []string{"B0C", "B0A", "B0E", "B0B", "B0F", "B0D"}},
			{"sort=price", []string{"B0C", "B0D", "B0A", "B0B", "B0E", "B0F"}},
			{"sort=price&order=desc", []string{"B0E", "B0B", "B0A", "B0D", "B0C", "B0F"}},
			{"sort=reviews", []string{"B0C", "B0E", "B0A", "B0F", "B0B", "B0D"}},
			{"sort=position", []string{"B0A", "B0B", "B0C", "B0D", "B0E", "B0F"}},
		}
		for _, tc := range cases {
			_, b := call(t, "GET", report+"?"+tc.query, "")
			if got := asins(decode[api.Report](t, b)); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
			}
		}
	})

	t.Run("filters and pages", func(t *testing.T) {
		cases := []struct {
			query string
			want  []string
		}{
			{"sort=price&price_min=1000&price_max=2000", []string{"B0D", "B0A"}},
			{"sort=position&prime=true", []string{"B0A", "B0C", "B0E"}},
			{"sort=position&prime=false", []string{"B0B", "B0D", "B0F"}},
			{"sort=position&min_rating=4.2", []string{"B0A", "B0C"}},
			{"sort=position&category=Kitchen", []string{"B0B", "B0D", "B0F"}},
			{"sort=position&category=Kitchen&category=Sports", []string{"B0A", "B0B", "B0C", "B0D", "B0E", "B0F"}},
			{"sort=position&q=steel", []string{"B0A", "B0E"}},
		}
		for _, tc := range cases {
			_, b := call(t, "GET", report+"?"+tc.query, "")
			r := decode[api.Report](t, b)
			if got := asins(r); !slices.Equal(got, tc.want) || r.Matched != len(tc.want) || r.Total != 6 {
				t.Errorf("%s: %v (matched %d of %d), want %v", tc.query, got, r.Matched, r.Total, tc.want)
			}
		}
		var got []string
		next := report + "?sort=rating&limit=4"
		for range 3 {
			_, b := call(t, "GET", next, "")
			r := decode[api.Report](t, b)
			got = append(got, asins(r)...)
			if r.NextCursor == "" {
				break
			}
			next = report + "?sort=rating&limit=4&cursor=" + r.NextCursor
		}
		if want := []string{"B0C", "B0A", "B0E", "B0B", "B0F", "B0D"}; !slices.Equal(got, want) {
			t.Errorf("pages %v, want %v", got, want)
		}
	})

	t.Run("untrusted title comes back as the same text", func(t *testing.T) {
		_, b := call(t, "GET", report+"?q=Evil", "")
		r := decode[api.Report](t, b)
		if len(r.Items) != 1 || *r.Items[0].Title != payload {
			t.Fatalf("items %s", b)
		}
	})

	t.Run("bad parameters", func(t *testing.T) {
		cases := []struct{ url, param, allowed string }{
			{report + "?sort=title", "sort", "sales, rating, price, reviews, position"},
			{report + "?colour=red", "colour", "sort, order"},
			{report + "?limit=9999", "limit", "from 1 to 500"},
			{base + "/anomalies?kind=fire", "kind", "price_drop"},
			{base + "/anomalies?severity=loud", "severity", "info, warning, critical"},
			{base + "/keywords/" + url.PathEscape(kw) + "/windows/history?series=tumbling:2h", "series", "tumbling:1h"},
			{base + "/products/B0A?since=yesterday", "since", "RFC 3339"},
			{base + "/products/" + url.PathEscape("<b>"), "asin", "letters and digits"},
		}
		for _, tc := range cases {
			resp, b := call(t, "GET", tc.url, "")
			p := decode[api.Problem](t, b)
			if resp.StatusCode != 400 || p.Error != "bad_parameter" || p.Param != tc.param || !strings.Contains(p.Allowed, tc.allowed) {
				t.Errorf("%s: %d %s", tc.url, resp.StatusCode, b)
			}
		}
		if resp, _ := call(t, "GET", base+"/keywords/nothing-here/report", ""); resp.StatusCode != 404 {
			t.Errorf("unknown keyword: %d", resp.StatusCode)
		}
	})

	t.Run("validators and gzip", func(t *testing.T) {
		resp, _ := call(t, "GET", report, "", "Accept-Encoding", "gzip")
		etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		if etag == "" || lm != apitest.T0.Format(http.TimeFormat) || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("headers %v", resp.Header)
		}
		if resp, _ := call(t, "GET", report, "", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %d", resp.StatusCode)
		}
		if resp, _ := call(t, "GET", report, "", "If-Modified-Since", lm); resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-Modified-Since: %d", resp.StatusCode)
		}
		if resp, _ := call(t, "GET", report+"?sort=price", "", "If-None-Match", etag); resp.StatusCode != 200 {
			t.Errorf("other content, same etag: %d", resp.StatusCode)
		}
	})

	t.Run("windows", func(t *testing.T) {
		_, b := call(t, "GET", base+"/keywords/"+url.PathEscape(kw)+"/windows", "")
		if w := decode[api.WindowList](t, b); len(w.Windows) != 2 {
			t.Fatalf("windows %s", b)
		}
		_, b = call(t, "GET", base+"/keywords/"+url.PathEscape(kw)+"/windows/history?series=tumbling:1h&since=2026-03-01T00:00:00Z", "")
		h := decode[api.WindowHistory](t, b)
		if len(h.Windows) != 2 || !h.Windows[0].End.Equal(apitest.T0) || h.Windows[0].CompetitorCount != 6 || *h.Windows[0].PriceMedianMinor != 1999 {
			t.Fatalf("history %s", b)
		}
	})

	t.Run("product", func(t *testing.T) {
		_, b := call(t, "GET", base+"/products/B0A", "")
		p := decode[api.Product](t, b)
		if p.Source != "redis" || p.Fields["price_minor"] != "1999" || len(p.History) != 5 || *p.History[0].PriceMinor != 2199 ||
			*p.History[4].PriceMinor != 1999 || *p.History[0].Rank != 1800 || *p.History[4].Rank != 1560 {
			t.Fatalf("product %s", b)
		}
		if resp, _ := call(t, "GET", base+"/products/ZZZ", ""); resp.StatusCode != 404 {
			t.Errorf("unknown product: %d", resp.StatusCode)
		}
	})

	t.Run("anomalies", func(t *testing.T) {
		cases := []struct {
			query string
			want  []string
		}{
			{"", []string{"a3", "a2", "a1"}},
			{"?keyword=" + url.QueryEscape(kw), []string{"a2", "a1"}},
			{"?kind=price_drop", []string{"a3", "a1"}},
			{"?severity=critical", []string{"a3"}},
			{"?limit=1", []string{"a3"}},
			{"?since=" + apitest.T0.Add(-90*time.Second).Format(time.RFC3339), []string{"a3", "a2"}},
		}
		for _, tc := range cases {
			_, b := call(t, "GET", base+"/anomalies"+tc.query, "")
			var ids []string
			for _, a := range decode[api.AnomalyList](t, b).Anomalies {
				ids = append(ids, a.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("%s: %v, want %v", tc.query, ids, tc.want)
			}
		}
	})

	var analysisID string
	t.Run("analyses", func(t *testing.T) {
		body := `{"keyword":"water bottle","pages":2}`
		if resp, _ := call(t, "POST", base+"/analyses", body); resp.StatusCode != 401 {
			t.Fatalf("without key: %d", resp.StatusCode)
		}
		if resp, _ := call(t, "POST", base+"/analyses", body, "X-API-Key", "wrong"); resp.StatusCode != 401 {
			t.Fatalf("wrong key: %d", resp.StatusCode)
		}
		if resp, b := call(t, "POST", base+"/analyses", `{"keyword":"x","pages":99}`, "X-API-Key", apiKey); resp.StatusCode != 400 {
			t.Fatalf("99 pages: %d %s", resp.StatusCode, b)
		}
		if resp, b := call(t, "POST", base+"/analyses", `{"keyword":"x","colour":1}`, "X-API-Key", apiKey); resp.StatusCode != 400 {
			t.Fatalf("unknown field: %d %s", resp.StatusCode, b)
		}
		resp, b := call(t, "POST", base+"/analyses", body, "Authorization", "Bearer "+apiKey, "X-User-Id", "ana")
		if resp.StatusCode != 202 {
			t.Fatalf("start: %d %s", resp.StatusCode, b)
		}
		started := decode[api.AnalysisStarted](t, b)
		analysisID = started.ID
		_, b = call(t, "GET", hs.URL+started.StatusURL, "")
		if st := decode[api.AnalysisStatus](t, b); st.Step != "requested" || st.Keyword != kw || st.Done {
			t.Fatalf("status %s", b)
		}
		// The saga's transitions, as it writes them, move the status.
		for _, ev := range []*marketv1.AnalysisEvent{
			{AnalysisId: started.ID, Event: &marketv1.AnalysisEvent_StepChanged{StepChanged: &marketv1.AnalysisStepChanged{Step: marketv1.AnalysisStep_ANALYSIS_STEP_SCRAPING, Progress: 0.5}}},
			{AnalysisId: started.ID, Event: &marketv1.AnalysisEvent_Completed{Completed: &marketv1.AnalysisCompleted{Keyword: kw,
				Summary: &marketv1.KeywordWindowStats{CompetitorCount: 6}}}},
		} {
			ev.Envelope = apitest.Envelope(time.Now())
			produce(t, e, topics.AnalysisEvents, started.ID, ev)
		}
		waitFor(t, "the analysis completes", func() bool {
			_, b := call(t, "GET", hs.URL+started.StatusURL, "")
			st := decode[api.AnalysisStatus](t, b)
			return st.Done && st.Step == "completed" && st.Progress == 1 && strings.Contains(string(st.Summary), `"competitor_count":6`)
		})
		if resp, _ := call(t, "GET", base+"/analyses/0190c7a6-0000-7000-8000-000000000000", ""); resp.StatusCode != 404 {
			t.Errorf("unknown analysis: %d", resp.StatusCode)
		}
	})

	t.Run("subscriptions", func(t *testing.T) {
		create := func(user, body string) string {
			t.Helper()
			resp, b := call(t, "POST", base+"/subscriptions", body, "X-API-Key", apiKey, "X-User-Id", user)
			if resp.StatusCode != 201 {
				t.Fatalf("create: %d %s", resp.StatusCode, b)
			}
			return decode[api.SubscriptionChange](t, b).ID
		}
		id := create("alice", `{"keyword":"water bottle","min_severity":"warning","kinds":["price_drop"]}`)
		hook := create("alice", `{"asin":"B0A","channel":"webhook","webhook_url":"https://hooks.example.com/x"}`)
		bobs := create("bob", `{"keyword":"yoga mat","analyses":true}`)
		if resp, b := call(t, "POST", base+"/subscriptions", `{"keyword":"a","asin":"B0A"}`, "X-API-Key", apiKey); resp.StatusCode != 400 {
			t.Fatalf("both: %d %s", resp.StatusCode, b)
		}
		// The read model is the projection of the topic: project what the POSTs wrote.
		project := func(n int) {
			t.Helper()
			recs := consume(t, e, topics.Subscriptions, n)
			for _, m := range recs[len(recs)-1:] {
				e.Write(m.(proto.Message))
			}
			for _, m := range recs[:len(recs)-1] {
				e.Write(m.(proto.Message)) // again, out of order: the guards make it a no-op
			}
		}
		project(3)
		list := func(user string) []string {
			t.Helper()
			resp, b := call(t, "GET", base+"/subscriptions", "", "X-API-Key", apiKey, "X-User-Id", user)
			if resp.StatusCode != 200 {
				t.Fatalf("list of %s: %d %s", user, resp.StatusCode, b)
			}
			l := decode[api.SubscriptionList](t, b)
			var ids []string
			for _, s := range l.Subscriptions {
				ids = append(ids, s.ID)
			}
			slices.Sort(ids)
			return ids
		}
		sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
		cases := []struct {
			user string
			want []string
		}{
			{"alice", sorted(id, hook)},
			{"bob", []string{bobs}},
			{"carol", nil},
		}
		for _, tc := range cases {
			if got := list(tc.user); !slices.Equal(got, tc.want) {
				t.Errorf("%s lists %v, want %v", tc.user, got, tc.want)
			}
		}
		_, b := call(t, "GET", base+"/subscriptions?limit=1", "", "X-API-Key", apiKey, "X-User-Id", "bob")
		if l := decode[api.SubscriptionList](t, b); len(l.Subscriptions) != 1 || l.UserID != "bob" || !l.Subscriptions[0].Analyses ||
			l.Subscriptions[0].Keyword != "yoga mat" || l.Subscriptions[0].Channel != "in_app" || l.Subscriptions[0].MinSeverity != "info" {
			t.Errorf("bob's list: %s", b)
		}
		if resp, b := call(t, "GET", base+"/subscriptions", ""); resp.StatusCode != 401 {
			t.Errorf("without the key: %d %s", resp.StatusCode, b)
		}
		if resp, b := call(t, "GET", base+"/subscriptions?user=bob", "", "X-API-Key", apiKey); resp.StatusCode != 400 {
			t.Errorf("unknown parameter: %d %s", resp.StatusCode, b)
		}

		if resp, b := call(t, "DELETE", base+"/subscriptions/"+id, "", "X-API-Key", apiKey, "X-User-Id", "alice"); resp.StatusCode != 200 {
			t.Fatalf("delete: %d %s", resp.StatusCode, b)
		}
		// Records of different subscriptions may sit on different partitions: compare as a set.
		var acts []string
		for _, m := range consume(t, e, topics.Subscriptions, 4) {
			sc := m.(*marketv1.SubscriptionChanged)
			acts = append(acts, sc.GetAction().String()+" "+sc.GetSubscription().GetSubscriptionId())
		}
		up, del := marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_UPSERTED.String(), marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_DELETED.String()
		if want := sorted(up+" "+id, up+" "+hook, up+" "+bobs, del+" "+id); !slices.Equal(sorted(acts...), want) {
			t.Errorf("records %v, want %v", acts, want)
		}
		project(4)
		if got := list("alice"); !slices.Equal(got, []string{hook}) {
			t.Errorf("after the deletion alice lists %v, want [%s]", got, hook)
		}
	})

	t.Run("admin", func(t *testing.T) {
		if resp, _ := call(t, "GET", base+"/admin/cache", ""); resp.StatusCode != 401 {
			t.Fatalf("without key: %d", resp.StatusCode)
		}
		_, b := call(t, "GET", base+"/admin/cache", "", "X-API-Key", apiKey)
		rep := decode[api.CacheReport](t, b)
		if len(rep.Caches) != 7 || rep.Caches[0].Name != "report" || rep.Caches[0].Hits == 0 {
			t.Fatalf("cache report %s", b)
		}
		_, b = call(t, "POST", base+"/admin/cache/invalidate", `{"cache":"report","key":"water bottle"}`, "X-API-Key", apiKey)
		if decode[api.Invalidated](t, b).Dropped != 1 {
			t.Fatalf("invalidate: %s", b)
		}
		if resp, b := call(t, "POST", base+"/admin/cache/invalidate", `{"cache":"nope"}`, "X-API-Key", apiKey); resp.StatusCode != 400 || !strings.Contains(string(b), "report, keywords") {
			t.Fatalf("bad cache: %d %s", resp.StatusCode, b)
		}
		_, b = call(t, "POST", base+"/admin/cache/invalidate", "", "X-API-Key", apiKey)
		if decode[api.Invalidated](t, b).Dropped == 0 {
			t.Fatalf("invalidate all: %s", b)
		}
	})

	t.Run("health, readiness, metrics, document", func(t *testing.T) {
		call(t, "GET", hs.URL+"/healthz", "")
		if resp, b := call(t, "GET", hs.URL+"/readyz", ""); resp.StatusCode != 200 {
			t.Fatalf("readyz %d %s", resp.StatusCode, b)
		}
		resp := apitest.Get(t, hs.URL+"/metrics")
		resp.Body.Close()
		if resp.StatusCode != 200 || testutil.ToFloat64(srv.Metrics().Requests.WithLabelValues("/api/v1/keywords/{keyword}/report", "GET", "200")) == 0 {
			t.Fatalf("metrics: %d", resp.StatusCode)
		}
		_, b := call(t, "GET", base+"/openapi.json", "")
		if !strings.Contains(string(b), `"openapi": "3.1.0"`) {
			t.Fatal("document not served")
		}
	})

	t.Run("user actions", func(t *testing.T) {
		kinds := map[marketv1.UserActionKind]int{}
		var sawAnalysis, sawParams bool
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) && (kinds[marketv1.UserActionKind_USER_ACTION_KIND_CACHE_INVALIDATED] < 2 || !sawAnalysis) {
			kinds = map[marketv1.UserActionKind]int{}
			for _, m := range consumeAll(t, e, topics.UserActions) {
				ua := m.(*marketv1.UserAction)
				kinds[ua.GetKind()]++
				if ua.GetKind() == marketv1.UserActionKind_USER_ACTION_KIND_ANALYSIS_STARTED && ua.GetAnalysisId() == analysisID && ua.GetUserId() == "ana" && ua.GetStatus() == 202 {
					sawAnalysis = true
				}
				if ua.GetKind() == marketv1.UserActionKind_USER_ACTION_KIND_REPORT_VIEWED && ua.GetParams()["sort"] == "price" && ua.GetRoute() == "/api/v1/keywords/{keyword}/report" {
					sawParams = true
				}
			}
		}
		for _, k := range []marketv1.UserActionKind{marketv1.UserActionKind_USER_ACTION_KIND_KEYWORD_SEARCHED, marketv1.UserActionKind_USER_ACTION_KIND_REPORT_VIEWED,
			marketv1.UserActionKind_USER_ACTION_KIND_PRODUCT_VIEWED, marketv1.UserActionKind_USER_ACTION_KIND_ANALYSIS_STARTED,
			marketv1.UserActionKind_USER_ACTION_KIND_SUBSCRIPTION_CHANGED, marketv1.UserActionKind_USER_ACTION_KIND_CACHE_INVALIDATED} {
			if kinds[k] == 0 {
				t.Errorf("no %v written (%v)", k, kinds)
			}
		}
		if !sawAnalysis || !sawParams {
			t.Errorf("analysis action %v, report params %v", sawAnalysis, sawParams)
		}
	})
}

func TestRateLimitAndCORS(t *testing.T) {
	e := apitest.New(t, apitest.Options{})
	fill(e)
	_, hs := e.Server(api.Options{RateLimit: 1, RateBurst: 3, CORSOrigins: []string{"https://allowed.example"}})
	url := hs.URL + "/api/v1/keywords"
	codes := []int{}
	for range 5 {
		resp, _ := call(t, "GET", url, "")
		codes = append(codes, resp.StatusCode)
	}
	if !slices.Equal(codes, []int{200, 200, 200, 429, 429}) {
		t.Fatalf("codes %v", codes)
	}
	resp := apitest.Get(t, hs.URL+"/healthz", "Origin", "https://allowed.example")
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz is outside the rate limit: %d", resp.StatusCode)
	}
	time.Sleep(1100 * time.Millisecond)
	resp = apitest.Get(t, url, "Origin", "https://allowed.example")
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://allowed.example" {
		t.Errorf("allowed origin: %v", resp.Header)
	}
	time.Sleep(1100 * time.Millisecond)
	resp = apitest.Get(t, url, "Origin", "https://evil.example")
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin allowed: %v", resp.Header)
	}
}

func TestCacheWarmingAndInvalidation(t *testing.T) {
	e := apitest.New(t, apitest.Options{})
	fill(e)
	first, hs := e.Server(api.Options{})
	for range 3 {
		call(t, "GET", hs.URL+"/api/v1/keywords/"+url.PathEscape(kw)+"/report", "")
	}
	first.FlushViews(context.Background())

	srv, hs2 := e.Server(api.Options{WarmKeywords: 10})
	report := hs2.URL + "/api/v1/keywords/" + url.PathEscape(kw) + "/report"
	for _, sort := range api.SortKeys {
		call(t, "GET", report+"?sort="+sort, "")
	}
	hit := testutil.ToFloat64(srv.Metrics().Cache.WithLabelValues("report", "l1", "hit"))
	miss := testutil.ToFloat64(srv.Metrics().Cache.WithLabelValues("report", "l1", "miss"))
	t.Logf("report L1 after warming: %v hits, %v misses (hit ratio %.2f)", hit, miss, hit/(hit+miss))
	if hit != 5 || miss != 0 {
		t.Fatalf("after warming: %v hits, %v misses; want every lookup a hit", hit, miss)
	}
	// The same query of the same snapshot is encoded once: served again, plain or gzipped,
	// it is the same body with the same ETag.
	rendered := func(result string) float64 {
		return testutil.ToFloat64(srv.Metrics().Cache.WithLabelValues("report_response", "l1", result))
	}
	hitsBefore := rendered("hit")
	resp1, b1 := call(t, "GET", report+"?sort=price", "")
	resp2, b2 := call(t, "GET", report+"?sort=price", "", "Accept-Encoding", "gzip") // call decompresses it
	if rendered("hit") != hitsBefore+2 || resp2.Header.Get("Content-Encoding") != "gzip" || string(b1) != string(b2) || resp1.Header.Get("ETag") != resp2.Header.Get("ETag") {
		t.Fatalf("a report served again: %v hits (want %v), same body %v, ETags %q and %q",
			rendered("hit"), hitsBefore+2, string(b1) == string(b2), resp1.Header.Get("ETag"), resp2.Header.Get("ETag"))
	}

	// A WebSocket client following the keyword sees the change.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs2.URL, "http")+"/api/v1/ws?keyword="+url.QueryEscape(kw), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	readEvent := func() api.Event {
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("read the WebSocket: %v", err)
		}
		return decode[api.Event](t, b)
	}
	if ev := readEvent(); ev.Kind != api.KindHello {
		t.Fatalf("first event %+v", ev)
	}

	// A new page adds a product: the change message invalidates the cached report.
	e.Write(apitest.SearchPage(kw, apitest.T0.Add(time.Minute), append([]apitest.Item{{ASIN: "B0NEW", Title: "New Bottle", Price: 100, Bought: 5000}}, items...)...))
	if ev := readEvent(); ev.Kind != "keyword" || ev.Keyword != kw {
		t.Fatalf("event %+v", ev)
	}
	waitFor(t, "the new product in the report", func() bool {
		_, b := call(t, "GET", report+"?sort=sales", "")
		r := decode[api.Report](t, b)
		return r.Total == 7 && r.Items[0].ASIN == "B0NEW"
	})
	if n := testutil.ToFloat64(srv.Metrics().Invalidations.WithLabelValues("report")); n < 1 {
		t.Errorf("invalidations %v", n)
	}

	// A replay's generation switch drops every cached read: the new, empty generation has no report.
	gen, err := e.KS.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.KS.Switch(context.Background(), gen); err != nil {
		t.Fatal(err)
	}
	if ev := readEvent(); ev.Kind != "generation" {
		t.Fatalf("event %+v", ev)
	}
	waitFor(t, "the report of the empty generation", func() bool {
		resp, _ := call(t, "GET", report, "")
		return resp.StatusCode == 404
	})
}

// produce writes an event to the test's topic of a catalog topic.
func produce(t testing.TB, e *apitest.Env, catalog, key string, ev *marketv1.AnalysisEvent) {
	t.Helper()
	rec, err := topics.NewRecord(topics.MustLookup(catalog), key, ev)
	if err != nil {
		t.Fatal(err)
	}
	rec.Topic = e.Topics[catalog]
	if err := e.Producer.ProduceSync(context.Background(), rec).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// consumeAll reads what the test's topic holds now.
func consumeAll(t testing.TB, e *apitest.Env, catalog string) []any {
	t.Helper()
	cl := e.Kafka.Client(t, kgo.ConsumeTopics(e.Topics[catalog]), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out []any
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			m, err := topics.DecodeRecord(topics.MustLookup(catalog), r)
			if err != nil {
				t.Errorf("decode %s: %v", r.Topic, err)
				return
			}
			out = append(out, m)
		})
	}
	return out
}

// consume reads n records of the test's topic.
func consume(t testing.TB, e *apitest.Env, catalog string, n int) []any {
	t.Helper()
	var out []any
	waitFor(t, fmt.Sprintf("%d records on %s", n, catalog), func() bool {
		out = consumeAll(t, e, catalog)
		return len(out) >= n
	})
	return out
}

// waitFor polls cond until it holds, failing after 20 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var _ = timestamppb.Now

// TestUnreachableKafkaDoesNotHoldRequests: user actions are dropped (and counted) when the
// Kafka client cannot take them, and the reads keep answering.
func TestUnreachableKafkaDoesNotHoldRequests(t *testing.T) {
	e := apitest.New(t, apitest.Options{})
	fill(e)
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"), kgo.MaxBufferedRecords(2), kgo.RetryTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	srv, hs := e.Server(api.Options{Kafka: cl, Topics: map[string]string{}, RequestTimeout: 5 * time.Second})
	for range 20 {
		if resp, _ := call(t, "GET", hs.URL+"/api/v1/keywords/"+url.PathEscape(kw)+"/report", ""); resp.StatusCode != 200 {
			t.Fatalf("report: %d", resp.StatusCode)
		}
	}
	if n := testutil.ToFloat64(srv.Metrics().ActionsFailed); n < 18 {
		t.Errorf("%v user actions counted as failed, want at least 18 of 20", n)
	}
}

// TestUserActionsWaitInTheSpool: with a spool, the user actions of requests served while
// Kafka is stopped wait on disk (none is dropped, no request waits) and reach the topic once
// the broker is back.
func TestUserActionsWaitInTheSpool(t *testing.T) {
	e := apitest.New(t, apitest.Options{})
	fill(e)
	k := testenv.StartPrivateKafka(t)
	cl, err := kafkaclient.New(k.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const actions = "user-actions"
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 3, 1, nil, actions); err != nil {
		t.Fatal(err)
	}
	sp, err := spool.Open(cl, spool.Options{Dir: t.TempDir(), MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() }) // after the server's Run has returned (cleanups run last first)
	srv, hs := e.Server(api.Options{Kafka: cl, Spool: sp, Topics: map[string]string{topics.UserActions: actions}})

	k.Stop()
	const n = 20
	for i := range n {
		q := fmt.Sprintf("sort=price&limit=%d", i+1) // distinct actions
		if resp, _ := call(t, "GET", hs.URL+"/api/v1/keywords/"+url.PathEscape(kw)+"/report?"+q, ""); resp.StatusCode != 200 {
			t.Fatalf("report with Kafka stopped: %d", resp.StatusCode)
		}
	}
	if st := sp.Stats(); st.Appended != n || st.Dropped != 0 || testutil.ToFloat64(srv.Metrics().ActionsFailed) != 0 {
		t.Errorf("with Kafka stopped: spool %+v, failed %v", st, testutil.ToFloat64(srv.Metrics().ActionsFailed))
	}

	k.Start()
	consumer, err := kafkaclient.New(k.Config(), nil, kgo.ConsumeTopics(actions), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	limits := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(limits) < n && ctx.Err() == nil {
		consumer.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			m, err := topics.DecodeRecord(topics.MustLookup(topics.UserActions), r)
			if err != nil {
				t.Errorf("decode a user action: %v", err)
				return
			}
			ua := m.(*marketv1.UserAction)
			if ua.GetKind() == marketv1.UserActionKind_USER_ACTION_KIND_REPORT_VIEWED && ua.GetKeyword() == kw {
				limits[ua.GetParams()["limit"]] = true
			}
		})
	}
	if len(limits) != n {
		t.Fatalf("%d of the %d report views reached the topic after Kafka came back", len(limits), n)
	}
}

// TestProductWithoutHistory: with ClickHouse unreachable, a product Redis holds is served with
// its fields and a history_error instead of failing.
func TestProductWithoutHistory(t *testing.T) {
	e := apitest.New(t, apitest.Options{})
	fill(e)
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{"127.0.0.1:1"}, DialTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, hs := e.Server(api.Options{History: api.NewHistory(conn)})
	resp, b := call(t, "GET", hs.URL+"/api/v1/products/B0A", "")
	p := decode[api.Product](t, b)
	if resp.StatusCode != http.StatusOK || p.Source != api.LayerRedis || p.Fields["title"] == "" || len(p.History) != 0 || p.HistoryError == "" {
		t.Fatalf("product with ClickHouse down: %d %s", resp.StatusCode, b)
	}
}
