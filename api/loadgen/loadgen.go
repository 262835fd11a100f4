// Package loadgen drives the API with virtual users as Locust does: each user follows
// search -> report -> product -> (sometimes) analysis, waiting a think time between requests,
// while the number of users follows a ramp, spike or soak schedule. It also measures the
// closed-loop maximum of the report path against a bare net/http handler serving the same bytes
// in the same run, so the figures read as ratios on a noisy machine.
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Steps of a virtual user's visit.
const (
	StepSearch   = "search"
	StepReport   = "report"
	StepProduct  = "product"
	StepAnalysis = "analysis"
)

// Modes of the user schedule.
const (
	// ModeRamp adds users evenly over the first half, then holds them.
	ModeRamp = "ramp"
	// ModeSpike runs a tenth of the users, all of them in the middle third, then a tenth again.
	ModeSpike = "spike"
	// ModeSoak runs every user for the whole duration.
	ModeSoak = "soak"
)

// Config is a load run.
type Config struct {
	// Target is the API's base URL, e.g. http://127.0.0.1:8080.
	Target string
	// Users is the most concurrent virtual users.
	Users int
	// Mode is ramp, spike or soak.
	Mode string
	// Duration is how long the virtual users run.
	Duration time.Duration
	// ThinkMin and ThinkMax bound the wait between a user's requests (uniform).
	ThinkMin, ThinkMax time.Duration
	// Keywords are the keywords users look at; empty: the target's tracked keywords.
	Keywords []string
	// APIKey lets users start analyses (AnalysisShare of visits); empty: no analyses.
	APIKey string
	// AnalysisShare is the share of visits that end with an analysis.
	AnalysisShare float64
	// ClosedDuration and ClosedConns configure the closed-loop comparison (0: skipped).
	ClosedDuration time.Duration
	ClosedConns    int
}

// UsersAt returns how many users should run at elapsed time t of a run of duration d.
func UsersAt(mode string, users int, t, d time.Duration) int {
	if d <= 0 || users <= 0 {
		return 0
	}
	f := float64(t) / float64(d)
	low := max(users/10, 1)
	switch mode {
	case ModeRamp:
		if f >= 0.5 {
			return users
		}
		return max(1, int(float64(users)*f/0.5+0.5))
	case ModeSpike:
		if f >= 1.0/3 && f < 2.0/3 {
			return users
		}
		return low
	default:
		return users
	}
}

// Stats are the figures of one step or path.
type Stats struct {
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	RPS      float64 `json:"rps"`
	P50ms    float64 `json:"p50_ms"`
	P95ms    float64 `json:"p95_ms"`
	P99ms    float64 `json:"p99_ms"`
	Maxms    float64 `json:"max_ms"`
}

// Percentile returns the p-quantile (0-1) of sorted durations by the nearest rank.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// recorder collects latencies and errors per step.
type recorder struct {
	mu     sync.Mutex
	lat    map[string][]time.Duration
	errs   map[string]int
	sample map[string]string // first error text per step
}

func newRecorder() *recorder {
	return &recorder{lat: map[string][]time.Duration{}, errs: map[string]int{}, sample: map[string]string{}}
}

func (r *recorder) add(step string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lat[step] = append(r.lat[step], d)
	if err != nil {
		r.errs[step]++
		if r.sample[step] == "" {
			r.sample[step] = err.Error()
		}
	}
}

func (r *recorder) stats(step string, elapsed time.Duration) Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := slices.Clone(r.lat[step])
	slices.Sort(l)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	s := Stats{Requests: len(l), Errors: r.errs[step], P50ms: ms(Percentile(l, 0.5)), P95ms: ms(Percentile(l, 0.95)), P99ms: ms(Percentile(l, 0.99))}
	if len(l) > 0 {
		s.Maxms = ms(l[len(l)-1])
	}
	if elapsed > 0 {
		s.RPS = float64(len(l)) / elapsed.Seconds()
	}
	return s
}

// Result is a run's report.
type Result struct {
	Mode     string           `json:"mode"`
	Users    int              `json:"users"`
	Duration string           `json:"duration"`
	Steps    map[string]Stats `json:"steps"`
	Total    Stats            `json:"total"`
	// ErrorSamples are the first error of each step that had errors.
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	// CacheHitRatio is the report cache's L1 hit ratio over the run (from the admin endpoint; -1 unknown).
	CacheHitRatio float64 `json:"report_cache_hit_ratio"`
	// Closed is the closed-loop comparison of the report path with a bare handler.
	Closed *Closed `json:"closed_loop,omitempty"`
	// ClosedError says why the closed-loop comparison could not run.
	ClosedError string `json:"closed_loop_error,omitempty"`
}

