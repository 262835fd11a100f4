package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	cdpfetch "github.com/chromedp/cdproto/fetch"
)

// ChromeConfig configures a ChromeFetcher.
type ChromeConfig struct {
	// ExecPath is the browser (default /usr/bin/chromium, Debian's Chromium).
	ExecPath string
	// Tabs is the number of tabs, the fetches run at once (default 2).
	Tabs int
	// PageTimeout bounds one page load (default 30 s).
	PageTimeout time.Duration
	// UserAgent is the browser's user agent (default DefaultUserAgent).
	UserAgent string
	// Guard, if set, checks every URL before navigating.
	Guard *Guard
	// AllowThirdParty lets a page load resources from hosts other than its own (default: blocked).
	AllowThirdParty bool
	// AllowImages lets images, fonts and media load (default: blocked).
	AllowImages bool
}

// ErrNoChromium is returned by NewChromeFetcher when the browser is not installed.
var ErrNoChromium = errors.New("install chromium: deploy/local/services up chromium")

// ChromeFetcher renders pages in one headless Chromium with a pool of tabs; images, fonts,
// media and third-party requests are failed by request interception.
type ChromeFetcher struct {
	cfg         ChromeConfig
	dir         string
	allocCancel context.CancelFunc
	browserCtx  context.Context
	browserStop context.CancelFunc
	tabs        chan *tab
	closeOnce   sync.Once
	wg          sync.WaitGroup
	blocked     atomic.Int64
}

type tab struct {
	ctx    context.Context
	cancel context.CancelFunc
	host   atomic.Pointer[string] // the host of the page loading now
}

// NewChromeFetcher starts the browser and opens the tabs.
func NewChromeFetcher(ctx context.Context, cfg ChromeConfig) (*ChromeFetcher, error) {
	if cfg.ExecPath == "" {
		cfg.ExecPath = "/usr/bin/chromium"
	}
	if cfg.Tabs <= 0 {
		cfg.Tabs = 2
	}
	if cfg.PageTimeout <= 0 {
		cfg.PageTimeout = 30 * time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if _, err := os.Stat(cfg.ExecPath); err != nil {
		return nil, fmt.Errorf("chrome fetcher: %s: %w", cfg.ExecPath, ErrNoChromium)
	}
	dir, err := os.MkdirTemp("", "mip-chromium-")
	if err != nil {
		return nil, fmt.Errorf("chrome fetcher: user data dir: %w", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(cfg.ExecPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(dir),
		chromedp.UserAgent(cfg.UserAgent),
	)
	opts = append(opts, browserProcess()...)
	// The browser lives until Close, not until ctx ends.
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.WithoutCancel(ctx), opts...)
	browserCtx, browserStop := chromedp.NewContext(allocCtx)
	f := &ChromeFetcher{cfg: cfg, dir: dir, allocCancel: allocCancel, browserCtx: browserCtx, browserStop: browserStop, tabs: make(chan *tab, cfg.Tabs)}
	if err := chromedp.Do(browserCtx); err != nil {
		f.Close()
		return nil, fmt.Errorf("chrome fetcher: start %s: %w", cfg.ExecPath, err)
	}
	for i := 0; i < cfg.Tabs; i++ {
		t, err := f.newTab()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("chrome fetcher: open tab %d: %w", i, err)
		}
		f.tabs <- t
	}
	return f, nil
}

func (f *ChromeFetcher) newTab() (*tab, error) {
	ctx, cancel := chromedp.NewContext(f.browserCtx)
	t := &tab{ctx: ctx, cancel: cancel}
	if err := chromedp.Do(ctx); err != nil { // attaches the tab
		cancel()
		return nil, err
	}
	paused := chromedp.Events(ctx, cdpfetch.RequestPaused)
	if _, err := chromedp.Call(ctx, cdpfetch.Enable, cdpfetch.EnableParams{}); err != nil {
		cancel()
		return nil, fmt.Errorf("enable request interception: %w", err)
	}
	f.wg.Go(func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			// Answer each request on its own goroutine: a page pauses dozens at once.
			block := f.block(t, ev)
			if block {
				f.blocked.Add(1)
			}
			f.wg.Go(func() {
				if block {
					_, _ = chromedp.Call(ctx, cdpfetch.FailRequest, cdpfetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
				} else {
					_, _ = chromedp.Call(ctx, cdpfetch.ContinueRequest, cdpfetch.ContinueRequestParams{RequestID: ev.RequestID})
				}
			})
		}
	})
	return t, nil
}

// block decides whether a paused request is failed.
func (f *ChromeFetcher) block(t *tab, ev cdpfetch.EventRequestPaused) bool {
	if !f.cfg.AllowImages {
		switch ev.ResourceType {
		case network.ResourceTypeImage, network.ResourceTypeFont, network.ResourceTypeMedia:
			return true
		}
	}
	if f.cfg.AllowThirdParty || ev.Request == nil {
		return false
	}
	host, err := hostOf(ev.Request.URL)
	if err != nil {
		return strings.HasPrefix(ev.Request.URL, "http")
	}
	want := t.host.Load()
	return want == nil || host != *want
}

// Blocked returns how many requests the interception failed so far.
func (f *ChromeFetcher) Blocked() int64 { return f.blocked.Load() }

// Fetch loads url in a free tab and returns the rendered DOM and the main document's status.
func (f *ChromeFetcher) Fetch(ctx context.Context, url string) (*Page, error) {
	start := time.Now()
	if f.cfg.Guard != nil {
		if err := f.cfg.Guard.Check(ctx, url); err != nil {
			return nil, err
		}
	}
	host, err := hostOf(url)
	if err != nil {
		return nil, fmt.Errorf("chrome fetch: %w", err)
	}
	var t *tab
	select {
	case t = <-f.tabs:
	case <-ctx.Done():
		return nil, fmt.Errorf("chrome fetch %s: waiting for a tab: %w", url, ctx.Err())
	}
	defer func() { f.tabs <- t }()
	t.host.Store(&host)

	pctx, cancel := context.WithTimeout(t.ctx, f.cfg.PageTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()

	resp, err := chromedp.Run(pctx, chromedp.NavigateResponse(url))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("chrome fetch %s: %w", url, ctx.Err())
		}
		return nil, fmt.Errorf("chrome fetch %s: navigate: %w", url, err)
	}
	if resp == nil {
		return nil, fmt.Errorf("chrome fetch %s: no response for the main document", url)
	}
	html, err := chromedp.Run(pctx, chromedp.Evaluate[string]("document.documentElement.outerHTML"))
	if err != nil {
		return nil, fmt.Errorf("chrome fetch %s: read the DOM: %w", url, err)
	}
	h := http.Header{}
	for k, v := range resp.Headers {
		// Chromium joins repeated headers with newlines.
		for _, s := range strings.Split(fmt.Sprint(v), "\n") {
			h.Add(k, s)
		}
	}
	final := resp.URL
	if final == "" {
		final = url
	}
	return &Page{URL: final, Status: int(resp.Status), Header: h, Body: []byte(html), FetchedAt: start, Duration: time.Since(start)}, nil
}

// Close kills the browser and removes its user data directory.
func (f *ChromeFetcher) Close() error {
	var err error
	f.closeOnce.Do(func() {
		f.browserStop()
		f.allocCancel()
		f.wg.Wait()
		err = os.RemoveAll(f.dir)
	})
	return err
}
