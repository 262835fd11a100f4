package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/processors/analyses"
	rproj "github.com/marketinsightspro/marketinsights/projections/redis"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// action is the user action a handler served (kind 0: none).
type action struct {
	kind       marketv1.UserActionKind
	keyword    string
	asin       string
	analysisID string
	params     map[string]string
}

// loadTimeout bounds a cache load, which outlives the request that started it.
const loadTimeout = 5 * time.Second

// loadCtx detaches a cache load from its request (other requests may wait for it).
func loadCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
}

var (
	asinRE   = regexp.MustCompile(`^[A-Za-z0-9]{1,20}$`)
	userRE   = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)
	seriesRE = regexp.MustCompile(`^(tumbling|sliding):[0-9]{1,6}[smhd]$`)
)

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"}, time.Time{})
	})
	m.HandleFunc("GET /readyz", s.readyz)
	m.Handle("GET /metrics", s.metricsHandler())
	s.handle("GET /api/v1/openapi.json", routeOpts{noLimit: true}, func(w http.ResponseWriter, r *http.Request) action {
		writeBody(w, r, http.StatusOK, "application/json", OpenAPI, time.Time{})
		return action{}
	})
	s.handle("GET /api/v1/keywords", routeOpts{}, s.getKeywords)
	s.handle("GET /api/v1/keywords/{keyword}/report", routeOpts{}, s.getReport)
	s.handle("GET /api/v1/keywords/{keyword}/windows", routeOpts{}, s.getWindows)
	s.handle("GET /api/v1/keywords/{keyword}/windows/history", routeOpts{}, s.getWindowHistory)
	s.handle("GET /api/v1/products/{asin}", routeOpts{}, s.getProduct)
	s.handle("GET /api/v1/anomalies", routeOpts{}, s.getAnomalies)
	s.handle("POST /api/v1/analyses", routeOpts{auth: true}, s.postAnalysis)
	s.handle("GET /api/v1/analyses/{id}", routeOpts{}, s.getAnalysis)
	s.handle("GET /api/v1/subscriptions", routeOpts{auth: true}, s.getSubscriptions)
	s.handle("POST /api/v1/subscriptions", routeOpts{auth: true}, s.postSubscription)
	s.handle("DELETE /api/v1/subscriptions/{id}", routeOpts{auth: true}, s.deleteSubscription)
	s.handle("GET /api/v1/admin/cache", routeOpts{auth: true}, s.getCacheStats)
	s.handle("POST /api/v1/admin/cache/invalidate", routeOpts{auth: true}, s.postInvalidate)
	s.handle("GET /api/v1/ws", routeOpts{stream: true}, s.getWS)
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path+"; see /api/v1/openapi.json")
	})
	if s.opts.Page != nil {
		m.Handle("/", s.opts.Page)
	}
}

// readyz answers 200 while the instance can serve reports: the change channel is subscribed
// and Redis or, with a history store, ClickHouse answers (reports fall back to ClickHouse when
// Redis is down). With one of them down it answers 200 with "degraded": true, so a load
// balancer keeps it; with no store up, 503.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{}
	subscribed := true
	select {
	case <-s.ready:
		checks["changes"] = "ok"
	default:
		checks["changes"], subscribed = "not subscribed yet", false
	}
	stores, up := 0, 0
	check := func(name string, ping func(context.Context) error) {
		stores++
		if err := ping(ctx); err != nil {
			checks[name] = err.Error()
			return
		}
		checks[name] = "ok"
		up++
	}
	check("redis", func(ctx context.Context) error { return s.opts.Store.rdb().Ping(ctx).Err() })
	if s.opts.History != nil {
		check("clickhouse", s.opts.History.Ping)
	}
	ok := subscribed && up > 0
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, r, status, map[string]any{"ready": ok, "degraded": ok && up < stores, "checks": checks}, time.Time{})
}

// backendError answers 503 for an unreachable store, 504 for a timeout.
func (s *Server) backendError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.DeadlineExceeded) {
		writeError(w, r, http.StatusGatewayTimeout, "timeout", "the read model did not answer in time")
		return
	}
	s.opts.Logger.Warn("read model", "path", r.URL.Path, "err", err)
	writeError(w, r, http.StatusServiceUnavailable, "unavailable", "the read model is not available: "+err.Error())
}

// pathText validates a path parameter as text.
func pathText(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	if v == "" || len(v) > maxText || !validText(v) || strings.TrimSpace(v) != v {
		return "", &ParamError{Param: name, Value: truncate(v, 64), Reason: "not acceptable",
			Allowed: fmt.Sprintf("1 to %d bytes of UTF-8 text without control characters or surrounding spaces", maxText)}
	}
	return v, nil
}