// Closed compares the report path with a bare net/http handler serving the same bytes, both
// driven without think time by the same number of connections, in the same run.
type Closed struct {
	Conns    int     `json:"connections"`
	API      Stats   `json:"api"`
	Bare     Stats   `json:"bare"`
	RPSRatio float64 `json:"rps_ratio"`
	P99Ratio float64 `json:"p99_ratio"`
}

// client is an HTTP client sized for many users.
func client(conns int) *http.Client {
	tr := &http.Transport{MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, IdleConnTimeout: time.Minute,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// get requests a URL and returns its body; a status other than 200 is an error.
func get(ctx context.Context, c *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return b, fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	return b, nil
}

// Run performs a load run.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Users <= 0 || cfg.Duration <= 0 || cfg.ThinkMax < cfg.ThinkMin {
		return nil, errors.New("loadgen: want users > 0, a duration > 0 and think max >= think min")
	}
	target := strings.TrimRight(cfg.Target, "/")
	c := client(cfg.Users)
	defer c.CloseIdleConnections()
	if len(cfg.Keywords) == 0 {
		b, err := get(ctx, c, target+"/api/v1/keywords?limit=1000")
		if err != nil {
			return nil, fmt.Errorf("list the target's keywords: %w", err)
		}
		var list struct {
			Keywords []struct{ Keyword string } `json:"keywords"`
		}
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("list the target's keywords: %w", err)
		}
		for _, k := range list.Keywords {
			cfg.Keywords = append(cfg.Keywords, k.Keyword)
		}
		if len(cfg.Keywords) == 0 {
			return nil, errors.New("the target tracks no keyword yet: feed it first (demo, produce) or pass --keywords")
		}
	}
	hitsBefore, missBefore := cacheCounts(ctx, c, target, cfg.APIKey)
	rec := newRecorder()
	start := time.Now()
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var stops []context.CancelFunc
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for runCtx.Err() == nil {
		want := UsersAt(cfg.Mode, cfg.Users, time.Since(start), cfg.Duration)
		mu.Lock()
		for len(stops) < want {
			uctx, ucancel := context.WithCancel(runCtx)
			stops = append(stops, ucancel)
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				user(uctx, c, target, cfg, rec, rand.New(rand.NewPCG(seed, seed*7+1)))
			}(uint64(len(stops)) + uint64(start.UnixNano()))
		}
		for len(stops) > want {
			stops[len(stops)-1]()
			stops = stops[:len(stops)-1]
		}
		mu.Unlock()
		select {
		case <-tick.C:
		case <-runCtx.Done():
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := &Result{Mode: cfg.Mode, Users: cfg.Users, Duration: elapsed.Round(time.Millisecond).String(), Steps: map[string]Stats{},
		ErrorSamples: map[string]string{}, CacheHitRatio: -1}
	all := newRecorder()
	for _, step := range []string{StepSearch, StepReport, StepProduct, StepAnalysis} {
		if s := rec.stats(step, elapsed); s.Requests > 0 {
			res.Steps[step] = s
		}
		if e := rec.sample[step]; e != "" {
			res.ErrorSamples[step] = e
		}
		all.lat["all"] = append(all.lat["all"], rec.lat[step]...)
		all.errs["all"] += rec.errs[step]
	}
	res.Total = all.stats("all", elapsed)
	if hitsAfter, missAfter := cacheCounts(ctx, c, target, cfg.APIKey); hitsAfter >= 0 && hitsBefore >= 0 {
		if n := (hitsAfter - hitsBefore) + (missAfter - missBefore); n > 0 {
			res.CacheHitRatio = float64(hitsAfter-hitsBefore) / float64(n)
		}
	}
	if cfg.ClosedDuration > 0 && ctx.Err() == nil {
		cl, err := closedLoop(ctx, target, cfg)
		if err != nil {
			res.ClosedError = err.Error()
		}
		res.Closed = cl
	}
	return res, nil
}

