package sandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/marketinsightspro/marketinsights/sandbox"
)

func setFaults(t *testing.T, base string, f sandbox.Faults) {
	t.Helper()
	b, _ := json.Marshal(f)
	if r := do(t, http.MethodPost, base+"/_faults", string(b)); r.status != http.StatusOK {
		t.Fatalf("POST /_faults: %d %s", r.status, r.body)
	}
}

// TestFaults checks every fault mode: status codes, Retry-After, the robot-check page with
// status 200, truncated and malformed HTML, latency, path prefixes, limits, and that the control
// routes are never faulted.
func TestFaults(t *testing.T) {
	r, _ := start(t, sandbox.Options{Config: sandbox.Config{Seed: 2}}, 3*time.Hour)
	kw := r.Server.Market().Keywords()[0]
	search := r.URL + searchPath(kw, 1, "", "")
	clean := get(t, search)
	asin := readSearch(t, clean.body, 2)[0].ASIN
	dp := r.URL + "/dp/" + asin
	cleanDP := get(t, dp)

	cases := []struct {
		name  string
		rule  sandbox.FaultRule
		url   string
		check func(t *testing.T, resp response)
	}{
		{"429 with Retry-After", sandbox.FaultRule{PathPrefix: "/s", Rate429: 1, RetryAfter: 7}, search, func(t *testing.T, resp response) {
			if resp.status != http.StatusTooManyRequests || resp.header.Get("Retry-After") != "7" {
				t.Errorf("status %d Retry-After %q, want 429 and 7", resp.status, resp.header.Get("Retry-After"))
			}
		}},
		{"503", sandbox.FaultRule{Rate503: 1}, dp, func(t *testing.T, resp response) {
			if resp.status != http.StatusServiceUnavailable || !strings.Contains(resp.body, "Something went wrong") {
				t.Errorf("status %d, want 503 with the error page", resp.status)
			}
		}},
		{"robot check with status 200", sandbox.FaultRule{PathPrefix: "/s", RobotRate: 1}, search, func(t *testing.T, resp response) {
			if resp.status != http.StatusOK || !strings.Contains(resp.body, "Enter the characters you see below") ||
				!strings.Contains(resp.body, `action="/errors/validateCaptcha"`) || !strings.Contains(resp.body, `id="captchacharacters"`) {
				t.Errorf("status %d, want 200 with the robot-check markup:\n%.300s", resp.status, resp.body)
			}
			if n := len(readSearch(t, resp.body, 2)); n != 0 {
				t.Errorf("robot page has %d result cards", n)
			}
		}},
		{"truncated", sandbox.FaultRule{PathPrefix: "/s", TruncateRate: 1}, search, func(t *testing.T, resp response) {
			if resp.status != http.StatusOK || len(resp.body) >= len(clean.body)*9/10 || !strings.HasPrefix(clean.body, resp.body) || strings.Contains(resp.body, "</html>") {
				t.Errorf("status %d, %d of %d bytes, want a prefix of the page without its end", resp.status, len(resp.body), len(clean.body))
			}
		}},
		{"truncated product page", sandbox.FaultRule{PathPrefix: "/dp/", TruncateRate: 1}, dp, func(t *testing.T, resp response) {
			if resp.status != http.StatusOK || len(resp.body) >= len(cleanDP.body) || !strings.HasPrefix(cleanDP.body, resp.body) {
				t.Errorf("status %d, %d of %d bytes", resp.status, len(resp.body), len(cleanDP.body))
			}
		}},
		{"malformed", sandbox.FaultRule{PathPrefix: "/s", MalformedRate: 1}, search, func(t *testing.T, resp response) {
			if resp.status != http.StatusOK || resp.body == clean.body {
				t.Fatalf("status %d, body unchanged: %v", resp.status, resp.body == clean.body)
			}
			if strings.Count(resp.body, "</div>") >= strings.Count(clean.body, "</div>") {
				t.Error("no closing tag dropped")
			}
			if !strings.Contains(resp.body, `<div class="s-widget-container>`) {
				t.Error("no unclosed attribute")
			}
			// Every ASIN is still in the source, though the cards nest wrongly.
			for _, c := range readSearch(t, clean.body, 2) {
				if !strings.Contains(resp.body, `data-asin="`+c.ASIN+`"`) {
					t.Errorf("%s lost", c.ASIN)
				}
			}
		}},
		{"latency", sandbox.FaultRule{PathPrefix: "/dp/", Latency: sandbox.Duration(150 * time.Millisecond)}, dp, func(t *testing.T, resp response) {
			if resp.status != http.StatusOK || resp.body != cleanDP.body {
				t.Errorf("status %d, body changed", resp.status)
			}
		}},
		{"other prefix untouched", sandbox.FaultRule{PathPrefix: "/dp/", Rate503: 1}, search, func(t *testing.T, resp response) {
			if resp.status != http.StatusOK || resp.body != clean.body {
				t.Errorf("status %d", resp.status)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			setFaults(t, r.URL, sandbox.Faults{Rules: []sandbox.FaultRule{c.rule}})
			t0 := time.Now()
			resp := get(t, c.url)
			if c.rule.Latency > 0 && time.Since(t0) < time.Duration(c.rule.Latency) {
				t.Errorf("answered in %s, want at least %s", time.Since(t0), time.Duration(c.rule.Latency))
			}
			c.check(t, resp)
			// The control routes are never faulted.
			for _, p := range []string{"/healthz", "/_faults", truthPath(kw, 1, "", "")} {
				if cr := get(t, r.URL+p); cr.status != http.StatusOK {
					t.Errorf("%s: status %d under faults", p, cr.status)
				}
			}
		})
	}

	t.Run("limit, then clean", func(t *testing.T) {
		setFaults(t, r.URL, sandbox.Faults{Rules: []sandbox.FaultRule{{Rate503: 1, Limit: 2}}})
		var got []int
		for i := 0; i < 4; i++ {
			got = append(got, get(t, dp).status)
		}
		if got[0] != 503 || got[1] != 503 || got[2] != 200 || got[3] != 200 {
			t.Errorf("statuses %v, want [503 503 200 200]", got)
		}
		var st sandbox.FaultStatus
		getJSON(t, r.URL+"/_faults", &st)
		if len(st.Rules) != 1 || st.Rules[0].Injected != 2 || st.Rules[0].Matched != 4 {
			t.Errorf("status %+v, want 2 injected of 4 matched", st)
		}
	})

	t.Run("rates are drawn per request", func(t *testing.T) {
		setFaults(t, r.URL, sandbox.Faults{Rules: []sandbox.FaultRule{{PathPrefix: "/dp/", Rate429: 0.3, RobotRate: 0.3}}})
		n := map[int]int{}
		robots := 0
		for i := 0; i < 200; i++ {
			resp := get(t, dp)
			n[resp.status]++
			if resp.status == 200 && strings.Contains(resp.body, "captchacharacters") {
				robots++
			}
		}
		if n[429] < 30 || n[429] > 90 || robots < 30 || robots > 90 || n[200]-robots < 60 {
			t.Errorf("200 requests at 30%% 429 and 30%% robot gave %v with %d robot pages", n, robots)
		}
	})

	t.Run("bad rules are refused", func(t *testing.T) {
		for _, body := range []string{
			`{"rules":[{"rate_503":1.5}]}`,
			`{"rules":[{"rate_503":0.6,"robot_rate":0.6}]}`,
			`{"rules":[{"path_prefix":"s"}]}`,
			`{"rules":[{"latency":"2m"}]}`,
			`{"rules":[{"typo":1}]}`,
			`not json`,
		} {
			if resp := do(t, http.MethodPost, r.URL+"/_faults", body); resp.status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", body, resp.status)
			}
		}
	})

	t.Run("cleared", func(t *testing.T) {
		if resp := do(t, http.MethodDelete, r.URL+"/_faults", ""); resp.status != http.StatusOK {
			t.Fatalf("DELETE: %d", resp.status)
		}
		if resp := get(t, search); resp.status != http.StatusOK || resp.body != clean.body {
			t.Errorf("after clearing: status %d", resp.status)
		}
	})
}

