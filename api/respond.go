package api

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// gzipMin is the smallest body worth compressing.
const gzipMin = 1024

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}

// writeJSON answers with v as JSON. A 200 to a GET or HEAD carries a strong ETag of the body
// (and Last-Modified when modified is set) and becomes 304 when the request's validators match;
// bodies of 1 KiB or more are gzipped for clients that accept it.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any, modified time.Time) {
	rd, err := renderJSON(v)
	if err != nil {
		http.Error(w, `{"error":"internal","message":"encode the response"}`, http.StatusInternalServerError)
		return
	}
	writeRendered(w, r, status, "application/json", rd, modified)
}

// writeBody answers with body, applying the validators and compression of writeJSON.
func writeBody(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte, modified time.Time) {
	writeRendered(w, r, status, contentType, newRendered(body), modified)
}

// rendered is a response body ready to be served many times: its ETag and, made on the first
// request that accepts it, its gzip form. A report for a popular query is encoded and
// compressed once per snapshot instead of once per request.
type rendered struct {
	body   []byte
	etag   string
	gzOnce sync.Once
	gz     []byte
}

// newRendered returns body with its ETag.
func newRendered(body []byte) *rendered {
	return &rendered{body: body, etag: `"` + strconv.FormatUint(xxhash.Sum64(body), 36) + `"`}
}

// renderJSON encodes v (and a newline) as a rendered body.
func renderJSON(v any) (*rendered, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return newRendered(append(body, '\n')), nil
}

// gzipped returns the body compressed, computed once.
func (rd *rendered) gzipped() []byte {
	rd.gzOnce.Do(func() {
		var buf bytes.Buffer
		gz := gzipPool.Get().(*gzip.Writer)
		gz.Reset(&buf)
		_, _ = gz.Write(rd.body)
		_ = gz.Close()
		gzipPool.Put(gz)
		rd.gz = buf.Bytes()
	})
	return rd.gz
}

// writeRendered answers with rd: ETag and Last-Modified on a 200 to GET or HEAD (and 304 when
// the request's validators match), gzip when the client accepts it and the body is big enough.
func writeRendered(w http.ResponseWriter, r *http.Request, status int, contentType string, rd *rendered, modified time.Time) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	if status == http.StatusOK && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		h.Set("ETag", rd.etag)
		h.Set("Cache-Control", "no-cache")
		if !modified.IsZero() {
			h.Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
		}
		if notModified(r, rd.etag, modified) {
			h.Del("Content-Type")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h.Add("Vary", "Accept-Encoding")
	body := rd.body
	if len(body) >= gzipMin && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = rd.gzipped()
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// notModified applies If-None-Match, else If-Modified-Since (RFC 9110, 13.2.2).
func notModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == "*" || t == etag {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && !modified.IsZero() {
		if t, err := http.ParseTime(ims); err == nil && !modified.Truncate(time.Second).After(t) {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0"
		}
	}
	return false
}

// Problem is the body of every error answer.
type Problem struct {
	// Error is a short code: bad_parameter, not_found, unauthorized, rate_limited, ...
	Error string `json:"error"`
	// Message says what went wrong.
	Message string `json:"message"`
	// Param names the refused parameter (bad_parameter).
	Param string `json:"param,omitempty"`
	// Allowed says what the parameter allows (bad_parameter).
	Allowed string `json:"allowed,omitempty"`
}

// writeError answers with a Problem.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	writeJSON(w, r, status, Problem{Error: code, Message: msg}, time.Time{})
}

// writeParamError answers 400 for a ParamError, else 400 with the error's text.
func writeParamError(w http.ResponseWriter, r *http.Request, err error) {
	var pe *ParamError
	if errors.As(err, &pe) {
		writeJSON(w, r, http.StatusBadRequest, Problem{Error: "bad_parameter", Message: pe.Error(), Param: pe.Param, Allowed: pe.Allowed}, time.Time{})
		return
	}
	writeError(w, r, http.StatusBadRequest, "bad_request", err.Error())
}