// generation returns the current generation; ok false after answering.
func (s *Server) generation(w http.ResponseWriter, r *http.Request) (string, bool) {
	gen, err := s.opts.Store.Generation(r.Context())
	if errors.Is(err, ErrNoGeneration) {
		return "", true
	}
	if err != nil {
		s.backendError(w, r, err)
		return "", false
	}
	return gen, true
}

// KeywordList is the answer of GET /api/v1/keywords.
type KeywordList struct {
	Keywords []KeywordSummary `json:"keywords"`
}

func (s *Server) getKeywords(w http.ResponseWriter, r *http.Request) action {
	p, err := newParams(r.URL.Query(), []string{"q", "limit"})
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	q, err := p.text("q", maxText)
	var limit int
	if err == nil {
		limit, err = p.limit(100, 1000)
	}
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	all, _, err := s.keywords.get(r.Context(), "", func(ctx context.Context) ([]KeywordSummary, bool, error) {
		ctx, cancel := loadCtx(ctx)
		defer cancel()
		gen, err := s.opts.Store.Generation(ctx)
		if errors.Is(err, ErrNoGeneration) {
			return []KeywordSummary{}, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		kws, err := s.opts.Store.Keywords(ctx, gen)
		s.m.layer("keywords", LayerRedis, len(kws) > 0)
		return kws, len(kws) > 0, err
	})
	if err != nil {
		s.backendError(w, r, err)
		return action{}
	}
	out := KeywordList{Keywords: []KeywordSummary{}}
	var modified time.Time
	for _, k := range all {
		if q != "" && !containsFold(k.Keyword, q) {
			continue
		}
		if len(out.Keywords) < limit {
			out.Keywords = append(out.Keywords, k)
			if k.UpdatedAt.After(modified) {
				modified = k.UpdatedAt
			}
		}
	}
	writeJSON(w, r, http.StatusOK, out, modified)
	if q == "" {
		return action{}
	}
	return action{kind: marketv1.UserActionKind_USER_ACTION_KIND_KEYWORD_SEARCHED, keyword: q, params: map[string]string{"q": q}}
}

// snapshot returns a keyword's snapshot through the L1 cache (nil when it has no rows): from
// Redis, else, when Redis fails or has no rows of the keyword, from ClickHouse (History).
func (s *Server) snapshot(ctx context.Context, keyword string) (*Snapshot, error) {
	snap, _, err := s.reports.get(ctx, keyword, func(ctx context.Context) (*Snapshot, bool, error) {
		ctx, cancel := loadCtx(ctx)
		defer cancel()
		snap, rerr := s.redisSnapshot(ctx, keyword)
		if (rerr == nil && snap != nil) || s.opts.History == nil {
			return snap, snap != nil, rerr
		}
		snap, err := s.opts.History.Report(ctx, keyword)
		s.m.layer("report", LayerClickHouse, snap != nil)
		if err != nil {
			if rerr != nil {
				return nil, false, errors.Join(rerr, err)
			}
			return nil, false, err
		}
		if rerr != nil {
			s.opts.Logger.Warn("report served from ClickHouse: Redis failed", "keyword", keyword, "err", rerr)
		}
		return snap, snap != nil, nil
	})
	return snap, err
}

// redisSnapshot reads a keyword's snapshot from Redis; nil when it has no rows.
func (s *Server) redisSnapshot(ctx context.Context, keyword string) (*Snapshot, error) {
	gen, err := s.opts.Store.Generation(ctx)
	if errors.Is(err, ErrNoGeneration) {
		s.m.layer("report", LayerRedis, false)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	snap, err := s.opts.Store.Snapshot(ctx, gen, keyword)
	s.m.layer("report", LayerRedis, snap != nil)
	return snap, err
}

// SourceHeader names the layer that served a report's rows: redis or clickhouse.
const SourceHeader = "X-MIP-Source"

// Report is the answer of GET /api/v1/keywords/{keyword}/report.
type Report struct {
	Keyword    string      `json:"keyword"`
	Sort       string      `json:"sort"`
	Order      string      `json:"order"`
	Total      int         `json:"total"`
	Matched    int         `json:"matched"`
	Items      []ReportRow `json:"items"`
	NextCursor string      `json:"next_cursor,omitempty"`
	Facets     Facets      `json:"facets"`
	UpdatedAt  *time.Time  `json:"updated_at,omitempty"`
	// Source is where the rows came from: redis, or clickhouse when Redis failed or had none
	// (also in the X-MIP-Source header).
	Source string `json:"source"`
}

func (s *Server) getReport(w http.ResponseWriter, r *http.Request) action {
	kw, err := pathText(r, "keyword")
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	q, err := ParseReportQuery(r.URL.Query())
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	snap, err := s.snapshot(r.Context(), kw)
	if err != nil {
		s.backendError(w, r, err)
		return action{}
	}
	if snap == nil {
		writeError(w, r, http.StatusNotFound, "not_found", fmt.Sprintf("keyword %q has no report rows (not tracked, or no page in the last retention)", kw))
		return action{kind: marketv1.UserActionKind_USER_ACTION_KIND_REPORT_VIEWED, keyword: kw, params: reportParamsOf(r)}
	}
	s.views.add(kw)
	w.Header().Set(SourceHeader, snap.Source)
	key := renderKey{snap: snap, query: r.URL.RawQuery}
	rd, ok := s.rendered.Get(key)
	s.m.Cache.WithLabelValues("report_response", LayerL1, hitOrMiss(ok)).Inc()
	if !ok {
		if rd, err = renderJSON(s.reportOf(snap, kw, q)); err != nil {
			writeError(w, r, http.StatusInternalServerError, "internal", "encode the response")
			return action{}
		}
		s.rendered.Add(key, rd)
	}
	writeRendered(w, r, http.StatusOK, "application/json", rd, snap.Updated)
	return action{kind: marketv1.UserActionKind_USER_ACTION_KIND_REPORT_VIEWED, keyword: kw, params: reportParamsOf(r)}
}

// renderedReports bounds the reports kept encoded (about 20 KB each with 50 rows, plus their
// gzip form).
const renderedReports = 1024

// renderKey names an encoded report: the snapshot it was computed from (a keyword's new rows
// are a new snapshot, so its old answers are never served again and age out) and the raw query.
type renderKey struct {
	snap  *Snapshot
	query string
}

func hitOrMiss(hit bool) string {
	if hit {
		return "hit"
	}
	return "miss"
}

// reportOf computes the answer to q from snap.
func (s *Server) reportOf(snap *Snapshot, kw string, q ReportQuery) Report {
	page := snap.Report(q)
	order := "asc"
	if q.Desc {
		order = "desc"
	}
	out := Report{Keyword: kw, Sort: q.Sort, Order: order, Total: snap.Len(), Matched: page.Matched, Items: page.Items, Facets: snap.Facets(),
		Source: snap.Source}
	if out.Items == nil {
		out.Items = []ReportRow{}
	}
	if page.Next != nil {
		out.NextCursor = page.Next.Encode()
	}
	if !snap.Updated.IsZero() {
		out.UpdatedAt = &snap.Updated
	}
	return out
}

// reportParamsOf keeps the report parameters that matter for the audit.
func reportParamsOf(r *http.Request) map[string]string {
	out := map[string]string{}
	for k, v := range r.URL.Query() {
		if k != "cursor" && slices.Contains(reportParams, k) {
			out[k] = strings.Join(v, ",")
		}
	}
	return out
}

// WindowList is the answer of GET /api/v1/keywords/{keyword}/windows.
type WindowList struct {
	Keyword string   `json:"keyword"`
	Windows []Window `json:"windows"`
}

func (s *Server) getWindows(w http.ResponseWriter, r *http.Request) action {
	kw, err := pathText(r, "keyword")
	if err == nil {
		_, err = newParams(r.URL.Query(), nil)
	}
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	wins, _, err := s.windows.get(r.Context(), kw, func(ctx context.Context) ([]Window, bool, error) {
		ctx, cancel := loadCtx(ctx)
		defer cancel()
		gen, err := s.opts.Store.Generation(ctx)
		if errors.Is(err, ErrNoGeneration) {
			return []Window{}, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		ws, err := s.opts.Store.Windows(ctx, gen, kw, WindowSeries)
		s.m.layer("windows", LayerRedis, len(ws) > 0)
		return ws, len(ws) > 0, err
	})
	if err != nil {
		s.backendError(w, r, err)
		return action{}
	}
	var modified time.Time
	for _, win := range wins {
		if win.UpdatedAt.After(modified) {
			modified = win.UpdatedAt
		}
	}
	if wins == nil {
		wins = []Window{}
	}
	writeJSON(w, r, http.StatusOK, WindowList{Keyword: kw, Windows: wins}, modified)
	return action{}
}

// WindowHistory is the answer of GET /api/v1/keywords/{keyword}/windows/history.
type WindowHistory struct {
	Keyword string        `json:"keyword"`
	Series  string        `json:"series"`
	Windows []WindowPoint `json:"windows"`
}

func (s *Server) getWindowHistory(w http.ResponseWriter, r *http.Request) action {
	kw, err := pathText(r, "keyword")
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	p, err := newParams(r.URL.Query(), []string{"series", "since", "limit"})
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	series, err := p.oneOf("series", "tumbling:1h", WindowSeries)
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	since, err := p.since("since")
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	limit, err := p.limit(48, 1000)
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	if s.opts.History == nil {
		writeError(w, r, http.StatusServiceUnavailable, "unavailable", "this server has no ClickHouse connection")
		return action{}
	}
	key := fmt.Sprintf("%s\x00%s\x00%d\x00%d", kw, series, since.Unix(), limit)
	pts, _, err := s.whistory.get(r.Context(), key, func(ctx context.Context) ([]WindowPoint, bool, error) {
		ctx, cancel := loadCtx(ctx)
		defer cancel()
		pts, err := s.opts.History.Windows(ctx, kw, series, since, limit)
		s.m.layer("window_history", LayerClickHouse, len(pts) > 0)
		return pts, len(pts) > 0, err
	})
	if err != nil {
		s.backendError(w, r, err)
		return action{}
	}
	if pts == nil {
		pts = []WindowPoint{}
	}
	var modified time.Time
	if len(pts) > 0 {
		modified = pts[0].End
	}
	writeJSON(w, r, http.StatusOK, WindowHistory{Keyword: kw, Series: series, Windows: pts}, modified)
	return action{}
}

// Product is the answer of GET /api/v1/products/{asin}.
type Product struct {
	ASIN string `json:"asin"`
	// Source is where the latest state came from: redis or clickhouse.
	Source string `json:"source"`
	// Fields are the product hash's fields (docs/redis.md), as text.
	Fields map[string]string `json:"fields"`
	// History is the product's observations, oldest first.
	History []ProductPoint `json:"history"`
	// HistoryError is set, and History empty, when the history could not be read (ClickHouse
	// down or too slow): the latest state is served without it rather than not at all.
	HistoryError string `json:"history_error,omitempty"`
}

func (s *Server) getProduct(w http.ResponseWriter, r *http.Request) action {
	asin := r.PathValue("asin")
	if !asinRE.MatchString(asin) {
		writeParamError(w, r, &ParamError{Param: "asin", Value: truncate(asin, 64), Reason: "not an ASIN", Allowed: "1 to 20 letters and digits"})
		return action{}
	}
	p, err := newParams(r.URL.Query(), []string{"since", "limit"})
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	since, err := p.since("since")
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	limit, err := p.limit(500, 5000)
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	act := action{kind: marketv1.UserActionKind_USER_ACTION_KIND_PRODUCT_VIEWED, asin: asin}
	out := Product{ASIN: asin, Source: LayerRedis, History: []ProductPoint{}}
	fields, found, err := s.products.get(r.Context(), asin, func(ctx context.Context) (map[string]string, bool, error) {
		ctx, cancel := loadCtx(ctx)
		defer cancel()
		gen, err := s.opts.Store.Generation(ctx)
		if err != nil && !errors.Is(err, ErrNoGeneration) {
			return nil, false, err
		}
		if gen != "" {
			f, err := s.opts.Store.Product(ctx, gen, asin)
			s.m.layer("product", LayerRedis, f != nil)
			if err != nil || f != nil {
				return f, f != nil, err
			}
		}
		if s.opts.History == nil {
			return nil, false, nil
		}
		f, err := s.opts.History.ProductLatest(ctx, asin)
		s.m.layer("product", LayerClickHouse, f != nil)
		if f != nil {
			f["_source"] = LayerClickHouse
		}
		return f, f != nil, err
	})
	if err != nil {
		s.backendError(w, r, err)
		return act
	}
	if !found {
		writeError(w, r, http.StatusNotFound, "not_found", fmt.Sprintf("product %s is not in the read model", asin))
		return act
	}
	out.Fields = make(map[string]string, len(fields))
	for k, v := range fields {
		if k == "_source" {
			out.Source = v
			continue
		}
		out.Fields[k] = v
	}
	if s.opts.History != nil {
		key := fmt.Sprintf("%s\x00%d\x00%d", asin, since.Unix(), limit)
		hist, _, err := s.phistory.get(r.Context(), key, func(ctx context.Context) ([]ProductPoint, bool, error) {
			ctx, cancel := loadCtx(ctx)
			defer cancel()
			h, err := s.opts.History.ProductHistory(ctx, asin, since, limit)
			s.m.layer("product_history", LayerClickHouse, len(h) > 0)
			return h, len(h) > 0, err
		})
		switch {
		case err != nil:
			s.opts.Logger.Warn("product served without its history", "asin", asin, "err", err)
			out.HistoryError = "the history could not be read: the read model did not answer in time"
			if !errors.Is(err, context.DeadlineExceeded) {
				out.HistoryError = "the history could not be read: " + err.Error()
			}
		case hist != nil:
			out.History = hist
		}
	}
	var modified time.Time
	if ms, err := strconv.ParseInt(fields["updated_at"], 10, 64); err == nil {
		modified = msTime(ms)
	}
	writeJSON(w, r, http.StatusOK, out, modified)
	return act
}

// AnomalyList is the answer of GET /api/v1/anomalies.
type AnomalyList struct {
	Anomalies []Anomaly `json:"anomalies"`
	// Source is where they came from: redis or clickhouse.
	Source string `json:"source"`
}

func (s *Server) getAnomalies(w http.ResponseWriter, r *http.Request) action {
	p, err := newParams(r.URL.Query(), []string{"kind", "severity", "keyword", "since", "limit"})
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	var f AnomalyFilter
	if f.Kind, err = p.oneOf("kind", "", AnomalyKinds); err == nil {
		if f.Severity, err = p.oneOf("severity", "", Severities); err == nil {
			if f.Keyword, err = p.text("keyword", maxText); err == nil {
				if f.Since, err = p.since("since"); err == nil {
					f.Limit, err = p.limit(50, 1000)
				}
			}
		}
	}
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	feed, found, err := s.anomalies.get(r.Context(), f.Keyword, func(ctx context.Context) ([]Anomaly, bool, error) {
		ctx, cancel := loadCtx(ctx)
		defer cancel()
		gen, err := s.opts.Store.Generation(ctx)
		if errors.Is(err, ErrNoGeneration) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		as, err := s.opts.Store.Anomalies(ctx, gen, f.Keyword, 1000)
		s.m.layer("anomalies", LayerRedis, len(as) > 0)
		return as, len(as) > 0, err
	})
	if err != nil {
		s.backendError(w, r, err)
		return action{}
	}
	out := AnomalyList{Anomalies: []Anomaly{}, Source: LayerRedis}
	if !found && s.opts.History != nil {
		ctx, cancel := loadCtx(r.Context())
		defer cancel()
		as, err := s.opts.History.Anomalies(ctx, f)
		s.m.layer("anomalies", LayerClickHouse, len(as) > 0)
		if err != nil {
			s.backendError(w, r, err)
			return action{}
		}
		out.Anomalies, out.Source = as, LayerClickHouse
	} else {
		for _, a := range feed {
			if (f.Kind == "" || a.Kind == f.Kind) && (f.Severity == "" || a.Severity == f.Severity) && !a.Time.Before(f.Since) {
				out.Anomalies = append(out.Anomalies, a)
				if len(out.Anomalies) == f.Limit {
					break
				}
			}
		}
	}
	var modified time.Time
	if len(out.Anomalies) > 0 {
		modified = out.Anomalies[0].Time
	}
	writeJSON(w, r, http.StatusOK, out, modified)
	return action{}
}

// AnalysisStarted is the answer of POST /api/v1/analyses.
type AnalysisStarted struct {
	ID        string `json:"id"`
	Keyword   string `json:"keyword"`
	StatusURL string `json:"status_url"`
}

// decodeBody reads a JSON body into v, refusing unknown fields and trailing data.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("body larger than %d bytes", mbe.Limit)
		}
		return fmt.Errorf("body is not the expected JSON: %w", err)
	}
	if dec.More() {
		return errors.New("body holds more than one JSON value")
	}
	return nil
}