// TestFaultsAtConstruction checks faults given in Options, a latency cut short by the client,
// and Start's handling of its context.
func TestFaultsAtConstruction(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, err := sandbox.Start(ctx, "127.0.0.1:0", sandbox.Options{
		Clock:  sandbox.NewManualClock(sandbox.DefaultEpoch),
		Faults: sandbox.Faults{Rules: []sandbox.FaultRule{{PathPrefix: "/s", Latency: sandbox.Duration(10 * time.Second)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 100 * time.Millisecond}
	t0 := time.Now()
	if _, err := client.Get(r.URL + "/s?k=yoga+mat"); err == nil {
		t.Error("a 10s latency answered within the client's 100ms timeout")
	}
	if time.Since(t0) > 5*time.Second {
		t.Error("the client waited for the whole latency")
	}
	cancel()
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop when its context was cancelled")
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close after the context stopped it: %v", err)
	}

	if _, err := sandbox.Start(context.Background(), "", sandbox.Options{Faults: sandbox.Faults{Rules: []sandbox.FaultRule{{Rate429: 2}}}}); err == nil {
		t.Error("a rate of 2 was accepted")
	}
	for _, cfg := range []sandbox.Config{{Keywords: 13}, {Products: 5}, {Step: time.Millisecond}} {
		if _, err := sandbox.NewMarket(cfg); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}
