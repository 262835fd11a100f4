package fetch

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestChromeFetcherSearchPagesTwoTabs(t *testing.T) {
	r, _ := startSandbox(t)
	f := newChrome(t, 2)
	kws := r.Server.Market().Keywords()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			u := r.URL + "/s?k=" + strings.ReplaceAll(kws[i%len(kws)], " ", "+")
			p, err := f.Fetch(context.Background(), u)
			if err != nil {
				t.Errorf("fetch %s: %v", u, err)
				return
			}
			if n := bytes.Count(p.Body, []byte(cardMarker)); p.Status != 200 || n < 10 {
				t.Errorf("fetch %s: status %d, %d cards", u, p.Status, n)
			}
			if p.Header.Get("X-Sandbox-Time") == "" {
				t.Errorf("fetch %s: response headers missing: %v", u, p.Header)
			}
		})
	}
	wg.Wait()
}

// TestChromeBlocksAndReportsStatus serves a page with an image, a font and a third-party script,
// and pages answering 503 and 429: the blocked resources never reach a server, and the status is
// the main document's.
func TestChromeBlocksAndReportsStatus(t *testing.T) {
	var thirdParty atomic.Int64
	tp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { thirdParty.Add(1) }))
	defer tp.Close()
	tpURL := strings.Replace(tp.URL, "127.0.0.1", "localhost", 1) // another host name
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<html><head><style>@font-face{font-family:x;src:url(/font.woff2)} body{font-family:x}</style>
<script src="/own.js"></script><script src="%s/tp.js"></script></head>
<body><img src="/img.png"><img src="/images/I/photo"><p id="t">hello</p></body></html>`, tpURL)
		case "/own.js":
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, `document.addEventListener("DOMContentLoaded",()=>{document.getElementById("t").textContent="rendered"})`)
		case "/busy":
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(503)
			fmt.Fprint(w, "<html><body>busy</body></html>")
		case "/slow-down":
			w.WriteHeader(429)
			fmt.Fprint(w, "<html><body>slow down</body></html>")
		default:
			w.Header().Set("Content-Type", "image/png")
		}
	}))
	defer srv.Close()
	f := newChrome(t, 1)
	p, err := f.Fetch(context.Background(), srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != 200 || !bytes.Contains(p.Body, []byte(">rendered<")) {
		t.Fatalf("status %d, body %s", p.Status, p.Body)
	}
	for _, path := range []string{"/busy", "/slow-down"} {
		p, err := f.Fetch(context.Background(), srv.URL+path)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"/busy": 503, "/slow-down": 429}[path]
		if p.Status != want || p.Header.Get("Retry-After") == "" && want == 503 {
			t.Fatalf("%s: status %d headers %v, want %d", path, p.Status, p.Header, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if hits["/img.png"]+hits["/images/I/photo"]+hits["/font.woff2"] != 0 || thirdParty.Load() != 0 {
		t.Fatalf("blocked resources were requested: %v, third party %d", hits, thirdParty.Load())
	}
	if hits["/own.js"] != 1 {
		t.Fatalf("the page's own script was not loaded: %v", hits)
	}
	if f.Blocked() < 3 {
		t.Fatalf("blocked %d requests, want at least the 2 images and the third-party script", f.Blocked())
	}
}

func TestChromeFetcherMissingBrowser(t *testing.T) {
	_, err := NewChromeFetcher(context.Background(), ChromeConfig{ExecPath: "/nonexistent/chromium"})
	if err == nil || !strings.Contains(err.Error(), "install chromium: deploy/local/services up chromium") {
		t.Fatalf("want the install hint, got %v", err)
	}
}

func TestChromePageTimeoutAndClose(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	f, err := NewChromeFetcher(context.Background(), ChromeConfig{Tabs: 1, PageTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("chrome fetcher: %v", err)
	}
	start := time.Now()
	if _, err := f.Fetch(context.Background(), srv.URL+"/hang"); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("want a timeout error soon, got %v after %v", err, time.Since(start))
	}
	// The tab is usable again after a timeout.
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<p>fine</p>") }))
	defer ok.Close()
	if p, err := f.Fetch(context.Background(), ok.URL); err != nil || !bytes.Contains(p.Body, []byte("fine")) {
		t.Fatalf("fetch after a timeout: %v", err)
	}
	dir := f.dir
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("user data dir %s still there: %v", dir, err)
	}
}
