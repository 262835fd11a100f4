package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Options configures a sandbox Server (and Start).
type Options struct {
	// Config is the market: seed, catalog size, keywords, epoch, anomaly rate, step.
	Config
	// Acceleration is how many simulated seconds pass per real second (0 means 1). Ignored
	// when Clock is set. With Step 0, a fast clock gets a longer step (see autoStep).
	Acceleration float64
	// Clock tells the simulated time; nil means a ScaledClock starting at the epoch.
	Clock Clock
	// Marketplace is the default marketplace domain when neither ?mp= nor the Host header names
	// one; empty means amazon.com.
	Marketplace string
	// Faults are the fault rules active from the start (changed later through /_faults).
	Faults Faults
	// Logger logs requests at debug level and faults at info level; nil discards.
	Logger *slog.Logger
}

// Server is the sandbox marketplace website: an http.Handler.
type Server struct {
	market *Market
	clock  Clock
	accel  float64
	faults *faultSet
	mp     *Marketplace
	log    *slog.Logger
}

// NewServer builds the market of opts and a Server for it.
func NewServer(opts Options) (*Server, error) {
	if opts.Step == 0 && opts.Clock == nil && opts.Acceleration > 0 {
		opts.Step = autoStep(opts.Acceleration)
	}
	m, err := NewMarket(opts.Config)
	if err != nil {
		return nil, err
	}
	s := &Server{market: m, clock: opts.Clock, accel: opts.Acceleration, log: opts.Logger, mp: Marketplaces[0]}
	if s.accel <= 0 {
		s.accel = 1
	}
	if s.clock == nil {
		s.clock = NewScaledClock(m.Epoch(), s.accel)
	}
	if opts.Marketplace != "" {
		if s.mp = LookupMarketplace(opts.Marketplace); s.mp == nil {
			return nil, fmt.Errorf("sandbox: unknown marketplace %q", opts.Marketplace)
		}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.faults, err = newFaultSet(m.seed, opts.Faults); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	return s, nil
}

// autoStep is the market step for an accelerated clock: the state changes at most about 20
// times per real second (a whole number of minutes, one minute to one hour), so a fast clock
// does not recompute the market for every request.
func autoStep(accel float64) time.Duration {
	d := time.Duration(accel * float64(50*time.Millisecond)).Truncate(time.Minute)
	return min(max(d, time.Minute), time.Hour)
}

// Market returns the server's market.
func (s *Server) Market() *Market { return s.market }

// Clock returns the server's clock.
func (s *Server) Clock() Clock { return s.clock }

// Now returns the simulated time the pages show now (rounded down to the market's step).
func (s *Server) Now() time.Time { return s.market.At(s.clock.Now()).Time() }

// SetFaults replaces the fault rules.
func (s *Server) SetFaults(f Faults) error { return s.faults.set(f) }

// FaultStatus returns the fault rules with their counters.
func (s *Server) FaultStatus() FaultStatus { return s.faults.status() }

// marketplace picks the marketplace of a request: ?mp=, then the Host header, then the default.
func (s *Server) marketplace(r *http.Request) (*Marketplace, bool, error) {
	if v := r.URL.Query().Get("mp"); v != "" {
		mp := LookupMarketplace(v)
		if mp == nil {
			return nil, false, fmt.Errorf("unknown marketplace %q", v)
		}
		return mp, true, nil
	}
	if mp := marketplaceForHost(r.Host); mp != nil {
		return mp, false, nil
	}
	return s.mp, false, nil
}

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
		return
	case path == "/_truth" || strings.HasPrefix(path, "/_truth/"):
		s.serveTruth(w, r)
		return
	case path == "/_faults":
		s.serveFaults(w, r)
		return
	case path == "/_clock":
		s.serveClock(w, r)
		return
	}
	s.servePage(w, r)
}