// userOf returns the request's user id (X-User-Id), "anonymous" when absent.
func userOf(r *http.Request) (string, error) {
	u := r.Header.Get("X-User-Id")
	if u == "" {
		return "anonymous", nil
	}
	if !userRE.MatchString(u) {
		return "", &ParamError{Param: "X-User-Id", Value: truncate(u, 64), Reason: "not a user id", Allowed: "1 to 64 letters, digits and . _ @ -"}
	}
	return u, nil
}

// produce writes one record and waits for Kafka's acknowledgement.
func (s *Server) produce(ctx context.Context, rec *kgo.Record) error {
	if err := s.opts.Kafka.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return fmt.Errorf("write to %s: %w", rec.Topic, err)
	}
	return nil
}

func (s *Server) postAnalysis(w http.ResponseWriter, r *http.Request) action {
	if _, err := newParams(r.URL.Query(), nil); err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	user, err := userOf(r)
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	var req analysisRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, r, http.StatusBadRequest, "bad_body", err.Error()+`; want {"keyword": "...", "pages": 1-20, "marketplace": "amazon.com"}`)
		return action{}
	}
	req.Keyword = strings.TrimSpace(req.Keyword)
	if req.Pages == 0 {
		req.Pages = 3
	}
	if req.Marketplace == "" {
		req.Marketplace = "amazon.com"
	}
	if err := checkText("keyword", req.Keyword, maxText); err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	if _, err := analyses.ValidateRequest(&marketv1.AnalysisRequested{Keyword: req.Keyword, Marketplace: req.Marketplace, Pages: req.Pages, UserId: user},
		analyses.DefaultConfig()); err != nil {
		writeError(w, r, http.StatusBadRequest, "bad_body", err.Error())
		return action{}
	}
	if s.opts.Kafka == nil {
		writeError(w, r, http.StatusServiceUnavailable, "unavailable", "this server has no Kafka connection")
		return action{}
	}
	id := marketv1.NewEventID()
	ev := newAnalysisEvent(id, user, req, time.Now())
	rec, err := topics.NewRecord(topics.MustLookup(topics.AnalysisEvents), id, ev)
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, "internal", err.Error())
		return action{}
	}
	rec.Topic = s.topic(topics.AnalysisEvents)
	if err := s.produce(r.Context(), rec); err != nil {
		s.backendError(w, r, err)
		return action{}
	}
	if s.opts.Tracker != nil {
		s.opts.Tracker.Apply(ev) // so that a GET right after the POST finds it
	}
	w.Header().Set("Location", "/api/v1/analyses/"+id)
	writeJSON(w, r, http.StatusAccepted, AnalysisStarted{ID: id, Keyword: req.Keyword, StatusURL: "/api/v1/analyses/" + id}, time.Time{})
	return action{kind: marketv1.UserActionKind_USER_ACTION_KIND_ANALYSIS_STARTED, keyword: req.Keyword, analysisID: id}
}

