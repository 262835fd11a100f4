package worker

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

type fakeBreakers map[string]string

func (f fakeBreakers) BreakerStates() map[string]string { return f }

func TestBreakerCollector(t *testing.T) {
	cases := []struct {
		name   string
		states fakeBreakers
		want   string
	}{
		{"no host fetched", fakeBreakers{}, ""},
		{"each state", fakeBreakers{"a.example": "closed", "b.example": "half-open", "c.example": "open"}, `
marketinsights_scrape_breaker_state{host="a.example"} 0
marketinsights_scrape_breaker_state{host="b.example"} 1
marketinsights_scrape_breaker_state{host="c.example"} 2
`},
		{"unknown state left out", fakeBreakers{"a.example": "open", "b.example": "weird"}, `
marketinsights_scrape_breaker_state{host="a.example"} 2
`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := ""
			if tc.want != "" {
				want = "# HELP marketinsights_scrape_breaker_state Circuit breaker state of a host the scraper fetched: 0 closed, 1 half-open, 2 open.\n" +
					"# TYPE marketinsights_scrape_breaker_state gauge" + tc.want
			}
			if err := testutil.CollectAndCompare(NewBreakerCollector(tc.states), strings.NewReader(want)); err != nil {
				t.Fatal(err)
			}
		})
	}
}
