package loadgen_test

import (
	"context"
	"testing"
	"time"

	"github.com/marketinsightspro/marketinsights/api"
	"github.com/marketinsightspro/marketinsights/api/apitest"
	"github.com/marketinsightspro/marketinsights/api/loadgen"
)

func TestUsersAt(t *testing.T) {
	d := 90 * time.Second
	cases := []struct {
		mode string
		at   time.Duration
		want int
	}{
		{loadgen.ModeRamp, 0, 1}, {loadgen.ModeRamp, 22500 * time.Millisecond, 50}, {loadgen.ModeRamp, 45 * time.Second, 100}, {loadgen.ModeRamp, 80 * time.Second, 100},
		{loadgen.ModeSpike, 10 * time.Second, 10}, {loadgen.ModeSpike, 40 * time.Second, 100}, {loadgen.ModeSpike, 70 * time.Second, 10},
		{loadgen.ModeSoak, 0, 100}, {loadgen.ModeSoak, 89 * time.Second, 100},
	}
	for _, tc := range cases {
		if got := loadgen.UsersAt(tc.mode, 100, tc.at, d); got != tc.want {
			t.Errorf("%s at %v: %d users, want %d", tc.mode, tc.at, got, tc.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.95, 95 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := loadgen.Percentile(ds, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if loadgen.Percentile(nil, 0.5) != 0 {
		t.Error("empty")
	}
}

func TestRunAgainstTheAPI(t *testing.T) {
	e := apitest.New(t, apitest.Options{})
	e.Write(apitest.SearchPage("water bottle", apitest.T0,
		apitest.Item{ASIN: "B0A", Title: "Steel", Price: 1999, Rating: 4.5, Reviews: 10, Bought: 100},
		apitest.Item{ASIN: "B0B", Title: "Glass", Price: 2999, Rating: 4, Reviews: 5, Bought: 50}))
	e.Write(apitest.ProductChange("B0A", 1, apitest.T0, "Steel", 1999, 100))
	_, hs := e.Server(api.Options{APIKey: "k"})
	res, err := loadgen.Run(context.Background(), loadgen.Config{Target: hs.URL, Users: 5, Mode: loadgen.ModeSoak, Duration: 1500 * time.Millisecond,
		ThinkMin: 5 * time.Millisecond, ThinkMax: 20 * time.Millisecond, APIKey: "k", ClosedDuration: 500 * time.Millisecond, ClosedConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v closed %+v", res, res.Closed)
	for _, step := range []string{loadgen.StepSearch, loadgen.StepReport, loadgen.StepProduct} {
		if s := res.Steps[step]; s.Requests == 0 || s.Errors != 0 {
			t.Errorf("%s: %+v (%v)", step, s, res.ErrorSamples)
		}
	}
	if res.CacheHitRatio < 0.5 || res.Closed == nil || res.Closed.API.Requests == 0 || res.Closed.Bare.Requests == 0 || res.Closed.API.Errors != 0 {
		t.Errorf("hit ratio %v, closed %+v", res.CacheHitRatio, res.Closed)
	}
}