func (s *Server) getAnalysis(w http.ResponseWriter, r *http.Request) action {
	id := r.PathValue("id")
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		writeParamError(w, r, &ParamError{Param: "id", Value: truncate(id, 64), Reason: "not an analysis id", Allowed: "a UUID as POST /api/v1/analyses returned"})
		return action{}
	}
	if _, err := newParams(r.URL.Query(), nil); err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	if s.opts.Tracker != nil {
		if st, ok := s.opts.Tracker.Status(id); ok {
			writeJSON(w, r, http.StatusOK, st, st.UpdatedAt)
			return action{}
		}
	}
	if s.opts.History != nil {
		st, err := s.opts.History.AnalysisStatus(r.Context(), id)
		if err != nil {
			s.backendError(w, r, err)
			return action{}
		}
		if st != nil {
			writeJSON(w, r, http.StatusOK, st, st.UpdatedAt)
			return action{}
		}
	}
	writeError(w, r, http.StatusNotFound, "not_found", "no analysis "+id)
	return action{}
}

// SubscriptionRequest is the body of POST /api/v1/subscriptions.
type SubscriptionRequest struct {
	Keyword     string   `json:"keyword"`
	ASIN        string   `json:"asin"`
	MinSeverity string   `json:"min_severity"`
	Kinds       []string `json:"kinds"`
	Channel     string   `json:"channel"`
	WebhookURL  string   `json:"webhook_url"`
	Analyses    bool     `json:"analyses"`
}