// page is a rendered response before faults.
type page struct {
	status   int
	body     []byte
	html     bool
	location string
	ctype    string
	w        *htmlw // the pooled writer holding body, returned after the response
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	mp, mpParam, err := s.marketplace(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	snap := s.market.At(s.clock.Now())
	h := w.Header()
	h.Set("X-Sandbox-Time", formatTime(snap.Time()))
	h.Set("Cache-Control", "no-cache")

	d := s.faults.decide(r.URL.Path)
	if d.latency > 0 {
		t := time.NewTimer(d.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if d.kind != faultNone {
		h.Set("X-Sandbox-Fault", d.kind.String())
		s.log.Info("sandbox fault", "fault", d.kind.String(), "path", r.URL.Path)
	}
	switch d.kind {
	case fault429:
		h.Set("Retry-After", strconv.Itoa(d.retryAfter))
		s.writeError(w, http.StatusTooManyRequests, "throttled", errorView{siteView: site(mp, "")})
		return
	case fault503:
		s.writeError(w, http.StatusServiceUnavailable, "unavailable", errorView{siteView: site(mp, ""), Dog: dogOf(d.draw)})
		return
	case faultRobot:
		tok := uuidOf(d.draw, 1, 2, 3)
		s.writeError(w, http.StatusOK, "robot", errorView{siteView: site(mp, ""), Token: tok[:8], Return: r.URL.RequestURI(), Image: strings.ToLower(tok[9:13])})
		return
	}

	pg := s.route(r, snap, mp, mpParam)
	if pg.w != nil {
		defer putWriter(pg.w)
	}
	body := pg.body
	if pg.html && pg.status == http.StatusOK {
		switch d.kind {
		case faultTruncate:
			body = truncate(body, d.draw)
		case faultMalformed:
			body = malform(body, d.draw)
		}
	}
	if pg.location != "" {
		h.Set("Location", pg.location)
	}
	ctype := pg.ctype
	if ctype == "" {
		ctype = "text/html;charset=UTF-8"
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(pg.status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
	s.log.Debug("sandbox page", "path", r.URL.Path, "status", pg.status, "bytes", len(body))
}

func (s *Server) writeError(w http.ResponseWriter, status int, tmpl string, v errorView) {
	body, err := render(tmpl, v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func dogOf(draw uint64) string { return "503-dog-" + strconv.Itoa(int(draw%12)+1) }

// route renders the page a request asks for.
func (s *Server) route(r *http.Request, snap *Snapshot, mp *Marketplace, mpParam bool) page {
	path := r.URL.Path
	switch {
	case path == "/s" || strings.HasPrefix(path, "/s/"):
		return s.searchPage(r, snap, mp, mpParam)
	case strings.Contains(path, "/dp/") || strings.HasPrefix(path, "/gp/product/"):
		return s.productPage(path, snap, mp)
	case path == "/sspa/click":
		target := r.URL.Query().Get("url")
		if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") {
			return s.notFound(mp)
		}
		return page{status: http.StatusFound, location: target}
	case strings.HasPrefix(path, "/images/"):
		return page{status: http.StatusOK, body: imageSVG(path), ctype: "image/svg+xml"}
	case path == "/errors/validateCaptcha":
		back := r.URL.Query().Get("amzn-r")
		if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") {
			back = "/"
		}
		return page{status: http.StatusFound, location: back}
	case path == "/":
		w := getWriter()
		sv := site(mp, "")
		writeHome(w, &sv, s.market.Keywords())
		return page{status: http.StatusOK, body: w.b, html: true, w: w}
	}
	return s.notFound(mp)
}

func (s *Server) notFound(mp *Marketplace) page {
	body, err := render("notfound", errorView{siteView: site(mp, ""), Dog: "404-dog"})
	if err != nil {
		return page{status: http.StatusInternalServerError, body: []byte(err.Error())}
	}
	return page{status: http.StatusNotFound, body: body, html: true}
}

// parseSearch reads a search request: k (or field-keywords), page, layout.
func parseSearch(q url.Values, mp *Marketplace, mpParam bool) searchRequest {
	kw := q.Get("k")
	if kw == "" {
		kw = q.Get("field-keywords")
	}
	req := searchRequest{keyword: NormalizeKeyword(kw), page: 1, layout: LayoutList, mp: mp, mpParam: mpParam}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 {
		req.page = min(n, 10_000)
	}
	if Layout(q.Get("layout")) == LayoutGrid {
		req.layout = LayoutGrid
	}
	return req
}

func (s *Server) searchPage(r *http.Request, snap *Snapshot, mp *Marketplace, mpParam bool) page {
	req := parseSearch(r.URL.Query(), mp, mpParam)
	v := snap.searchPageView(req)
	w := getWriter()
	writeSearch(w, v)
	return page{status: http.StatusOK, body: w.b, html: true, w: w}
}

// asinFromPath finds the ASIN in /dp/ASIN, /slug/dp/ASIN/ref=... or /gp/product/ASIN.
func asinFromPath(path string) string {
	var rest string
	if i := strings.Index(path, "/dp/"); i >= 0 {
		rest = path[i+4:]
	} else {
		rest = strings.TrimPrefix(path, "/gp/product/")
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	return strings.ToUpper(rest)
}

func (s *Server) productPage(path string, snap *Snapshot, mp *Marketplace) page {
	v, ok := snap.productPageView(asinFromPath(path), mp)
	if !ok {
		return s.notFound(mp)
	}
	w := getWriter()
	writeProduct(w, v)
	return page{status: http.StatusOK, body: w.b, html: true, w: w}
}

// imageSVG draws a product image placeholder: a colored square with the image id's initials.
func imageSVG(path string) []byte {
	id := path[strings.LastIndexByte(path, '/')+1:]
	if i := strings.IndexByte(id, '.'); i >= 0 {
		id = id[:i]
	}
	h := hash3(0, saltImage, uint64(len(id)), 0, 0)
	for i := 0; i < len(id); i++ {
		h = mix64(h ^ uint64(id[i]))
	}
	// Two letters or digits of the id (the path is the client's: nothing else goes in).
	var label []byte
	for i := 2; i < len(id) && len(label) < 2; i++ {
		if c := id[i]; c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
			label = append(label, c)
		}
	}
	return fmt.Appendf(nil, `<svg xmlns="http://www.w3.org/2000/svg" width="218" height="218" viewBox="0 0 100 100"><rect width="100" height="100" fill="hsl(%d,45%%,70%%)"/><text x="50" y="58" font-size="24" text-anchor="middle" font-family="sans-serif">%s</text></svg>`, h%360, label)
}

// truthTime reads ?at= (RFC 3339) or ?offset= (a duration since the epoch); default now.
func (s *Server) truthTime(q url.Values) (time.Time, error) {
	if v := q.Get("at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("at %q: want RFC 3339 such as 2026-08-02T15:04:05Z", v)
		}
		if t.Before(s.market.Epoch()) {
			return time.Time{}, fmt.Errorf("at %s is before the market's epoch %s", v, formatTime(s.market.Epoch()))
		}
		return t, nil
	}
	if v := q.Get("offset"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return time.Time{}, fmt.Errorf("offset %q: want a non-negative duration such as 36h", v)
		}
		return s.market.Epoch().Add(d), nil
	}
	return s.clock.Now(), nil
}

func (s *Server) serveTruth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeJSONError(w, http.StatusMethodNotAllowed, errors.New("use GET"))
		return
	}
	q := r.URL.Query()
	t, err := s.truthTime(q)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err)
		return
	}
	mp, _, err := s.marketplace(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err)
		return
	}
	snap := s.market.At(t)
	w.Header().Set("X-Sandbox-Time", formatTime(snap.Time()))
	switch r.URL.Path {
	case "/_truth":
		writeJSON(w, http.StatusOK, snap.Truth(mp))
	case "/_truth/keyword":
		req := parseSearch(q, mp, false)
		if req.keyword == "" {
			writeJSONError(w, http.StatusBadRequest, errors.New("k: want a search keyword"))
			return
		}
		writeJSON(w, http.StatusOK, snap.PageTruth(req.keyword, req.page, mp))
	case "/_truth/anomalies":
		list := s.market.anomaliesUntil(snap.at, mp)
		if list == nil {
			list = []Anomaly{}
		}
		writeJSON(w, http.StatusOK, struct {
			Time      string    `json:"time"`
			Anomalies []Anomaly `json:"anomalies"`
		}{formatTime(snap.Time()), list})
	case "/_truth/product":
		pt, ok := snap.Product(strings.ToUpper(q.Get("asin")), mp)
		if !ok {
			writeJSONError(w, http.StatusNotFound, fmt.Errorf("asin %q: not in the catalog", q.Get("asin")))
			return
		}
		writeJSON(w, http.StatusOK, pt)
	default:
		writeJSONError(w, http.StatusNotFound, fmt.Errorf("%s: want /_truth, /_truth/keyword?k=&page=, /_truth/product?asin= or /_truth/anomalies", r.URL.Path))
	}
}

