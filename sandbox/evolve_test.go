package sandbox_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/marketinsightspro/marketinsights/sandbox"
)

// TestDeterminism checks that the same seed and time give the same bytes, on two servers built
// independently, and that another seed gives another market.
func TestDeterminism(t *testing.T) {
	const offset = 29*time.Hour + 17*time.Minute
	a, _ := start(t, sandbox.Options{Config: sandbox.Config{Seed: 42}}, offset)
	b, _ := start(t, sandbox.Options{Config: sandbox.Config{Seed: 42}}, offset)
	c, _ := start(t, sandbox.Options{Config: sandbox.Config{Seed: 43}}, offset)
	asin := a.Server.Market().ASINs()[7]
	kw := a.Server.Market().Keywords()[3]
	paths := []string{
		searchPath(kw, 1, "", ""),
		searchPath(kw, 2, "grid", "amazon.de"),
		"/dp/" + asin,
		"/dp/" + asin + "?mp=amazon.in",
		"/_truth",
		truthPath(kw, 1, "", ""),
		"/_truth/product?asin=" + asin,
	}
	for _, p := range paths {
		ra, rb := get(t, a.URL+p), get(t, b.URL+p)
		if ra.status != http.StatusOK {
			t.Fatalf("%s: status %d", p, ra.status)
		}
		if ra.body != rb.body {
			t.Errorf("%s: two servers with seed 42 at the same time differ", p)
		}
		if again := get(t, a.URL+p); again.body != ra.body {
			t.Errorf("%s: the same server answers differently the second time", p)
		}
	}
	if get(t, a.URL+"/_truth").body == get(t, c.URL+"/_truth").body {
		t.Error("seeds 42 and 43 give the same truth")
	}
}