// Channels are the delivery channels a subscription may name.
var Channels = enumNames(marketv1.Channel(0).Descriptor().Values(), "CHANNEL_")

// subscriptionOf validates a request and builds the subscription it asks for.
func subscriptionOf(id, user string, req SubscriptionRequest) (*marketv1.Subscription, error) {
	sub := &marketv1.Subscription{SubscriptionId: id, UserId: user, Keyword: strings.TrimSpace(req.Keyword), Asin: req.ASIN,
		WebhookUrl: req.WebhookURL, Analyses: req.Analyses}
	if (sub.Keyword == "") == (sub.Asin == "") {
		return nil, &ParamError{Param: "keyword", Reason: "name a keyword or an ASIN", Allowed: "exactly one of keyword and asin"}
	}
	if err := checkText("keyword", sub.Keyword, maxText); err != nil {
		return nil, err
	}
	if sub.Asin != "" && !asinRE.MatchString(sub.Asin) {
		return nil, &ParamError{Param: "asin", Value: truncate(sub.Asin, 64), Reason: "not an ASIN", Allowed: "1 to 20 letters and digits"}
	}
	sev := req.MinSeverity
	if sev == "" {
		sev = "info"
	}
	if !slices.Contains(Severities, sev) {
		return nil, &ParamError{Param: "min_severity", Value: sev, Reason: "not a severity", Allowed: strings.Join(Severities, ", ")}
	}
	sub.MinSeverity = marketv1.Severity(marketv1.Severity_value["SEVERITY_"+strings.ToUpper(sev)])
	for _, k := range req.Kinds {
		if !slices.Contains(AnomalyKinds, k) {
			return nil, &ParamError{Param: "kinds", Value: k, Reason: "not an anomaly kind", Allowed: strings.Join(AnomalyKinds, ", ")}
		}
		sub.Kinds = append(sub.Kinds, marketv1.AnomalyKind(marketv1.AnomalyKind_value["ANOMALY_KIND_"+strings.ToUpper(k)]))
	}
	ch := req.Channel
	if ch == "" {
		ch = "in_app"
	}
	if !slices.Contains(Channels, ch) {
		return nil, &ParamError{Param: "channel", Value: ch, Reason: "not a channel", Allowed: strings.Join(Channels, ", ")}
	}
	sub.Channel = marketv1.Channel(marketv1.Channel_value["CHANNEL_"+strings.ToUpper(ch)])
	if ch == "webhook" {
		if len(req.WebhookURL) > 2048 || !(strings.HasPrefix(req.WebhookURL, "https://") || strings.HasPrefix(req.WebhookURL, "http://")) {
			return nil, &ParamError{Param: "webhook_url", Value: truncate(req.WebhookURL, 64), Reason: "not a URL", Allowed: "an http(s) URL of at most 2048 bytes"}
		}
	} else if req.WebhookURL != "" {
		return nil, &ParamError{Param: "webhook_url", Value: truncate(req.WebhookURL, 64), Reason: "only for the webhook channel", Allowed: "empty unless channel is webhook"}
	}
	return sub, nil
}

