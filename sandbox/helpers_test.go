package sandbox_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/marketinsightspro/marketinsights/sandbox"
)

// start runs a sandbox on a manual clock stopped at epoch+offset.
func start(t testing.TB, opts sandbox.Options, offset time.Duration) (*sandbox.Running, *sandbox.ManualClock) {
	t.Helper()
	clk := sandbox.NewManualClock(sandbox.DefaultEpoch.Add(offset))
	opts.Clock = clk
	r, err := sandbox.Start(context.Background(), "", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r, clk
}

type response struct {
	status int
	header http.Header
	body   string
}

func get(t testing.TB, u string) response {
	t.Helper()
	return do(t, http.MethodGet, u, "")
}

func do(t testing.TB, method, u, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

// getJSON fetches a URL and decodes its JSON body, failing on a status other than 200.
func getJSON(t testing.TB, u string, v any) {
	t.Helper()
	r := get(t, u)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", u, r.status, r.body)
	}
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func searchPath(k string, page int, layout string, mp string) string {
	v := url.Values{"k": {k}}
	if page > 0 {
		v.Set("page", itoa(page))
	}
	if layout != "" {
		v.Set("layout", layout)
	}
	if mp != "" {
		v.Set("mp", mp)
	}
	return "/s?" + v.Encode()
}

func truthPath(k string, page int, mp, at string) string {
	v := url.Values{"k": {k}, "page": {itoa(page)}}
	if mp != "" {
		v.Set("mp", mp)
	}
	if at != "" {
		v.Set("at", at)
	}
	return "/_truth/keyword?" + v.Encode()
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