func (s *Server) serveFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost, http.MethodPut:
		var f Faults
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeJSONError(w, http.StatusBadRequest, fmt.Errorf("fault rules: %w", err))
			return
		}
		if err := s.faults.set(f); err != nil {
			writeJSONError(w, http.StatusBadRequest, err)
			return
		}
		s.log.Info("sandbox faults set", "rules", len(f.Rules))
	case http.MethodDelete:
		s.faults.set(Faults{})
		s.log.Info("sandbox faults cleared")
	default:
		writeJSONError(w, http.StatusMethodNotAllowed, errors.New("use GET, POST or DELETE"))
		return
	}
	writeJSON(w, http.StatusOK, s.faults.status())
}

// ClockStatus is the simulated clock as /_clock shows it.
type ClockStatus struct {
	// Now is the simulated time.
	Now string `json:"now"`
	// Epoch is the simulated time the market started.
	Epoch string `json:"epoch"`
	// Elapsed is the simulated time since the epoch.
	Elapsed string `json:"elapsed"`
	// Acceleration is the factor of a ScaledClock; absent for other clocks.
	Acceleration float64 `json:"acceleration,omitempty"`
	// Manual is true for a ManualClock.
	Manual bool `json:"manual"`
}

func (s *Server) serveClock(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost:
		var req struct {
			Advance Duration `json:"advance"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil || req.Advance < 0 {
			writeJSONError(w, http.StatusBadRequest, errors.New(`want {"advance": "1h"} with a non-negative duration`))
			return
		}
		adv, ok := s.clock.(Advancer)
		if !ok {
			writeJSONError(w, http.StatusConflict, errors.New("this clock cannot be advanced"))
			return
		}
		adv.Advance(time.Duration(req.Advance))
	default:
		writeJSONError(w, http.StatusMethodNotAllowed, errors.New("use GET or POST"))
		return
	}
	now := s.clock.Now()
	st := ClockStatus{Now: formatTime(now), Epoch: formatTime(s.market.Epoch()), Elapsed: now.Sub(s.market.Epoch()).String()}
	switch c := s.clock.(type) {
	case *ScaledClock:
		st.Acceleration = c.Factor()
	case *ManualClock:
		st.Manual = true
	}
	writeJSON(w, http.StatusOK, st)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func writeJSONError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

var _ http.Handler = (*Server)(nil)