// SubscriptionChange is the answer of the subscription endpoints.
type SubscriptionChange struct {
	ID     string `json:"id"`
	Action string `json:"action"`
}

// SubscriptionList is the answer of GET /api/v1/subscriptions.
type SubscriptionList struct {
	UserID        string                  `json:"user_id"`
	Subscriptions []rproj.SubscriptionRow `json:"subscriptions"`
	// Source is where they came from: redis.
	Source string `json:"source"`
}

// getSubscriptions lists the caller's subscriptions (X-User-Id, else anonymous) from the Redis
// projection of market.subscriptions.v1. It is not cached: a change shows as soon as the
// projector applied it.
func (s *Server) getSubscriptions(w http.ResponseWriter, r *http.Request) action {
	var limit int
	var user string
	p, err := newParams(r.URL.Query(), []string{"limit"})
	if err == nil {
		limit, err = p.limit(100, 1000)
	}
	if err == nil {
		user, err = userOf(r)
	}
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	gen, ok := s.generation(w, r)
	if !ok {
		return action{}
	}
	out := SubscriptionList{UserID: user, Subscriptions: []rproj.SubscriptionRow{}, Source: LayerRedis}
	if gen != "" {
		subs, err := s.opts.Store.Subscriptions(r.Context(), gen, user)
		if err != nil {
			s.backendError(w, r, err)
			return action{}
		}
		out.Subscriptions = subs[:min(len(subs), limit)]
	}
	// No Last-Modified: a deletion removes the newest change, so the list's time can go back.
	writeJSON(w, r, http.StatusOK, out, time.Time{})
	return action{}
}