// TestEvolution checks the market over time: prices move, reviews never decrease, ranks drift,
// products enter and leave, and injected anomalies appear in the truth at their time with their
// effect visible on the pages.
func TestEvolution(t *testing.T) {
	r, clk := start(t, sandbox.Options{Config: sandbox.Config{Seed: 21, Products: 500, AnomaliesPerDay: 24}}, 0)
	truthAt := func(offset time.Duration) sandbox.Truth {
		var tr sandbox.Truth
		getJSON(t, r.URL+"/_truth?offset="+offset.String(), &tr)
		return tr
	}
	anomaliesAt := func(at time.Time) []sandbox.Anomaly {
		var v struct{ Anomalies []sandbox.Anomaly }
		getJSON(t, r.URL+"/_truth/anomalies?at="+at.Format(time.RFC3339), &v)
		return v.Anomalies
	}
	productAt := func(asin string, at time.Time) sandbox.ProductTruth {
		var p sandbox.ProductTruth
		getJSON(t, r.URL+"/_truth/product?asin="+asin+"&at="+at.Format(time.RFC3339), &p)
		return p
	}
	t0 := truthAt(10 * time.Hour)
	t1 := truthAt(10*time.Hour + 24*time.Hour)
	changed, rankMoved := 0, 0
	for i := range t0.Products {
		p0, p1 := t0.Products[i], t1.Products[i]
		if p0.Active && p1.Active && p0.InStock && p1.InStock && p0.Price != p1.Price {
			changed++
		}
		if len(p0.BestSellersRanks) > 0 && len(p1.BestSellersRanks) > 0 && p0.BestSellersRanks[0] != p1.BestSellersRanks[0] {
			rankMoved++
		}
	}
	if changed < len(t0.Products)/10 {
		t.Errorf("a day later %d of %d prices changed, want at least a tenth", changed, len(t0.Products))
	}
	if rankMoved < len(t0.Products)/10 {
		t.Errorf("a day later %d of %d ranks moved, want at least a tenth", rankMoved, len(t0.Products))
	}

	// Reviews never decrease; products enter and leave the catalog; prices stay positive.
	prev := truthAt(0)
	entered, left := 0, 0
	for h := 12; h <= 24*40; h += 12 {
		cur := truthAt(time.Duration(h) * time.Hour)
		for i := range cur.Products {
			a, b := prev.Products[i], cur.Products[i]
			if b.Reviews < a.Reviews && b.Active {
				t.Fatalf("%s: reviews went from %d to %d at +%dh", b.ASIN, a.Reviews, b.Reviews, h)
			}
			if b.Active && b.InStock && b.Price <= 0 {
				t.Fatalf("%s: price %d at +%dh", b.ASIN, b.Price, h)
			}
			if !a.Active && b.Active {
				entered++
			}
			if a.Active && !b.Active {
				left++
			}
		}
		prev = cur
	}
	if entered == 0 || left == 0 {
		t.Errorf("over 40 days %d products entered and %d left, want some of each", entered, left)
	}

	// Anomalies: listed from their time on, not before, with their effect.
	horizon := truthAt(5 * 24 * time.Hour)
	kinds := map[sandbox.AnomalyKind]int{}
	for _, a := range horizon.Anomalies {
		kinds[a.Kind]++
		at, err := time.Parse(time.RFC3339, a.At)
		if err != nil {
			t.Fatal(err)
		}
		if listed(anomaliesAt(at.Add(-time.Minute)), a.ID, a.Kind) {
			t.Errorf("%s %s listed a minute before its time %s", a.ID, a.Kind, a.At)
		}
		if !listed(anomaliesAt(at), a.ID, a.Kind) {
			t.Errorf("%s %s not listed at its time %s", a.ID, a.Kind, a.At)
		}
		pb, pa := productAt(a.ASIN, at.Add(-time.Minute)), productAt(a.ASIN, at)
		switch a.Kind {
		case sandbox.PriceDrop:
			if float64(pa.Price) > 0.7*float64(pb.Price) || a.Before != float64(pb.Price) || a.After != float64(pa.Price) {
				t.Errorf("%s price drop: %d -> %d (listed %v -> %v), want at least 30%%", a.ID, pb.Price, pa.Price, a.Before, a.After)
			}
		case sandbox.PriceSpike:
			if float64(pa.Price) < 1.4*float64(pb.Price) {
				t.Errorf("%s price spike: %d -> %d", a.ID, pb.Price, pa.Price)
			}
		case sandbox.ReviewSpike:
			if pa.Reviews-pb.Reviews < 40 || float64(pa.Reviews) != a.After {
				t.Errorf("%s review spike: %d -> %d (listed %v)", a.ID, pb.Reviews, pa.Reviews, a.After)
			}
		case sandbox.RatingDrop:
			if pb.Rating-pa.Rating < 0.4 {
				t.Errorf("%s rating drop: %v -> %v", a.ID, pb.Rating, pa.Rating)
			}
		case sandbox.OutOfStock:
			if !pb.InStock || pa.InStock || pa.Price != 0 || pa.Availability != "Currently unavailable." {
				t.Errorf("%s out of stock: before %+v after %+v", a.ID, pb, pa)
			}
		case sandbox.BackInStock:
			if pb.InStock || !pa.InStock || pa.Price == 0 {
				t.Errorf("%s back in stock: before in stock %v, after %v price %d", a.ID, pb.InStock, pa.InStock, pa.Price)
			}
		case sandbox.SellerJump:
			if pa.SellerCount-max(pb.SellerCount, 1) < 8 {
				t.Errorf("%s seller jump: %d -> %d", a.ID, pb.SellerCount, pa.SellerCount)
			}
		}
	}
	for _, k := range []sandbox.AnomalyKind{sandbox.PriceDrop, sandbox.PriceSpike, sandbox.ReviewSpike, sandbox.RatingDrop, sandbox.OutOfStock, sandbox.BackInStock, sandbox.SellerJump} {
		if kinds[k] == 0 {
			t.Errorf("no %s in the first five days: %v", k, kinds)
		}
	}

	// The effect shows on the pages: a price drop in the search card, a stock-out on the card and
	// on the product page.
	for _, a := range horizon.Anomalies {
		if (a.Kind != sandbox.PriceDrop && a.Kind != sandbox.OutOfStock) || len(a.Keywords) == 0 {
			continue
		}
		at, _ := time.Parse(time.RFC3339, a.At)
		clk.Set(at)
		found := false
		for pg := 1; pg < 20 && !found; pg++ {
			page := get(t, r.URL+searchPath(a.Keywords[0], pg, "", ""))
			cards := readSearch(t, page.body, 2)
			if len(cards) == 0 {
				break
			}
			for _, c := range cards {
				if c.ASIN != a.ASIN || c.Sponsored {
					continue
				}
				found = true
				switch a.Kind {
				case sandbox.PriceDrop:
					if float64(c.Price) != a.After {
						t.Errorf("%s: card price %d, anomaly says %v", a.ID, c.Price, a.After)
					}
				case sandbox.OutOfStock:
					if c.Price != 0 || c.Prime || !strings.Contains(page.body, "Currently unavailable.") {
						t.Errorf("%s: out-of-stock card %+v", a.ID, c)
					}
					dp := get(t, r.URL+"/dp/"+a.ASIN)
					if p := readProduct(t, dp.body, 2); p.Price != 0 || p.Availability != "Currently unavailable." {
						t.Errorf("%s: out-of-stock product page %+v", a.ID, p)
					}
				}
			}
		}
		if !found {
			t.Errorf("%s %s: %s not found in the results of %q", a.ID, a.Kind, a.ASIN, a.Keywords[0])
		}
	}
}

