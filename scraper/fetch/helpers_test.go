package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/marketinsightspro/marketinsights/sandbox"
)

const cardMarker = `data-component-type="s-search-result"`

// startSandbox runs a sandbox for the test and returns it with a search URL.
func startSandbox(t testing.TB) (*sandbox.Running, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, err := sandbox.Start(ctx, "", sandbox.Options{Config: sandbox.Config{Seed: 7}})
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { cancel(); r.Close() })
	kw := r.Server.Market().Keywords()[0]
	return r, r.URL + "/s?k=" + url.QueryEscape(kw)
}

// setFaults posts fault rules to the sandbox's /_faults, as an operator would.
func setFaults(t testing.TB, base string, rules ...sandbox.FaultRule) {
	t.Helper()
	if rules == nil {
		rules = []sandbox.FaultRule{}
	}
	b, err := json.Marshal(sandbox.Faults{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/_faults", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("set faults: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("set faults: status %d", resp.StatusCode)
	}
}

func newChrome(t testing.TB, tabs int) *ChromeFetcher {
	t.Helper()
	f, err := NewChromeFetcher(context.Background(), ChromeConfig{Tabs: tabs, Guard: &Guard{AllowPrivate: true}})
	if err != nil {
		t.Fatalf("chrome fetcher: %v", err) // ErrNoChromium says: install chromium: deploy/local/services up chromium
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("close chrome: %v", err)
		}
	})
	return f
}