func (s *Server) postSubscription(w http.ResponseWriter, r *http.Request) action {
	return s.changeSubscription(w, r, marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_UPSERTED)
}

func (s *Server) deleteSubscription(w http.ResponseWriter, r *http.Request) action {
	return s.changeSubscription(w, r, marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_DELETED)
}

func (s *Server) changeSubscription(w http.ResponseWriter, r *http.Request, act marketv1.SubscriptionAction) action {
	if _, err := newParams(r.URL.Query(), nil); err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	user, err := userOf(r)
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	var sub *marketv1.Subscription
	status := http.StatusCreated
	if act == marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_DELETED {
		id := r.PathValue("id")
		if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
			writeParamError(w, r, &ParamError{Param: "id", Value: truncate(id, 64), Reason: "not a subscription id", Allowed: "a UUID as POST /api/v1/subscriptions returned"})
			return action{}
		}
		sub, status = &marketv1.Subscription{SubscriptionId: id, UserId: user}, http.StatusOK
	} else {
		var req SubscriptionRequest
		if err := decodeBody(r, &req); err != nil {
			writeError(w, r, http.StatusBadRequest, "bad_body", err.Error())
			return action{}
		}
		if sub, err = subscriptionOf(marketv1.NewEventID(), user, req); err != nil {
			writeParamError(w, r, err)
			return action{}
		}
	}
	if s.opts.Kafka == nil {
		writeError(w, r, http.StatusServiceUnavailable, "unavailable", "this server has no Kafka connection")
		return action{}
	}
	ev := &marketv1.SubscriptionChanged{Envelope: marketv1.NewEnvelope("api", sub.GetSubscriptionId(), time.Now()), Action: act, Subscription: sub}
	rec, err := topics.NewEventRecord(topics.MustLookup(topics.Subscriptions), ev)
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, "internal", err.Error())
		return action{}
	}
	rec.Topic = s.topic(topics.Subscriptions)
	if err := s.produce(r.Context(), rec); err != nil {
		s.backendError(w, r, err)
		return action{}
	}
	name := "upserted"
	if act == marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_DELETED {
		name = "deleted"
	}
	writeJSON(w, r, status, SubscriptionChange{ID: sub.GetSubscriptionId(), Action: name}, time.Time{})
	return action{kind: marketv1.UserActionKind_USER_ACTION_KIND_SUBSCRIPTION_CHANGED, keyword: sub.GetKeyword(), asin: sub.GetAsin(),
		params: map[string]string{"action": name, "subscription_id": sub.GetSubscriptionId()}}
}

