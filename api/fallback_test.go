package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/api"
	"github.com/marketinsightspro/marketinsights/api/apitest"
	"github.com/marketinsightspro/marketinsights/internal/testenv"
)

// reportSorts are the report queries the fallback is compared on: every sort key both ways.
var reportSorts = []string{"sort=sales", "sort=sales&order=asc", "sort=rating", "sort=rating&order=asc", "sort=price",
	"sort=price&order=desc", "sort=reviews", "sort=reviews&order=asc", "sort=position", "sort=position&order=desc"}

// TestReportFallsBackToClickHouse serves the report from Redis, then from ClickHouse for a
// keyword Redis does not hold, then from ClickHouse for every keyword while a private Redis is
// stopped (the same rows in the same orders as Redis gave), then from Redis again once it is
// back.
func TestReportFallsBackToClickHouse(t *testing.T) {
	priv := testenv.StartPrivateRedis(t)
	e := apitest.New(t, apitest.Options{ClickHouse: true, Redis: priv.Env(t)})
	fill(e)
	e.WriteClickHouse(apitest.SearchPage("only in clickhouse", apitest.T0, items[:3]...))
	// search_results keeps no category: the fallback takes it from the product's latest state.
	labelled := apitest.ProductChange("B0B", 1, apitest.T0, "Glass Bottle", 2999, 100)
	labelled.After.Category = proto.String("Kitchen")
	e.WriteClickHouse(labelled)
	_, hs := e.Server(api.Options{APIKey: apiKey})
	base := hs.URL + "/api/v1"
	report := func(keyword, query string) (*http.Response, api.Report) {
		t.Helper()
		resp, b := call(t, "GET", base+"/keywords/"+url.PathEscape(keyword)+"/report?"+query, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s?%s: %d %s", keyword, query, resp.StatusCode, b)
		}
		return resp, decode[api.Report](t, b)
	}
	check := func(stage, keyword, query, want string) api.Report {
		t.Helper()
		resp, r := report(keyword, query)
		if r.Source != want || resp.Header.Get(api.SourceHeader) != want {
			t.Errorf("%s: %s?%s from %q (header %q), want %s", stage, keyword, query, r.Source, resp.Header.Get(api.SourceHeader), want)
		}
		return r
	}

	fromRedis := map[string]api.Report{}
	for _, q := range reportSorts {
		fromRedis[q] = check("redis up", kw, q, api.LayerRedis)
	}
	only := check("redis up, keyword not in redis", "only in clickhouse", "sort=position", api.LayerClickHouse)
	if got := asins(only); !slices.Equal(got, []string{"B0A", "B0B", "B0C"}) {
		t.Errorf("keyword only in ClickHouse: %v", got)
	}
	if c := only.Items[1].Category; c == nil || *c != "Kitchen" || only.Items[0].Category != nil {
		t.Errorf("categories from product_latest: B0A %v, B0B %v", only.Items[0].Category, only.Items[1].Category)
	}

	priv.Stop()
	// The L1 cache still holds the Redis snapshot: empty it, as its TTL would.
	if resp, b := call(t, "POST", base+"/admin/cache/invalidate", "", "X-API-Key", apiKey); resp.StatusCode != 200 {
		t.Fatalf("invalidate: %d %s", resp.StatusCode, b)
	}
	for _, q := range reportSorts {
		r := check("redis down", kw, q, api.LayerClickHouse)
		want := fromRedis[q]
		if !slices.Equal(asins(r), asins(want)) || r.Total != want.Total || r.Matched != want.Matched {
			t.Errorf("redis down: %s: %v (%d of %d), redis gave %v (%d of %d)", q, asins(r), r.Matched, r.Total, asins(want), want.Matched, want.Total)
			continue
		}
		for i, it := range r.Items {
			w := want.Items[i]
			// What the card showed and the sort keys computed from it are the same; the
			// category comes from the product's latest state in ClickHouse, not the card.
			if !sameFloat(it.Score, w.Score) || it.Position != w.Position || it.Page != w.Page || !samePtr(it.PriceMinor, w.PriceMinor) ||
				!samePtr(it.Rating, w.Rating) || !samePtr(it.ReviewCount, w.ReviewCount) || !samePtr(it.Prime, w.Prime) ||
				!samePtr(it.Title, w.Title) || (it.Sales == nil) != (w.Sales == nil) || (it.Sales != nil && *it.Sales != *w.Sales) ||
				it.Time != w.Time || it.EventID != w.EventID {
				t.Errorf("redis down: %s: item %d %+v, redis gave %+v", q, i, it, w)
			}
		}
	}
	if resp, b := call(t, "GET", base+"/keywords/nothing%20anywhere/report", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("redis down, unknown keyword: %d %s", resp.StatusCode, b)
	}
	// Reports still come from ClickHouse: the instance stays ready, degraded.
	resp, b := call(t, "GET", hs.URL+"/readyz", "")
	ready := decode[struct {
		Ready, Degraded bool
		Checks          map[string]string
	}](t, b)
	if resp.StatusCode != http.StatusOK || !ready.Ready || !ready.Degraded || ready.Checks["redis"] == "ok" || ready.Checks["clickhouse"] != "ok" {
		t.Errorf("redis down: readyz %d %s, want 200, ready and degraded", resp.StatusCode, b)
	}

	priv.Start()
	// Once the server has resubscribed to the change channel it empties its caches.
	waitFor(t, "the report to come from Redis again", func() bool {
		_, r := report(kw, "sort=sales")
		return r.Source == api.LayerRedis
	})
}

func samePtr[T comparable](a, b *T) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func sameFloat(a, b *float64) bool { return samePtr(a, b) }