func listed(list []sandbox.Anomaly, id string, kind sandbox.AnomalyKind) bool {
	for _, a := range list {
		if a.Kind == kind && (a.ID == id) {
			return true
		}
	}
	return false
}

// TestScaledClock checks that the accelerated clock runs factor times faster than real time.
func TestScaledClock(t *testing.T) {
	c := sandbox.NewScaledClock(sandbox.DefaultEpoch, 3600)
	t0 := c.Now()
	time.Sleep(20 * time.Millisecond)
	d := c.Now().Sub(t0)
	if d < 72*time.Second || d > 2*time.Hour {
		t.Errorf("20ms real at 3600x gave %s simulated, want about 72s", d)
	}
	c.Advance(24 * time.Hour)
	if c.Now().Sub(t0) < 24*time.Hour {
		t.Error("Advance did not move the clock")
	}
	m := sandbox.NewManualClock(sandbox.DefaultEpoch)
	m.Advance(time.Hour)
	if !m.Now().Equal(sandbox.DefaultEpoch.Add(time.Hour)) {
		t.Error("manual clock did not advance")
	}
}

// TestClockRoute checks /_clock: it shows the time and advances a clock that can be advanced.
func TestClockRoute(t *testing.T) {
	r, clk := start(t, sandbox.Options{}, 0)
	resp := do(t, http.MethodPost, r.URL+"/_clock", `{"advance":"36h"}`)
	if resp.status != http.StatusOK || !clk.Now().Equal(sandbox.DefaultEpoch.Add(36*time.Hour)) {
		t.Fatalf("advance: %d %s, clock at %s", resp.status, resp.body, clk.Now())
	}
	if page := get(t, r.URL+"/"); page.header.Get("X-Sandbox-Time") != "2026-08-02T12:00:00Z" {
		t.Errorf("page time %q after advancing 36h", page.header.Get("X-Sandbox-Time"))
	}
	if resp := do(t, http.MethodPost, r.URL+"/_clock", `{"advance":"-1h"}`); resp.status != http.StatusBadRequest {
		t.Errorf("negative advance: status %d", resp.status)
	}
}

// TestHomeAndHealth checks the home page lists the keywords and /healthz answers.
func TestHomeAndHealth(t *testing.T) {
	r, _ := start(t, sandbox.Options{Config: sandbox.Config{Keywords: 6}}, 0)
	home := get(t, r.URL+"/")
	for _, k := range r.Server.Market().Keywords() {
		if !strings.Contains(home.body, k) {
			t.Errorf("home page lacks keyword %q", k)
		}
	}
	if n := len(r.Server.Market().Keywords()); n != 6 {
		t.Errorf("%d keywords, want 6", n)
	}
	if h := get(t, r.URL+"/healthz"); h.status != http.StatusOK || h.body != "ok\n" {
		t.Errorf("healthz: %d %q", h.status, h.body)
	}
	if nf := get(t, r.URL+"/dp/B000000000"); nf.status != http.StatusNotFound {
		t.Errorf("unknown ASIN: status %d", nf.status)
	}
	img := get(t, r.URL+"/images/I/61ccHPOMGDL._AC_UY218_.jpg")
	if img.status != http.StatusOK || !bytes.HasPrefix([]byte(img.body), []byte("<svg")) {
		t.Errorf("image: %d %.40q", img.status, img.body)
	}
	if img := get(t, r.URL+"/images/I/%3Cscript%3Ealert(1).jpg"); strings.Contains(img.body, "<script") {
		t.Error("the image placeholder writes the path unescaped")
	}
}