// CacheReport is the answer of GET /api/v1/admin/cache.
type CacheReport struct {
	Caches    []CacheStats `json:"caches"`
	WSClients int          `json:"websocket_clients"`
}

func (s *Server) cacheStats() []CacheStats {
	return []CacheStats{s.reports.stats(), s.keywords.stats(), s.windows.stats(), s.products.stats(),
		s.phistory.stats(), s.whistory.stats(), s.anomalies.stats()}
}

func (s *Server) getCacheStats(w http.ResponseWriter, r *http.Request) action {
	if _, err := newParams(r.URL.Query(), nil); err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	writeJSON(w, r, http.StatusOK, CacheReport{Caches: s.cacheStats(), WSClients: s.hub.Clients()}, time.Time{})
	return action{}
}

// CacheNames are the L1 caches an invalidation may name.
var CacheNames = []string{"report", "keywords", "windows", "product", "product_history", "window_history", "anomalies"}

// Invalidation is the body of POST /api/v1/admin/cache/invalidate: a cache and a key (a
// keyword, an ASIN) to drop, a cache to empty, or nothing to empty every cache.
type Invalidation struct {
	Cache string `json:"cache"`
	Key   string `json:"key"`
}

// Invalidated is the answer of an invalidation.
type Invalidated struct {
	Dropped int `json:"dropped"`
}

func (s *Server) postInvalidate(w http.ResponseWriter, r *http.Request) action {
	if _, err := newParams(r.URL.Query(), nil); err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	var inv Invalidation
	if r.ContentLength != 0 {
		if err := decodeBody(r, &inv); err != nil {
			writeError(w, r, http.StatusBadRequest, "bad_body", err.Error())
			return action{}
		}
	}
	if inv.Cache != "" && !slices.Contains(CacheNames, inv.Cache) {
		writeParamError(w, r, &ParamError{Param: "cache", Value: inv.Cache, Reason: "not a cache", Allowed: strings.Join(CacheNames, ", ")})
		return action{}
	}
	if inv.Key != "" && inv.Cache == "" {
		writeParamError(w, r, &ParamError{Param: "key", Value: truncate(inv.Key, 64), Reason: "needs a cache", Allowed: "a key together with cache"})
		return action{}
	}
	n := s.invalidate(inv.Cache, inv.Key)
	writeJSON(w, r, http.StatusOK, Invalidated{Dropped: n}, time.Time{})
	return action{kind: marketv1.UserActionKind_USER_ACTION_KIND_CACHE_INVALIDATED, keyword: inv.Key,
		params: map[string]string{"cache": inv.Cache, "key": inv.Key}}
}

// invalidate drops key from cache, or the whole cache, or every cache; it returns how many
// entries it dropped.
func (s *Server) invalidate(cache, key string) int {
	type dropper struct {
		forget func(string)
		purge  func() int
		has    func(string) bool
	}
	all := map[string]dropper{
		"report":          {s.reports.forget, s.reports.purge, func(k string) bool { _, ok := s.reports.lru.Get(k); return ok }},
		"keywords":        {s.keywords.forget, s.keywords.purge, func(k string) bool { _, ok := s.keywords.lru.Get(k); return ok }},
		"windows":         {s.windows.forget, s.windows.purge, func(k string) bool { _, ok := s.windows.lru.Get(k); return ok }},
		"product":         {s.products.forget, s.products.purge, func(k string) bool { _, ok := s.products.lru.Get(k); return ok }},
		"product_history": {s.phistory.forget, s.phistory.purge, func(k string) bool { _, ok := s.phistory.lru.Get(k); return ok }},
		"window_history":  {s.whistory.forget, s.whistory.purge, func(k string) bool { _, ok := s.whistory.lru.Get(k); return ok }},
		"anomalies":       {s.anomalies.forget, s.anomalies.purge, func(k string) bool { _, ok := s.anomalies.lru.Get(k); return ok }},
	}
	n := 0
	for name, d := range all {
		switch {
		case cache != "" && name != cache:
		case key != "":
			if d.has(key) {
				n++
			}
			d.forget(key)
		default:
			n += d.purge()
		}
	}
	return n
}

func (s *Server) getWS(w http.ResponseWriter, r *http.Request) action {
	p, err := newParams(r.URL.Query(), []string{"keyword"})
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	kw, err := p.text("keyword", maxText)
	if err != nil {
		writeParamError(w, r, err)
		return action{}
	}
	var origins []string
	for _, o := range s.opts.CORSOrigins {
		if o == "*" {
			origins = append(origins, "*")
		} else if _, host, ok := strings.Cut(o, "://"); ok {
			origins = append(origins, host)
		}
	}
	s.hub.serve(w, r, kw, origins)
	return action{}
}
