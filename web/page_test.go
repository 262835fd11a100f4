package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/marketinsightspro/marketinsights/api"
	"github.com/marketinsightspro/marketinsights/api/apitest"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
	"github.com/marketinsightspro/marketinsights/web"
)

const kw = "water bottle"

// payload is a title holding HTML and script: the page must show it as text and run nothing.
const payload = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>Evil & Co`

var items = []apitest.Item{
	{ASIN: "B0A", Title: "Steel Bottle 1L", Brand: "Acme", Category: "Sports", Price: 1999, Rating: 4.5, Reviews: 120, Prime: true, Bought: 300},
	{ASIN: "B0B", Title: "Glass Bottle", Brand: "Vitra", Category: "Kitchen", Price: 2999, Rating: 3.9, Reviews: 15, Prime: false, Bought: 50},
	{ASIN: "B0C", Title: "Kids Bottle", Brand: "Acme", Category: "Sports", Price: 999, Rating: 4.8, Reviews: 900, Prime: true, Bought: 1000},
	{ASIN: "B0D", Title: payload, Brand: "Evil", Category: "Kitchen", Price: 1499, Rating: 2.5, Reviews: 3, Prime: false, Bought: 100},
	{ASIN: "B0E", Title: "Insulated Steel Flask", Brand: "Thermo", Category: "Sports", Price: 3499, Rating: 4.1, Reviews: 450, Prime: true, Bought: 200},
	{ASIN: "B0F", Title: "No Price Bottle", Brand: "Misc", Category: "Kitchen", Rating: 3.0, Reviews: 40, Prime: false},
}

// browser starts Debian's Chromium headless (as root it needs --no-sandbox) for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatalf("Chromium is not installed at /usr/bin/chromium: run `deploy/local/services up` (it installs it)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath("/usr/bin/chromium"), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1400),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// rowASINs reads the table's ASINs in order.
const rowASINs = `[...document.querySelectorAll("#rows tr")].map(r => r.dataset.asin)`

// waitEval polls a JavaScript expression until it is true (10 s).
func waitEval(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err != nil {
			t.Fatalf("%s: evaluate %s: %v", what, expr, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (%s)", what, expr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func asinsOf(t *testing.T, ctx context.Context) []string {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](rowASINs))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}

func TestReportPage(t *testing.T) {
	e := apitest.New(t, apitest.Options{Kafka: true})
	t0 := apitest.T0
	e.Write(apitest.SearchPage(kw, t0, items...))
	e.Write(apitest.WindowUpdate(kw, marketv1.WindowKind_WINDOW_KIND_SLIDING, time.Hour, t0, 3, 6, 2099))
	e.Write(apitest.AnomalyOf("a1", "B0A", kw, marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP, marketv1.Severity_SEVERITY_WARNING, t0))
	page, err := web.NewHandler()
	if err != nil {
		t.Fatal(err)
	}
	const key = "page-test-key"
	_, hs := e.Server(api.Options{Page: page, APIKey: key})
	ctx := browser(t)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	// The home page lists the keyword.
	if err := chromedp.Do(ctx, chromedp.Navigate(hs.URL+"/#key="+key)); err != nil {
		t.Fatal(err)
	}
	waitEval(t, ctx, "the keyword list", `document.querySelectorAll("#keywords a").length === 1 && document.querySelector("#keywords a").textContent === "water bottle"`)
	waitEval(t, ctx, "the key taken from the address", `localStorage.getItem("mip-api-key") === "page-test-key" && location.hash === ""`)
	screenshot(t, ctx, "home")

	if err := chromedp.Do(ctx, chromedp.Navigate(hs.URL+"/keywords/"+url.PathEscape(kw))); err != nil {
		t.Fatal(err)
	}
	waitEval(t, ctx, "six rows", `document.querySelectorAll("#rows tr").length === 6`)
	waitEval(t, ctx, "live connection", `document.getElementById("conn").dataset.state === "live"`)
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.__marker = "same page"`)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "report")

	t.Run("sort menu orders the table and keeps the choice in the URL", func(t *testing.T) {
		cases := []struct {
			sort, order string
			want        []string
		}{
			{"sales", "", []string{"B0C", "B0A", "B0E", "B0D", "B0B", "B0F"}},
			{"rating", "", []string{"B0C", "B0A", "B0E", "B0B", "B0F", "B0D"}},
			{"price", "", []string{"B0C", "B0D", "B0A", "B0B", "B0E", "B0F"}},
			{"price", "desc", []string{"B0E", "B0B", "B0A", "B0D", "B0C", "B0F"}},
			{"reviews", "", []string{"B0C", "B0E", "B0A", "B0F", "B0B", "B0D"}},
			{"position", "", []string{"B0A", "B0B", "B0C", "B0D", "B0E", "B0F"}},
			{"sales", "asc", []string{"B0B", "B0D", "B0E", "B0A", "B0C", "B0F"}},
		}
		for _, tc := range cases {
			js := fmt.Sprintf(`(() => { const s = document.getElementById("sort"); s.value = %q; s.dispatchEvent(new Event("change"));
				const o = document.getElementById("order"); o.value = %q; o.dispatchEvent(new Event("change")); return true })()`, tc.sort, tc.order)
			if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](js)); err != nil {
				t.Fatal(err)
			}
			if got := asinsOf(t, ctx); !slices.Equal(got, tc.want) {
				t.Errorf("sort %s %s: %v, want %v", tc.sort, tc.order, got, tc.want)
			}
			search, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search`))
			if err != nil {
				t.Fatal(err)
			}
			if tc.sort != "sales" && !strings.Contains(search, "sort="+tc.sort) || tc.order != "" && !strings.Contains(search, "order="+tc.order) {
				t.Errorf("sort %s %s: URL query %q", tc.sort, tc.order, search)
			}
		}
		// The choice survives a reload from the URL.
		if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
			t.Fatal(err)
		}
		waitEval(t, ctx, "rows after reload", `document.querySelectorAll("#rows tr").length === 6`)
		if got := asinsOf(t, ctx); !slices.Equal(got, []string{"B0B", "B0D", "B0E", "B0A", "B0C", "B0F"}) {
			t.Errorf("after reload: %v", got)
		}
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.__marker = "same page"; document.getElementById("sort").value = "position";
			document.getElementById("sort").dispatchEvent(new Event("change")); document.getElementById("order").value = "";
			document.getElementById("order").dispatchEvent(new Event("change"))`)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("filters apply live", func(t *testing.T) {
		cases := []struct {
			name, apply, undo string
			want              []string
		}{
			{"prime", `document.getElementById("prime").click()`, `document.getElementById("prime").click()`, []string{"B0A", "B0C", "B0E"}},
			{"category", `[...document.querySelectorAll("#categories input")].find(i => i.value === "Kitchen").click()`,
				`[...document.querySelectorAll("#categories input")].find(i => i.value === "Kitchen").click()`, []string{"B0B", "B0D", "B0F"}},
			{"title", `(() => { const q = document.getElementById("q"); q.value = "steel"; q.dispatchEvent(new Event("input")) })()`,
				`(() => { const q = document.getElementById("q"); q.value = ""; q.dispatchEvent(new Event("input")) })()`, []string{"B0A", "B0E"}},
			{"price slider", `(() => { const lo = document.getElementById("price-min"), hi = document.getElementById("price-max");
				lo.value = "1000"; lo.dispatchEvent(new Event("input")); hi.value = "2000"; hi.dispatchEvent(new Event("input")) })()`,
				`(() => { const lo = document.getElementById("price-min"), hi = document.getElementById("price-max");
				lo.value = lo.min; lo.dispatchEvent(new Event("input")); hi.value = hi.max; hi.dispatchEvent(new Event("input")) })()`, []string{"B0A", "B0D"}},
		}
		for _, tc := range cases {
			if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](tc.apply)); err != nil {
				t.Fatal(err)
			}
			if got := asinsOf(t, ctx); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
			if tc.name == "price slider" {
				screenshot(t, ctx, "filtered")
			}
			if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](tc.undo)); err != nil {
				t.Fatal(err)
			}
			if got := asinsOf(t, ctx); len(got) != 6 {
				t.Errorf("%s undone: %v", tc.name, got)
			}
		}
	})

	t.Run("untrusted title shows as text and runs nothing", func(t *testing.T) {
		shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#rows tr[data-asin="B0D"] .t').textContent`))
		if err != nil {
			t.Fatal(err)
		}
		pwned, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__pwned === undefined ? 0 : 1`))
		if err != nil {
			t.Fatal(err)
		}
		imgs, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#rows img, #rows script").length`))
		if err != nil {
			t.Fatal(err)
		}
		if shown != payload || pwned != 0 || imgs != 0 {
			t.Errorf("title shown %q, pwned %d, elements from the payload %d", shown, pwned, imgs)
		}
	})

	t.Run("an event changes the page without a reload", func(t *testing.T) {
		e.Write(apitest.SearchPage(kw, t0.Add(time.Minute), append([]apitest.Item{{ASIN: "B0NEW", Title: "Brand New Bottle", Category: "Sports", Price: 1299, Rating: 4.9, Bought: 5000}}, items...)...))
		waitEval(t, ctx, "the new product", `document.querySelector('#rows tr[data-asin="B0NEW"]') !== null && document.querySelectorAll("#rows tr").length === 7`)
		waitEval(t, ctx, "the same page", `window.__marker === "same page"`)
		screenshot(t, ctx, "live-update")
	})

	t.Run("an analysis shows its progress until it completes", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("analyze"))); err != nil {
			t.Fatal(err)
		}
		waitEval(t, ctx, "the analysis id", `!!document.getElementById("analyze").dataset.analysisId`)
		id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("analyze").dataset.analysisId`))
		if err != nil {
			t.Fatal(err)
		}
		// Play the saga's transitions for the analysis.
		step := func(ev *marketv1.AnalysisEvent) {
			ev.AnalysisId, ev.Envelope = id, apitest.Envelope(time.Now())
			rec, err := topics.NewRecord(topics.MustLookup(topics.AnalysisEvents), id, ev)
			if err != nil {
				t.Fatal(err)
			}
			rec.Topic = e.Topics[topics.AnalysisEvents]
			if err := e.Producer.ProduceSync(ctx, rec).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		step(&marketv1.AnalysisEvent{Event: &marketv1.AnalysisEvent_StepChanged{StepChanged: &marketv1.AnalysisStepChanged{Step: marketv1.AnalysisStep_ANALYSIS_STEP_SCRAPING, Progress: 0.45}}})
		waitEval(t, ctx, "progress at 45%", `document.getElementById("analysis-progress").value === 45 && !document.getElementById("analysis-progress").hidden`)
		screenshot(t, ctx, "analysis-progress")
		step(&marketv1.AnalysisEvent{Event: &marketv1.AnalysisEvent_Completed{Completed: &marketv1.AnalysisCompleted{Keyword: kw, Summary: &marketv1.KeywordWindowStats{CompetitorCount: 7}}}})
		waitEval(t, ctx, "the analysis completed", `document.getElementById("analysis-progress").value === 100 && document.getElementById("analysis-status").textContent === "completed"`)
	})

	t.Run("dark mode toggles and is remembered", func(t *testing.T) {
		look := func() (string, string) {
			theme, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.dataset.theme`))
			if err != nil {
				t.Fatal(err)
			}
			bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
			if err != nil {
				t.Fatal(err)
			}
			return theme, bg
		}
		before, bg1 := look()
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("theme"))); err != nil {
			t.Fatal(err)
		}
		after, bg2 := look()
		if before == after || bg1 == bg2 {
			t.Fatalf("theme %s -> %s, background %s -> %s", before, after, bg1, bg2)
		}
		screenshot(t, ctx, "report-"+after)
		if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
			t.Fatal(err)
		}
		waitEval(t, ctx, "the theme kept", fmt.Sprintf(`document.documentElement.dataset.theme === %q`, after))
	})

	t.Run("keyboard focus is visible", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`), chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
		waitEval(t, ctx, "a focused element", `document.activeElement !== document.body`)
		outline, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const s = getComputedStyle(document.activeElement);
			return document.activeElement.tagName + " " + s.outlineStyle + " " + s.outlineWidth })()`))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(outline, " solid 3px") {
			t.Errorf("focused element's outline: %q, want a solid 3px outline", outline)
		}
	})

	t.Run("on a phone the report fits the screen", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
			t.Fatal(err)
		}
		// One column: the filters above the table, the brand and Prime columns hidden, nothing wider than the screen.
		waitEval(t, ctx, "the phone layout", `getComputedStyle(document.querySelector('#rows tr td:nth-child(3)')).display === "none" &&
			document.querySelector(".filters").getBoundingClientRect().bottom <= document.getElementById("rows").getBoundingClientRect().top`)
		// The numbers stay on screen without scrolling the table.
		waitEval(t, ctx, "the sales column on screen", `document.querySelector('#rows tr td:nth-child(7)').getBoundingClientRect().right <= window.innerWidth`)
		width, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
		if err != nil {
			t.Fatal(err)
		}
		if width[0] > width[1] {
			t.Errorf("page is %d px wide on a %d px screen", width[0], width[1])
		}
		screenshot(t, ctx, "report-phone")
	})
}