// user visits until ctx ends: search, report, product, sometimes an analysis, thinking between.
func user(ctx context.Context, c *http.Client, target string, cfg Config, rec *recorder, rng *rand.Rand) {
	think := func() bool {
		d := cfg.ThinkMin
		if cfg.ThinkMax > cfg.ThinkMin {
			d += time.Duration(rng.Int64N(int64(cfg.ThinkMax - cfg.ThinkMin)))
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	timed := func(step string, f func() error) bool {
		t := time.Now()
		err := f()
		if ctx.Err() != nil {
			return false // cut short by the end of the run: not counted
		}
		rec.add(step, time.Since(t), err)
		return err == nil
	}
	sorts := []string{"sales", "rating", "price", "reviews", "position"}
	for ctx.Err() == nil {
		kw := cfg.Keywords[rng.IntN(len(cfg.Keywords))]
		prefix := kw[:min(len(kw), 3)]
		timed(StepSearch, func() error {
			_, err := get(ctx, c, target+"/api/v1/keywords?q="+url.QueryEscape(prefix))
			return err
		})
		if !think() {
			return
		}
		var asins []string
		ok := timed(StepReport, func() error {
			b, err := get(ctx, c, target+"/api/v1/keywords/"+url.PathEscape(kw)+"/report?sort="+sorts[rng.IntN(len(sorts))]+"&limit=50")
			if err != nil {
				return err
			}
			var r struct {
				Items []struct{ ASIN string } `json:"items"`
			}
			if err := json.Unmarshal(b, &r); err != nil {
				return fmt.Errorf("decode the report: %w", err)
			}
			for _, it := range r.Items {
				asins = append(asins, it.ASIN)
			}
			return nil
		})
		if !think() {
			return
		}
		if ok && len(asins) > 0 {
			asin := asins[rng.IntN(len(asins))]
			timed(StepProduct, func() error {
				_, err := get(ctx, c, target+"/api/v1/products/"+url.PathEscape(asin))
				if err != nil && strings.HasSuffix(err.Error(), ": 404") {
					return nil // listed, no product page observed yet
				}
				return err
			})
			if !think() {
				return
			}
		}
		if cfg.APIKey != "" && rng.Float64() < cfg.AnalysisShare {
			timed(StepAnalysis, func() error {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target+"/api/v1/analyses", bytes.NewReader([]byte(`{"keyword":`+quote(kw)+`,"pages":1}`)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-API-Key", cfg.APIKey)
				resp, err := c.Do(req)
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					return fmt.Errorf("POST analyses: %d", resp.StatusCode)
				}
				return nil
			})
			if !think() {
				return
			}
		}
	}
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

// cacheCounts reads the report cache's hits and misses from the admin endpoint (-1 without a key).
func cacheCounts(ctx context.Context, c *http.Client, target, key string) (hits, misses int64) {
	if key == "" {
		return -1, -1
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target+"/api/v1/admin/cache", nil)
	req.Header.Set("X-API-Key", key)
	resp, err := c.Do(req)
	if err != nil {
		return -1, -1
	}
	defer resp.Body.Close()
	var rep struct {
		Caches []struct {
			Name         string
			Hits, Misses int64
		} `json:"caches"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&rep) != nil {
		return -1, -1
	}
	for _, cs := range rep.Caches {
		if cs.Name == "report" {
			return cs.Hits, cs.Misses
		}
	}
	return -1, -1
}

// closedLoop drives the report of the first keyword without think time, then a bare handler
// serving the same bytes, with the same connections for the same time.
func closedLoop(ctx context.Context, target string, cfg Config) (*Closed, error) {
	conns := max(cfg.ClosedConns, 1)
	c := client(conns)
	defer c.CloseIdleConnections()
	u := target + "/api/v1/keywords/" + url.PathEscape(cfg.Keywords[0]) + "/report?sort=sales&limit=50"
	body, err := get(ctx, c, u)
	if err != nil {
		return nil, fmt.Errorf("closed loop: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("closed loop: listen for the bare handler: %w", err)
	}
	bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = bare.Serve(ln) }()
	defer func() { _ = bare.Close(); <-done }()
	hammer := func(u string) Stats {
		rec := newRecorder()
		hctx, cancel := context.WithTimeout(ctx, cfg.ClosedDuration)
		defer cancel()
		start := time.Now()
		var wg sync.WaitGroup
		for range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for hctx.Err() == nil {
					t := time.Now()
					_, err := get(hctx, c, u)
					if hctx.Err() != nil {
						return
					}
					rec.add("x", time.Since(t), err)
				}
			}()
		}
		wg.Wait()
		return rec.stats("x", time.Since(start))
	}
	out := &Closed{Conns: conns, API: hammer(u), Bare: hammer("http://" + ln.Addr().String() + "/")}
	if out.Bare.RPS > 0 {
		out.RPSRatio = out.API.RPS / out.Bare.RPS
	}
	if out.Bare.P99ms > 0 {
		out.P99Ratio = out.API.P99ms / out.Bare.P99ms
	}
	return out, nil
}
