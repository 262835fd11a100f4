package market

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestQuantile(t *testing.T) {
	for _, tc := range []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{"one value", []float64{7}, 0.9, 7},
		{"median even", []float64{1, 2, 3, 4}, 0.5, 2.5},
		{"median odd", []float64{1, 2, 10}, 0.5, 2},
		{"p90 of four (numpy 3.7)", []float64{1, 2, 3, 4}, 0.9, 3.7},
		{"p90 of ten (numpy 9.1)", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9, 9.1},
		{"p0 is min", []float64{3, 5, 9}, 0, 3},
		{"p1 is max", []float64{3, 5, 9}, 1, 9},
		{"clamped below", []float64{3, 5, 9}, -1, 3},
		{"clamped above", []float64{3, 5, 9}, 2, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Quantile(tc.xs, tc.p); !near(got, tc.want) {
				t.Errorf("Quantile(%v, %v) = %v, want %v", tc.xs, tc.p, got, tc.want)
			}
		})
	}
	if !math.IsNaN(Quantile(nil, 0.5)) || !math.IsNaN(Median(nil)) || !math.IsNaN(Mean(nil)) {
		t.Error("empty input must give NaN")
	}
	if got := Mean([]float64{1, 2, 6}); got != 3 {
		t.Errorf("Mean = %v, want 3", got)
	}
}

func TestRatingBucket(t *testing.T) {
	for _, tc := range []struct {
		r    float64
		want int
	}{{0, 0}, {1, 0}, {1.99, 0}, {2, 1}, {2.9, 1}, {3, 2}, {3.99, 2}, {4, 3}, {4.49, 3}, {4.5, 4}, {5, 4}, {6, 4}} {
		if got := RatingBucket(tc.r); got != tc.want {
			t.Errorf("RatingBucket(%v) = %d, want %d", tc.r, got, tc.want)
		}
	}
}

func TestPositionWeight(t *testing.T) {
	if w := PositionWeight(1, 48); w != 1 {
		t.Errorf("#1 weighs %v, want 1", w)
	}
	if w := PositionWeight(3, 48); !near(w, 0.5) {
		t.Errorf("#3 weighs %v, want 0.5", w)
	}
	if w, want := PositionWeight(0, 48), PositionWeight(48, 48); w != want {
		t.Errorf("unknown position weighs %v, want that of #48 (%v)", w, want)
	}
	if w, want := PositionWeight(1000, 48), 1/math.Log2(1001); !near(w, want) {
		t.Errorf("#1000 weighs %v, want %v", w, want)
	}
	for p := 1; p < 300; p++ {
		if PositionWeight(p+1, 48) >= PositionWeight(p, 48) {
			t.Fatalf("weight does not fall from #%d to #%d", p, p+1)
		}
	}
}

func TestBoughtPastMonthBucket(t *testing.T) {
	for _, tc := range []struct {
		lower, lo, hi int64
		ok            bool
	}{
		{0, 0, 0, false}, {-5, 0, 0, false},
		{10, 10, 20, true}, {40, 40, 50, true},
		{50, 50, 100, true}, {100, 100, 200, true}, {200, 200, 300, true}, {900, 900, 1000, true},
		{1000, 1000, 2000, true}, {9000, 9000, 10000, true}, {10000, 10000, 20000, true},
		{50000, 50000, 60000, true}, {100000, 100000, 200000, true},
	} {
		lo, hi, ok := BoughtPastMonthBucket(tc.lower)
		if lo != tc.lo || hi != tc.hi || ok != tc.ok {
			t.Errorf("BoughtPastMonthBucket(%d) = [%d, %d) %v, want [%d, %d) %v", tc.lower, lo, hi, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}

func TestFromBoughtPastMonth(t *testing.T) {
	e, ok := FromBoughtPastMonth(1000)
	if !ok || e.Low != 1000 || e.High != 2000 || e.Method != MethodBoughtPastMonth || !near(e.Units, math.Sqrt(2e6)) {
		t.Errorf("FromBoughtPastMonth(1000) = %+v %v", e, ok)
	}
	if _, ok := FromBoughtPastMonth(0); ok {
		t.Error("a zero badge must give no estimate")
	}
}

func TestSalesModel(t *testing.T) {
	m := DefaultSalesModel()
	hk, ok := m.Law("Home & Kitchen")
	if !ok || hk.A != 450_000 {
		t.Fatalf("Law(Home & Kitchen) = %+v %v", hk, ok)
	}
	e, ok := m.FromRank(1000, "Home & Kitchen")
	want := 450_000 * math.Pow(1000, -0.8)
	if !ok || !near(e.Units, want) || !near(e.Low, want/2) || !near(e.High, want*2) || e.Method != MethodRankPowerLaw {
		t.Errorf("FromRank(1000, H&K) = %+v %v, want units %v band x2", e, ok, want)
	}
	u, ok := m.FromRank(1000, "Underwater Basket Weaving")
	if !ok || !near(u.Units, 200_000*math.Pow(1000, -0.82)) || !near(u.High/u.Units, 3) {
		t.Errorf("unknown category = %+v %v, want the default law with band 3", u, ok)
	}
	if _, ok := m.FromRank(0, "books"); ok {
		t.Error("rank 0 must give no estimate")
	}
	if e, _ := m.Estimate(200, 5, "books"); e.Method != MethodBoughtPastMonth {
		t.Errorf("a badge must win over the rank, got %+v", e)
	}
	if e, _ := m.Estimate(0, 5, "books"); e.Method != MethodRankPowerLaw {
		t.Errorf("without a badge the rank must be used, got %+v", e)
	}
	if _, ok := m.Estimate(0, 0, ""); ok {
		t.Error("nothing known must give no estimate")
	}
	for name, p := range m.Categories {
		if NormalizeCategory(name) != name || p.A <= 0 || p.B <= 0 || p.B >= 2 || p.Band < 1 || p.Source == "" {
			t.Errorf("bad table entry %q: %+v", name, p)
		}
		if p.Units(10) <= p.Units(100) {
			t.Errorf("%q: units must fall with rank", name)
		}
	}
}

func TestNormalizeCategory(t *testing.T) {
	for in, want := range map[string]string{
		"Home & Kitchen":               "home and kitchen",
		"Clothing, Shoes & Jewelry":    "clothing shoes and jewelry",
		"  Patio,  Lawn & Garden ":     "patio lawn and garden",
		"home and kitchen":             "home and kitchen",
		"Cell Phones & Accessories":    "cell phones and accessories",
		"Arts, Crafts & Sewing":        "arts crafts and sewing",
		"Électronique":                 "électronique",
		"":                             "",
		"Tools&Home Improvement":       "tools and home improvement",
		"Health & Household (See Top)": "health and household see top",
	} {
		if got := NormalizeCategory(in); got != want {
			t.Errorf("NormalizeCategory(%q) = %q, want %q", in, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = NormalizeCategory("home and kitchen") }); n != 0 {
		t.Errorf("normalising a normal name allocates %v times", n)
	}
}
