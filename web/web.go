// Package web holds the report page: its HTML, script, styles and the vendored Chart.js,
// embedded in the binary and served by Handler at / (tracked keywords) and
// /keywords/{keyword} (the report), with the assets under /static/.
package web

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
)

//go:embed static
var static embed.FS

// csp lets the page run only its own scripts and styles and talk only to its own origin.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is an embedded file ready to serve.
type asset struct {
	body, gz    []byte
	etag, ctype string
}

// Handler serves the page and its assets.
type Handler struct {
	assets map[string]*asset // by path under static/, e.g. "app.js"
}

// NewHandler loads the embedded assets.
func NewHandler() (*Handler, error) {
	h := &Handler{assets: map[string]*asset{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read embedded %s: %w", p, err)
		}
		a := &asset{body: b, etag: `"` + strconv.FormatUint(xxhash.Sum64(b), 36) + `"`, ctype: mime.TypeByExtension(path.Ext(p))}
		if a.ctype == "" {
			a.ctype = "application/octet-stream"
		}
		if len(b) > 1024 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(b)
			_ = zw.Close()
			a.gz = buf.Bytes()
		}
		h.assets[strings.TrimPrefix(p, "static/")] = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	if h.assets["index.html"] == nil {
		return nil, fmt.Errorf("web: no embedded index.html")
	}
	return h, nil
}

// ServeHTTP serves / and /keywords/{keyword} as the page and /static/* as assets; anything
// else is 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/" || (strings.HasPrefix(p, "/keywords/") && len(p) > len("/keywords/")):
		h.serve(w, r, h.assets["index.html"])
	case strings.HasPrefix(p, "/static/"):
		a, ok := h.assets[strings.TrimPrefix(p, "/static/")]
		if !ok || strings.HasSuffix(p, "index.html") {
			http.NotFound(w, r)
			return
		}
		h.serve(w, r, a)
	default:
		http.NotFound(w, r)
	}
}

// serve answers with an asset: ETag and If-None-Match, gzip when accepted, the page's CSP.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, a *asset) {
	hd := w.Header()
	hd.Set("Content-Type", a.ctype)
	hd.Set("ETag", a.etag)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Add("Vary", "Accept-Encoding")
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			if t = strings.TrimPrefix(strings.TrimSpace(t), "W/"); t == a.etag || t == "*" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	body := a.body
	if a.gz != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		hd.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}
